#pragma once
// The object fit's simulator (private to sysid): the tracked objects, the values fitted per object, an episode as
// the replays read it, and the replays of the episodes in a world carrying candidate values. What the world holds
// and how an episode runs is said at the top of object_fit.cc.

#include <array>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Geometry>

#include "episode/dataset_info.h"
#include "episode/episode.h"
#include "sim/model.h"
#include "sim/replay.h"

namespace r2s::sysid::objects {

enum class Field { kLateralFriction, kRestitution, kRollingFriction, kSpinningFriction, kMass };
constexpr Field kFields[] = {Field::kLateralFriction, Field::kRestitution, Field::kRollingFriction,
                             Field::kSpinningFriction, Field::kMass};

// One tracked object's values of every field, in kFields order.
using ObjectValues = std::array<double, std::size(kFields)>;

// A free object the dataset tracks.
struct Tracked {
  int scene_index = 0;  // in the scene's Model::objects
  int world_index = 0;  // in the fitting model's objects
  std::string name;
  sim::PoseBinding binding;
  Eigen::Vector3d com_m = Eigen::Vector3d::Zero();           // in the object's frame
  Eigen::Matrix3d gyration_m = Eigen::Matrix3d::Identity();  // sqrt(I / m), object frame axes
  ObjectValues nominal{};
};

struct PreparedEpisode {
  std::int64_t index = 0;  // as stored
  std::int64_t frames = 0;
  std::int64_t split = 0;  // [0, split) fitted, [split, frames) held out
  std::vector<double> time_s;
  std::vector<std::vector<Eigen::Isometry3d>> measured;  // [tracked][frame], the object's frame
  std::vector<std::string> start;                        // [tracked]: how its initial state was estimated
  episode::Episode full;  // the bound features and timestamps, first poses smoothed
  episode::Episode fit;   // the same, [0, split)
};

// Simulated poses [episode][tracked][frame].
using SimulatedPoses = std::vector<std::vector<std::vector<Eigen::Isometry3d>>>;

// Runs episodes in worlds of a model carrying candidate values.
class Simulator {
 public:
  Simulator(std::shared_ptr<const sim::Model> base, std::vector<Tracked> tracked, episode::DatasetInfo info,
            std::string dataset);

  const std::vector<Tracked>& tracked() const { return tracked_; }

  // Simulated poses of the first `count` of `episodes` (the fit or the full copies), on `threads` threads.
  SimulatedPoses Run(const std::vector<ObjectValues>& values, const std::vector<PreparedEpisode>& episodes,
                     std::int64_t count, bool full, int threads) const;

 private:
  std::shared_ptr<const sim::Model> base_;
  std::vector<Tracked> tracked_;
  episode::DatasetInfo info_;
  std::string dataset_;
};

}  // namespace r2s::sysid::objects

#include "sysid/object_simulator.h"

#include <algorithm>
#include <utility>

#include "common/parallel_for.h"
#include "sim/world.h"

namespace r2s::sysid::objects {

using episode::Array;

Simulator::Simulator(std::shared_ptr<const sim::Model> base, std::vector<Tracked> tracked, episode::DatasetInfo info,
                     std::string dataset)
    : base_(std::move(base)), tracked_(std::move(tracked)), info_(std::move(info)), dataset_(std::move(dataset)) {}

SimulatedPoses Simulator::Run(const std::vector<ObjectValues>& values, const std::vector<PreparedEpisode>& episodes,
                              std::int64_t count, bool full, int threads) const {
  std::shared_ptr<sim::Model> model = std::make_shared<sim::Model>(*base_);
  for (std::size_t k = 0; k < tracked_.size(); ++k) {
    sim::ObjectModel& object = model->objects[tracked_[k].world_index];
    sim::Material& material = model->materials.at(object.material);
    const ObjectValues& v = values[k];
    material.lateral_friction = v[0];
    material.restitution = v[1];
    material.rolling_friction = v[2];
    material.spinning_friction = v[3];
    // Same shape and density: the inertia scales with the mass.
    object.inertial.inertia_kgm2 *= v[4] / object.inertial.mass_kg;
    object.inertial.mass_kg = v[4];
  }
  const std::shared_ptr<const sim::Model> shared = model;
  const sim::ReplayPlan plan = sim::ReplayPlan::Make(shared, info_, dataset_);
  SimulatedPoses out(static_cast<std::size_t>(count));
  auto run_range = [&](std::int64_t first, std::int64_t step) {
    sim::World world(shared);
    for (std::int64_t e = first; e < count; e += step) {
      const episode::Episode& source = full ? episodes[e].full : episodes[e].fit;
      const sim::EpisodeReplay replay = sim::ReplayEpisode(plan, source, dataset_, world);
      auto& poses = out[e];
      poses.resize(tracked_.size());
      for (std::size_t k = 0; k < tracked_.size(); ++k) {
        const sim::PoseBinding& b = tracked_[k].binding;
        const Array& data = replay.episode.At(b.feature).data;
        const std::int64_t width = episode::FrameWidth(data);
        poses[k].resize(static_cast<std::size_t>(replay.frames));
        for (std::int64_t i = 0; i < replay.frames; ++i) {
          auto v = [&](int j) { return episode::FloatAt(data, width, i, b.begin + j); };
          Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
          pose.translation() = Eigen::Vector3d(v(0), v(1), v(2));
          pose.linear() = Eigen::Quaterniond(v(6), v(3), v(4), v(5)).normalized().toRotationMatrix();
          poses[k][i] = pose;
        }
      }
    }
  };
  // One World per worker, its episodes strided: worker w replays episodes w, w + threads, ...
  threads = static_cast<int>(std::clamp<std::int64_t>(threads, 1, std::max<std::int64_t>(1, count)));
  ParallelFor(threads, threads, 1, [&](std::int64_t w, int) { run_range(static_cast<int>(w), threads); });
  return out;
}

}  // namespace r2s::sysid::objects

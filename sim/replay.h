#pragma once
// Replay: drive a simulated world with a recorded episode's commands at the episode's own frame times, and
// record a new episode with the same features (simulated joint state and object poses in place of the
// measured ones), so that the real and the replayed episode compare sample by sample.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "episode/dataset_info.h"
#include "episode/episode.h"
#include "sim/model.h"

namespace r2s::sim {

// Which of the scene's bindings a dataset feeds. A binding whose feature the dataset does not record is
// inactive for it (a tabletop scene binds both the arm's joints and a cube's pose; a dataset of cube tosses
// records only the cube) and is listed, so nothing is dropped silently.
class ReplayPlan {
 public:
  // Throws InputError naming the scene file and line of a binding whose feature exists but is too short for
  // its slice or is not float32/float64, and naming the dataset when it feeds no binding at all or has
  // neither timestamps nor an fps.
  static ReplayPlan Make(std::shared_ptr<const Model> model, const episode::DatasetInfo& info,
                         const std::string& dataset_file);

  const Model& model() const { return *model_; }
  const std::shared_ptr<const Model>& shared_model() const { return model_; }
  const std::vector<JointBinding>& joint_bindings() const { return joints_; }
  const std::vector<std::pair<int, PoseBinding>>& pose_bindings() const { return poses_; }  // (object, binding)
  // Active velocity bindings, (object, binding): linear and angular (Model::objects says in which frame).
  const std::vector<std::pair<int, VectorBinding>>& linear_velocity_bindings() const { return linear_velocities_; }
  const std::vector<std::pair<int, VectorBinding>>& angular_velocity_bindings() const { return angular_velocities_; }
  // Whether the robot follows recorded commands (false: it tracks measured positions, or is not driven).
  bool commanded() const { return commanded_; }
  const std::vector<std::string>& inactive() const { return inactive_; }  // "scene.yaml:12: ... (feature x absent)"
  // How the robot is driven: "commands from <feature>", "measured positions as targets" (", measured effort as
  // feedforward" when torques are bound), or "none".
  const std::string& drive() const { return drive_; }
  std::optional<double> fps() const { return fps_; }

 private:
  std::shared_ptr<const Model> model_;
  std::vector<JointBinding> joints_;
  std::vector<std::pair<int, PoseBinding>> poses_;
  std::vector<std::pair<int, VectorBinding>> linear_velocities_, angular_velocities_;
  std::vector<std::string> inactive_;
  bool commanded_ = false;
  std::string drive_;
  std::optional<double> fps_;
};

struct JointTrackingError {
  std::string joint;
  double rms = 0;  // rad (m for prismatic joints): simulated minus measured position over every frame
  double max_abs = 0;
};

struct ObjectTrackingError {
  std::string object;
  double position_rms_m = 0;
  double position_max_m = 0;
  double angle_rms_deg = 0;  // rotation between the simulated and the measured orientation
  double angle_max_deg = 0;
};

struct EpisodeReplay {
  episode::Episode episode;  // same features, dtypes and shapes as the source
  std::int64_t source_index = 0;
  std::int64_t frames = 0;
  std::int64_t steps = 0;  // physics steps taken
  std::vector<JointTrackingError> joints;
  std::vector<ObjectTrackingError> objects;
};

class World;

// The most physics steps one replayed or generated episode may take: 1e8 is about 28 hours at 1 kHz.
inline constexpr std::int64_t kMaxStepsPerEpisode = 100'000'000;

// When each frame happens: frame i at time_s[i] from the episode's first frame (its timestamp, or i / fps), which
// falls on physics step step[i] (rounded to the nearest). Throws InputError naming the dataset when time goes
// back, is not finite, or needs more than kMaxStepsPerEpisode steps, and when a bound joint signal or object pose
// holds NaN or infinity.
struct FrameClock {
  std::vector<double> time_s;
  std::vector<std::int64_t> step;
};
FrameClock MakeFrameClock(const ReplayPlan& plan, const episode::Episode& source, const std::string& source_dataset);

// How a free object starts: its frame's pose and velocities (world axes).
struct ObjectStart {
  Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
  Eigen::Vector3d linear_mps = Eigen::Vector3d::Zero();
  Eigen::Vector3d angular_radps = Eigen::Vector3d::Zero();
};

// What drives a simulated episode: the command of every dof for each frame interval [i, i + 1) (dofs x frames;
// the last column is never applied), the robot's start, and the start of every pose-bound object (in
// plan.pose_bindings() order). MakeReplayDrive derives it from a recorded episode as ReplayEpisode describes; a
// generator perturbs it before simulating.
struct ReplayDrive {
  Eigen::MatrixXd position, velocity, torque, feedforward;
  Eigen::VectorXd q0, qd0;
  std::vector<ObjectStart> objects;
};
ReplayDrive MakeReplayDrive(const ReplayPlan& plan, const episode::Episode& source, const FrameClock& clock);

// One joint signal of a recorded episode in SI units (JointBinding::SiFromRaw), dofs x frames: every binding of
// `signal` the plan holds fills its dofs' rows; the rows of dofs no such binding covers are NaN.
Eigen::MatrixXd JointTrack(const ReplayPlan& plan, const episode::Episode& source, JointSignal signal);

// Runs `drive` in `world` (a world of plan.model(), reset first) at the clock's frames and returns the episode
// with the simulated values where the scene binds measured signals, poses and velocities (and, for a commanded
// plan, the drive's commands where it binds commands), plus the tracking errors against `source` and a
// provenance record. Joint values are written in each binding's own units (JointBinding::RawFromSi), so a
// dataset in degrees or LeRobot's -100..100 replays into one in the same units; the drive and the tracking
// errors are SI. Calls on_frame(i, world) once frame i is recorded. Objects without a pose binding start at
// their model initial_pose, at rest.
using FrameCallback = std::function<void(std::int64_t frame, const World& world)>;
EpisodeReplay SimulateEpisode(const ReplayPlan& plan, const episode::Episode& source, const FrameClock& clock,
                              const ReplayDrive& drive, const std::string& source_dataset, World& world,
                              const FrameCallback& on_frame = {});

// Replays one episode in `world` (a world of plan.model(), reset first). Frame i happens at the episode's timestamp
// (relative to its first frame) or else at i / fps, rounded to the physics step; between frames the commands of the
// earlier frame are held. Without commands, a position-controlled robot tracks the measured positions (and velocities,
// when bound) of the next frame as targets, with the frame's measured torque (when bound) as feedforward. Free
// objects with a pose feature start at its first frame with the velocity of a second-order difference of the first
// three frames, then move freely. SimulateEpisode(MakeReplayDrive(...)).
EpisodeReplay ReplayEpisode(const ReplayPlan& plan, const episode::Episode& source, const std::string& source_dataset,
                            World& world);

struct ReplayOptions {
  int threads = 1;         // worlds run on this many threads; the output does not depend on it
  bool overwrite = false;  // replace existing output files

  // Throws std::invalid_argument naming the field and value.
  void Validate() const;
  // Whether Validate() passes; else *why (when given) names the field and value. Validate() throws that as
  // std::invalid_argument.
  bool IsValid(std::string* why = nullptr) const;
};

struct DatasetReplay {
  std::filesystem::path output;       // the file (robomimic) or folder (ALOHA) written
  std::vector<std::string> inactive;  // bindings the dataset does not feed
  std::string drive;
  std::vector<EpisodeReplay> episodes;  // residuals; `episode` left empty to bound memory
};

// Replays every episode of the dataset and writes the replays into out_dir in the dataset's layout (robomimic:
// out_dir/<dataset file name>; ALOHA: out_dir/episode_N.hdf5). Episodes are read and written in order on the
// calling thread (HDF5 is not thread-safe) and simulated `threads` at a time.
DatasetReplay ReplayDataset(std::shared_ptr<const Model> model, const std::filesystem::path& dataset,
                            const std::filesystem::path& out_dir, const ReplayOptions& options);

}  // namespace r2s::sim

#include "sim/replay.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "common/options_check.h"
#include "episode/dataset_reader.h"
#include "episode/dataset_writer.h"
#include "episode/input_error.h"
#include "real2sim/build_config.h"
#include "sim/world.h"

namespace r2s::sim {
namespace {

namespace fs = std::filesystem;
using episode::Array;
using episode::DType;

bool IsCommand(JointSignal signal) {
  return signal == JointSignal::kPositionTarget || signal == JointSignal::kVelocityTarget ||
         signal == JointSignal::kTorqueTarget || signal == JointSignal::kTorqueFeedforward;
}

using episode::FloatAt;
using episode::SetFloatAt;

Eigen::Isometry3d PoseAt(const Array& array, std::int64_t width, std::int64_t frame, int begin) {
  auto v = [&](int k) { return FloatAt(array, width, frame, begin + k); };
  Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
  pose.translation() = Eigen::Vector3d(v(0), v(1), v(2));
  pose.linear() = Eigen::Quaterniond(v(6), v(3), v(4), v(5)).normalized().toRotationMatrix();
  return pose;
}

Eigen::Vector3d RotationVector(const Eigen::Matrix3d& rotation) {
  const Eigen::AngleAxisd aa(rotation);
  return aa.axis() * aa.angle();
}

}  // namespace

ReplayPlan ReplayPlan::Make(std::shared_ptr<const Model> model, const episode::DatasetInfo& info,
                            const std::string& dataset_file) {
  ReplayPlan plan;
  plan.model_ = std::move(model);
  plan.fps_ = info.fps;
  const Model& m = *plan.model_;
  auto check_feature = [&](const std::string& source, const std::string& feature, int end) -> bool {
    auto it = info.features.find(feature);
    if (it == info.features.end()) {
      plan.inactive_.push_back(source + " (the dataset has no feature '" + feature + "')");
      return false;
    }
    const episode::FeatureSpec& spec = it->second;
    if (spec.dtype != DType::kFloat32 && spec.dtype != DType::kFloat64) {
      throw InputError(m.scene_file.string(), source,
                       "feature '" + feature + "' of " + dataset_file + " is " +
                           std::string(episode::DTypeName(spec.dtype)) + "; a binding needs float32 or float64");
    }
    std::int64_t width = 1;
    for (auto d : spec.shape) width *= d;
    if (end > width) {
      throw InputError(m.scene_file.string(), source,
                       "index " + std::to_string(end - 1) + " is out of range: feature '" + feature + "' of " +
                           dataset_file + " has " + std::to_string(width) + " values per frame");
    }
    return true;
  };
  for (const JointBinding& binding : m.joint_bindings) {
    if (check_feature(binding.source, binding.feature, binding.end)) plan.joints_.push_back(binding);
  }
  for (std::size_t i = 0; i < m.objects.size(); ++i) {
    const ObjectModel& object = m.objects[i];
    const auto& pose = object.pose_feature;
    if (pose && check_feature(pose->source, pose->feature, pose->begin + 7)) {
      plan.poses_.emplace_back(static_cast<int>(i), *pose);
    }
    const auto& linear = object.linear_velocity_feature;
    if (linear && check_feature(linear->source, linear->feature, linear->begin + 3)) {
      plan.linear_velocities_.emplace_back(static_cast<int>(i), *linear);
    }
    const auto& angular = object.angular_velocity_feature;
    if (angular && check_feature(angular->source, angular->feature, angular->begin + 3)) {
      plan.angular_velocities_.emplace_back(static_cast<int>(i), *angular);
    }
  }
  if (plan.joints_.empty() && plan.poses_.empty()) {
    throw InputError(dataset_file, "(features)",
                     "feeds none of the bindings of scene " + m.scene_file.string() +
                         ": nothing to replay (inactive: " + std::to_string(plan.inactive_.size()) + ")");
  }
  if (!info.fps && info.features.count("timestamp") == 0) {
    throw InputError(dataset_file, "fps",
                     "the dataset has neither a timestamp feature nor a declared fps, so frame times are unknown");
  }
  if (info.fps && m.sim.substeps_per_frame > 0) {
    const double frame_s = m.sim.time_step_s * m.sim.substeps_per_frame;
    if (std::abs(frame_s * *info.fps - 1.0) > 1e-6) {
      throw InputError(m.scene_file.string(), "simulation.substeps_per_frame",
                       std::to_string(m.sim.substeps_per_frame) + " steps of " + std::to_string(m.sim.time_step_s) +
                           " s do not make one frame of " + dataset_file + " at " + std::to_string(*info.fps) + " fps");
    }
  }
  std::vector<std::string> commands;
  bool tracks_positions = false;
  for (const JointBinding& b : plan.joints_) {
    if (IsCommand(b.signal)) commands.push_back(b.feature);
    if (b.signal == JointSignal::kPosition) tracks_positions = true;
  }
  if (!commands.empty()) {
    std::sort(commands.begin(), commands.end());
    commands.erase(std::unique(commands.begin(), commands.end()), commands.end());
    plan.drive_ = "commands from";
    for (const auto& c : commands) plan.drive_ += " " + c;
    plan.commanded_ = true;
  } else if (tracks_positions) {
    if (m.robot->control_mode != ControlMode::kPosition) {
      throw InputError(m.scene_file.string(), "robot.control_mode",
                       "the dataset " + dataset_file +
                           " has no commands; replaying it tracks its measured positions, which needs "
                           "control_mode: position");
    }
    plan.drive_ = "measured positions as targets";
    const bool has_effort = std::any_of(plan.joints_.begin(), plan.joints_.end(),
                                        [](const JointBinding& b) { return b.signal == JointSignal::kEffort; });
    if (has_effort) plan.drive_ += ", measured effort as feedforward";
  } else {
    plan.drive_ = "none";
  }
  return plan;
}

namespace {

// Per-dof signal tracks of an episode from the plan's bindings, in SI (dofs x frames; NaN where unbound).

// Writes SI tracks back in the binding's own units, so a simulated episode reads like the recorded one.
void WriteTrack(const JointBinding& b, const Eigen::MatrixXd& values, episode::Episode& episode) {
  Array& data = episode.columns.at(b.feature).data;
  const std::int64_t w = episode::FrameWidth(data);
  for (std::int64_t i = 0; i < episode.metadata.length; ++i) {
    for (std::size_t k = 0; k < b.dofs.size(); ++k) {
      SetFloatAt(data, w, i, b.begin + k, b.RawFromSi(k, values(b.dofs[k], i)));
    }
  }
}

void WriteVectors(const VectorBinding& b, const std::vector<Eigen::Vector3d>& values, episode::Episode& episode) {
  Array& data = episode.columns.at(b.feature).data;
  const std::int64_t w = episode::FrameWidth(data);
  for (std::int64_t i = 0; i < episode.metadata.length; ++i) {
    for (int k = 0; k < 3; ++k) SetFloatAt(data, w, i, b.begin + k, values[i][k]);
  }
}

// NaN or infinity in what drives the world (joint signals, object poses) would propagate into every state after
// it: the replay or variant would "run" and write garbage. Refused, naming the value.
void CheckFinite(const episode::Episode& source, const std::string& feature, std::int64_t begin, std::int64_t count,
                 const std::string& source_dataset) {
  const Array& data = source.At(feature).data;
  const std::int64_t w = episode::FrameWidth(data);
  for (std::int64_t i = 0; i < source.metadata.length; ++i) {
    for (std::int64_t k = begin; k < begin + count; ++k) {
      const double value = FloatAt(data, w, i, k);
      if (!std::isfinite(value)) {
        throw InputError(source_dataset, feature + "[" + std::to_string(k) + "]",
                         "episode " + std::to_string(source.metadata.index) + " frame " + std::to_string(i) + " is " +
                             std::to_string(value) + ", expected a finite number");
      }
    }
  }
}

}  // namespace

Eigen::MatrixXd JointTrack(const ReplayPlan& plan, const episode::Episode& source, JointSignal signal) {
  const int n = plan.model().robot ? plan.model().robot->num_dofs() : 0;
  const std::int64_t frames = source.metadata.length;
  Eigen::MatrixXd values = Eigen::MatrixXd::Constant(n, frames, std::nan(""));
  for (const JointBinding& b : plan.joint_bindings()) {
    if (b.signal != signal) continue;
    const Array& data = source.At(b.feature).data;
    const std::int64_t w = episode::FrameWidth(data);
    for (std::int64_t i = 0; i < frames; ++i) {
      for (std::size_t k = 0; k < b.dofs.size(); ++k) {
        values(b.dofs[k], i) = b.SiFromRaw(k, FloatAt(data, w, i, b.begin + k));
      }
    }
  }
  return values;
}

FrameClock MakeFrameClock(const ReplayPlan& plan, const episode::Episode& source, const std::string& source_dataset) {
  for (const JointBinding& b : plan.joint_bindings()) {
    CheckFinite(source, b.feature, b.begin, static_cast<std::int64_t>(b.dofs.size()), source_dataset);
  }
  for (const auto& [object, b] : plan.pose_bindings()) CheckFinite(source, b.feature, b.begin, 7, source_dataset);
  const std::int64_t frames = source.metadata.length;
  FrameClock clock;
  clock.time_s.resize(static_cast<std::size_t>(frames));
  clock.step.resize(static_cast<std::size_t>(frames));
  if (const auto* ts = source.Find("timestamp")) {
    const std::int64_t w = episode::FrameWidth(ts->data);
    for (std::int64_t i = 0; i < frames; ++i) {
      clock.time_s[i] = FloatAt(ts->data, w, i, 0) - FloatAt(ts->data, w, 0, 0);
    }
  } else {
    for (std::int64_t i = 0; i < frames; ++i) clock.time_s[i] = static_cast<double>(i) / *plan.fps();
  }
  const double dt = plan.model().sim.time_step_s;
  for (std::int64_t i = 0; i < frames; ++i) {
    if (!std::isfinite(clock.time_s[i])) {
      throw InputError(source_dataset, "timestamp",
                       "episode " + std::to_string(source.metadata.index) + " frame " + std::to_string(i) + " is " +
                           std::to_string(clock.time_s[i]) + " s after its first frame: not a finite time");
    }
    // A replay steps the world through every step of the episode's time: a timestamp that jumps (a clock reset, a
    // value in ns read as s) would make it step for days, so the steps are bounded before any is taken.
    if (clock.time_s[i] / dt > static_cast<double>(kMaxStepsPerEpisode)) {
      throw InputError(source_dataset, "timestamp",
                       "episode " + std::to_string(source.metadata.index) + " frame " + std::to_string(i) + " is " +
                           std::to_string(clock.time_s[i]) + " s after its first frame: more than " +
                           std::to_string(kMaxStepsPerEpisode) + " physics steps of " + std::to_string(dt) + " s");
    }
    clock.step[i] = std::llround(clock.time_s[i] / dt);
    if (i > 0 && clock.step[i] < clock.step[i - 1]) {
      throw InputError(
          source_dataset, "timestamp",
          "episode " + std::to_string(source.metadata.index) + " goes back in time at frame " + std::to_string(i));
    }
  }
  return clock;
}

ReplayDrive MakeReplayDrive(const ReplayPlan& plan, const episode::Episode& source, const FrameClock& clock) {
  const Model& model = plan.model();
  const std::int64_t frames = source.metadata.length;
  const int n = model.robot ? model.robot->num_dofs() : 0;
  const Eigen::MatrixXd q_meas = JointTrack(plan, source, JointSignal::kPosition);
  const Eigen::MatrixXd qd_meas = JointTrack(plan, source, JointSignal::kVelocity);
  const Eigen::MatrixXd q_cmd = JointTrack(plan, source, JointSignal::kPositionTarget);
  const Eigen::MatrixXd qd_cmd = JointTrack(plan, source, JointSignal::kVelocityTarget);
  const Eigen::MatrixXd tau_cmd = JointTrack(plan, source, JointSignal::kTorqueTarget);
  const Eigen::MatrixXd tau_ff = JointTrack(plan, source, JointSignal::kTorqueFeedforward);
  const Eigen::MatrixXd tau_meas = JointTrack(plan, source, JointSignal::kEffort);
  const bool tracking = plan.drive().rfind("measured positions as targets", 0) == 0;
  auto pick = [](double value, double fallback) { return std::isnan(value) ? fallback : value; };

  ReplayDrive drive;
  drive.position = Eigen::MatrixXd::Zero(n, frames);
  drive.velocity = Eigen::MatrixXd::Zero(n, frames);
  drive.torque = Eigen::MatrixXd::Zero(n, frames);
  drive.feedforward = Eigen::MatrixXd::Zero(n, frames);
  if (n > 0) {
    drive.q0 = model.robot->initial_q;
    drive.qd0 = Eigen::VectorXd::Zero(n);
    for (int d = 0; d < n; ++d) {
      if (frames > 0 && !std::isnan(q_meas(d, 0))) drive.q0[d] = q_meas(d, 0);
      if (frames > 0 && !std::isnan(qd_meas(d, 0))) drive.qd0[d] = qd_meas(d, 0);
    }
    for (std::int64_t i = 0; i < frames; ++i) drive.position.col(i) = model.robot->initial_q;
    for (std::int64_t i = 0; i + 1 < frames; ++i) {
      const double frame_s = clock.time_s[i + 1] - clock.time_s[i];
      for (int d = 0; d < n; ++d) {
        if (tracking) {
          // Track where the robot was measured at the end of this interval.
          drive.position(d, i) = pick(q_meas(d, i + 1), drive.position(d, i));
          const double finite_difference = frame_s > 0 ? (q_meas(d, i + 1) - q_meas(d, i)) / frame_s : 0.0;
          drive.velocity(d, i) = pick(qd_meas(d, i + 1), pick(finite_difference, 0.0));
          // The torque the real joint produced drives the simulated one; the PD loop only corrects what the
          // model gets wrong, so tracking error measures the model (inertials, friction), not the gains.
          drive.feedforward(d, i) = pick(tau_meas(d, i), 0.0);
        } else {
          drive.position(d, i) = pick(q_cmd(d, i), drive.position(d, i));
          drive.velocity(d, i) = pick(qd_cmd(d, i), 0.0);
          drive.torque(d, i) = pick(tau_cmd(d, i), 0.0);
        }
        drive.feedforward(d, i) += pick(tau_ff(d, i), 0.0);
      }
    }
    // The last column is never applied; for a commanded plan it is what the command features hold there.
    if (!tracking && frames > 0) {
      for (int d = 0; d < n; ++d) {
        drive.position(d, frames - 1) = pick(q_cmd(d, frames - 1), drive.position(d, frames - 1));
        drive.velocity(d, frames - 1) = pick(qd_cmd(d, frames - 1), 0.0);
        drive.torque(d, frames - 1) = pick(tau_cmd(d, frames - 1), 0.0);
        drive.feedforward(d, frames - 1) = pick(tau_ff(d, frames - 1), 0.0);
      }
    }
  }
  // Objects: first measured pose, velocity from a second-order one-sided difference of the first three frames.
  const std::vector<double>& t = clock.time_s;
  for (const auto& [object, binding] : plan.pose_bindings()) {
    const Array& data = source.At(binding.feature).data;
    const std::int64_t w = episode::FrameWidth(data);
    ObjectStart start;
    if (frames == 0) {
      drive.objects.push_back(start);
      continue;
    }
    const Eigen::Isometry3d p0 = PoseAt(data, w, 0, binding.begin);
    start.pose = p0;
    if (frames >= 3 && t[2] > t[0]) {
      const Eigen::Isometry3d p1 = PoseAt(data, w, 1, binding.begin), p2 = PoseAt(data, w, 2, binding.begin);
      const double h = (t[2] - t[0]) / 2;
      start.linear_mps = (-3 * p0.translation() + 4 * p1.translation() - p2.translation()) / (2 * h);
      const Eigen::Vector3d r1 = RotationVector(p0.linear().transpose() * p1.linear());
      const Eigen::Vector3d r2 = RotationVector(p0.linear().transpose() * p2.linear());
      start.angular_radps = p0.linear() * ((4 * r1 - r2) / (2 * h));
    }
    drive.objects.push_back(start);
  }
  return drive;
}

EpisodeReplay SimulateEpisode(const ReplayPlan& plan, const episode::Episode& source, const FrameClock& clock,
                              const ReplayDrive& drive, const std::string& source_dataset, World& world,
                              const FrameCallback& on_frame) {
  if (&world.model() != &plan.model()) throw std::invalid_argument("SimulateEpisode: the world is of another model");
  const Model& model = plan.model();
  const std::int64_t frames = source.metadata.length;
  const int n = model.robot ? model.robot->num_dofs() : 0;
  if (static_cast<std::int64_t>(clock.step.size()) != frames || drive.position.cols() != frames ||
      drive.position.rows() != n || drive.objects.size() != plan.pose_bindings().size()) {
    throw std::invalid_argument("SimulateEpisode: the clock or the drive does not fit the episode");
  }
  EpisodeReplay out;
  out.source_index = source.metadata.index;
  out.frames = frames;
  out.episode = source;
  if (frames == 0) return out;

  world.Reset();
  if (n > 0) world.SetJointState(drive.q0, drive.qd0);
  for (std::size_t k = 0; k < plan.pose_bindings().size(); ++k) {
    const int object = plan.pose_bindings()[k].first;
    world.SetObjectPose(object, drive.objects[k].pose);
    world.SetObjectVelocity(object, drive.objects[k].linear_mps, drive.objects[k].angular_radps);
  }

  Eigen::MatrixXd q_sim(n, frames), qd_sim(n, frames), tau_sim(n, frames);
  std::vector<std::vector<Eigen::Isometry3d>> pose_sim(plan.pose_bindings().size(),
                                                       std::vector<Eigen::Isometry3d>(frames));
  std::vector<std::vector<Eigen::Vector3d>> linear_sim(plan.linear_velocity_bindings().size(),
                                                       std::vector<Eigen::Vector3d>(frames));
  std::vector<std::vector<Eigen::Vector3d>> angular_sim(plan.angular_velocity_bindings().size(),
                                                        std::vector<Eigen::Vector3d>(frames));
  auto record = [&](std::int64_t i) {
    if (n > 0) {
      q_sim.col(i) = world.joint_positions();
      qd_sim.col(i) = world.joint_velocities();
      tau_sim.col(i) = world.applied_torques();
    }
    for (std::size_t k = 0; k < plan.pose_bindings().size(); ++k) {
      pose_sim[k][i] = world.ObjectPose(plan.pose_bindings()[k].first);
    }
    for (std::size_t k = 0; k < plan.linear_velocity_bindings().size(); ++k) {
      linear_sim[k][i] = world.ObjectLinearVelocity(plan.linear_velocity_bindings()[k].first);
    }
    for (std::size_t k = 0; k < plan.angular_velocity_bindings().size(); ++k) {
      const int object = plan.angular_velocity_bindings()[k].first;
      const Eigen::Vector3d w = world.ObjectAngularVelocity(object);
      angular_sim[k][i] =
          model.objects[object].angular_velocity_in_body_frame ? world.ObjectPose(object).linear().transpose() * w : w;
    }
    if (on_frame) on_frame(i, world);
  };

  record(0);
  RobotCommand command;
  for (std::int64_t i = 0; i + 1 < frames; ++i) {
    if (n > 0) {
      command.position = drive.position.col(i);
      command.velocity = drive.velocity.col(i);
      command.torque = drive.torque.col(i);
      command.feedforward = drive.feedforward.col(i);
      world.SetCommand(command);
    }
    const std::int64_t steps = clock.step[i + 1] - clock.step[i];
    world.Step(static_cast<int>(steps));
    out.steps += steps;
    record(i + 1);
  }

  // The simulated episode: simulated values where the scene binds measured signals, poses and velocities, and the
  // commands that drove it where a commanded plan binds commands.
  for (const JointBinding& b : plan.joint_bindings()) {
    const Eigen::MatrixXd* values = b.signal == JointSignal::kPosition   ? &q_sim
                                    : b.signal == JointSignal::kVelocity ? &qd_sim
                                    : b.signal == JointSignal::kEffort   ? &tau_sim
                                                                         : nullptr;
    if (values == nullptr && plan.commanded()) {
      values = b.signal == JointSignal::kPositionTarget   ? &drive.position
               : b.signal == JointSignal::kVelocityTarget ? &drive.velocity
               : b.signal == JointSignal::kTorqueTarget   ? &drive.torque
                                                          : &drive.feedforward;
    }
    if (values != nullptr) WriteTrack(b, *values, out.episode);
  }
  for (std::size_t k = 0; k < plan.pose_bindings().size(); ++k) {
    const PoseBinding& b = plan.pose_bindings()[k].second;
    Array& data = out.episode.columns.at(b.feature).data;
    const std::int64_t w = episode::FrameWidth(data);
    for (std::int64_t i = 0; i < frames; ++i) {
      const Eigen::Isometry3d& p = pose_sim[k][i];
      const Eigen::Quaterniond q(p.linear());
      const double values[7] = {
          p.translation().x(), p.translation().y(), p.translation().z(), q.x(), q.y(), q.z(), q.w()};
      for (int j = 0; j < 7; ++j) SetFloatAt(data, w, i, b.begin + j, values[j]);
    }
  }
  for (std::size_t k = 0; k < plan.linear_velocity_bindings().size(); ++k) {
    WriteVectors(plan.linear_velocity_bindings()[k].second, linear_sim[k], out.episode);
  }
  for (std::size_t k = 0; k < plan.angular_velocity_bindings().size(); ++k) {
    WriteVectors(plan.angular_velocity_bindings()[k].second, angular_sim[k], out.episode);
  }

  // Tracking errors against the source.
  const Eigen::MatrixXd q_meas = JointTrack(plan, source, JointSignal::kPosition);
  for (int d = 0; d < n; ++d) {
    if (std::isnan(q_meas(d, 0))) continue;
    JointTrackingError e;
    e.joint = model.robot->dof_link(d).joint_name;
    double sum = 0;
    for (std::int64_t i = 0; i < frames; ++i) {
      const double err = q_sim(d, i) - q_meas(d, i);
      sum += err * err;
      e.max_abs = std::max(e.max_abs, std::abs(err));
    }
    e.rms = std::sqrt(sum / static_cast<double>(frames));
    out.joints.push_back(e);
  }
  for (std::size_t k = 0; k < plan.pose_bindings().size(); ++k) {
    const PoseBinding& b = plan.pose_bindings()[k].second;
    const Array& data = source.At(b.feature).data;
    const std::int64_t w = episode::FrameWidth(data);
    ObjectTrackingError e;
    e.object = model.objects[plan.pose_bindings()[k].first].name;
    double sum_p = 0, sum_a = 0;
    for (std::int64_t i = 0; i < frames; ++i) {
      const Eigen::Isometry3d measured = PoseAt(data, w, i, b.begin);
      const double p = (pose_sim[k][i].translation() - measured.translation()).norm();
      const double a = Eigen::AngleAxisd(measured.linear().transpose() * pose_sim[k][i].linear()).angle() * 180.0 / M_PI;
      sum_p += p * p;
      sum_a += a * a;
      e.position_max_m = std::max(e.position_max_m, p);
      e.angle_max_deg = std::max(e.angle_max_deg, a);
    }
    e.position_rms_m = std::sqrt(sum_p / static_cast<double>(frames));
    e.angle_rms_deg = std::sqrt(sum_a / static_cast<double>(frames));
    out.objects.push_back(e);
  }

  episode::Provenance provenance;
  provenance.source_dataset = source_dataset;
  provenance.source_episode = source.metadata.index;
  provenance.variant = 0;
  provenance.software_version = R2S_VERSION;
  provenance.parameters.push_back({"replay.time_step_s", {model.sim.time_step_s}});
  provenance.parameters.push_back({"replay.steps", {static_cast<double>(out.steps)}});
  out.episode.provenance = provenance;
  return out;
}

EpisodeReplay ReplayEpisode(const ReplayPlan& plan, const episode::Episode& source, const std::string& source_dataset,
                            World& world) {
  if (&world.model() != &plan.model()) throw std::invalid_argument("ReplayEpisode: the world is of another model");
  const FrameClock clock = MakeFrameClock(plan, source, source_dataset);
  return SimulateEpisode(plan, source, clock, MakeReplayDrive(plan, source, clock), source_dataset, world);
}

void ReplayOptions::Validate() const {
  if (threads < 1) {
    throw std::invalid_argument("ReplayOptions::threads = " + std::to_string(threads) + ", expected at least 1");
  }
}

bool ReplayOptions::IsValid(std::string* why) const { return IsValidByValidate(*this, why); }

DatasetReplay ReplayDataset(std::shared_ptr<const Model> model, const std::filesystem::path& dataset,
                            const std::filesystem::path& out_dir, const ReplayOptions& options) {
  options.Validate();
  const episode::DatasetReader reader = episode::DatasetReader::Open(dataset);
  const ReplayPlan plan = ReplayPlan::Make(std::move(model), reader.info(), dataset.string());

  DatasetReplay result;
  result.inactive = plan.inactive();
  result.drive = plan.drive();
  // robomimic: OUT/<file name>; LeRobot: OUT/<folder name>/; ALOHA: OUT itself holds the episode files.
  const bool named = reader.info().layout != episode::StorageLayout::kAloha;
  const fs::path source = dataset.filename().empty() ? dataset.parent_path() : dataset;
  result.output = named ? out_dir / source.filename() : out_dir;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw InputError(out_dir.string(), "(folder)", "cannot be created: " + ec.message());
  episode::WriteOptions write_options;
  write_options.overwrite = options.overwrite;
  episode::DatasetWriter writer = episode::DatasetWriter::Create(result.output, reader.info(), write_options);

  // Batches of `threads` episodes: read in order, simulate in parallel (one world per worker, reset before each
  // episode, so nothing carries over between episodes), write in order.
  const std::int64_t total = reader.num_episodes();
  std::vector<std::unique_ptr<World>> worlds(static_cast<std::size_t>(std::min<std::int64_t>(options.threads, total)));
  for (std::int64_t first = 0; first < total; first += options.threads) {
    const std::int64_t count = std::min<std::int64_t>(options.threads, total - first);
    std::vector<episode::Episode> sources;
    for (std::int64_t i = 0; i < count; ++i) sources.push_back(reader.ReadEpisode(first + i));
    std::vector<EpisodeReplay> replays(static_cast<std::size_t>(count));
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(count));
    auto work = [&](std::int64_t i) {
      try {
        if (!worlds[i]) worlds[i] = std::make_unique<World>(plan.shared_model());
        replays[i] = ReplayEpisode(plan, sources[i], dataset.string(), *worlds[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    };
    if (count == 1) {
      work(0);
    } else {
      std::vector<std::jthread> workers;
      for (std::int64_t i = 0; i < count; ++i) workers.emplace_back(work, i);
    }
    for (std::int64_t i = 0; i < count; ++i) {
      if (errors[i]) std::rethrow_exception(errors[i]);
      writer.Append(replays[i].episode);
      replays[i].episode = {};
      result.episodes.push_back(std::move(replays[i]));
    }
  }
  writer.Commit();
  return result;
}

}  // namespace r2s::sim

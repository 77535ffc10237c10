#include "sysid/actuator_simulator.h"

#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "episode/input_error.h"
#include "sim/world.h"
#include "sysid/fit_result.h"

namespace r2s::sysid::actuators {
namespace {

constexpr std::int64_t kMinFitFrames = 10;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Format(double x) { return FormatNumber(x, 4); }

// The actuator field of a kind (not for the position offset, which is no ActuatorParams field).
double& FieldOf(sim::ActuatorParams& a, Kind kind) {
  switch (kind) {
    case Kind::kKp:
      return a.kp;
    case Kind::kKd:
      return a.kd;
    case Kind::kEffortLimit:
      return a.effort_limit;
    case Kind::kVelocityLimit:
      return a.velocity_limit;
    case Kind::kLatency:
      return a.latency_s;
    case Kind::kCoulomb:
      return a.coulomb_friction;
    case Kind::kViscous:
      return a.viscous_friction;
    case Kind::kDamping:
      return a.damping;
    case Kind::kArmature:
      return a.armature;
    case Kind::kPositionOffset:
      break;
  }
  throw std::logic_error("FieldOf: the position offset is not an actuator field");
}

const char* SignalName(sim::JointSignal signal) {
  switch (signal) {
    case sim::JointSignal::kPosition:
      return "position";
    case sim::JointSignal::kVelocity:
      return "velocity";
    case sim::JointSignal::kEffort:
      return "effort";
    case sim::JointSignal::kPositionTarget:
      return "position_target";
    case sim::JointSignal::kVelocityTarget:
      return "velocity_target";
    case sim::JointSignal::kTorqueTarget:
      return "torque_target";
    case sim::JointSignal::kTorqueFeedforward:
      return "torque_feedforward";
  }
  return "?";
}

// Seconds from the first frame (the timestamp column, else frame / fps) and the physics step of each frame.
void ReadTimes(const ProblemInput& input, const episode::Episode& source, const std::string& which,
               PreparedEpisode& ep) {
  ep.time_s.resize(static_cast<std::size_t>(ep.frames));
  if (const episode::Column* ts = source.Find("timestamp")) {
    const std::int64_t w = episode::FrameWidth(ts->data);
    for (std::int64_t i = 0; i < ep.frames; ++i) {
      ep.time_s[i] = episode::FloatAt(ts->data, w, i, 0) - episode::FloatAt(ts->data, w, 0, 0);
      if (!std::isfinite(ep.time_s[i])) {
        throw InputError(input.dataset_file, "timestamp (" + which + ")",
                         "frame " + std::to_string(i) + " is " + Format(ep.time_s[i]));
      }
    }
  } else if (input.plan.fps()) {
    for (std::int64_t i = 0; i < ep.frames; ++i) ep.time_s[i] = static_cast<double>(i) / *input.plan.fps();
  } else {
    throw InputError(input.dataset_file, "timestamp (" + which + ")", "is missing and the dataset declares no fps");
  }
  const double dt = input.plan.model().sim.time_step_s;
  ep.step_of.resize(static_cast<std::size_t>(ep.frames));
  for (std::int64_t i = 0; i < ep.frames; ++i) {
    ep.step_of[i] = std::llround(ep.time_s[i] / dt);
    if (i > 0 && ep.step_of[i] < ep.step_of[i - 1]) {
      throw InputError(input.dataset_file, "timestamp (" + which + ")",
                       "goes back in time at frame " + std::to_string(i) + " (" + Format(ep.time_s[i]) + " s after " +
                           Format(ep.time_s[i - 1]) + " s)");
    }
  }
}

// One joint signal per dof (rows) and frame (columns), in SI units, NaN where the dataset does not bind it.
// Measured coordinates: the binding's units converted to SI, less the scene's encoder offset (which the compiler
// folded into the position bindings): the fit estimates that offset itself, as an absolute value.
Eigen::MatrixXd ReadSignal(const ProblemInput& input, const episode::Episode& source, const std::string& which,
                           std::int64_t frames, sim::JointSignal signal) {
  const sim::Model& model = input.plan.model();
  const int n = model.robot->num_dofs();
  const Eigen::VectorXd encoder_offset =
      model.robot->position_offset.size() == n ? model.robot->position_offset : Eigen::VectorXd::Zero(n);
  const bool offset = signal == sim::JointSignal::kPosition || signal == sim::JointSignal::kPositionTarget;
  Eigen::MatrixXd values = Eigen::MatrixXd::Constant(n, frames, kNaN);
  for (const sim::JointBinding& b : input.plan.joint_bindings()) {
    if (b.signal != signal) continue;
    const episode::Column* column = source.Find(b.feature);
    if (column == nullptr) throw InputError(input.dataset_file, b.feature + " (" + which + ")", "is missing");
    const std::int64_t w = episode::FrameWidth(column->data);
    for (std::int64_t i = 0; i < frames; ++i) {
      for (std::size_t k = 0; k < b.dofs.size(); ++k) {
        const double v = episode::FloatAt(column->data, w, i, b.begin + static_cast<std::int64_t>(k));
        if (!std::isfinite(v)) {
          throw InputError(input.dataset_file, b.feature + " (" + which + ")",
                           "frame " + std::to_string(i) + ": " + SignalName(signal) + " of joint '" +
                               model.robot->dof_link(b.dofs[k]).joint_name + "' is " + Format(v));
        }
        values(b.dofs[k], i) = b.SiFromRaw(k, v) - (offset ? encoder_offset[b.dofs[k]] : 0.0);
      }
    }
  }
  return values;
}

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kKp:
      return "kp";
    case Kind::kKd:
      return "kd";
    case Kind::kEffortLimit:
      return "effort_limit";
    case Kind::kVelocityLimit:
      return "velocity_limit";
    case Kind::kLatency:
      return "latency_s";
    case Kind::kCoulomb:
      return "coulomb_friction";
    case Kind::kViscous:
      return "viscous_friction";
    case Kind::kDamping:
      return "damping";
    case Kind::kArmature:
      return "armature";
    case Kind::kPositionOffset:
      return "position_offset";
  }
  return "?";
}

std::string KindUnit(Kind kind, bool prismatic) {
  switch (kind) {
    case Kind::kKp:
      return prismatic ? "N/m" : "N m/rad";
    case Kind::kKd:
    case Kind::kViscous:
    case Kind::kDamping:
      return prismatic ? "N s/m" : "N m s/rad";
    case Kind::kEffortLimit:
    case Kind::kCoulomb:
      return prismatic ? "N" : "N m";
    case Kind::kVelocityLimit:
      return prismatic ? "m/s" : "rad/s";
    case Kind::kLatency:
      return "s";
    case Kind::kArmature:
      return prismatic ? "kg" : "kg m^2";
    case Kind::kPositionOffset:
      return prismatic ? "m" : "rad";
  }
  return "";
}

double JointValues::Get(Kind kind) const {
  return kind == Kind::kPositionOffset ? offset : FieldOf(const_cast<sim::ActuatorParams&>(actuator), kind);
}

void JointValues::Set(Kind kind, double value) {
  if (kind == Kind::kPositionOffset) {
    offset = value;
  } else {
    FieldOf(actuator, kind) = value;
  }
}

PreparedEpisode PrepareEpisode(const ProblemInput& input, const episode::Episode& source, double held_out_fraction) {
  const std::string which = "episode " + std::to_string(source.metadata.index);
  PreparedEpisode ep;
  ep.index = source.metadata.index;
  ep.frames = source.metadata.length;
  ep.split = HeldOutSplit(ep.frames, held_out_fraction);
  if (ep.split < kMinFitFrames) {
    throw InputError(input.dataset_file, which,
                     "has " + std::to_string(ep.frames) + " frames, " + std::to_string(ep.split) +
                         " of them to fit; actuator identification needs at least " + std::to_string(kMinFitFrames));
  }
  ReadTimes(input, source, which, ep);
  ep.q_meas = ReadSignal(input, source, which, ep.frames, sim::JointSignal::kPosition);
  ep.qd_meas = ReadSignal(input, source, which, ep.frames, sim::JointSignal::kVelocity);
  ep.q_cmd = ReadSignal(input, source, which, ep.frames, sim::JointSignal::kPositionTarget);
  ep.qd_cmd = ReadSignal(input, source, which, ep.frames, sim::JointSignal::kVelocityTarget);
  ep.tau_cmd = ReadSignal(input, source, which, ep.frames, sim::JointSignal::kTorqueTarget);
  ep.tau_ff = ReadSignal(input, source, which, ep.frames, sim::JointSignal::kTorqueFeedforward);
  return ep;
}

Simulator::Simulator(const sim::Model& scene) : base_(scene) {
  // Free objects are dropped (see the top of actuator_fit.cc); static bodies stay.
  base_.objects.clear();
}

Eigen::MatrixXd Simulator::Run(const std::vector<JointValues>& values, const PreparedEpisode& ep,
                               std::int64_t end) const {
  auto model = std::make_shared<sim::Model>(base_);
  const sim::RobotModel& robot = *model->robot;
  const int n = robot.num_dofs();
  Eigen::VectorXd offset(n);
  for (int d = 0; d < n; ++d) {
    model->robot->actuators[d] = values[d].actuator;
    offset[d] = values[d].offset;
  }
  sim::World world(model);
  Eigen::VectorXd q0 = robot.initial_q.size() ? robot.initial_q : Eigen::VectorXd::Zero(n);
  Eigen::VectorXd qd0 = Eigen::VectorXd::Zero(n);
  for (int d = 0; d < n; ++d) {
    if (!std::isnan(ep.q_meas(d, 0))) q0[d] = ep.q_meas(d, 0) + offset[d];
    if (!std::isnan(ep.qd_meas(d, 0))) qd0[d] = ep.qd_meas(d, 0);
  }
  world.SetJointState(q0, qd0);
  Eigen::MatrixXd q(n, end);
  q.col(0) = world.joint_positions() - offset;
  const Eigen::VectorXd hold = robot.initial_q.size() ? robot.initial_q : Eigen::VectorXd::Zero(n);
  sim::RobotCommand command;
  command.position.resize(n);
  command.velocity.resize(n);
  command.torque.resize(n);
  command.feedforward.resize(n);
  auto pick = [](double value, double fallback) { return std::isnan(value) ? fallback : value; };
  for (std::int64_t i = 0; i + 1 < end; ++i) {
    for (int d = 0; d < n; ++d) {
      command.position[d] = std::isnan(ep.q_cmd(d, i)) ? hold[d] : ep.q_cmd(d, i) + offset[d];
      command.velocity[d] = pick(ep.qd_cmd(d, i), 0.0);
      command.torque[d] = pick(ep.tau_cmd(d, i), 0.0);
      command.feedforward[d] = pick(ep.tau_ff(d, i), 0.0);
    }
    world.SetCommand(command);
    world.Step(static_cast<int>(ep.step_of[i + 1] - ep.step_of[i]));
    q.col(i + 1) = world.joint_positions() - offset;
  }
  return q;
}

}  // namespace r2s::sysid::actuators

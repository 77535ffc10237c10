#include "sim/actuator.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace r2s::sim {
namespace {

// Tolerance on time comparisons: far below any physics step, far above the rounding of step * dt.
constexpr double kTimeToleranceS = 1e-9;

}  // namespace

double DriveTorque(const ActuatorParams& params, ControlMode mode, const JointCommand& command, double q, double qd) {
  double torque = command.feedforward;
  switch (mode) {
    case ControlMode::kPosition:
      torque += params.kp * (command.position - q) + params.kd * (command.velocity - qd);
      break;
    case ControlMode::kVelocity:
      torque += params.kd * (command.velocity - qd);
      break;
    case ControlMode::kTorque:
      torque += command.torque;
      break;
  }
  torque = std::clamp(torque, -params.effort_limit, params.effort_limit);
  if ((qd >= params.velocity_limit && torque > 0) || (qd <= -params.velocity_limit && torque < 0)) torque = 0;
  return torque;
}

double ViscousTorque(const ActuatorParams& params, double qd) {
  return -(params.viscous_friction + params.damping) * qd;
}

CommandDelay::CommandDelay(double latency_s) : latency_s_(latency_s) {
  if (!(latency_s >= 0) || !std::isfinite(latency_s)) {
    throw std::invalid_argument("CommandDelay: latency_s = " + std::to_string(latency_s) +
                                " must be finite and non-negative");
  }
}

void CommandDelay::Push(double time_s, const JointCommand& command) {
  if (!entries_.empty() && time_s < entries_.back().time_s) {
    throw std::invalid_argument("CommandDelay::Push: time " + std::to_string(time_s) +
                                " s is before the last push at " + std::to_string(entries_.back().time_s) + " s");
  }
  if (!entries_.empty() && time_s <= entries_.back().time_s + kTimeToleranceS) {
    entries_.back().command = command;  // a later command at the same instant replaces the earlier one
  } else {
    entries_.push_back({time_s, command});
  }
  // No query comes before time_s, so an entry followed by one at or before time_s - latency is never current again.
  const double horizon = time_s - latency_s_ + kTimeToleranceS;
  while (entries_.size() >= 2 && entries_[1].time_s <= horizon) entries_.pop_front();
}

JointCommand CommandDelay::At(double time_s) const {
  if (entries_.empty()) return {};
  const double seen = time_s - latency_s_ + kTimeToleranceS;
  // The last entry pushed at or before `seen`; the first one when all are later.
  auto it =
      std::upper_bound(entries_.begin(), entries_.end(), seen, [](double t, const Entry& e) { return t < e.time_s; });
  if (it == entries_.begin()) return entries_.front().command;
  return std::prev(it)->command;
}

}  // namespace r2s::sim

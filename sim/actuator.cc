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

CommandDelay::CommandDelay(double latency_s, double step_s) : latency_s_(latency_s), step_s_(step_s) {
  if (!(latency_s >= 0) || !std::isfinite(latency_s)) {
    throw std::invalid_argument("CommandDelay: latency_s = " + std::to_string(latency_s) +
                                " must be finite and non-negative");
  }
  if (!(step_s >= 0) || !std::isfinite(step_s)) {
    throw std::invalid_argument("CommandDelay: step_s = " + std::to_string(step_s) +
                                " must be finite and non-negative");
  }
  lookback_s_ = latency_s;
  if (step_s > 0) {
    const double steps = latency_s / step_s;
    const double nearest = std::round(steps);
    // Within the time tolerance of a whole number of steps: the plain hold, as before fractional latencies.
    if (std::abs(steps - nearest) * step_s > kTimeToleranceS) {
      whole_steps_ = static_cast<long long>(std::floor(steps));
      fraction_ = steps - static_cast<double>(whole_steps_);
      lookback_s_ = static_cast<double>(whole_steps_ + 1) * step_s;
    }
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
  // No query comes before time_s, so an entry followed by one at or before time_s - lookback is never current
  // again.
  const double horizon = time_s - lookback_s_ + kTimeToleranceS;
  while (entries_.size() >= 2 && entries_[1].time_s <= horizon) entries_.pop_front();
}

const JointCommand& CommandDelay::Held(double time_s, double delay_s) const {
  const double seen = time_s - delay_s + kTimeToleranceS;
  // The last entry pushed at or before `seen`; the first one when all are later.
  auto it =
      std::upper_bound(entries_.begin(), entries_.end(), seen, [](double t, const Entry& e) { return t < e.time_s; });
  if (it == entries_.begin()) return entries_.front().command;
  return std::prev(it)->command;
}

JointCommand CommandDelay::At(double time_s) const {
  if (entries_.empty()) return {};
  if (fraction_ == 0) return Held(time_s, latency_s_);
  const JointCommand& newer = Held(time_s, static_cast<double>(whole_steps_) * step_s_);
  const JointCommand& older = Held(time_s, static_cast<double>(whole_steps_ + 1) * step_s_);
  const double w = fraction_;
  const auto blend = [w](double a, double b) { return (1 - w) * a + w * b; };
  return JointCommand{blend(newer.position, older.position), blend(newer.velocity, older.velocity),
                      blend(newer.torque, older.torque), blend(newer.feedforward, older.feedforward)};
}

}  // namespace r2s::sim

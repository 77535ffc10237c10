#pragma once
// What a joint's actuator does with a command: the controller's drive torque and the passive terms, as pure
// functions, and the command delay line. No Bullet here, so these can be tested (and used by sysid) on their own;
// World applies them each physics step.

#include <deque>

#include "sim/actuator_params.h"

namespace r2s::sim {

// One dof's command. Which fields matter depends on the control mode (see DriveTorque); feedforward always adds.
struct JointCommand {
  double position = 0;     // rad or m (kPosition)
  double velocity = 0;     // rad/s or m/s (kPosition's velocity reference, kVelocity's target)
  double torque = 0;       // N m or N (kTorque)
  double feedforward = 0;  // N m or N, added to the controller's output in every mode
};

// The drive torque on one dof, before the passive terms (ViscousTorque; Coulomb friction, which World leaves to
// the constraint solver so that the joint can stick):
//   kPosition: kp (position - q) + kd (velocity - qd) + feedforward
//   kVelocity: kd (velocity - qd) + feedforward
//   kTorque:   torque + feedforward
// then saturated at +-effort_limit, and zeroed when it would push the joint further beyond +-velocity_limit
// (qd >= velocity_limit and a positive torque, or qd <= -velocity_limit and a negative one): a drive cannot
// accelerate past its top speed, but it can still brake.
double DriveTorque(const ActuatorParams& params, ControlMode mode, const JointCommand& command, double q, double qd);

// The passive velocity-proportional torque: -(viscous_friction + damping) qd.
double ViscousTorque(const ActuatorParams& params, double qd);

// A pure delay on one dof's commands, as a zero-order hold: At(t) returns the command that was current at
// t - latency_s, i.e. the last one pushed at or before that time, and the first command for any earlier time (a
// robot holds its first command from the start). Times are compared with a tolerance of 1 ns, so that a latency
// that is a whole number of physics steps is honoured exactly despite rounding in step * dt.
//
// With a physics step (step_s > 0), a latency between whole steps, (n + f) step_s with 0 < f < 1, acts
// continuously: At(t) blends the two bracketing whole-step delays, (1 - f) C(t - n step_s) + f C(t - (n + 1)
// step_s), every field linearly. That is the average of the delayed command over the step [t, t + step_s) when
// a switch lands a fraction f into it; without it the response would move only in whole steps, and a fitted
// latency would see a piecewise-constant cost. Whole-step latencies (f = 0 within 1 ns) and step_s = 0 take
// the plain zero-order hold, bit for bit.
//
// Memory stays bounded: Push drops every command that can no longer be current for a query at or after the
// newest push time. Queries must therefore not go back before the newest push time (World queries at the
// current time, and pushes at the current time).
class CommandDelay {
 public:
  explicit CommandDelay(double latency_s = 0, double step_s = 0);

  double latency_s() const { return latency_s_; }
  double step_s() const { return step_s_; }
  void Push(double time_s, const JointCommand& command);
  // The command current at time_s - latency_s (blended between steps, see above); a zero command when nothing
  // was ever pushed.
  JointCommand At(double time_s) const;
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }  // for tests of the memory bound
  void Clear() { entries_.clear(); }

 private:
  struct Entry {
    double time_s;
    JointCommand command;
  };
  // The zero-order hold: the command current at time_s - delay_s.
  const JointCommand& Held(double time_s, double delay_s) const;

  double latency_s_;
  double step_s_;
  // latency_s = (whole_steps_ + fraction_) step_s_ when fraction_ > 0; fraction_ = 0 means the plain hold.
  long long whole_steps_ = 0;
  double fraction_ = 0;
  double lookback_s_ = 0;      // the oldest time a query looks back: latency_s, or (whole_steps_ + 1) step_s
  std::deque<Entry> entries_;  // ascending time
};

}  // namespace r2s::sim

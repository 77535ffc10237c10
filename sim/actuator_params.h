#pragma once
// One joint's actuator: how the real robot's controller and drive turned commands into joint torque. These are
// the nominal values a scene file gives; system identification replaces them (params.yaml).

#include <limits>

namespace r2s::sim {

// What the real robot's commands were: joint position targets (a PD loop closes on them), joint velocity
// targets, or joint torques.
enum class ControlMode { kPosition, kVelocity, kTorque };

// Units are per joint type: N m and rad for revolute joints, N and m for prismatic ones.
struct ActuatorParams {
  double kp = 0;  // N m/rad: position gain (kPosition)
  double kd = 0;  // N m s/rad: velocity gain (kPosition: on the velocity error; kVelocity: the loop gain)
  double effort_limit = std::numeric_limits<double>::infinity();    // N m: the actuator's torque saturates here
  double velocity_limit = std::numeric_limits<double>::infinity();  // rad/s: no drive torque beyond this speed
  double latency_s = 0;                                             // pure delay between a command and its effect
  double coulomb_friction = 0;  // N m: opposes motion, and holds the joint below it (stiction)
  double viscous_friction = 0;  // N m s/rad
  double damping = 0;           // N m s/rad: passive damping, in addition to viscous friction
  double armature = 0;          // kg m^2: reflected rotor inertia
};

}  // namespace r2s::sim

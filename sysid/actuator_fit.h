#pragma once
// Problem 2: actuators from commands and measured positions only (no torque sensor: the LeRobot/SO-101 case), by
// simulation in the loop. For each joint with both a position_target and a position binding, the actuator values
// (kp, kd, effort and velocity limits, latency, Coulomb and viscous friction, armature, and an encoder offset) are
// fitted so that the scene's robot, driven by the recorded commands in a Bullet world, reproduces the measured
// positions over the first (1 - held_out_fraction) of each episode; the rest is predicted by running on from the
// start. The .cc says how an episode runs and which parameters the data can and cannot tell apart.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "sim/actuator_params.h"
#include "sysid/fit_result.h"
#include "sysid/problem_input.h"
#include "sysid/uncertainty.h"

namespace r2s::sysid {

struct ParameterBounds {
  double lower = 0;
  double upper = 0;
};

// Another model of the same actuators, replayed beside the fit as the held-out baseline (a published model, for
// instance); without one the baseline is the scene's nominal values.
struct ActuatorReference {
  std::string name;                            // what it is, for the report ("BAM m1, published")
  std::vector<sim::ActuatorParams> actuators;  // one per dof of the scene's robot
  Eigen::VectorXd position_offset;             // per dof (rad or m, see position_offset below); empty: zeros
};

struct ActuatorFitOptions {
  CommonFitOptions common;
  // The ActuatorParams fields fitted per joint. Passive `damping` is never fitted: it applies the same torque as
  // viscous_friction, -(viscous_friction + damping) qd, so only their sum is observable and viscous_friction
  // carries it; damping is reported at its nominal value, not identified.
  std::vector<std::string> parameters = {"kp",       "kd",        "effort_limit", "velocity_limit", "latency_s",
                                         "coulomb_friction",        "viscous_friction",             "armature"};
  // Also fit robot.<joint>.position_offset: the encoder's zero against the joint's true zero (physical = measured +
  // offset), which moves where gravity acts: on a pendulum a 0.03 rad offset is a 0.015 N m gravity error, as
  // large as its friction. It reaches params.yaml as robot.<joint>.position_offset, which the scene compiler folds
  // into the joint's position and position-target bindings (sim::RobotModel::position_offset). The estimate is
  // absolute: the fit takes the scene's current offset off the measured positions and starts from it.
  bool fit_position_offset = true;
  // Bounds replacing the defaults, by kind ("kp": every joint) or full name ("robot.shoulder.kp"). Defaults, with
  // nominal values x0 and the joint's effective inertia I at the first measured frame:
  //   kp             [kp0 / 10, 10 kp0] (log-scaled search; kp0 must be > 0)
  //   kd, viscous    [0, max(10 x0, 4 sqrt(kp0 I))]  (twice the critical damping of the nominal loop)
  //   coulomb        [0, max(10 x0, tau / 4)], tau = the nominal drive demand max |kp0 (command - q)|, at most the
  //                  nominal effort limit
  //   armature       [0, max(10 x0, 2 I)]
  //   effort_limit   [x0 / 5, 5 x0] (log); infinite x0: [tau / 20, 2 tau], starting at the top (no saturation)
  //   velocity_limit [v / 2, max(2 v, x0)] (log), v = the fastest measured speed; starts at min(x0, top)
  //   latency_s      [0, max(10 frame periods, 2 x0)]
  //   position_offset [-0.1, 0.1] rad (m for prismatic joints)
  std::map<std::string, ParameterBounds> bounds;
  // Joints fitted (empty: every joint with commanded and measured positions). Joints are fitted one at a time, the
  // others simulated alongside with their current values, in rounds until no fitted value moves by more than
  // `pass_tolerance` (relative to max(|value|, 1 % of its range)) or `passes` rounds have run. One round is exact
  // for a single joint; coupled joints need several, then one Levenberg-Marquardt refinement of every joint's
  // identified parameters together removes what the rounds leave (docs/sysid.md, "Coupled joints").
  std::vector<std::string> joints;
  int passes = 5;
  double pass_tolerance = 2e-3;
  // Per joint: a Halton search over the bounds (FitBySimulation), then from each of `starts` diverse points of it a
  // scan of each limit below its value (a limit above what the data demand is flat: no gradient leads back to where
  // it bites) and Levenberg-Marquardt; the lowest end wins. Later rounds refine from where the last one ended.
  // `common.quick` lowers them (one start).
  int global_samples = 64;
  int starts = 4;
  int max_iterations = 30;
  // Warnings (FitResult::warnings): the fit's cost is re-evaluated with the scene's time step halved, and a rise
  // beyond this fraction says the fitted values depend on time_step_s; a training residual RMS beyond
  // `noise_floor_ratio` times the channel's noise floor (from third differences of the measured positions) says the
  // model misses something the data show.
  double time_step_tolerance = 0.1;
  double noise_floor_ratio = 3;
  FitProgress progress;  // called between stages; may be empty
  UncertaintyOptions uncertainty;
  std::optional<ActuatorReference> reference;

  // Throws std::invalid_argument naming the field and value, for what can be checked without the scene (the
  // joints' and parameters' names, and the reference's size, are checked by FitActuators).
  void Validate() const;
  // Whether Validate() passes; else *why (when given) names the field and value. Validate() throws that as
  // std::invalid_argument.
  bool IsValid(std::string* why = nullptr) const;
};

// Throws InputError naming the dataset (and the missing signals, the feature, the episode and frame) when the
// robot is not position-controlled, the dataset feeds no commanded or no measured positions for a joint, an episode
// has too few frames to fit, or a bound value is NaN; std::invalid_argument for options that make no sense (an
// unknown parameter name, bounds with lower >= upper, a reference of the wrong size).
FitResult FitActuators(const ProblemInput& input, const ActuatorFitOptions& options);

}  // namespace r2s::sysid

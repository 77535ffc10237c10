#pragma once
// The base (identifiable) inertial parameters of a robot: the standard parameters (10 per link, as in
// sim::RigidBodyDynamics::Regressor) regrouped into the fewest linear combinations that still predict every joint
// torque. Links whose parameters never reach a measured joint vanish; parameters that only ever act together
// (a link's mass and the next one's, a rotor's armature and its link's inertia about the joint axis) merge.
//
// Method (Gautier 1990, numerically): stack the regressor over random states and pick r independent columns Y_B
// by Gram-Schmidt in a preferred order (links from the base out; Izz, Ixx, products and first moments before Iyy
// and m, which regroup into them; armatures last), a column joining when more than rank_tolerance of its
// direction is new; every other column is a fixed combination of them, Y_D = Y_B K (least squares, exact), so
// Y pi = Y_B (pi_B + K pi_D) = Y_B beta. The combination depends only on the
// kinematics, never on the trajectory: whether a trajectory excites every base parameter is a separate question
// (the fit's identifiability analysis).
//
// Extra columns (per-joint armature: qdd_j on joint j) join after the inertial ones: each is a base parameter of
// its own when independent of those already chosen, else it merges into them (the first joint's armature always
// merges with its link's inertia about the joint axis).

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "sim/rigid_body_dynamics.h"

namespace r2s::sysid {

struct BaseParameterOptions {
  int samples = 100;             // random states stacked (each gives one row per measured joint)
  std::uint64_t seed = 1;        // of the random states: the result is deterministic
  double rank_tolerance = 1e-6;  // a column whose new share of direction is below this is dependent
  double max_speed = 2.0;        // rad/s or m/s of the random states
  double max_acceleration = 10;  // rad/s^2 or m/s^2
};

struct BaseParameters {
  // The standard parameters: RigidBodyDynamics::InertialParameterNames(), then the extra columns' names.
  std::vector<std::string> standard_names;
  std::vector<int> measured_dofs;  // the joints whose torque rows the set explains, in row order
  // Index (into standard_names) of the standard parameter that leads each base parameter, in base order.
  std::vector<int> independent;
  Eigen::MatrixXd combination;  // r x standard: beta = combination * pi

  int size() const { return static_cast<int>(independent.size()); }
  const std::string& name(int k) const { return standard_names[independent[k]]; }
  // "panda_link2.Izz + panda_link3.Iyy + 0.0998 panda_link3.m + ..." (coefficients rounded to 4 digits).
  std::string Describe(int k) const;
  // The base regressor Y_B from the full one (measured rows x standard columns, extra columns appended).
  Eigen::MatrixXd Reduce(const Eigen::MatrixXd& full) const;
  // True when standard parameter i is a base parameter with no other standard parameter merged into it, so the
  // data can pin it down on its own.
  bool Alone(int standard_index) const;
};

// The full regressor rows of the measured dofs, [inertial (10 per link) | one armature column per measured dof]:
// the rigid body plus sum_j armature_j qdd_j on joint j. With a coupled transmission T (RobotModel::transmission;
// empty: the identity) the armatures are the motors': motor k's column is T_kj (T qdd)_k on joint j.
Eigen::MatrixXd MeasuredRegressor(const sim::RigidBodyDynamics& dynamics, const std::vector<int>& measured_dofs,
                                  const Eigen::VectorXd& q, const Eigen::VectorXd& qd, const Eigen::VectorXd& qdd,
                                  const Eigen::MatrixXd& transmission = {});

// Base parameters of `dynamics` for the torques of measured_dofs, with one armature column per measured dof named
// armature_names[i]. The moving dofs (a superset of the measured ones) take random states, uniform within their
// limits (within +-pi where unlimited; `robot` supplies the limits); the others stay at q_fixed at rest (an
// unrecorded gripper is a rigid part of its link).
BaseParameters FindBaseParameters(const sim::RobotModel& robot, const sim::RigidBodyDynamics& dynamics,
                                  const std::vector<int>& measured_dofs, const std::vector<int>& moving_dofs,
                                  const std::vector<std::string>& armature_names, const Eigen::VectorXd& q_fixed,
                                  const BaseParameterOptions& options = {});

}  // namespace r2s::sysid

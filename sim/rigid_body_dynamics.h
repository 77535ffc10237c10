#pragma once
// Rigid-body dynamics of a fixed-base robot (sim::RobotModel): forward kinematics, point Jacobians, recursive
// Newton-Euler inverse dynamics, the composite-rigid-body mass matrix, forward dynamics and the inertial-parameter
// regressor. Written here because Debian ships Bullet's InverseDynamics library without its headers; tests check it
// against closed-form dynamics, the Panda's published DH kinematics, real Panda torques and Bullet's forward
// dynamics.
//
// Featherstone's spatial-vector formulation, with every quantity of link i in link i's frame; fixed joints carry
// their child rigidly. Joint torques follow the dof order of RobotModel (q[link.dof]).

#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "sim/model.h"

namespace r2s::sim {

class RigidBodyDynamics {
 public:
  // Copies what it needs from `robot` (kinematic tree, inertials, armature); cheap to copy. gravity_mps2 is in the
  // world frame; robot.base_pose orients it. Throws std::invalid_argument on a model that breaks RobotModel's
  // invariants (a parent after its child, a dof index out of range, actuators.size() neither 0 nor num_dofs()).
  RigidBodyDynamics(const RobotModel& robot, const Eigen::Vector3d& gravity_mps2);

  int num_dofs() const { return num_dofs_; }
  int num_links() const { return static_cast<int>(links_.size()); }

  // World pose of every link frame (base_pose applied), indexed like RobotModel::links.
  std::vector<Eigen::Isometry3d> LinkPoses(const Eigen::VectorXd& q) const;

  // 6 x n geometric Jacobian of a point fixed in `link`, world frame, rows [linear; angular]: the point's world
  // velocity and the link's world angular velocity are J * qd.
  Eigen::Matrix<double, 6, Eigen::Dynamic> Jacobian(const Eigen::VectorXd& q, int link,
                                                    const Eigen::Vector3d& point_in_link_m) const;

  // Joint torques (N m, N) that produce qdd at (q, qd) under gravity: rigid body + armature_i * qdd_i (with a
  // coupled transmission T, rigid body + T^T diag(armature) T qdd: a rotor turns with its motor coordinate).
  Eigen::VectorXd InverseDynamics(const Eigen::VectorXd& q, const Eigen::VectorXd& qd,
                                  const Eigen::VectorXd& qdd) const;
  // Joint-space inertia M(q), armature on the diagonal (T^T diag(armature) T added, when coupled). Symmetric positive definite for a physical model.
  Eigen::MatrixXd MassMatrix(const Eigen::VectorXd& q) const;
  // C(q, qd) qd + g(q): InverseDynamics with qdd = 0.
  Eigen::VectorXd BiasForces(const Eigen::VectorXd& q, const Eigen::VectorXd& qd) const;
  // qdd = M(q)^-1 (tau - C(q, qd) qd - g(q)).
  Eigen::VectorXd ForwardDynamics(const Eigen::VectorXd& q, const Eigen::VectorXd& qd,
                                  const Eigen::VectorXd& tau) const;

  // The inertial-parameter regressor Y (n x 10 * num_links()): the rigid-body part of InverseDynamics (armature
  // excluded) is Y(q, qd, qdd) * InertialParameters(). Link l's parameters are columns 10 * l + k, k over
  // (m, m*cx, m*cy, m*cz, Ixx, Ixy, Ixz, Iyy, Iyz, Izz): c is the CoM in the link frame and I the inertia about the
  // link frame's origin in link axes (parallel-axis applied). Links that cannot affect any joint (the root, links
  // fixed to it) keep their columns, all zero.
  Eigen::MatrixXd Regressor(const Eigen::VectorXd& q, const Eigen::VectorXd& qd, const Eigen::VectorXd& qdd) const;
  Eigen::VectorXd InertialParameters() const;
  // "panda_link3.m", "panda_link3.mcx", ..., "panda_link3.Izz", in column order.
  std::vector<std::string> InertialParameterNames() const;
  // A copy whose links carry `parameters` (laid out as InertialParameters()); kinematics and armature unchanged.
  // Physically inconsistent values (negative mass, ...) are accepted: identification explores them.
  RigidBodyDynamics WithInertialParameters(const Eigen::VectorXd& parameters) const;

 private:
  struct LinkData {
    int parent = -1;
    JointType joint = JointType::kFixed;  // root (i == 0) stays kFixed
    int dof = -1;
    Eigen::Matrix3d origin_rotation = Eigen::Matrix3d::Identity();  // parent -> link frame at q = 0
    Eigen::Vector3d origin_translation = Eigen::Vector3d::Zero();
    Eigen::Vector3d axis = Eigen::Vector3d::UnitZ();  // unit, link frame
    // Spatial inertia about the link origin, link axes: mass, first moment m*c, rotational inertia about the origin.
    double mass_kg = 0;
    Eigen::Vector3d first_moment_kgm = Eigen::Vector3d::Zero();
    Eigen::Matrix3d inertia_origin_kgm2 = Eigen::Matrix3d::Zero();
  };
  // Link i's pose in its parent's frame at q.
  struct ParentTransform {
    Eigen::Matrix3d rotation;     // link axes in parent coordinates
    Eigen::Vector3d translation;  // link origin in parent coordinates
  };
  ParentTransform TransformToParent(const LinkData& link, const Eigen::VectorXd& q) const;
  void CheckSize(const Eigen::VectorXd& v, const char* what) const;
  Eigen::VectorXd Rnea(const Eigen::VectorXd& q, const Eigen::VectorXd& qd, const Eigen::VectorXd* qdd,
                       bool with_gravity) const;
  // The forward pass both RNEA and the regressor need: every link's pose in its parent, velocities and
  // accelerations (qdd null: zero joint accelerations), with the root accelerating at -g when with_gravity.
  struct LinkState;
  void PropagateMotion(const Eigen::VectorXd& q, const Eigen::VectorXd& qd, const Eigen::VectorXd* qdd,
                       bool with_gravity, std::vector<LinkState>& states) const;

  int num_dofs_ = 0;
  std::vector<LinkData> links_;
  std::vector<std::string> link_names_;
  Eigen::Isometry3d base_pose_ = Eigen::Isometry3d::Identity();
  Eigen::Vector3d gravity_root_mps2_ = Eigen::Vector3d::Zero();  // gravity in the root link's frame
  Eigen::VectorXd armature_;
  // A coupled transmission's armature, T^T diag(armature) T (RobotModel::transmission; armature_ is then zero);
  // empty otherwise.
  Eigen::MatrixXd armature_matrix_;
};

}  // namespace r2s::sim

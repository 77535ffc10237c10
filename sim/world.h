#pragma once
// The mutable simulation state (MuJoCo's mjData): one Bullet btMultiBodyDynamicsWorld in double precision, built
// from a shared, immutable Model. One per worker thread; never shared between threads. Bullet stays behind a
// pimpl so that this header needs only Eigen.
//
// What the world does, and the approximations it makes (see world.cc for the why):
// - The robot is a fixed-base btMultiBody at RobotModel::base_pose, one Bullet link per URDF link (fixed joints
//   included, as PyBullet does), with joint limits and link colliders. Robot links do not collide with each other
//   (PyBullet's default); they collide with objects and the environment.
// - Each step, every dof's command is delayed by its latency_s (a command set at step k with a latency of n whole
//   steps is applied from step k + n on; a latency of n + f steps, 0 < f < 1, applies the blend (1 - f) new +
//   f old at step k + n and the new command from k + n + 1 on, so the response moves continuously with the
//   latency), turned into DriveTorque + ViscousTorque and applied as a joint torque; Coulomb friction is a
//   velocity-0 joint motor whose impulse is bounded by coulomb_friction * dt, so the solver holds a joint still
//   below it (stiction) and opposes motion above it.
// - Armature (ActuatorParams::armature, a rotor's reflected inertia, kg m^2 or kg) acts on its own joint only, as
//   in MuJoCo: the joint-space inertia is M(q) + diag(armature), with no coupling into other joints and no
//   gyroscopic terms. Bullet's multibody has no such term, so each step the world computes, with a
//   RigidBodyDynamics of the robot, the acceleration qdd* = (M + A)^-1 (tau - C(q, qd)) that the drive and viscous
//   torques tau give (C: gravity, Coriolis, centrifugal), and applies the extra joint torque -A qdd*, with which
//   Bullet's own M^-1 gives qdd* (to ~1e-14 relative; tests/armature_test.cc). This is exact for the smooth
//   dynamics. The constraint solver does not see the armature: Coulomb friction motors, joint limits and contacts
//   compute their impulses with Bullet's M, without A. For a Coulomb friction motor the world scales the impulse
//   bound by r = [(M + A)^-1]_jj / [M^-1]_jj each step, which makes the joint's own response exact (it sticks
//   exactly when the true stopping torque is below coulomb_friction; sliding, friction decelerates it by
//   coulomb_friction through the inertia with armature) and reports the true torque (impulse / r); what the
//   impulse does to the other joints still goes through M^-1 instead of (M + A)^-1, and so does a joint limit's or
//   a contact's impulse, which therefore moves a joint with armature by too much for a given impulse (but stops a
//   joint at its limit, or a link at a contact, as it should). With zero armature everywhere nothing is added.
//   Dofs without armature among dofs with it (a gripper's jaw on a geared arm) are not predicted: their
//   accelerations are the ones measured over the last step, and only the dofs with armature are solved for,
//   (M + A)_aa qdd*_a = (tau - C)_a - M_ar qdd_r. A predicted jaw would accelerate under its drive torque even
//   while blocked by what it grips, and -A qdd*_a would push the arm with the reaction of a jaw that does not
//   move (an SO-101 shoved 10 cm as it closed on a cube); a blocked jaw's measured acceleration is 0. (Not for a
//   coupled transmission, which predicts every dof.)
//   Cost per step: a composite-rigid-body mass matrix, a Newton-Euler pass and one small Cholesky factorization
//   (two with Coulomb friction), about 3 us on the 9-dof Panda (bench/sim_replay_bench.cc --armature).
// - A coupled transmission (RobotModel::transmission T): motor k's delay line gets its own command (T q* and T qd*,
//   T^-T tau* and feedforward), its drive and viscous torques come from u_k = (T q)_k and u_k', the joints get
//   T^T tau_u, armature is T^T diag(armature) T (the rotors turn with their motors), and a coupled motor's Coulomb
//   friction is one velocity-0 constraint row along u_k (Jacobian T_k, impulse bound coulomb_friction * dt,
//   scaled with armature by [T (M + A)^-1 T^T]_kk / [T M^-1 T^T]_kk), so a held motor holds u_k and its coupled
//   joints move together. applied_torques() stays joint-side: T^T times the motors' torques. Without a
//   transmission none of this runs and the steps are bit-identical to before it existed.
// - Contact: a pair's lateral friction and restitution are the products of the two materials' values, and its
//   rolling (spinning) friction is rf_a mu_b + rf_b mu_a: Bullet's defaults, as in PyBullet. Solver settings
//   otherwise follow PyBullet's (erp2 0.08, friction ERP 0.2, warm start 0.1, ...), with
//   SimSettings::solver_iterations iterations. Convex-vs-plane and convex-vs-convex pairs perturb for full contact
//   manifolds (3 iterations), without which a box sliding on a plane sinks, spins and misses Coulomb's law by ~3 %.
// - Collision shapes: the Bullet shapes of every collision Shape (convex hulls, HACD pieces, primitives, planes)
//   depend on nothing a fit changes, so a compiled scene builds them once (BuildCollisionGeometry, into
//   Model::collision_geometry) and every World of the model, and of its copies with other masses, inertias,
//   actuators or materials, shares them; they are immutable once built, which Bullet's collision detection
//   needs (it only reads leaf shapes), so Worlds on several threads use them at once. Each World places them in
//   compounds of its own, by its link's or object's inertial frame. A Shape that the model's geometry does not
//   hold (a hand-built model, a copy whose shapes were edited) is built by the World itself, kept across Reset.
// - Deterministic: no threads; the same model and the same calls give bit-identical states.

#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "sim/model.h"

namespace r2s::sim {

// Per-dof commands; an empty vector means zeros. Which vectors matter depends on RobotModel::control_mode.
struct RobotCommand {
  Eigen::VectorXd position, velocity, torque, feedforward;
};

// Where a World's collision shapes came from: for tests and benchmarks.
struct CollisionGeometryUse {
  const CollisionGeometry* shared = nullptr;  // the model's geometry, when the World uses it
  int shared_shapes = 0;                      // collision Shapes whose Bullet shapes came from it
  int built_shapes = 0;                       // collision Shapes the World built itself
};

// Builds the Bullet shapes of every collision Shape of `model` (robot links, objects, environment), each distinct
// Shape once: what CompileScene stores in Model::collision_geometry. Costly on large meshes (a convex hull of every
// mesh); the result is immutable and safe to share between threads. Throws std::invalid_argument naming the owner
// for a mesh Shape without a mesh.
std::shared_ptr<const CollisionGeometry> BuildCollisionGeometry(const Model& model);

// What Bullet was given, read back from the btMultiBody: for tests and debugging.
struct MultiBodySummary {
  struct LinkInfo {
    std::string name;       // the URDF link
    int bullet_index = -1;  // -1 for the base
    int parent_bullet_index = -1;
    std::string joint_type;  // "fixed", "revolute", "prismatic" ("base" for the base)
    double mass_kg = 0;
    Eigen::Vector3d principal_inertia_kgm2 = Eigen::Vector3d::Zero();  // Bullet's diagonal inertia
    bool has_limit = false;  // a btMultiBodyJointLimitConstraint on this link's joint
    double lower_limit = 0;
    double upper_limit = 0;
    bool has_coulomb_motor = false;
    int num_collision_shapes = 0;  // children of the link collider's compound; 0 when no collider
  };
  int num_links = 0;  // Bullet links, not counting the base
  int num_dofs = 0;
  bool fixed_base = false;
  bool self_collision = false;
  std::vector<LinkInfo> links;  // the base first, then Bullet link 0, 1, ...
};

class World {
 public:
  explicit World(std::shared_ptr<const Model> model);
  ~World();
  World(World&&) noexcept;
  World& operator=(World&&) noexcept;
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  const Model& model() const { return *model_; }
  double time_s() const;  // steps taken since construction or Reset, times time_step_s

  // The robot at its initial_q at rest, objects at their initial_pose at rest, commands and delays cleared, time
  // 0. The Bullet world is rebuilt (the collision shapes are kept), so a reset world continues bit-identically to
  // a new one.
  void Reset();

  // --- robot, in dof order; no-ops or empty when the model has no robot ---
  Eigen::VectorXd joint_positions() const;
  Eigen::VectorXd joint_velocities() const;
  // Teleports the joints (no dynamics in between); commands and delays are kept.
  void SetJointState(const Eigen::VectorXd& q, const Eigen::VectorXd& qd);
  // The total actuator torque applied in the last step: drive + viscous + the Coulomb friction impulse the solver
  // applied, divided by dt. Zeros before the first step.
  Eigen::VectorXd applied_torques() const;
  // World pose of a robot link's URDF frame (not Bullet's CoM frame); link indexes RobotModel::links.
  Eigen::Isometry3d LinkPose(int link) const;
  // Held until replaced; each dof sees it after its actuator's latency_s.
  void SetCommand(const RobotCommand& command);
  MultiBodySummary DescribeRobot() const;
  CollisionGeometryUse collision_geometry_use() const;

  // --- free objects, indexed as Model::objects ---
  Eigen::Isometry3d ObjectPose(int object) const;  // the object's frame (not necessarily its CoM)
  void SetObjectPose(int object, const Eigen::Isometry3d& pose);
  // Velocities of the object's frame: the linear one is that of the frame's origin, in the world.
  void SetObjectVelocity(int object, const Eigen::Vector3d& linear_mps, const Eigen::Vector3d& angular_radps);
  Eigen::Vector3d ObjectLinearVelocity(int object) const;
  Eigen::Vector3d ObjectAngularVelocity(int object) const;

  // Exactly one physics step of model().sim.time_step_s.
  void Step();
  void Step(int n);

 private:
  struct Impl;  // Bullet state; defined in world.cc
  std::shared_ptr<const Model> model_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace r2s::sim

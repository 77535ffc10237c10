// Armature (ActuatorParams::armature, a rotor's reflected inertia) as MuJoCo defines it: the joint-space inertia
// becomes M(q) + diag(armature), nothing else (sim/world.h). Checked on Bullet worlds of arms the tests write as
// URDF: one step's acceleration against the analytic mass matrix, the independence of a joint's acceleration from
// another joint's armature, a pendulum's period, and Coulomb friction acting through the armature.

#include <cmath>
#include <limits>
#include <memory>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Cholesky>

#include "sim/mesh_loader.h"
#include "sim/rigid_body_dynamics.h"
#include "sim/urdf_loader.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace r2s::sim {
namespace {

using Eigen::VectorXd;

constexpr double kDt = 1e-3;

// Synthetic: a three-joint arm, no collision geometry. A shoulder about y, an elbow about a tilted axis (0, 0.8,
// 0.6) (neither parallel nor perpendicular to the shoulder's, so a rotor on the elbow link would couple into the
// shoulder), and a prismatic slide along the forearm. Inertias carry products and CoMs sit off the axes.
constexpr char kArmUrdf[] = R"(<?xml version="1.0"?>
<robot name="synthetic_arm">
  <link name="base">
    <inertial><origin xyz="0 0 0.05"/><mass value="2.0"/>
      <inertia ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"/></inertial>
  </link>
  <link name="upper_arm">
    <inertial><origin xyz="0.2 0.01 -0.02"/><mass value="1.2"/>
      <inertia ixx="0.004" ixy="0.0005" ixz="-0.0003" iyy="0.02" iyz="0.0002" izz="0.018"/></inertial>
  </link>
  <link name="forearm">
    <inertial><origin xyz="0.15 -0.02 0.01"/><mass value="0.8"/>
      <inertia ixx="0.002" ixy="-0.0002" ixz="0.0001" iyy="0.009" iyz="0" izz="0.008"/></inertial>
  </link>
  <link name="slider">
    <inertial><origin xyz="0.05 0 0.01"/><mass value="0.3"/>
      <inertia ixx="0.0003" ixy="0" ixz="0" iyy="0.0004" iyz="0" izz="0.0005"/></inertial>
  </link>
  <joint name="shoulder" type="continuous">
    <parent link="base"/><child link="upper_arm"/><origin xyz="0 0 0.5" rpy="0.1 0 0"/><axis xyz="0 1 0"/>
  </joint>
  <joint name="elbow" type="continuous">
    <parent link="upper_arm"/><child link="forearm"/><origin xyz="0.4 0 0" rpy="0 0 0.2"/><axis xyz="0 0.8 0.6"/>
  </joint>
  <joint name="slide" type="prismatic">
    <parent link="forearm"/><child link="slider"/><origin xyz="0.3 0 0"/><axis xyz="1 0 0"/>
    <limit lower="-10" upper="10" effort="1000" velocity="1000"/>
  </joint>
</robot>
)";

// Synthetic: a pendulum about y, its CoM 0.3 m below the pivot.
constexpr char kPendulumUrdf[] = R"(<?xml version="1.0"?>
<robot name="synthetic_pendulum">
  <link name="base"/>
  <link name="bob">
    <inertial><origin xyz="0 0 -0.3"/><mass value="0.5"/>
      <inertia ixx="0.002" ixy="0" ixz="0" iyy="0.002" iyz="0" izz="0.001"/></inertial>
  </link>
  <joint name="swing" type="continuous">
    <parent link="base"/><child link="bob"/><origin xyz="0 0 1"/><axis xyz="0 1 0"/>
  </joint>
</robot>
)";

// The URDF's robot in torque control, every actuator term off but armature (one value per dof).
std::shared_ptr<Model> TorqueControlled(const std::string& urdf_text, const VectorXd& armature) {
  const r2s::testing::TempDir dir;
  r2s::testing::WriteTextFile(dir / "robot.urdf", urdf_text);
  MeshCache meshes;
  auto model = std::make_shared<Model>();
  model->name = "armature_test";
  model->sim.time_step_s = kDt;
  model->robot = LoadUrdf(dir / "robot.urdf", {}, meshes).robot;
  RobotModel& robot = *model->robot;
  robot.control_mode = ControlMode::kTorque;
  EXPECT_EQ(robot.num_dofs(), armature.size());
  for (int d = 0; d < robot.num_dofs(); ++d) {
    ActuatorParams& actuator = robot.actuators[d];
    actuator = ActuatorParams{};
    actuator.effort_limit = std::numeric_limits<double>::infinity();
    actuator.velocity_limit = std::numeric_limits<double>::infinity();
    actuator.armature = armature[d];
  }
  return model;
}

// The rigid-body dynamics of the model's robot without its armature.
RigidBodyDynamics RigidDynamics(const Model& model) {
  RobotModel rigid = *model.robot;
  for (ActuatorParams& actuator : rigid.actuators) actuator.armature = 0;
  return RigidBodyDynamics(rigid, model.sim.gravity_mps2);
}

// Bullet's joint acceleration over one step from (q, qd) under tau: semi-implicit Euler, qd' = qd + dt qdd.
VectorXd OneStepAcceleration(const std::shared_ptr<const Model>& model, const VectorXd& q, const VectorXd& qd,
                             const VectorXd& tau) {
  World world(model);
  world.SetJointState(q, qd);
  RobotCommand command;
  command.torque = tau;
  world.SetCommand(command);
  world.Step();
  return (world.joint_velocities() - qd) / kDt;
}

VectorXd Uniform(std::mt19937& rng, int n, double scale) {
  VectorXd v(n);
  for (int i = 0; i < n; ++i) v[i] = std::uniform_real_distribution<double>(-scale, scale)(rng);
  return v;
}

TEST(Armature, OneStepAccelerationSolvesTheMassMatrixWithArmatureOnItsDiagonal) {
  VectorXd armature(3);
  armature << 0.05, 0.03, 0.2;  // kg m^2, kg m^2, kg
  const auto model = TorqueControlled(kArmUrdf, armature);
  const RigidBodyDynamics rigid = RigidDynamics(*model);
  std::mt19937 rng(7);
  for (int trial = 0; trial < 10; ++trial) {
    const VectorXd q = Uniform(rng, 3, 2.0);
    const VectorXd qd = Uniform(rng, 3, 2.0);
    const VectorXd tau = Uniform(rng, 3, 5.0);
    Eigen::MatrixXd mass = rigid.MassMatrix(q);
    mass.diagonal() += armature;
    const VectorXd expected = mass.llt().solve(tau - rigid.BiasForces(q, qd));
    const VectorXd bullet = OneStepAcceleration(model, q, qd, tau);
    EXPECT_LT((bullet - expected).cwiseAbs().maxCoeff(), 1e-9 * (1 + expected.cwiseAbs().maxCoeff()))
        << "q " << q.transpose() << "\nqd " << qd.transpose() << "\nBullet qdd " << bullet.transpose()
        << "\nexpected   " << expected.transpose();
  }
}

// A rotor that does not turn adds no inertia: with a torque that holds one joint's acceleration at zero, that
// joint's armature cannot matter to any joint. (A rotor carried as part of its link, the old treatment, would
// add inertia to the joints above it.)
TEST(Armature, AJointsArmatureDoesNotChangeTheOtherJointsAccelerationWhileItsOwnIsZero) {
  VectorXd nominal(3);
  nominal << 0.05, 0.03, 0.2;
  const VectorXd q = (VectorXd(3) << 0.4, -0.7, 0.1).finished();
  const VectorXd qd = (VectorXd(3) << 0.8, -1.1, 0.3).finished();
  for (int child : {1, 2}) {  // the elbow (revolute), the slide (prismatic)
    SCOPED_TRACE(child == 1 ? "elbow" : "slide");
    VectorXd target(3);
    target << 1.5, -2.0, 0.8;
    target[child] = 0;
    const auto nominal_model = TorqueControlled(kArmUrdf, nominal);
    // The torque that gives `target` in the true dynamics; armature_child * 0 is no part of it.
    const VectorXd tau = RigidDynamics(*nominal_model).InverseDynamics(q, qd, target) + nominal.cwiseProduct(target);
    VectorXd heavier = nominal;
    heavier[child] = 10 * nominal[child];
    const VectorXd a = OneStepAcceleration(nominal_model, q, qd, tau);
    const VectorXd b = OneStepAcceleration(TorqueControlled(kArmUrdf, heavier), q, qd, tau);
    EXPECT_LT((a - target).cwiseAbs().maxCoeff(), 1e-9) << a.transpose();
    EXPECT_LT((b - target).cwiseAbs().maxCoeff(), 1e-9) << b.transpose();
    EXPECT_NEAR(a[0], b[0], 1e-9);  // the shoulder, parent of both
  }
}

// Downward zero crossings of q(t), linearly interpolated between steps.
std::vector<double> DownwardZeroCrossings(World& world, int steps) {
  std::vector<double> crossings;
  double previous = world.joint_positions()[0];
  for (int k = 1; k <= steps; ++k) {
    world.Step();
    const double q = world.joint_positions()[0];
    if (previous > 0 && q <= 0) crossings.push_back((k - 1 + previous / (previous - q)) * kDt);
    previous = q;
  }
  return crossings;
}

TEST(Armature, FreeSwingingPendulumHasTheAnalyticPeriod) {
  const double mass = 0.5, arm = 0.3, amplitude = 0.5;
  const double pivot_inertia = 0.002 + mass * arm * arm;
  for (const double armature : {0.0, pivot_inertia}) {  // the second doubles the inertia: period x sqrt(2)
    SCOPED_TRACE("armature " + std::to_string(armature));
    const auto model = TorqueControlled(kPendulumUrdf, VectorXd::Constant(1, armature));
    World world(model);
    world.SetJointState(VectorXd::Constant(1, amplitude), VectorXd::Zero(1));
    world.SetCommand(RobotCommand{});
    const std::vector<double> crossings = DownwardZeroCrossings(world, 6000);
    ASSERT_GE(crossings.size(), 3u);
    const double period = (crossings.back() - crossings.front()) / static_cast<double>(crossings.size() - 1);
    // T = 4 sqrt(I / (m g l)) K(sin(amplitude / 2)), I the inertia about the pivot plus the armature.
    const double expected =
        4 * std::sqrt((pivot_inertia + armature) / (mass * 9.81 * arm)) * std::comp_ellint_1(std::sin(amplitude / 2));
    EXPECT_NEAR(period, expected, 2e-4 * expected);
  }
}

// A horizontal joint with Coulomb friction: the friction's impulse goes through Bullet's constraint solver, which
// knows no armature; the world scales its bound so that the joint sticks and slides as with the armature.
TEST(Armature, CoulombFrictionActsThroughTheJointsInertiaWithArmature) {
  const double mass = 0.5, arm = 0.3, armature = 0.1, friction = 0.2;
  const double inertia = 0.002 + mass * arm * arm + armature;  // about the pivot, armature included
  auto model = TorqueControlled(kPendulumUrdf, VectorXd::Constant(1, armature));
  model->sim.gravity_mps2 = Eigen::Vector3d::Zero();  // no other torque on the joint
  model->robot->actuators[0].coulomb_friction = friction;
  RobotCommand command;
  {  // sliding down from 3 rad/s: decelerates at friction / inertia until it stops
    World world(model);
    world.SetJointState(VectorXd::Zero(1), VectorXd::Constant(1, 3.0));
    world.SetCommand(command);
    const int n = 1000;
    world.Step(n);
    EXPECT_NEAR(world.joint_velocities()[0], 3.0 - friction / inertia * n * kDt, 1e-9);
    EXPECT_NEAR(world.applied_torques()[0], -friction, 1e-9);
  }
  {  // a torque just below the friction sticks, just above slides at (tau - friction) / inertia
    World world(model);
    command.torque = VectorXd::Constant(1, 0.95 * friction);
    world.SetCommand(command);
    world.Step(200);
    EXPECT_LT(std::abs(world.joint_velocities()[0]), 1e-9);
    EXPECT_NEAR(world.applied_torques()[0], 0.0, 1e-6);  // friction cancels the drive
    command.torque = VectorXd::Constant(1, 1.05 * friction);
    world.SetCommand(command);
    world.Step(200);
    EXPECT_NEAR(world.joint_velocities()[0], 0.05 * friction / inertia * 200 * kDt, 1e-9);
    EXPECT_NEAR(world.applied_torques()[0], 0.05 * friction, 1e-9);
  }
}

}  // namespace
}  // namespace r2s::sim

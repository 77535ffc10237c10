// A coupled transmission (RobotModel::transmission, docs/scenes.md "Transmission"): motors act on their own
// coordinates u = T q and the joints feel T^T tau_u (sim/world.h). Checked on Bullet worlds of a synthetic wrist
// the test writes as URDF: one step's acceleration against the analytic dynamics with motor-side gains, damping
// and armature (a serial coupling and a bevel-gear differential); a motor held by its friction making its coupled
// joint counter-rotate; sliding motor friction reaching the joints through T^T and reported as such; and the
// scene's transmission section compiled into T.

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <Eigen/Cholesky>
#include <Eigen/LU>

#include "sim/mesh_loader.h"
#include "sim/rigid_body_dynamics.h"
#include "sim/scene_compiler.h"
#include "sim/urdf_loader.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace r2s::sim {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kDt = 1e-3;

// Synthetic: a shoulder about y, then a wrist: pitch about y, roll about the forearm's x. CoMs off the axes.
constexpr char kWristUrdf[] = R"(<?xml version="1.0"?>
<robot name="synthetic_wrist">
  <link name="base">
    <inertial><origin xyz="0 0 0.05"/><mass value="2.0"/>
      <inertia ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"/></inertial>
  </link>
  <link name="forearm">
    <inertial><origin xyz="0.2 0.01 -0.02"/><mass value="1.2"/>
      <inertia ixx="0.004" ixy="0.0005" ixz="-0.0003" iyy="0.02" iyz="0.0002" izz="0.018"/></inertial>
  </link>
  <link name="wrist">
    <inertial><origin xyz="0.03 0.005 0.01"/><mass value="0.4"/>
      <inertia ixx="0.0006" ixy="0.00002" ixz="0" iyy="0.0008" iyz="0" izz="0.0007"/></inertial>
  </link>
  <link name="hand">
    <inertial><origin xyz="0.06 0.01 -0.005"/><mass value="0.3"/>
      <inertia ixx="0.0004" ixy="0" ixz="0.00003" iyy="0.0006" iyz="0" izz="0.0005"/></inertial>
  </link>
  <joint name="shoulder" type="continuous">
    <parent link="base"/><child link="forearm"/><origin xyz="0 0 0.5"/><axis xyz="0 1 0"/>
  </joint>
  <joint name="pitch" type="continuous">
    <parent link="forearm"/><child link="wrist"/><origin xyz="0.4 0 0"/><axis xyz="0 1 0"/>
  </joint>
  <joint name="roll" type="continuous">
    <parent link="wrist"/><child link="hand"/><origin xyz="0.08 0 0"/><axis xyz="1 0 0"/>
  </joint>
</robot>
)";

// Motor 2 (roll's) turns with the pitch joint: u_roll = q_roll + c q_pitch.
MatrixXd SerialCoupling(double c) {
  MatrixXd t = MatrixXd::Identity(3, 3);
  t(2, 1) = c;
  return t;
}

// A bevel-gear differential: both wrist motors turn both wrist joints (pitch = sum, roll = difference).
MatrixXd Differential() {
  MatrixXd t = MatrixXd::Identity(3, 3);
  t.block(1, 1, 2, 2) << 0.5, 0.5, 0.5, -0.5;
  return t;
}

// The wrist in `mode` with transmission t, every actuator term zero but those the test sets.
std::shared_ptr<Model> Wrist(ControlMode mode, const MatrixXd& t, bool gravity = true) {
  const r2s::testing::TempDir dir;
  r2s::testing::WriteTextFile(dir / "robot.urdf", kWristUrdf);
  MeshCache meshes;
  auto model = std::make_shared<Model>();
  model->name = "transmission_test";
  model->sim.time_step_s = kDt;
  if (!gravity) model->sim.gravity_mps2.setZero();
  model->robot = LoadUrdf(dir / "robot.urdf", {}, meshes).robot;
  RobotModel& robot = *model->robot;
  robot.control_mode = mode;
  for (ActuatorParams& actuator : robot.actuators) {
    actuator = ActuatorParams{};
    actuator.effort_limit = std::numeric_limits<double>::infinity();
    actuator.velocity_limit = std::numeric_limits<double>::infinity();
  }
  if (!t.isIdentity(0.0)) robot.transmission = t;
  return model;
}

RigidBodyDynamics RigidDynamics(const Model& model) {
  RobotModel rigid = *model.robot;
  rigid.actuators.clear();
  return RigidBodyDynamics(rigid, model.sim.gravity_mps2);
}

VectorXd Uniform(std::mt19937& rng, int n, double scale) {
  VectorXd v(n);
  for (int i = 0; i < n; ++i) v[i] = std::uniform_real_distribution<double>(-scale, scale)(rng);
  return v;
}

TEST(Transmission, OneStepAccelerationHasMotorSideGainsDampingAndArmature) {
  for (const MatrixXd& t : {SerialCoupling(0.7), Differential()}) {
    SCOPED_TRACE("T =\n" + [&] {
      std::ostringstream s;
      s << t;
      return s.str();
    }());
    auto model = Wrist(ControlMode::kPosition, t);
    VectorXd kp(3), kd(3), viscous(3), armature(3);
    kp << 40, 25, 10;
    kd << 2, 1, 0.5;
    viscous << 0.3, 0.2, 0.1;
    armature << 0.02, 0.01, 0.004;
    for (int k = 0; k < 3; ++k) {
      ActuatorParams& a = model->robot->actuators[k];
      a.kp = kp[k];
      a.kd = kd[k];
      a.viscous_friction = viscous[k];
      a.armature = armature[k];
    }
    const RigidBodyDynamics rigid = RigidDynamics(*model);
    std::mt19937 rng(11);
    for (int trial = 0; trial < 8; ++trial) {
      const VectorXd q = Uniform(rng, 3, 2.0), qd = Uniform(rng, 3, 2.0);
      const VectorXd target = Uniform(rng, 3, 1.0), target_velocity = Uniform(rng, 3, 1.0);
      // Motor side: tau_u = Kp (T q* - T q) + Kd (T qd* - T qd) - viscous T qd; the joints get T^T tau_u, and the
      // rotors' inertia is T^T A T.
      const VectorXd tau_u = kp.cwiseProduct(t * (target - q)) + kd.cwiseProduct(t * (target_velocity - qd)) -
                             viscous.cwiseProduct(t * qd);
      MatrixXd mass = rigid.MassMatrix(q) + t.transpose() * armature.asDiagonal() * t;
      const VectorXd expected = mass.llt().solve(t.transpose() * tau_u - rigid.BiasForces(q, qd));

      World world(model);
      world.SetJointState(q, qd);
      RobotCommand command;
      command.position = target;
      command.velocity = target_velocity;
      world.SetCommand(command);
      world.Step();
      const VectorXd bullet = (world.joint_velocities() - qd) / kDt;
      EXPECT_LT((bullet - expected).cwiseAbs().maxCoeff(), 1e-8 * (1 + expected.cwiseAbs().maxCoeff()))
          << "Bullet qdd " << bullet.transpose() << "\nexpected   " << expected.transpose();
      EXPECT_LT((world.applied_torques() - t.transpose() * tau_u).cwiseAbs().maxCoeff(), 1e-9);
    }
  }
}

// The roll motor's friction is far above anything the motion asks of it, so the motor stands still: with u_roll
// = q_roll + c q_pitch held, the roll joint turns back by c for every radian the pitch joint turns. Joint-side
// friction on the roll joint (no transmission) would hold the roll joint itself.
TEST(Transmission, AMotorHeldByItsFrictionMakesItsCoupledJointCounterRotate) {
  const double c = 0.6;
  for (const bool coupled : {true, false}) {
    SCOPED_TRACE(coupled ? "coupled" : "identity");
    auto model = Wrist(ControlMode::kTorque, coupled ? SerialCoupling(c) : MatrixXd::Identity(3, 3), false);
    model->robot->actuators[2].coulomb_friction = 50;
    World world(model);
    world.SetJointState(VectorXd::Zero(3), VectorXd::Zero(3));
    RobotCommand command;
    command.torque = VectorXd::Unit(3, 1) * 0.05;  // on the pitch joint
    world.SetCommand(command);
    world.Step(600);
    const VectorXd q = world.joint_positions();
    std::printf("%s: pitch %.5f, roll %.5f rad\n", coupled ? "coupled" : "identity", q[1], q[2]);
    ASSERT_GT(std::abs(q[1]), 0.1);
    if (coupled) {
      EXPECT_NEAR(q[2] + c * q[1], 0.0, 1e-6 * std::abs(q[1]));
    } else {
      EXPECT_NEAR(q[2], 0.0, 1e-6 * std::abs(q[1]));
    }
  }
}

// Sliding, the roll motor's Coulomb friction acts along u_roll: the joints feel -fc sign(u_roll') T_roll^T, which
// applied_torques reports, and the step's acceleration follows from it.
TEST(Transmission, SlidingMotorFrictionReachesTheJointsThroughTheTransmission) {
  const double c = 0.6, fc = 0.04;
  auto model = Wrist(ControlMode::kTorque, SerialCoupling(c), false);
  model->robot->actuators[2].coulomb_friction = fc;
  const VectorXd q = (VectorXd(3) << 0.3, -0.4, 0.2).finished();
  const VectorXd qd = (VectorXd(3) << 0.5, 1.5, 1.0).finished();  // u_roll' = 1.0 + 0.6 * 1.5 = 1.9 rad/s
  World world(model);
  world.SetJointState(q, qd);
  world.SetCommand(RobotCommand{});
  world.Step();
  const VectorXd friction = -fc * SerialCoupling(c).row(2).transpose();
  EXPECT_LT((world.applied_torques() - friction).cwiseAbs().maxCoeff(), 1e-9) << world.applied_torques().transpose();
  const RigidBodyDynamics rigid = RigidDynamics(*model);
  const VectorXd expected = rigid.MassMatrix(q).llt().solve(friction - rigid.BiasForces(q, qd));
  const VectorXd bullet = (world.joint_velocities() - qd) / kDt;
  EXPECT_LT((bullet - expected).cwiseAbs().maxCoeff(), 1e-8 * (1 + expected.cwiseAbs().maxCoeff()))
      << "Bullet qdd " << bullet.transpose() << "\nexpected   " << expected.transpose();
}

TEST(Transmission, SceneSectionCompilesIntoTheMotorToJointMap) {
  const r2s::testing::TempDir dir;
  r2s::testing::WriteTextFile(dir / "robot.urdf", kWristUrdf);
  r2s::testing::WriteTextFile(dir / "scene.yaml", R"(name: coupled_wrist
robot:
  urdf: robot.urdf
  control_mode: torque
  transmission:
    - joints: [roll, pitch]          # listed in any order: motor a is joints[a]'s
      coupling: [[1, 0.6], [0, 1]]   # u_roll = q_roll + 0.6 q_pitch, u_pitch = q_pitch
)");
  const auto model = LoadScene(dir.path());
  const RobotModel& robot = *model->robot;
  ASSERT_TRUE(robot.coupled());
  const int roll = robot.FindDof("roll"), pitch = robot.FindDof("pitch"), shoulder = robot.FindDof("shoulder");
  MatrixXd expected = MatrixXd::Identity(3, 3);
  expected(roll, pitch) = 0.6;
  EXPECT_TRUE(robot.transmission.isApprox(expected, 0.0)) << robot.transmission;
  EXPECT_EQ(robot.transmission(shoulder, shoulder), 1.0);

  // An identity coupling leaves the model uncoupled: the plain, bit-identical path.
  r2s::testing::WriteTextFile(dir / "scene.yaml", R"(name: identity
robot:
  urdf: robot.urdf
  control_mode: torque
  transmission:
    - joints: [pitch, roll]
      coupling: [[1, 0], [0, 1]]
)");
  EXPECT_FALSE(LoadScene(dir.path())->robot->coupled());
}

}  // namespace
}  // namespace r2s::sim

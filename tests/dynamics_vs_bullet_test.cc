// Our inverse/forward dynamics against Bullet's forward dynamics on the same robot, as Bullet's own tests check
// its inverse dynamics. One World step from (q, qd) under joint torques tau, with no contact, no active limit, no
// friction and no armature, is semi-implicit Euler: qd' = qd + dt * qdd, so (qd' - qd) / dt is the acceleration
// Bullet's articulated-body algorithm computed. It must equal RigidBodyDynamics::ForwardDynamics, and
// InverseDynamics of it must give back tau (both agree to ~1e-15 relative, so 1e-9 is loose). This also checks the
// World's build of the multibody: inertia tensors with products of inertia (rotated to principal axes for Bullet), CoM
// offsets, fixed links, prismatic joints. With armature, both follow MuJoCo's convention (M + diag(armature)): the
// World adds to Bullet's step the joint torques that make it so (sim/world.h).

#include <cmath>
#include <limits>
#include <memory>
#include <random>

#include <gtest/gtest.h>

#include "sim/rigid_body_dynamics.h"
#include "sim/urdf_loader.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace r2s::sim {
namespace {

using Eigen::VectorXd;

// The URDF's robot in torque control with every actuator and friction term off, but `armature` on every joint.
std::shared_ptr<const Model> TorqueControlledModel(const std::filesystem::path& urdf, double time_step_s,
                                                   double armature = 0) {
  MeshCache meshes;
  UrdfLoadOptions options;
  options.load_visuals = false;
  auto model = std::make_shared<Model>();
  model->name = urdf.stem().string();
  model->robot = LoadUrdf(urdf, options, meshes).robot;
  model->sim.time_step_s = time_step_s;
  RobotModel& robot = *model->robot;
  robot.control_mode = ControlMode::kTorque;
  for (ActuatorParams& actuator : robot.actuators) {
    actuator = ActuatorParams{};  // no gains, latency, friction or damping
    actuator.effort_limit = std::numeric_limits<double>::infinity();
    actuator.velocity_limit = std::numeric_limits<double>::infinity();
    actuator.armature = armature;
  }
  return model;
}

// Within the middle half of each joint's range, so that no limit constraint is active.
VectorXd RandomConfiguration(const RobotModel& robot, std::mt19937& rng) {
  VectorXd q(robot.num_dofs());
  for (int d = 0; d < robot.num_dofs(); ++d) {
    const Link& link = robot.dof_link(d);
    const double lo = std::isfinite(link.lower_limit) ? link.lower_limit : -3.0;
    const double hi = std::isfinite(link.upper_limit) ? link.upper_limit : 3.0;
    const double mid = 0.5 * (lo + hi), half = 0.25 * (hi - lo);
    q[d] = std::uniform_real_distribution<double>(mid - half, mid + half)(rng);
  }
  return q;
}

VectorXd Random(std::mt19937& rng, const VectorXd& scale) {
  VectorXd v(scale.size());
  for (int i = 0; i < scale.size(); ++i) v[i] = std::uniform_real_distribution<double>(-scale[i], scale[i])(rng);
  return v;
}

// Bullet's joint acceleration after one step from (q, qd) under tau.
VectorXd BulletAcceleration(World& world, const VectorXd& q, const VectorXd& qd, const VectorXd& tau) {
  world.SetJointState(q, qd);
  RobotCommand command;
  command.torque = tau;
  world.SetCommand(command);
  world.Step();
  return (world.joint_velocities() - qd) / world.model().sim.time_step_s;
}

// Per-dof speed and torque scales: revolute joints rad/s and N m, prismatic (finger) joints m/s and N.
struct Scales {
  VectorXd speed, torque;
};
Scales ScalesFor(const RobotModel& robot) {
  Scales s{VectorXd(robot.num_dofs()), VectorXd(robot.num_dofs())};
  for (int d = 0; d < robot.num_dofs(); ++d) {
    const bool prismatic = robot.dof_link(d).joint_type == JointType::kPrismatic;
    s.speed[d] = prismatic ? 0.01 : 1.0;
    s.torque[d] = prismatic ? 0.5 : 10.0;
  }
  return s;
}

void ExpectBulletMatches(const std::filesystem::path& urdf, double armature = 0) {
  SCOPED_TRACE(urdf.string() + ", armature " + std::to_string(armature));
  const auto model = TorqueControlledModel(urdf, 1e-3, armature);
  const RobotModel& robot = *model->robot;
  const RigidBodyDynamics dynamics(robot, model->sim.gravity_mps2);
  World world(model);
  const Scales scales = ScalesFor(robot);
  std::mt19937 rng(11);
  for (int trial = 0; trial < 8; ++trial) {
    const VectorXd q = RandomConfiguration(robot, rng);
    const VectorXd qd = Random(rng, scales.speed);
    const VectorXd tau = dynamics.BiasForces(q, qd) + Random(rng, scales.torque);
    const VectorXd bullet = BulletAcceleration(world, q, qd, tau);
    const VectorXd ours = dynamics.ForwardDynamics(q, qd, tau);
    EXPECT_LT((bullet - ours).cwiseAbs().maxCoeff(), 1e-9 * (1 + ours.cwiseAbs().maxCoeff()))
        << "q " << q.transpose() << "\nqd " << qd.transpose() << "\nBullet qdd " << bullet.transpose()
        << "\nour qdd    " << ours.transpose();
    const VectorXd tau_back = dynamics.InverseDynamics(q, qd, bullet);
    EXPECT_LT((tau_back - tau).cwiseAbs().maxCoeff(), 1e-9 * (1 + tau.cwiseAbs().maxCoeff()))
        << "tau " << tau.transpose() << "\nID(Bullet qdd) " << tau_back.transpose();
  }
}

// The Gaz arm: full inertia tensors (products of inertia), CoMs off every axis, a fixed flange.
TEST(DynamicsVsBullet, GazArmForwardDynamicsMatches) {
  ExpectBulletMatches(testing::SourceDir() / "scenes/panda_sysid/reference/panda_gaz2019_arm.urdf");
}

// The Panda with its hand: fixed joints carrying the hand, two prismatic fingers.
TEST(DynamicsVsBullet, PandaWithHandForwardDynamicsMatches) {
  ExpectBulletMatches(testing::SourceDir() / "scenes/panda_sysid/robot/panda.urdf");
}

// Armature on every joint (kg m^2 on the arm, kg on the fingers): M + diag(armature) in both.
TEST(DynamicsVsBullet, PandaWithHandAndArmatureForwardDynamicsMatches) {
  ExpectBulletMatches(testing::SourceDir() / "scenes/panda_sysid/robot/panda.urdf", 0.1);
}

// Gravity compensation from our model holds Bullet's arm still, and a wrong model would not: a 10 % error in
// link 4's mass moves it visibly.
TEST(DynamicsVsBullet, GravityCompensationHoldsTheArm) {
  const auto model =
      TorqueControlledModel(testing::SourceDir() / "scenes/panda_sysid/reference/panda_gaz2019_arm.urdf", 1.0 / 240.0);
  const RobotModel& robot = *model->robot;
  const RigidBodyDynamics dynamics(robot, model->sim.gravity_mps2);
  RobotModel heavier = robot;
  heavier.links[robot.FindLink("panda_link4")].inertial.mass_kg *= 1.1;
  const RigidBodyDynamics wrong(heavier, model->sim.gravity_mps2);
  World world(model);
  std::mt19937 rng(12);
  for (int trial = 0; trial < 4; ++trial) {
    const VectorXd q = RandomConfiguration(robot, rng), rest = VectorXd::Zero(robot.num_dofs());
    const VectorXd held = BulletAcceleration(world, q, rest, dynamics.BiasForces(q, rest));
    EXPECT_LT(held.cwiseAbs().maxCoeff(), 1e-6) << held.transpose();
    const VectorXd drifting = BulletAcceleration(world, q, rest, wrong.BiasForces(q, rest));
    EXPECT_GT(drifting.cwiseAbs().maxCoeff(), 1e-2) << drifting.transpose();
  }
}

}  // namespace
}  // namespace r2s::sim

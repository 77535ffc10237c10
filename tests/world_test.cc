#include "sim/world.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Eigenvalues>

#include "sim/mesh_loader.h"
#include "sim/scene_compiler.h"
#include "sim/urdf_loader.h"
#include "tests/test_support.h"

namespace r2s::sim {
namespace {

constexpr double kG = 9.81;
constexpr double kDt = 1.0 / 240.0;

std::filesystem::path PandaUrdf() { return r2s::testing::SourceDir() / "scenes/panda_sysid/robot/panda.urdf"; }
std::filesystem::path GazUrdf() {
  return r2s::testing::SourceDir() / "scenes/panda_sysid/reference/panda_gaz2019_arm.urdf";
}

RobotModel LoadRobot(const std::filesystem::path& urdf) {
  MeshCache cache;
  return LoadUrdf(urdf, {}, cache).robot;
}

// The world pose of every link by chaining joint origins and joint motions by hand (URDF semantics).
std::vector<Eigen::Isometry3d> ChainPoses(const RobotModel& robot, const Eigen::VectorXd& q) {
  std::vector<Eigen::Isometry3d> poses(robot.links.size());
  for (std::size_t i = 0; i < robot.links.size(); ++i) {
    const Link& link = robot.links[i];
    if (link.parent < 0) {
      poses[i] = robot.base_pose;
      continue;
    }
    Eigen::Isometry3d motion = Eigen::Isometry3d::Identity();
    if (link.joint_type == JointType::kRevolute)
      motion.linear() = Eigen::AngleAxisd(q[link.dof], link.joint_axis).toRotationMatrix();
    if (link.joint_type == JointType::kPrismatic) motion.translation() = q[link.dof] * link.joint_axis;
    poses[i] = poses[link.parent] * link.joint_origin * motion;
  }
  return poses;
}

Material MakeMaterial(const std::string& name, double friction, double restitution = 0) {
  Material m;
  m.name = name;
  m.lateral_friction = friction;
  m.restitution = restitution;
  return m;
}

Shape Box(const Eigen::Vector3d& size) {
  Shape s;
  s.kind = ShapeKind::kBox;
  s.box_size_m = size;
  return s;
}

Shape Sphere(double radius) {
  Shape s;
  s.kind = ShapeKind::kSphere;
  s.radius_m = radius;
  return s;
}

Inertial BoxInertial(double mass, const Eigen::Vector3d& size) {
  Inertial in;
  in.mass_kg = mass;
  in.inertia_kgm2 = Eigen::Vector3d(mass / 12 * (size.y() * size.y() + size.z() * size.z()),
                                    mass / 12 * (size.x() * size.x() + size.z() * size.z()),
                                    mass / 12 * (size.x() * size.x() + size.y() * size.y()))
                        .asDiagonal();
  return in;
}

ObjectModel FreeObject(const std::string& name, const Shape& shape, const Inertial& inertial,
                       const Eigen::Vector3d& position, const std::string& material = "") {
  ObjectModel o;
  o.name = name;
  o.collisions = {shape};
  o.inertial = inertial;
  o.material = material;
  o.initial_pose.translation() = position;
  return o;
}

ObjectModel FloorPlane(const std::string& material) {
  ObjectModel floor;
  floor.name = "floor";
  floor.is_static = true;
  Shape plane;
  plane.kind = ShapeKind::kPlane;
  floor.collisions = {plane};
  floor.material = material;
  return floor;
}

std::shared_ptr<Model> EmptyModel() {
  auto model = std::make_shared<Model>();
  model->name = "test";
  model->sim.time_step_s = kDt;
  model->sim.solver_iterations = 50;
  return model;
}

// One link on one joint: the link's centre of mass at com_m (in its frame), hanging from a joint 1 m up.
std::shared_ptr<Model> Pendulum(JointType type, const Eigen::Vector3d& axis, const Eigen::Vector3d& com_m,
                                const ActuatorParams& actuator, ControlMode mode, double mass_kg = 1.0) {
  auto model = EmptyModel();
  RobotModel robot;
  robot.name = "pendulum";
  Link base;
  base.name = "base";
  Link arm;
  arm.name = "arm";
  arm.parent = 0;
  arm.joint_name = "joint";
  arm.joint_type = type;
  arm.joint_axis = axis;
  arm.joint_origin.translation() = Eigen::Vector3d(0, 0, 1);
  arm.dof = 0;
  arm.inertial.mass_kg = mass_kg;
  arm.inertial.com_m = com_m;
  arm.inertial.inertia_kgm2 = 1e-3 * Eigen::Matrix3d::Identity();
  robot.links = {base, arm};
  robot.dof_links = {1};
  robot.actuators = {actuator};
  robot.control_mode = mode;
  robot.initial_q = Eigen::VectorXd::Zero(1);
  model->robot = robot;
  return model;
}

RobotCommand Torque(double tau) {
  RobotCommand c;
  c.torque = Eigen::VectorXd::Constant(1, tau);
  return c;
}

// --- 1. URDF -> multibody ---------------------------------------------------------------------------------

TEST(WorldUrdf, PandaMultiBodyHasTheUrdfsJointsLimitsAndMasses) {
  auto model = EmptyModel();
  model->robot = LoadRobot(PandaUrdf());
  World world(model);
  const MultiBodySummary s = world.DescribeRobot();
  // 13 URDF links: link0 (base), link1..8, hand, two fingers, grasp target.
  EXPECT_EQ(s.num_links, 12);
  EXPECT_EQ(s.num_dofs, 9);
  EXPECT_TRUE(s.fixed_base);
  EXPECT_FALSE(s.self_collision);
  ASSERT_EQ(s.links.size(), 13u);

  auto find = [&](const std::string& name) -> const MultiBodySummary::LinkInfo& {
    for (const auto& l : s.links) {
      if (l.name == name) return l;
    }
    throw std::logic_error("no link " + name);
  };
  const std::vector<std::pair<std::string, double>> masses = {
      {"panda_link0", 2.9},  {"panda_link1", 2.7}, {"panda_link2", 2.73},     {"panda_link3", 2.04},
      {"panda_link4", 2.08}, {"panda_link5", 3.0}, {"panda_link6", 1.3},      {"panda_link7", 0.2},
      {"panda_link8", 0.0},  {"panda_hand", 0.81}, {"panda_leftfinger", 0.1}, {"panda_rightfinger", 0.1}};
  for (const auto& [name, mass] : masses) {
    EXPECT_DOUBLE_EQ(find(name).mass_kg, mass) << name;
  }
  EXPECT_EQ(find("panda_link0").joint_type, "base");
  int revolute = 0, prismatic = 0, fixed = 0;
  for (const auto& l : s.links) {
    revolute += l.joint_type == "revolute";
    prismatic += l.joint_type == "prismatic";
    fixed += l.joint_type == "fixed";
  }
  EXPECT_EQ(revolute, 7);
  EXPECT_EQ(prismatic, 2);
  EXPECT_EQ(fixed, 3);  // link8, hand, grasp target
  EXPECT_EQ(find("panda_hand").parent_bullet_index, find("panda_link8").bullet_index);

  // Limits are the URDF's <limit> (the tighter safety_controller soft limits, e.g. joint4's [-3.0718, -0.0698],
  // are the controller's business, not the joint's).
  const auto& link4 = find("panda_link4");
  ASSERT_TRUE(link4.has_limit);
  EXPECT_DOUBLE_EQ(link4.lower_limit, -3.1416);
  EXPECT_DOUBLE_EQ(link4.upper_limit, 0.0);
  const auto& link2 = find("panda_link2");
  EXPECT_DOUBLE_EQ(link2.lower_limit, -1.8326);
  EXPECT_DOUBLE_EQ(link2.upper_limit, 1.8326);
  const auto& finger = find("panda_leftfinger");
  ASSERT_TRUE(finger.has_limit);
  EXPECT_DOUBLE_EQ(finger.lower_limit, 0.0);
  EXPECT_DOUBLE_EQ(finger.upper_limit, 0.04);
  EXPECT_FALSE(find("panda_hand").has_limit);
  // Every link with a collision mesh got a collider; the frames without geometry did not.
  EXPECT_EQ(find("panda_link3").num_collision_shapes, 1);
  EXPECT_EQ(find("panda_link8").num_collision_shapes, 0);
}

TEST(WorldUrdf, LinkPoseMatchesChainedJointTransforms) {
  auto model = EmptyModel();
  model->robot = LoadRobot(PandaUrdf());
  model->robot->base_pose.translation() = Eigen::Vector3d(0.1, -0.2, 0.3);
  model->robot->base_pose.linear() = Eigen::AngleAxisd(0.4, Eigen::Vector3d::UnitZ()).toRotationMatrix();
  World world(model);
  Eigen::VectorXd q(9);
  q << 0.3, -0.5, 0.7, -1.9, 0.4, 1.6, -0.8, 0.02, 0.035;
  world.SetJointState(q, Eigen::VectorXd::Zero(9));
  EXPECT_TRUE(world.joint_positions().isApprox(q, 1e-15));
  const std::vector<Eigen::Isometry3d> expected = ChainPoses(*model->robot, q);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const Eigen::Isometry3d actual = world.LinkPose(static_cast<int>(i));
    EXPECT_LT((actual.translation() - expected[i].translation()).norm(), 1e-12) << model->robot->links[i].name;
    EXPECT_LT((actual.linear() - expected[i].linear()).norm(), 1e-12) << model->robot->links[i].name;
  }
}

TEST(WorldUrdf, FullInertiaTensorsAreDiagonalisedIntoRightHandedPrincipalFrames) {
  // The Gaz 2019 arm has full inertia tensors: Bullet gets their eigenvalues, and link frames stay exact.
  auto model = EmptyModel();
  model->robot = LoadRobot(GazUrdf());
  World world(model);
  const MultiBodySummary s = world.DescribeRobot();
  ASSERT_EQ(s.links.size(), model->robot->links.size());
  for (std::size_t i = 0; i < s.links.size(); ++i) {
    const Inertial& in = model->robot->links[i].inertial;
    Eigen::Vector3d expected = Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d>(in.inertia_kgm2).eigenvalues();
    Eigen::Vector3d actual = s.links[i].principal_inertia_kgm2;
    std::sort(expected.data(), expected.data() + 3);
    std::sort(actual.data(), actual.data() + 3);
    EXPECT_LT((expected - actual).norm(), 1e-12 + 1e-9 * expected.norm()) << s.links[i].name;
    EXPECT_DOUBLE_EQ(s.links[i].mass_kg, in.mass_kg);
  }
  Eigen::VectorXd q(model->robot->num_dofs());
  for (int i = 0; i < q.size(); ++i) q[i] = 0.2 * (i + 1) * (i % 2 ? -1 : 1);
  q[3] = -1.5;
  world.SetJointState(q, Eigen::VectorXd());
  const auto expected = ChainPoses(*model->robot, q);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_TRUE(world.LinkPose(static_cast<int>(i)).isApprox(expected[i], 1e-12)) << s.links[i].name;
  }
}

// --- 2. free flight -----------------------------------------------------------------------------------------

// Bullet integrates with semi-implicit Euler (v += g dt, then x += v dt), so after n steps the drop is exactly
// g dt^2 n (n + 1) / 2; that is what we compare against to 1e-6 relative. It differs from the continuous g t^2 / 2
// by g t dt / 2 (first order in dt), which is checked too.
TEST(WorldFreeFlight, DroppedSphereFollowsTheDiscreteFreeFall) {
  auto model = EmptyModel();
  model->objects.push_back(FreeObject("ball", Sphere(0.05), BoxInertial(0.5, Eigen::Vector3d::Constant(0.1)),
                                      Eigen::Vector3d(0.3, 0.2, 10.0)));
  World world(model);
  int steps = 0;
  for (int checkpoint : {1, 24, 120, 240, 360}) {
    world.Step(checkpoint - steps);
    steps = checkpoint;
    const double t = world.time_s();
    EXPECT_DOUBLE_EQ(t, steps * kDt);
    const double drop_discrete = kG * kDt * kDt * steps * (steps + 1) / 2;
    const double z = world.ObjectPose(0).translation().z();
    EXPECT_NEAR(10.0 - z, drop_discrete, 1e-6 * drop_discrete) << "t = " << t;
    EXPECT_NEAR(10.0 - z, kG * t * t / 2, kG * t * kDt / 2 + 1e-9) << "t = " << t;
    EXPECT_NEAR(world.ObjectLinearVelocity(0).z(), -kG * t, 1e-9);
    EXPECT_DOUBLE_EQ(world.ObjectPose(0).translation().x(), 0.3);
  }
}

TEST(WorldFreeFlight, ThrownObjectFliesAParabolaAndSpinsAboutItsFrame) {
  auto model = EmptyModel();
  // A box whose centre of mass is off its frame origin and whose inertia is not diagonal in its frame.
  Inertial inertial = BoxInertial(0.4, Eigen::Vector3d(0.1, 0.1, 0.1));
  inertial.com_m = Eigen::Vector3d(0.02, 0, 0);
  inertial.inertia_kgm2(0, 1) = inertial.inertia_kgm2(1, 0) = 1e-4;
  model->objects.push_back(FreeObject("cube", Box(Eigen::Vector3d::Constant(0.1)), inertial, Eigen::Vector3d(0, 0, 1)));
  World world(model);
  EXPECT_TRUE(world.ObjectPose(0).isApprox(model->objects[0].initial_pose, 1e-14));

  const Eigen::Vector3d v0(2.0, -1.0, 5.0);
  world.SetObjectVelocity(0, v0, Eigen::Vector3d::Zero());
  EXPECT_TRUE(world.ObjectLinearVelocity(0).isApprox(v0, 1e-14));
  const int n = 180;
  world.Step(n);
  const Eigen::Vector3d p = world.ObjectPose(0).translation();
  const double t = n * kDt;
  EXPECT_NEAR(p.x(), 2.0 * t, 1e-9);
  EXPECT_NEAR(p.y(), -1.0 * t, 1e-9);
  const double z_expected = 1.0 + 5.0 * t - kG * kDt * kDt * n * (n + 1) / 2;
  EXPECT_NEAR(p.z(), z_expected, 1e-6 * std::abs(z_expected));
  EXPECT_NEAR(world.ObjectLinearVelocity(0).z(), 5.0 - kG * t, 1e-9);

  // Velocities are the object frame's: set, they read back the same even with a spin and an offset centre of mass.
  const Eigen::Vector3d w(0.0, 0.0, 3.0);
  world.SetObjectVelocity(0, v0, w);
  EXPECT_TRUE(world.ObjectLinearVelocity(0).isApprox(v0, 1e-12));
  EXPECT_TRUE(world.ObjectAngularVelocity(0).isApprox(w, 1e-12));
}

// --- 3. box on an incline -------------------------------------------------------------------------------

// The incline is the floor with gravity tilted by theta about y, so the box slides along +x. Friction is the
// product of the two materials' (0.5 * 0.8 = 0.4), as in PyBullet; restitution 0. The floor is an infinite plane
// or a static box (different collision algorithms in Bullet).
enum class Floor { kPlane, kBox };

std::vector<double> InclineDisplacements(Floor floor_kind, double theta, const std::vector<int>& checkpoints) {
  auto model = EmptyModel();
  model->sim.gravity_mps2 = kG * Eigen::Vector3d(std::sin(theta), 0, -std::cos(theta));
  model->materials["floor"] = MakeMaterial("floor", 0.8);
  model->materials["box"] = MakeMaterial("box", 0.5);
  ObjectModel floor = FloorPlane("floor");
  if (floor_kind == Floor::kBox) {
    floor.collisions = {Box(Eigen::Vector3d(20, 20, 1))};
    floor.collisions[0].origin.translation() = Eigen::Vector3d(0, 0, -0.5);
  }
  model->environment.push_back(floor);
  const Eigen::Vector3d size(0.2, 0.2, 0.1);
  model->objects.push_back(FreeObject("box", Box(size), BoxInertial(1.0, size), Eigen::Vector3d(0, 0, 0.05), "box"));
  World world(model);
  std::vector<double> x;
  int steps = 0;
  for (int c : checkpoints) {
    world.Step(c - steps);
    steps = c;
    x.push_back(world.ObjectPose(0).translation().x());
    // The box slides flat: it neither sinks into the floor nor turns.
    EXPECT_NEAR(world.ObjectPose(0).translation().z(), 0.05, 1e-3);
    EXPECT_LT(Eigen::AngleAxisd(world.ObjectPose(0).linear()).angle(), 0.02);
  }
  return x;
}

class WorldIncline : public ::testing::TestWithParam<Floor> {};

TEST_P(WorldIncline, BoxStaysPutBelowTheFrictionAngle) {
  const double mu = 0.4;
  const double theta = std::atan(0.8 * mu);
  for (double x : InclineDisplacements(GetParam(), theta, {24, 120, 240})) EXPECT_LT(std::abs(x), 1e-3);
}

TEST_P(WorldIncline, BoxSlidesWithCoulombFrictionAboveTheFrictionAngle) {
  const double mu = 0.4;
  const double theta = std::atan(1.75 * mu);
  const double a = kG * (std::sin(theta) - mu * std::cos(theta));
  const std::vector<int> checkpoints = {120, 240, 360};
  const std::vector<double> x = InclineDisplacements(GetParam(), theta, checkpoints);
  for (std::size_t i = 0; i < checkpoints.size(); ++i) {
    const int n = checkpoints[i];
    const double t = n * kDt;
    const double discrete = a * kDt * kDt * n * (n + 1) / 2;  // semi-implicit Euler, as for free fall
    EXPECT_NEAR(x[i], discrete, 0.01 * discrete) << "t = " << t;
    if (t >= 1.0) {
      EXPECT_NEAR(x[i], 0.5 * a * t * t, 0.01 * 0.5 * a * t * t) << "t = " << t;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Floors, WorldIncline, ::testing::Values(Floor::kPlane, Floor::kBox),
                         [](const auto& info) { return info.param == Floor::kPlane ? "Plane" : "Box"; });

// --- 4. actuators -----------------------------------------------------------------------------------------

TEST(WorldActuator, PositionPdSettlesWithTheGravitySteadyStateError) {
  // Axis y, centre of mass 0.5 m along x: gravity's torque about the joint is +m g l cos(q).
  ActuatorParams p;
  p.kp = 200;
  p.kd = 14;
  const double m = 1.0, l = 0.5;
  World world(
      Pendulum(JointType::kRevolute, Eigen::Vector3d::UnitY(), Eigen::Vector3d(l, 0, 0), p, ControlMode::kPosition, m));
  const double target = -0.3;
  RobotCommand c;
  c.position = Eigen::VectorXd::Constant(1, target);
  world.SetCommand(c);
  world.Step(3 * 240);
  const double q = world.joint_positions()[0];
  EXPECT_LT(std::abs(world.joint_velocities()[0]), 1e-6);
  const double gravity_torque = m * kG * l * std::cos(q);
  EXPECT_NEAR(q - target, gravity_torque / p.kp, 1e-6);
  EXPECT_GT(q - target, 0.02);  // the error is really there (about 0.023 rad)
  EXPECT_NEAR(world.applied_torques()[0], -gravity_torque, 1e-4);
}

TEST(WorldActuator, EffortLimitSaturatesTheAppliedTorque) {
  ActuatorParams p;
  p.kp = 200;
  p.kd = 14;
  p.effort_limit = 2.0;
  World world(
      Pendulum(JointType::kRevolute, Eigen::Vector3d::UnitZ(), Eigen::Vector3d(0.5, 0, 0), p, ControlMode::kPosition));
  RobotCommand c;
  c.position = Eigen::VectorXd::Constant(1, 1.0);
  world.SetCommand(c);
  EXPECT_EQ(world.applied_torques()[0], 0.0);  // before the first step
  world.Step();
  EXPECT_DOUBLE_EQ(world.applied_torques()[0], 2.0);
  world.Step(10);
  EXPECT_DOUBLE_EQ(world.applied_torques()[0], 2.0);
  // The joint accelerates at the saturated torque: I = m l^2 + Izz.
  const double inertia = 0.25 + 1e-3;
  EXPECT_NEAR(world.joint_velocities()[0], 2.0 / inertia * 11 * kDt, 1e-9);
}

TEST(WorldActuator, CoulombFrictionHoldsBelowAndSlipsAbove) {
  ActuatorParams p;
  p.coulomb_friction = 1.0;
  const double inertia = 0.25 + 1e-3;
  {
    World world(
        Pendulum(JointType::kRevolute, Eigen::Vector3d::UnitZ(), Eigen::Vector3d(0.5, 0, 0), p, ControlMode::kTorque));
    EXPECT_TRUE(world.DescribeRobot().links[1].has_coulomb_motor);
    world.SetCommand(Torque(0.8));
    world.Step(240);
    EXPECT_LT(std::abs(world.joint_positions()[0]), 1e-9);
    EXPECT_LT(std::abs(world.joint_velocities()[0]), 1e-9);
    EXPECT_NEAR(world.applied_torques()[0], 0.0, 1e-6);  // friction cancels the drive
  }
  {
    World world(
        Pendulum(JointType::kRevolute, Eigen::Vector3d::UnitZ(), Eigen::Vector3d(0.5, 0, 0), p, ControlMode::kTorque));
    world.SetCommand(Torque(1.2));
    const int n = 240;
    world.Step(n);
    const double alpha = (1.2 - 1.0) / inertia;
    EXPECT_NEAR(world.joint_velocities()[0], alpha * n * kDt, 0.01 * alpha * n * kDt);
    EXPECT_NEAR(world.joint_positions()[0], alpha * kDt * kDt * n * (n + 1) / 2, 0.01 * alpha);
    EXPECT_NEAR(world.applied_torques()[0], 0.2, 1e-6);
  }
}

TEST(WorldActuator, LatencyDelaysTheResponseByWholeSteps) {
  for (const double latency_s : {0.0, 12 * kDt, 0.051}) {
    // A latency between whole steps (0.051 s = 12.24 steps) applies part of the command from step 24 + 12 on.
    const int delay_steps = static_cast<int>(std::floor(latency_s / kDt + 1e-9));
    ActuatorParams p;
    p.latency_s = latency_s;
    World world(
        Pendulum(JointType::kRevolute, Eigen::Vector3d::UnitZ(), Eigen::Vector3d(0.5, 0, 0), p, ControlMode::kTorque));
    world.SetCommand(Torque(0.0));
    world.Step(24);
    world.SetCommand(Torque(1.0));  // at step 24
    int first_moving_step = -1;
    for (int k = 24; k < 60 && first_moving_step < 0; ++k) {
      world.Step();  // step k
      if (world.joint_velocities()[0] != 0.0) first_moving_step = k;
    }
    EXPECT_EQ(first_moving_step, 24 + delay_steps) << "latency " << latency_s;
    EXPECT_LE(first_moving_step * kDt - (24 * kDt + latency_s), kDt + 1e-12);
  }
}

TEST(WorldActuator, ZeroTorqueOnAFrictionlessHorizontalJointKeepsItStill) {
  World world(Pendulum(JointType::kRevolute, Eigen::Vector3d::UnitZ(), Eigen::Vector3d(0.5, 0, 0), ActuatorParams{},
                       ControlMode::kTorque));
  world.SetCommand(Torque(0.0));
  world.Step(480);
  EXPECT_EQ(world.joint_positions()[0], 0.0);
  EXPECT_EQ(world.joint_velocities()[0], 0.0);
}

TEST(WorldActuator, ArmatureAddsToTheJointsEffectiveInertia) {
  auto effective_inertia = [](double armature) {
    ActuatorParams p;
    p.armature = armature;
    World world(
        Pendulum(JointType::kRevolute, Eigen::Vector3d::UnitZ(), Eigen::Vector3d(0.5, 0, 0), p, ControlMode::kTorque));
    world.SetCommand(Torque(1.0));
    world.Step(24);
    return 1.0 * world.time_s() / world.joint_velocities()[0];
  };
  const double base = effective_inertia(0.0);
  EXPECT_NEAR(base, 0.25 + 1e-3, 1e-9);
  EXPECT_NEAR(effective_inertia(0.3) - base, 0.3, 1e-9);
}

TEST(WorldActuator, PrismaticArmatureAddsInertiaButNoWeight) {
  // A vertical slider: holding it takes m g whatever the armature, and a surplus force accelerates m + armature.
  ActuatorParams p;
  p.armature = 0.5;
  const double m = 1.0;
  World world(
      Pendulum(JointType::kPrismatic, Eigen::Vector3d::UnitZ(), Eigen::Vector3d::Zero(), p, ControlMode::kTorque, m));
  world.SetCommand(Torque(m * kG));
  world.Step(120);
  EXPECT_LT(std::abs(world.joint_positions()[0]), 1e-12);
  world.SetCommand(Torque(m * kG + 1.5));
  world.Step(120);
  EXPECT_NEAR(world.joint_velocities()[0], 1.5 / (m + 0.5) * 120 * kDt, 1e-9);
}

// --- 5. state, reset and determinism ---------------------------------------------------------------------------

std::shared_ptr<Model> PandaWithBoxes() {
  auto model = EmptyModel();
  model->robot = LoadRobot(PandaUrdf());
  RobotModel& robot = *model->robot;
  const double kp[] = {600, 600, 600, 600, 250, 150, 50, 100, 100};
  const double kd[] = {30, 30, 30, 30, 10, 10, 5, 5, 5};
  for (int i = 0; i < robot.num_dofs(); ++i) {
    robot.actuators[i].kp = kp[i];
    robot.actuators[i].kd = kd[i];
  }
  robot.actuators[1].coulomb_friction = 0.5;
  robot.actuators[2].latency_s = 0.01;
  robot.initial_q = Eigen::VectorXd::Zero(9);
  robot.initial_q << 0, -0.3, 0, -2.2, 0, 2.0, 0.8, 0.02, 0.02;
  model->materials["floor"] = MakeMaterial("floor", 0.8);
  model->materials["box"] = MakeMaterial("box", 0.6, 0.1);
  model->environment.push_back(FloorPlane("floor"));
  const Eigen::Vector3d size = Eigen::Vector3d::Constant(0.05);
  for (int i = 0; i < 5; ++i) {
    model->objects.push_back(FreeObject("box" + std::to_string(i), Box(size), BoxInertial(0.1, size),
                                        Eigen::Vector3d(0.45, -0.2 + 0.1 * i, 0.025 + 0.002 * i), "box"));
  }
  return model;
}

// A reaching motion that sweeps the arm down through the boxes.
RobotCommand PandaCommand(const Model& model, int step) {
  RobotCommand c;
  c.position = model.robot->initial_q;
  const double t = step * kDt;
  c.position[0] += 0.6 * std::sin(2.0 * t);
  c.position[1] += 0.5 * (1 - std::cos(1.5 * t));
  c.position[3] += 0.4 * std::sin(1.0 * t);
  c.position[7] = c.position[8] = 0.02 + 0.015 * std::sin(3.0 * t);
  return c;
}

struct Trace {
  std::vector<double> values;
};

Trace RunPanda(World& world, int steps) {
  Trace trace;
  for (int k = 0; k < steps; ++k) {
    world.SetCommand(PandaCommand(world.model(), k));
    world.Step();
    const Eigen::VectorXd q = world.joint_positions();
    trace.values.insert(trace.values.end(), q.data(), q.data() + q.size());
    const Eigen::VectorXd tau = world.applied_torques();
    trace.values.insert(trace.values.end(), tau.data(), tau.data() + tau.size());
    for (int o = 0; o < static_cast<int>(world.model().objects.size()); ++o) {
      const Eigen::Isometry3d pose = world.ObjectPose(o);
      trace.values.insert(trace.values.end(), pose.data(), pose.data() + 16);
    }
  }
  return trace;
}

bool BitIdentical(const Trace& a, const Trace& b) {
  return a.values.size() == b.values.size() &&
         std::memcmp(a.values.data(), b.values.data(), a.values.size() * sizeof(double)) == 0;
}

TEST(WorldState, TwoWorldsGiveBitIdenticalResultsAndResetRestarts) {
  auto model = PandaWithBoxes();
  World a(model);
  World b(model);
  const Trace ta = RunPanda(a, 480);
  const Trace tb = RunPanda(b, 480);
  EXPECT_TRUE(BitIdentical(ta, tb));
  for (double v : ta.values) ASSERT_TRUE(std::isfinite(v));
  // The arm tracked its targets (explicit PD at these gains is stable at dt 1/240).
  const Eigen::VectorXd target = PandaCommand(*model, 479).position;
  EXPECT_LT((a.joint_positions() - target).head(7).cwiseAbs().maxCoeff(), 0.1);

  a.Reset();
  EXPECT_EQ(a.time_s(), 0.0);
  EXPECT_TRUE(a.joint_positions().isApprox(model->robot->initial_q, 0));
  EXPECT_EQ(a.joint_velocities().norm(), 0.0);
  EXPECT_TRUE(a.ObjectPose(2).isApprox(model->objects[2].initial_pose, 1e-15));
  EXPECT_TRUE(BitIdentical(RunPanda(a, 480), ta));

  World moved(std::move(a));
  EXPECT_EQ(moved.time_s(), 480 * kDt);
}

TEST(WorldState, SetJointStateTeleportsAndStepsOnFromThere) {
  auto model = PandaWithBoxes();
  World world(model);
  Eigen::VectorXd q(9), qd(9);
  q << 0.1, -0.2, 0.3, -1.5, 0.2, 1.4, 0.5, 0.03, 0.01;
  qd << 0.5, -0.4, 0.3, -0.2, 0.1, 0.0, -0.1, 0.0, 0.0;
  world.SetJointState(q, qd);
  RobotCommand hold;
  hold.position = q;
  hold.velocity = qd;
  world.SetCommand(hold);
  EXPECT_EQ(world.joint_positions(), q);
  EXPECT_EQ(world.joint_velocities(), qd);
  const auto expected = ChainPoses(*model->robot, q);
  const int hand = model->robot->FindLink("panda_hand");
  EXPECT_TRUE(world.LinkPose(hand).isApprox(expected[hand], 1e-12));
  world.Step();
  // One step on, the joints moved by about qd dt.
  EXPECT_LT((world.joint_positions() - q - qd * kDt).head(7).cwiseAbs().maxCoeff(), 5e-3);
  EXPECT_THROW(world.SetJointState(Eigen::VectorXd::Zero(3), Eigen::VectorXd()), std::invalid_argument);
  EXPECT_THROW(world.ObjectPose(5), std::out_of_range);
}

TEST(WorldState, ObjectPoseCanBeSetAndModelWithoutRobotWorks) {
  auto model = EmptyModel();
  model->environment.push_back(FloorPlane(""));
  model->objects.push_back(
      FreeObject("ball", Sphere(0.05), BoxInertial(0.5, Eigen::Vector3d::Constant(0.1)), Eigen::Vector3d(0, 0, 0.05)));
  World world(model);
  EXPECT_EQ(world.joint_positions().size(), 0);
  EXPECT_EQ(world.DescribeRobot().num_links, 0);
  world.SetCommand(RobotCommand{});  // a no-op without a robot
  world.Step(48);
  EXPECT_NEAR(world.ObjectPose(0).translation().z(), 0.05, 2e-3);  // resting on the floor
  Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
  pose.translation() = Eigen::Vector3d(1, 2, 0.5);
  pose.linear() = Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 1, 0).normalized()).toRotationMatrix();
  world.SetObjectPose(0, pose);
  world.SetObjectVelocity(0, Eigen::Vector3d::Zero(), Eigen::Vector3d::Zero());
  EXPECT_TRUE(world.ObjectPose(0).isApprox(pose, 1e-14));
  world.Step(240);
  EXPECT_NEAR(world.ObjectPose(0).translation().z(), 0.05, 2e-3);  // fell back onto the floor
  EXPECT_NEAR(world.ObjectPose(0).translation().x(), 1.0, 1e-6);
}

// --- collision geometry: a concave mesh decomposed with HACD holds what its convex hull would not ---------------

std::shared_ptr<TriangleMesh> UChannel() {
  // A U cross-section in x-z (outer 0.6 x 0.3, a 0.4 x 0.2 cavity from z = 0.1 up), extruded along y from -0.3 to
  // 0.3: a closed mesh with outward-facing triangles, the cross-section split into five rectangles.
  const std::vector<Eigen::Vector2d> outline = {{-0.3, 0.0}, {-0.2, 0.0}, {0.2, 0.0},  {0.3, 0.0},
                                                {0.3, 0.1},  {0.3, 0.3},  {0.2, 0.3},  {0.2, 0.1},
                                                {-0.2, 0.1}, {-0.2, 0.3}, {-0.3, 0.3}, {-0.3, 0.1}};
  const std::vector<std::array<std::uint32_t, 4>> rectangles = {
      {0, 1, 8, 11}, {1, 2, 7, 8}, {2, 3, 4, 7}, {11, 8, 9, 10}, {7, 4, 5, 6}};  // counter-clockwise in x-z
  const std::uint32_t n = static_cast<std::uint32_t>(outline.size());
  auto mesh = std::make_shared<TriangleMesh>();
  for (double y : {-0.3, 0.3}) {
    for (const auto& p : outline) mesh->vertices_m.emplace_back(p.x(), y, p.y());
  }
  for (const auto& r : rectangles) {
    // Counter-clockwise in (x, z) faces -y: the y = -0.3 cap as is, the y = +0.3 cap reversed.
    mesh->triangles.push_back({r[0], r[1], r[2]});
    mesh->triangles.push_back({r[0], r[2], r[3]});
    mesh->triangles.push_back({r[0] + n, r[2] + n, r[1] + n});
    mesh->triangles.push_back({r[0] + n, r[3] + n, r[2] + n});
  }
  for (std::uint32_t a = 0; a < n; ++a) {
    const std::uint32_t b = (a + 1) % n;
    mesh->triangles.push_back({a, a + n, b + n});
    mesh->triangles.push_back({a, b + n, b});
  }
  mesh->source = "u_channel (test)";
  return mesh;
}

double RestingHeightInChannel(MeshCollision mode) {
  auto model = EmptyModel();
  ObjectModel channel;
  channel.name = "channel";
  channel.is_static = true;
  Shape shape;
  shape.kind = ShapeKind::kMesh;
  shape.mesh = UChannel();
  shape.mesh_collision = mode;
  channel.collisions = {shape};
  model->environment.push_back(channel);
  model->objects.push_back(
      FreeObject("ball", Sphere(0.05), BoxInertial(0.5, Eigen::Vector3d::Constant(0.1)), Eigen::Vector3d(0, 0, 0.6)));
  World world(model);
  world.Step(480);
  return world.ObjectPose(0).translation().z();
}

TEST(WorldGeometry, ConvexDecompositionLetsABallIntoAConcaveChannel) {
  EXPECT_NEAR(RestingHeightInChannel(MeshCollision::kConvexHull), 0.35, 5e-3);  // on the hull's lid
  EXPECT_LT(RestingHeightInChannel(MeshCollision::kConvexDecomposition), 0.2);  // in the cavity (0.15)
}

// --- collision geometry shared by the Worlds of a model and of its parameter-changed copies ---------------------

int CollisionShapeCount(const Model& model) {
  std::size_t count = 0;
  if (model.robot) {
    for (const Link& link : model.robot->links) count += link.collisions.size();
  }
  for (const ObjectModel& o : model.objects) count += o.collisions.size();
  for (const ObjectModel& o : model.environment) count += o.collisions.size();
  return static_cast<int>(count);
}

TEST(WorldGeometry, WorldsOfACompiledModelAndOfItsCopiesShareItsCollisionGeometry) {
  // The tabletop scene: the Panda's link meshes (hulls), a bowl (HACD pieces), boxes, a cylinder, a table.
  const std::shared_ptr<const Model> model = LoadScene(r2s::testing::SourceDir() / "scenes/tabletop");
  ASSERT_NE(model->collision_geometry, nullptr);
  const int shapes = CollisionShapeCount(*model);
  ASSERT_GT(shapes, 10);
  const auto expect_shared = [&](const World& world, int built) {
    const CollisionGeometryUse use = world.collision_geometry_use();
    EXPECT_EQ(use.shared, model->collision_geometry.get());
    EXPECT_EQ(use.shared_shapes, shapes - built);
    EXPECT_EQ(use.built_shapes, built);
  };
  const World a(model), b(model);
  expect_shared(a, 0);
  expect_shared(b, 0);

  // What a fit changes: actuators, link and object inertials, materials.
  auto fitted = std::make_shared<Model>(*model);
  for (ActuatorParams& actuator : fitted->robot->actuators) {
    actuator.kp *= 2;
    actuator.coulomb_friction = 0.3;
    actuator.armature = 0.05;
  }
  fitted->robot->links[3].inertial.mass_kg *= 1.5;
  fitted->robot->links[3].inertial.com_m += Eigen::Vector3d(0.01, -0.02, 0.03);
  fitted->objects[0].inertial.mass_kg *= 2;
  for (auto& [name, material] : fitted->materials) material.lateral_friction *= 0.5;
  expect_shared(World(fitted), 0);

  // A copy whose geometry changed builds the changed Shape itself, and shares the rest.
  auto resized = std::make_shared<Model>(*fitted);
  int box = -1;
  for (std::size_t i = 0; i < resized->objects.size() && box < 0; ++i) {
    if (resized->objects[i].collisions.at(0).kind == ShapeKind::kBox) box = static_cast<int>(i);
  }
  ASSERT_GE(box, 0);
  resized->objects[box].collisions[0].box_size_m *= 1.1;
  expect_shared(World(resized), 1);

  // Without the model's geometry a World builds every Shape.
  auto bare = std::make_shared<Model>(*model);
  bare->collision_geometry.reset();
  const CollisionGeometryUse use = World(bare).collision_geometry_use();
  EXPECT_EQ(use.shared, nullptr);
  EXPECT_EQ(use.shared_shapes, 0);
  EXPECT_EQ(use.built_shapes, shapes);
}

// Shared shapes are placed by each World's own inertial frames: a copy with moved CoMs and other masses, using the
// original's geometry, runs bit-identically to the same copy building its shapes itself, on one thread or two.
TEST(WorldGeometry, SharedGeometryGivesTheSameTrajectoryAsAWorldsOwnOnAnyThread) {
  auto original = PandaWithBoxes();
  original->collision_geometry = BuildCollisionGeometry(*original);
  auto changed = std::make_shared<Model>(*original);
  for (int link : {5, 7, 9}) changed->robot->links[link].inertial.com_m += Eigen::Vector3d(0.02, -0.01, 0.015);
  changed->robot->links[6].inertial.inertia_kgm2(0, 1) = changed->robot->links[6].inertial.inertia_kgm2(1, 0) = 1e-3;
  changed->objects[1].inertial.mass_kg *= 3;
  changed->objects[1].inertial.com_m = Eigen::Vector3d(0.005, 0, -0.004);
  auto own = std::make_shared<Model>(*changed);
  own->collision_geometry.reset();

  World with_own(own);
  ASSERT_EQ(with_own.collision_geometry_use().shared_shapes, 0);
  const Trace reference = RunPanda(with_own, 480);
  // The sweep reaches the boxes: the trace depends on contact.
  double moved_m = 0;
  for (int o = 0; o < static_cast<int>(own->objects.size()); ++o) {
    moved_m =
        std::max(moved_m, (with_own.ObjectPose(o).translation() - own->objects[o].initial_pose.translation()).norm());
  }
  EXPECT_GT(moved_m, 1e-3);

  std::vector<Trace> traces(2);
  {
    std::vector<std::thread> threads;
    for (Trace& trace : traces) {
      threads.emplace_back([&trace, &changed] {
        World world(changed);
        trace = RunPanda(world, 480);
      });
    }
    for (std::thread& t : threads) t.join();
  }
  World shared(changed);
  EXPECT_EQ(shared.collision_geometry_use().shared, original->collision_geometry.get());
  EXPECT_EQ(shared.collision_geometry_use().built_shapes, 0);
  EXPECT_TRUE(BitIdentical(RunPanda(shared, 480), reference));
  for (const Trace& trace : traces) EXPECT_TRUE(BitIdentical(trace, reference));
}

}  // namespace
}  // namespace r2s::sim

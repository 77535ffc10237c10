// RigidBodyDynamics against closed-form dynamics (a planar two-link arm, a cart-pole), the Panda's published
// modified-DH kinematics, its own regressor, Jacobian finite differences, and the measured torques of a real Panda
// (Gaz et al. 2019) predicted from their identified inertials and friction.

#include "sim/rigid_body_dynamics.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include "episode/dataset_reader.h"
#include "sim/urdf_loader.h"
#include "tests/test_support.h"

namespace r2s::sim {
namespace {

using Eigen::Vector3d;
using Eigen::VectorXd;

constexpr double kPi = 3.14159265358979323846;
constexpr double kG = 9.81;

Link MakeLink(const std::string& name, int parent, JointType type, int dof, const Eigen::Isometry3d& origin,
              const Vector3d& axis, double mass_kg, const Vector3d& com_m, const Eigen::Matrix3d& inertia_kgm2) {
  Link link;
  link.name = name;
  link.parent = parent;
  link.joint_name = parent < 0 ? "" : name + "_joint";
  link.joint_type = type;
  link.dof = dof;
  link.joint_origin = origin;
  link.joint_axis = axis;
  link.inertial.mass_kg = mass_kg;
  link.inertial.com_m = com_m;
  link.inertial.inertia_kgm2 = inertia_kgm2;
  return link;
}

Eigen::Isometry3d Translation(double x, double y, double z) {
  Eigen::Isometry3d t = Eigen::Isometry3d::Identity();
  t.translation() = Vector3d(x, y, z);
  return t;
}

void FinishRobot(RobotModel& robot) {
  robot.dof_links.clear();
  for (std::size_t i = 0; i < robot.links.size(); ++i) {
    const int dof = robot.links[i].dof;
    if (dof < 0) continue;
    if (static_cast<int>(robot.dof_links.size()) <= dof) robot.dof_links.resize(dof + 1);
    robot.dof_links[dof] = static_cast<int>(i);
  }
  robot.actuators.assign(robot.dof_links.size(), ActuatorParams{});
  robot.initial_q = VectorXd::Zero(robot.num_dofs());
}

// Spong's planar elbow arm: both joints about z, link lengths along x, CoM on the link's x axis. The arm's plane is
// stood up by base_pose (root y -> world z) so world gravity -z acts along the root's -y, as in the textbook.
struct PlanarArm {
  double l1 = 0.7, lc1 = 0.31, lc2 = 0.27, m1 = 2.3, m2 = 1.4, i1 = 0.11, i2 = 0.045;  // i: about the CoM, z
  double armature1 = 0.02, armature2 = 0.013;

  RobotModel Robot() const {
    RobotModel robot;
    robot.name = "planar_arm";
    robot.base_pose = Eigen::Isometry3d::Identity();
    robot.base_pose.linear() = Eigen::AngleAxisd(kPi / 2, Vector3d::UnitX()).toRotationMatrix();
    robot.base_pose.translation() = Vector3d(0.3, -0.2, 0.8);
    const Eigen::Matrix3d inertia1 = Eigen::Vector3d(0.03, 0.09, i1).asDiagonal();
    const Eigen::Matrix3d inertia2 = Eigen::Vector3d(0.01, 0.04, i2).asDiagonal();
    robot.links.push_back(MakeLink("base", -1, JointType::kFixed, -1, Eigen::Isometry3d::Identity(), Vector3d::UnitZ(),
                                   5.0, Vector3d::Zero(), Eigen::Matrix3d::Identity()));
    robot.links.push_back(MakeLink("upper", 0, JointType::kRevolute, 0, Eigen::Isometry3d::Identity(),
                                   Vector3d::UnitZ(), m1, Vector3d(lc1, 0, 0), inertia1));
    robot.links.push_back(MakeLink("fore", 1, JointType::kRevolute, 1, Translation(l1, 0, 0), Vector3d::UnitZ(), m2,
                                   Vector3d(lc2, 0, 0), inertia2));
    FinishRobot(robot);
    robot.actuators[0].armature = armature1;
    robot.actuators[1].armature = armature2;
    return robot;
  }

  Eigen::Matrix2d Mass(const VectorXd& q) const {
    const double c2 = std::cos(q[1]);
    Eigen::Matrix2d m;
    m(0, 0) = m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * c2) + i1 + i2 + armature1;
    m(0, 1) = m(1, 0) = m2 * (lc2 * lc2 + l1 * lc2 * c2) + i2;
    m(1, 1) = m2 * lc2 * lc2 + i2 + armature2;
    return m;
  }

  VectorXd Torque(const VectorXd& q, const VectorXd& qd, const VectorXd& qdd) const {
    const double h = -m2 * l1 * lc2 * std::sin(q[1]);
    const double c1 = std::cos(q[0]), c12 = std::cos(q[0] + q[1]);
    VectorXd tau = Mass(q) * qdd;
    tau[0] += h * (2 * qd[0] * qd[1] + qd[1] * qd[1]) + (m1 * lc1 + m2 * l1) * kG * c1 + m2 * lc2 * kG * c12;
    tau[1] += -h * qd[0] * qd[0] + m2 * lc2 * kG * c12;
    return tau;
  }
};

VectorXd Random(std::mt19937& rng, int n, double scale) {
  std::uniform_real_distribution<double> u(-scale, scale);
  VectorXd v(n);
  for (int i = 0; i < n; ++i) v[i] = u(rng);
  return v;
}

const Vector3d kGravity(0, 0, -kG);

TEST(PlanarArm, InverseDynamicsMatchesClosedForm) {
  const PlanarArm arm;
  const RigidBodyDynamics dynamics(arm.Robot(), kGravity);
  ASSERT_EQ(dynamics.num_dofs(), 2);
  std::mt19937 rng(1);
  for (int trial = 0; trial < 20; ++trial) {
    const VectorXd q = Random(rng, 2, kPi), qd = Random(rng, 2, 3), qdd = Random(rng, 2, 10);
    const VectorXd expected = arm.Torque(q, qd, qdd);
    EXPECT_LT((dynamics.InverseDynamics(q, qd, qdd) - expected).norm(), 1e-10 * (1 + expected.norm()))
        << "q " << q.transpose() << " qd " << qd.transpose() << " qdd " << qdd.transpose();
    const VectorXd bias = arm.Torque(q, qd, VectorXd::Zero(2));
    EXPECT_LT((dynamics.BiasForces(q, qd) - bias).norm(), 1e-10 * (1 + bias.norm()));
  }
}

TEST(PlanarArm, MassMatrixMatchesClosedFormAndIsPositiveDefinite) {
  const PlanarArm arm;
  const RigidBodyDynamics dynamics(arm.Robot(), kGravity);
  std::mt19937 rng(2);
  for (int trial = 0; trial < 10; ++trial) {
    const VectorXd q = Random(rng, 2, kPi);
    const Eigen::MatrixXd mass = dynamics.MassMatrix(q);
    EXPECT_LT((mass - arm.Mass(q)).norm(), 1e-12) << mass;
    EXPECT_EQ((mass - mass.transpose()).norm(), 0.0);
    EXPECT_EQ(Eigen::LLT<Eigen::MatrixXd>(mass).info(), Eigen::Success);
  }
}

TEST(PlanarArm, ForwardDynamicsInvertsInverseDynamics) {
  const PlanarArm arm;
  const RigidBodyDynamics dynamics(arm.Robot(), kGravity);
  std::mt19937 rng(3);
  for (int trial = 0; trial < 10; ++trial) {
    const VectorXd q = Random(rng, 2, kPi), qd = Random(rng, 2, 3), qdd = Random(rng, 2, 10);
    const VectorXd round_trip = dynamics.ForwardDynamics(q, qd, dynamics.InverseDynamics(q, qd, qdd));
    EXPECT_LT((round_trip - qdd).norm(), 1e-10 * (1 + qdd.norm()));
  }
}

TEST(PlanarArm, KinematicsPlaceTheElbowInTheStoodUpPlane) {
  const PlanarArm arm;
  const RobotModel robot = arm.Robot();
  const RigidBodyDynamics dynamics(robot, kGravity);
  const VectorXd q = (VectorXd(2) << 0.4, -1.1).finished();
  const auto poses = dynamics.LinkPoses(q);
  ASSERT_EQ(poses.size(), 3u);
  // The elbow sits at l1 (cos q1, sin q1) in the root's xy plane; root y is world z.
  const Vector3d elbow_root(arm.l1 * std::cos(q[0]), arm.l1 * std::sin(q[0]), 0);
  EXPECT_LT((poses[2].translation() - robot.base_pose * elbow_root).norm(), 1e-12);
  EXPECT_NEAR(poses[2].translation().z(), 0.8 + arm.l1 * std::sin(q[0]), 1e-12);
}

// A cart on a prismatic x rail carrying a pendulum about z; gravity along the root's -y. Lagrange's equations:
//   F   = (M + m) xdd - m l sin(th) thdd - m l cos(th) thd^2
//   tau = (m l^2 + I) thdd - m l sin(th) xdd + m g l cos(th)
TEST(CartPole, PrismaticJointMatchesLagrangeEquations) {
  const double cart = 1.7, m = 0.6, l = 0.45, inertia = 0.021;
  RobotModel robot;
  robot.name = "cart_pole";
  robot.links.push_back(MakeLink("rail", -1, JointType::kFixed, -1, Eigen::Isometry3d::Identity(), Vector3d::UnitZ(), 1,
                                 Vector3d::Zero(), Eigen::Matrix3d::Identity()));
  robot.links.push_back(MakeLink("cart", 0, JointType::kPrismatic, 0, Translation(0.1, 0.2, 0.3), Vector3d::UnitX(),
                                 cart, Vector3d(0.05, -0.02, 0.01), Eigen::Matrix3d::Identity() * 0.01));
  robot.links.push_back(MakeLink("pole", 1, JointType::kRevolute, 1, Eigen::Isometry3d::Identity(), Vector3d::UnitZ(),
                                 m, Vector3d(l, 0, 0), Eigen::Vector3d(0.001, 0.02, inertia).asDiagonal()));
  FinishRobot(robot);
  // World gravity -z; the root's -y points down.
  robot.base_pose.linear() = Eigen::AngleAxisd(kPi / 2, Vector3d::UnitX()).toRotationMatrix();
  const RigidBodyDynamics dynamics(robot, kGravity);
  std::mt19937 rng(4);
  for (int trial = 0; trial < 20; ++trial) {
    const VectorXd q = Random(rng, 2, 2), qd = Random(rng, 2, 3), qdd = Random(rng, 2, 10);
    const double s = std::sin(q[1]), c = std::cos(q[1]);
    VectorXd expected(2);
    expected[0] = (cart + m) * qdd[0] - m * l * s * qdd[1] - m * l * c * qd[1] * qd[1];
    expected[1] = (m * l * l + inertia) * qdd[1] - m * l * s * qdd[0] + m * kG * l * c;
    EXPECT_LT((dynamics.InverseDynamics(q, qd, qdd) - expected).norm(), 1e-10 * (1 + expected.norm()));
    const VectorXd round_trip = dynamics.ForwardDynamics(q, qd, expected);
    EXPECT_LT((round_trip - qdd).norm(), 1e-9 * (1 + qdd.norm()));
  }
}

// A mass on a fixed joint is carried rigidly: the arm behaves as if the mass were merged into its parent.
TEST(FixedJoint, ChildMassIsCarriedRigidly) {
  const PlanarArm arm;
  RobotModel with_tool = arm.Robot();
  const double tool_mass = 0.8;
  const Vector3d tool_at(0.5, 0.05, -0.02);  // tool CoM in the forearm frame
  Eigen::Isometry3d mount = Translation(0.4, 0.0, 0.0);
  mount.linear() = Eigen::AngleAxisd(0.7, Vector3d(1, 2, 3).normalized()).toRotationMatrix();
  const Eigen::Matrix3d tool_inertia = Eigen::Vector3d(0.004, 0.006, 0.009).asDiagonal();
  with_tool.links.push_back(MakeLink("tool", 2, JointType::kFixed, -1, mount, Vector3d::UnitZ(), tool_mass,
                                     mount.inverse() * tool_at,
                                     mount.linear().transpose() * tool_inertia * mount.linear()));
  RobotModel merged = arm.Robot();
  Inertial& fore = merged.links[2].inertial;
  const double total = fore.mass_kg + tool_mass;
  const Vector3d com = (fore.mass_kg * fore.com_m + tool_mass * tool_at) / total;
  const auto shifted = [&](double mass, const Vector3d& at) {
    const Vector3d d = at - com;
    return Eigen::Matrix3d(mass * (d.squaredNorm() * Eigen::Matrix3d::Identity() - d * d.transpose()));
  };
  fore.inertia_kgm2 =
      fore.inertia_kgm2 + shifted(fore.mass_kg, fore.com_m) + tool_inertia + shifted(tool_mass, tool_at);
  fore.com_m = com;
  fore.mass_kg = total;
  const RigidBodyDynamics a(with_tool, kGravity), b(merged, kGravity);
  std::mt19937 rng(5);
  for (int trial = 0; trial < 10; ++trial) {
    const VectorXd q = Random(rng, 2, kPi), qd = Random(rng, 2, 3), qdd = Random(rng, 2, 10);
    const VectorXd expected = b.InverseDynamics(q, qd, qdd);
    EXPECT_LT((a.InverseDynamics(q, qd, qdd) - expected).norm(), 1e-10 * (1 + expected.norm()));
    EXPECT_LT((a.MassMatrix(q) - b.MassMatrix(q)).norm(), 1e-12);
  }
}

TEST(RigidBodyDynamics, RejectsWrongSizes) {
  const RigidBodyDynamics dynamics(PlanarArm().Robot(), kGravity);
  EXPECT_THROW(dynamics.InverseDynamics(VectorXd::Zero(3), VectorXd::Zero(2), VectorXd::Zero(2)),
               std::invalid_argument);
  EXPECT_THROW(dynamics.LinkPoses(VectorXd::Zero(1)), std::invalid_argument);
  EXPECT_THROW(dynamics.Jacobian(VectorXd::Zero(2), 3, Vector3d::Zero()), std::invalid_argument);
  EXPECT_THROW(dynamics.WithInertialParameters(VectorXd::Zero(29)), std::invalid_argument);
}

// ---- The Panda ----

std::filesystem::path PandaUrdf() { return testing::SourceDir() / "scenes/panda_sysid/robot/panda.urdf"; }
std::filesystem::path GazUrdf() { return testing::SourceDir() / "scenes/panda_sysid/reference/panda_gaz2019_arm.urdf"; }

RobotModel LoadRobot(const std::filesystem::path& urdf) {
  MeshCache meshes;
  UrdfLoadOptions options;
  options.load_visuals = false;
  return LoadUrdf(urdf, options, meshes).robot;
}

nlohmann::json PublishedParams() {
  std::ifstream in(testing::SourceDir() / "scenes/panda_sysid/reference/published_params.json");
  return nlohmann::json::parse(in);
}

std::vector<int> ArmDofs(const RobotModel& robot) {
  std::vector<int> dofs;
  for (int j = 1; j <= 7; ++j) {
    dofs.push_back(robot.FindDof("panda_joint" + std::to_string(j)));
    EXPECT_GE(dofs.back(), 0) << "panda_joint" << j << " in " << robot.urdf;
  }
  return dofs;
}

// Uniform within the joint limits (within +-pi where unlimited).
VectorXd RandomConfiguration(const RobotModel& robot, std::mt19937& rng) {
  VectorXd q(robot.num_dofs());
  for (int d = 0; d < robot.num_dofs(); ++d) {
    const Link& link = robot.dof_link(d);
    const double lo = std::isfinite(link.lower_limit) ? link.lower_limit : -kPi;
    const double hi = std::isfinite(link.upper_limit) ? link.upper_limit : kPi;
    q[d] = std::uniform_real_distribution<double>(lo, hi)(rng);
  }
  return q;
}

// Craig's modified DH: T_{i-1,i} = RotX(alpha_{i-1}) TransX(a_{i-1}) RotZ(q_i) TransZ(d_i), then the flange.
Eigen::Isometry3d DhFlange(const nlohmann::json& dh, const VectorXd& arm_q) {
  Eigen::Isometry3d t = Eigen::Isometry3d::Identity();
  for (int i = 0; i < 7; ++i) {
    t = t * Eigen::AngleAxisd(dh["alpha_rad"][i].get<double>(), Vector3d::UnitX()) *
        Eigen::Translation3d(dh["a_m"][i].get<double>(), 0, 0) * Eigen::AngleAxisd(arm_q[i], Vector3d::UnitZ()) *
        Eigen::Translation3d(0, 0, dh["d_m"][i].get<double>());
  }
  return t * Eigen::Translation3d(0, 0, dh["flange_d_m"].get<double>());
}

TEST(PandaKinematics, FlangeMatchesPublishedModifiedDh) {
  const nlohmann::json dh = PublishedParams()["kinematics_modified_DH_Craig"];
  for (const auto& urdf : {PandaUrdf(), GazUrdf()}) {
    SCOPED_TRACE(urdf.string());
    const RobotModel robot = LoadRobot(urdf);
    const RigidBodyDynamics dynamics(robot, kGravity);
    const int flange = robot.FindLink("panda_link8");
    ASSERT_GE(flange, 0);
    const std::vector<int> arm = ArmDofs(robot);
    std::mt19937 rng(6);
    for (int trial = 0; trial < 7; ++trial) {
      const VectorXd q = trial == 0 ? VectorXd::Zero(robot.num_dofs()) : RandomConfiguration(robot, rng);
      VectorXd arm_q(7);
      for (int j = 0; j < 7; ++j) arm_q[j] = q[arm[j]];
      const Eigen::Isometry3d expected = robot.base_pose * DhFlange(dh, arm_q);
      const Eigen::Isometry3d actual = dynamics.LinkPoses(q)[flange];
      EXPECT_LT((actual.translation() - expected.translation()).norm(), 1e-3) << "q " << arm_q.transpose();
      const double angle = Eigen::AngleAxisd(actual.linear().transpose() * expected.linear()).angle();
      EXPECT_LT(angle, 1e-6) << "q " << arm_q.transpose();
    }
  }
}

TEST(PandaDynamics, RegressorTimesParametersIsInverseDynamics) {
  for (const auto& urdf : {PandaUrdf(), GazUrdf()}) {
    SCOPED_TRACE(urdf.string());
    RobotModel robot = LoadRobot(urdf);
    for (int d = 0; d < robot.num_dofs(); ++d) robot.actuators[d].armature = 0.05 + 0.01 * d;
    const RigidBodyDynamics dynamics(robot, kGravity);
    const int n = dynamics.num_dofs();
    const VectorXd parameters = dynamics.InertialParameters();
    ASSERT_EQ(parameters.size(), 10 * static_cast<int>(robot.links.size()));
    const std::vector<std::string> names = dynamics.InertialParameterNames();
    ASSERT_EQ(names.size(), static_cast<std::size_t>(parameters.size()));
    EXPECT_EQ(names[10 * 3], "panda_link3.m");
    EXPECT_EQ(names[10 * 3 + 1], "panda_link3.mcx");
    EXPECT_EQ(names[10 * 3 + 9], "panda_link3.Izz");
    std::mt19937 rng(7);
    VectorXd armature(n);
    for (int d = 0; d < n; ++d) armature[d] = robot.actuators[d].armature;
    for (int trial = 0; trial < 10; ++trial) {
      const VectorXd q = RandomConfiguration(robot, rng), qd = Random(rng, n, 2), qdd = Random(rng, n, 8);
      const Eigen::MatrixXd y = dynamics.Regressor(q, qd, qdd);
      ASSERT_EQ(y.rows(), n);
      ASSERT_EQ(y.cols(), parameters.size());
      EXPECT_EQ(y.leftCols(10).norm(), 0.0);  // the root moves no joint
      const VectorXd rigid = dynamics.InverseDynamics(q, qd, qdd) - armature.cwiseProduct(qdd);
      EXPECT_LT((y * parameters - rigid).norm(), 1e-9 * rigid.norm()) << (y * parameters - rigid).transpose();
    }
    // Changing the parameters changes ID exactly as the regressor says.
    const VectorXd other =
        parameters.cwiseProduct(VectorXd::Ones(parameters.size()) + 0.3 * Random(rng, parameters.size(), 1));
    const RigidBodyDynamics changed = dynamics.WithInertialParameters(other);
    EXPECT_LT((changed.InertialParameters() - other).norm(), 1e-12);
    const VectorXd q = RandomConfiguration(robot, rng), qd = Random(rng, n, 2), qdd = Random(rng, n, 8);
    const VectorXd rigid = changed.InverseDynamics(q, qd, qdd) - armature.cwiseProduct(qdd);
    EXPECT_LT((dynamics.Regressor(q, qd, qdd) * other - rigid).norm(), 1e-9 * rigid.norm());
  }
}

TEST(PandaDynamics, MassMatrixAndForwardDynamicsAgreeWithInverseDynamics) {
  RobotModel robot = LoadRobot(PandaUrdf());
  for (int d = 0; d < robot.num_dofs(); ++d) robot.actuators[d].armature = 0.1;
  const RigidBodyDynamics dynamics(robot, kGravity);
  const int n = dynamics.num_dofs();
  std::mt19937 rng(8);
  for (int trial = 0; trial < 5; ++trial) {
    const VectorXd q = RandomConfiguration(robot, rng), qd = Random(rng, n, 2), qdd = Random(rng, n, 8);
    const Eigen::MatrixXd mass = dynamics.MassMatrix(q);
    EXPECT_LT((mass - mass.transpose()).norm(), 1e-14);
    EXPECT_GT(Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(mass).eigenvalues().minCoeff(), 0.0);
    const VectorXd bias = dynamics.BiasForces(q, qd);
    const VectorXd tau = dynamics.InverseDynamics(q, qd, qdd);
    EXPECT_LT((mass * qdd + bias - tau).norm(), 1e-10 * tau.norm());
    EXPECT_LT((dynamics.ForwardDynamics(q, qd, tau) - qdd).norm(), 1e-8 * qdd.norm());
  }
}

// Rotation log, world frame: the angular displacement taking `from` to `to`.
Vector3d RotationDelta(const Eigen::Matrix3d& from, const Eigen::Matrix3d& to) {
  const Eigen::AngleAxisd delta(to * from.transpose());
  return delta.angle() * delta.axis();
}

TEST(PandaDynamics, JacobianMatchesFiniteDifferencesOfLinkPoses) {
  const RobotModel robot = LoadRobot(PandaUrdf());
  const RigidBodyDynamics dynamics(robot, kGravity);
  const int n = dynamics.num_dofs();
  std::mt19937 rng(9);
  const Vector3d point(0.03, -0.02, 0.11);
  for (const char* name : {"panda_link4", "panda_hand", "panda_leftfinger"}) {
    const int link = robot.FindLink(name);
    ASSERT_GE(link, 0) << name;
    for (int trial = 0; trial < 3; ++trial) {
      const VectorXd q = RandomConfiguration(robot, rng);
      const auto jacobian = dynamics.Jacobian(q, link, point);
      Eigen::Matrix<double, 6, Eigen::Dynamic> numeric(6, n);
      const double step = 1e-6;
      for (int d = 0; d < n; ++d) {
        VectorXd plus = q, minus = q;
        plus[d] += step;
        minus[d] -= step;
        const Eigen::Isometry3d a = dynamics.LinkPoses(plus)[link], b = dynamics.LinkPoses(minus)[link];
        numeric.col(d).head<3>() = (a * point - b * point) / (2 * step);
        numeric.col(d).tail<3>() = RotationDelta(b.linear(), a.linear()) / (2 * step);
      }
      EXPECT_LT((jacobian - numeric).cwiseAbs().maxCoeff(), 1e-7) << name << "\n" << jacobian << "\n" << numeric;
    }
  }
}

// ---- Real data: a physical Panda's exciting trajectory (Gaz et al. 2019) ----

// d/dt of x at each sample: the slope of a least-squares line through the samples within +-half_window_s (a
// first-order Savitzky-Golay derivative on the real, non-uniform timestamps; zero phase).
Eigen::MatrixXd SmoothedDerivative(const VectorXd& t, const Eigen::MatrixXd& x, double half_window_s) {
  const Eigen::Index rows = t.size();
  Eigen::MatrixXd out(rows, x.cols());
  Eigen::Index lo = 0, hi = 0;
  for (Eigen::Index i = 0; i < rows; ++i) {
    while (t[lo] < t[i] - half_window_s) ++lo;
    while (hi + 1 < rows && t[hi + 1] <= t[i] + half_window_s) ++hi;
    const auto ts = t.segment(lo, hi - lo + 1);
    const VectorXd dt = ts.array() - ts.mean();
    const auto xs = x.middleRows(lo, hi - lo + 1);
    const Eigen::RowVectorXd mean = xs.colwise().mean();
    out.row(i) = (dt.transpose() * (xs.rowwise() - mean)) / dt.squaredNorm();
  }
  return out;
}

Eigen::MatrixXd ColumnMatrix(const episode::Episode& episode, const std::string& feature) {
  const episode::Array& data = episode.At(feature).data;
  const auto values = data.values<double>();
  const Eigen::Index rows = data.shape.at(0);
  const Eigen::Index cols = data.shape.size() > 1 ? data.shape[1] : 1;
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(values.data(), rows,
                                                                                                  cols);
}

TEST(PandaRealData, GazModelReproducesMeasuredTorques) {
  const RobotModel robot = LoadRobot(GazUrdf());
  const RigidBodyDynamics dynamics(robot, kGravity);
  ASSERT_EQ(dynamics.num_dofs(), 7);
  const std::vector<int> arm = ArmDofs(robot);
  for (int j = 0; j < 7; ++j) ASSERT_EQ(arm[j], j);

  const auto reader = episode::DatasetReader::Open(testing::BundledPandaEpisode());
  const episode::Episode episode = reader.ReadEpisode(0);
  const Eigen::MatrixXd q = ColumnMatrix(episode, "observation.state");
  const Eigen::MatrixXd qd = ColumnMatrix(episode, "observation.velocity");
  const Eigen::MatrixXd tau = ColumnMatrix(episode, "observation.effort");
  const VectorXd t = ColumnMatrix(episode, "timestamp").col(0);
  ASSERT_EQ(q.rows(), 20544);
  ASSERT_EQ(q.cols(), 7);
  // Gaz et al. low-pass dq at 20 Hz before differentiating; a line fit over 40 ms passes about the same band.
  // (12 ms windows leave joints 1-4 at ~1.6x the published RMS: acceleration noise times their large inertia.)
  const Eigen::MatrixXd qdd = SmoothedDerivative(t, qd, 0.020);

  const nlohmann::json friction = PublishedParams()["friction_sigmoid_TableI"];
  const auto phi1 = friction["phi1_Nm"].get<std::vector<double>>();
  const auto phi2 = friction["phi2_s_per_rad"].get<std::vector<double>>();
  const auto phi3 = friction["phi3_rad_per_s"].get<std::vector<double>>();

  const Eigen::Index rows = q.rows();
  Eigen::MatrixXd rigid(rows, 7);
  const auto id_start = std::chrono::steady_clock::now();
  for (Eigen::Index i = 0; i < rows; ++i) {
    rigid.row(i) = dynamics.InverseDynamics(q.row(i).transpose(), qd.row(i).transpose(), qdd.row(i).transpose());
  }
  const double id_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - id_start).count();

  const VectorXd parameters = dynamics.InertialParameters();
  double regressor_error = 0;
  const auto regressor_start = std::chrono::steady_clock::now();
  for (Eigen::Index i = 0; i < rows; ++i) {
    const Eigen::MatrixXd y = dynamics.Regressor(q.row(i).transpose(), qd.row(i).transpose(), qdd.row(i).transpose());
    regressor_error = std::max(regressor_error, (y * parameters - rigid.row(i).transpose()).cwiseAbs().maxCoeff());
  }
  const double regressor_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - regressor_start).count();
  EXPECT_LT(regressor_error, 1e-9);

  const std::vector<double> published = {0.484, 0.796, 0.448, 0.532, 0.177, 0.151, 0.076};
  const std::vector<double> published_no_friction = {0.546, 0.850, 0.510, 0.733, 0.347, 0.220, 0.278};
  for (int j = 0; j < 7; ++j) {
    const VectorXd v = qd.col(j);
    const VectorXd friction_torque =
        phi1[j] / (1 + (-phi2[j] * (v.array() + phi3[j])).exp()) - phi1[j] / (1 + std::exp(-phi2[j] * phi3[j]));
    const VectorXd residual = tau.col(j) - rigid.col(j) - friction_torque;
    const VectorXd residual_no_friction = tau.col(j) - rigid.col(j);
    const double rms = std::sqrt(residual.squaredNorm() / rows);
    const double rms_no_friction = std::sqrt(residual_no_friction.squaredNorm() / rows);
    std::printf("joint %d: torque RMS %.3f N m (published %.3f), rigid body only %.3f (published %.3f), tau RMS %.3f\n",
                j + 1, rms, published[j], rms_no_friction, published_no_friction[j],
                std::sqrt(tau.col(j).squaredNorm() / rows));
    EXPECT_NEAR(rms, published[j], 0.15 * published[j] + 0.005) << "joint " << j + 1;
    EXPECT_NEAR(rms_no_friction, published_no_friction[j], 0.15 * published_no_friction[j] + 0.005)
        << "joint " << j + 1;
  }
  std::printf("%lld samples: InverseDynamics %.1f ms (%.2f us each), Regressor %.1f ms (%.2f us each)\n",
              static_cast<long long>(rows), 1e3 * id_s, 1e6 * id_s / rows, 1e3 * regressor_s, 1e6 * regressor_s / rows);
}

}  // namespace
}  // namespace r2s::sim

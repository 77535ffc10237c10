// URDF files through urdfdom and Assimp into sim::RobotModel: the bundled Panda models, and malformed files.
#include "sim/urdf_loader.h"

#include <fstream>

#include <gtest/gtest.h>

#include "episode/input_error.h"
#include "test_support.h"

namespace r2s::sim {
namespace {

namespace fs = std::filesystem;
using r2s::testing::SourceDir;
using r2s::testing::TempDir;
using r2s::testing::WriteTextFile;

fs::path PandaUrdf() { return SourceDir() / "scenes/panda_sysid/robot/panda.urdf"; }

std::string ErrorOf(const fs::path& urdf, const UrdfLoadOptions& options = {}) {
  MeshCache meshes;
  try {
    LoadUrdf(urdf, options, meshes);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(UrdfLoader, PandaWithHandHasNineDofsTheUrdfLimitsAndMasses) {
  MeshCache meshes;
  const UrdfRobot urdf = LoadUrdf(PandaUrdf(), {}, meshes);
  const RobotModel& robot = urdf.robot;
  EXPECT_EQ(robot.name, "panda");
  EXPECT_EQ(robot.links.front().name, "panda_link0");
  ASSERT_EQ(robot.num_dofs(), 9);  // 7 arm joints + 2 fingers
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(robot.dof_link(i).joint_name, "panda_joint" + std::to_string(i + 1));
    EXPECT_EQ(robot.dof_link(i).joint_type, JointType::kRevolute);
  }
  EXPECT_EQ(robot.dof_link(7).joint_type, JointType::kPrismatic);
  const Link& link4 = robot.dof_link(3);
  EXPECT_DOUBLE_EQ(link4.lower_limit, -3.1416);
  EXPECT_DOUBLE_EQ(link4.upper_limit, 0.0);
  EXPECT_DOUBLE_EQ(robot.actuators[3].effort_limit, 87);
  EXPECT_DOUBLE_EQ(robot.actuators[4].effort_limit, 12);
  EXPECT_DOUBLE_EQ(robot.actuators[6].velocity_limit, 2.61);
  const double masses[] = {2.9, 2.7, 2.73, 2.04, 2.08, 3.0, 1.3, 0.2};
  for (int i = 0; i < 8; ++i) {
    const int link = robot.FindLink("panda_link" + std::to_string(i));
    ASSERT_GE(link, 0);
    EXPECT_DOUBLE_EQ(robot.links[link].inertial.mass_kg, masses[i]) << "panda_link" << i;
  }
  // Parents come before children, and each dof's link is where the dof says.
  for (std::size_t i = 1; i < robot.links.size(); ++i) EXPECT_LT(robot.links[i].parent, static_cast<int>(i));
  for (int dof = 0; dof < robot.num_dofs(); ++dof) EXPECT_EQ(robot.dof_link(dof).dof, dof);
  // Collision meshes are loaded through Assimp and shared between collision and visual (this copy uses the
  // collision meshes for both).
  const Link& link1 = robot.links[robot.FindLink("panda_link1")];
  ASSERT_EQ(link1.collisions.size(), 1u);
  ASSERT_EQ(link1.collisions[0].kind, ShapeKind::kMesh);
  EXPECT_GT(link1.collisions[0].mesh->triangles.size(), 50u);
  ASSERT_EQ(link1.visuals.size(), 1u);
  EXPECT_EQ(link1.visuals[0].mesh, link1.collisions[0].mesh);
  EXPECT_EQ(robot.initial_q.size(), 9);
}

TEST(UrdfLoader, InertialFrameIsRotatedIntoTheLinkFrame) {
  TempDir dir;
  WriteTextFile(dir / "r.urdf", R"(<robot name="r">
  <link name="base"/>
  <link name="arm"><inertial><origin xyz="0.1 0.2 0.3" rpy="0 0 1.5707963267948966"/><mass value="2"/>
    <inertia ixx="1" iyy="2" izz="3" ixy="0" ixz="0" iyz="0"/></inertial></link>
  <joint name="j" type="continuous"><parent link="base"/><child link="arm"/><axis xyz="0 0 2"/></joint>
</robot>)");
  MeshCache meshes;
  const RobotModel robot = LoadUrdf(dir / "r.urdf", {}, meshes).robot;
  ASSERT_EQ(robot.num_dofs(), 1);
  const Link& arm = robot.links[1];
  EXPECT_TRUE(arm.inertial.com_m.isApprox(Eigen::Vector3d(0.1, 0.2, 0.3)));
  // A 90 degree yaw swaps the x and y principal moments.
  EXPECT_NEAR(arm.inertial.inertia_kgm2(0, 0), 2, 1e-12);
  EXPECT_NEAR(arm.inertial.inertia_kgm2(1, 1), 1, 1e-12);
  EXPECT_NEAR(arm.inertial.inertia_kgm2(2, 2), 3, 1e-12);
  EXPECT_TRUE(arm.joint_axis.isApprox(Eigen::Vector3d::UnitZ()));
  EXPECT_TRUE(std::isinf(arm.upper_limit));  // continuous
}

TEST(UrdfLoader, PackageUrisResolveBesideTheUrdf) {
  TempDir dir;
  fs::create_directories(dir / "meshes");
  fs::copy_file(SourceDir() / "scenes/panda_sysid/robot/collision/link1.obj", dir / "meshes/link1.obj");
  WriteTextFile(dir / "r.urdf", R"(<robot name="r"><link name="a">
    <collision><geometry><mesh filename="package://my_robot/meshes/link1.obj" scale="2 2 2"/></geometry></collision>
    <collision><geometry><mesh filename="package://meshes/link1.obj"/></geometry></collision></link></robot>)");
  MeshCache meshes;
  const RobotModel robot = LoadUrdf(dir / "r.urdf", {}, meshes).robot;
  ASSERT_EQ(robot.links[0].collisions.size(), 2u);
  const auto& big = *robot.links[0].collisions[0].mesh;
  const auto& small = *robot.links[0].collisions[1].mesh;
  ASSERT_EQ(big.vertices_m.size(), small.vertices_m.size());
  EXPECT_TRUE(big.vertices_m[5].isApprox(2 * small.vertices_m[5]));
}

struct BadUrdf {
  const char* name;
  const char* urdf;
  const char* expected;  // a piece of the message
};

TEST(UrdfLoader, BadFilesNameTheFileAndTheElement) {
  const BadUrdf cases[] = {
      {"malformed", "<robot name='r'><link name='a'></robot>", "not a valid URDF"},
      {"missing_mesh",
       "<robot name='r'><link name='a'><collision><geometry><mesh filename='nope.stl'/></geometry></collision>"
       "</link></robot>",
       "link 'a' <collision> 0: mesh file"},
      {"negative_mass",
       "<robot name='r'><link name='a'><inertial><mass value='-1'/><inertia ixx='1' iyy='1' izz='1' ixy='0' "
       "ixz='0' iyz='0'/></inertial></link></robot>",
       "link 'a' <inertial>"},
      {"indefinite_inertia",
       "<robot name='r'><link name='a'><inertial><mass value='1'/><inertia ixx='1' iyy='1' izz='-1' ixy='0' "
       "ixz='0' iyz='0'/></inertial></link></robot>",
       "not positive semi-definite"},
      // urdfdom logs these and goes on with a default (mass 0, the link kept): r2s refuses them.
      {"nan_mass",
       "<robot name='r'><link name='a'/><link name='b'><inertial><mass value='nan'/><inertia ixx='1' iyy='1' "
       "izz='1' ixy='0' ixz='0' iyz='0'/></inertial></link><joint name='j' type='revolute'><parent link='a'/>"
       "<child link='b'/><limit effort='1' velocity='1' lower='-1' upper='1'/></joint></robot>",
       "mass [nan] is not a float"},
      {"mass_not_a_number",
       "<robot name='r'><link name='a'><inertial><mass value='heavy'/><inertia ixx='1' iyy='1' izz='1' ixy='0' "
       "ixz='0' iyz='0'/></inertial></link></robot>",
       "not a valid URDF"},
      {"inertia_not_a_rigid_body",
       "<robot name='r'><link name='a'><inertial><mass value='1'/><inertia ixx='0.01' iyy='0.01' izz='0.05' "
       "ixy='0' ixz='0' iyz='0'/></inertial></link></robot>",
       "the two smaller must add up to at least the largest"},
      {"joint_that_moves_nothing",
       "<robot name='r'><link name='a'/><link name='b'><inertial><mass value='1'/><inertia ixx='0' iyy='0' "
       "izz='0' ixy='0' ixz='0' iyz='0'/></inertial></link><joint name='j' type='revolute'><parent link='a'/>"
       "<child link='b'/><axis xyz='0 0 1'/><limit effort='1' velocity='1' lower='-1' upper='1'/></joint></robot>",
       "joint 'j': moves nothing: link 'b' and the links below it have no inertia about the joint's axis"},
      {"floating_joint",
       "<robot name='r'><link name='a'/><link name='b'/><joint name='f' type='floating'><parent link='a'/>"
       "<child link='b'/></joint></robot>",
       "joint 'f'"},
  };
  for (const BadUrdf& c : cases) {
    TempDir dir;
    WriteTextFile(dir / "r.urdf", c.urdf);
    const std::string message = ErrorOf(dir / "r.urdf");
    EXPECT_NE(message.find((dir / "r.urdf").string()), std::string::npos) << c.name << ": " << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.name << ": " << message;
  }
  TempDir dir;
  EXPECT_NE(ErrorOf(dir / "absent.urdf").find("does not exist"), std::string::npos);
}

TEST(UrdfLoader, MeshOutsideTheAssetRootIsRefused) {
  TempDir dir;
  fs::copy_file(SourceDir() / "scenes/panda_sysid/robot/collision/link1.obj", dir / "link1.obj");
  WriteTextFile(dir / "scene/r.urdf",
                "<robot name='r'><link name='a'><collision><geometry><mesh filename='../link1.obj'/></geometry>"
                "</collision></link></robot>");
  EXPECT_EQ(ErrorOf(dir / "scene/r.urdf"), "(no error)");
  const std::string message = ErrorOf(dir / "scene/r.urdf", UrdfLoadOptions{.asset_root = dir / "scene"});
  EXPECT_NE(message.find("outside the scene folder"), std::string::npos) << message;
}

}  // namespace
}  // namespace r2s::sim

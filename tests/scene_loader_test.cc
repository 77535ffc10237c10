// Scene files written inline into a temporary scene folder (with a copy of the repository's Panda where a robot is
// needed), compiled, and checked field by field against the Model; plus mass properties against the analytic
// formulas, the params.yaml overlay and round trip, and the success predicates.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "episode/input_error.h"
#include "sim/mass_properties.h"
#include "sim/mesh_loader.h"
#include "sim/params_overlay.h"
#include "sim/rigid_body_dynamics.h"
#include "sim/scene_compiler.h"
#include "sim/scene_loader.h"
#include "sim/success.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace r2s::sim {
namespace {

namespace fs = std::filesystem;
using r2s::testing::SourceDir;
using r2s::testing::TempDir;
using r2s::testing::WriteTextFile;

void CopyPanda(const fs::path& scene_dir) {
  fs::copy(SourceDir() / "scenes/panda_sysid/robot", scene_dir / "robot", fs::copy_options::recursive);
}

// A closed box mesh (8 shared vertices, 12 outward triangles) centred at `c` with full extents `s`.
std::string BoxObj(const Eigen::Vector3d& c, const Eigen::Vector3d& s, bool drop_last_face = false) {
  std::string obj;
  for (int i = 0; i < 8; ++i) {
    const Eigen::Vector3d v =
        c + 0.5 * Eigen::Vector3d((i & 1) ? s.x() : -s.x(), (i & 2) ? s.y() : -s.y(), (i & 4) ? s.z() : -s.z());
    obj += "v " + std::to_string(v.x()) + " " + std::to_string(v.y()) + " " + std::to_string(v.z()) + "\n";
  }
  // 1-based OBJ indices; vertex i has x bit 1, y bit 2, z bit 4.
  const char* faces[] = {"f 1 3 4\nf 1 4 2\n", "f 5 6 8\nf 5 8 7\n", "f 1 2 6\nf 1 6 5\n",
                         "f 3 7 8\nf 3 8 4\n", "f 1 5 7\nf 1 7 3\n", "f 2 4 8\nf 2 8 6\n"};
  for (int f = 0; f < (drop_last_face ? 5 : 6); ++f) obj += faces[f];
  return obj;
}

Eigen::Matrix3d BoxInertia(double m, const Eigen::Vector3d& s) {
  return Eigen::Vector3d(m / 12 * (s.y() * s.y() + s.z() * s.z()), m / 12 * (s.x() * s.x() + s.z() * s.z()),
                         m / 12 * (s.x() * s.x() + s.y() * s.y()))
      .asDiagonal();
}

// Pixel coordinates of a world point seen by a world-fixed camera.
Eigen::Vector2d Project(const CameraModel& c, const Eigen::Vector3d& world) {
  const Eigen::Vector3d p = c.pose.inverse() * world;
  return {c.fx_px * p.x() / p.z() + c.cx_px, c.fy_px * p.y() / p.z() + c.cy_px};
}

constexpr const char* kTabletop = R"YAML(
name: tabletop
simulation:
  time_step_s: 0.002
  substeps_per_frame: 4
  solver_iterations: 30
  gravity_mps2: [0, 0, -9.8]
materials:
  wood: {rgba: [0.6, 0.4, 0.2, 1], lateral_friction: 0.6, rolling_friction: 0.001, spinning_friction: 0.002, restitution: 0.1, roughness: 0.7, texture: textures/wood.png}
  acrylic: {lateral_friction: 0.3}
objects:
  - name: cube
    shape: {box: [0.1, 0.2, 0.3]}
    mass_kg: 0.6
    material: acrylic
    restitution: 0.4
    initial_pose: {position_m: [0.5, 0, 0.85], quaternion_xyzw: [0, 0, 0.7071068, 0.7071068]}
    pose_feature: "observation.object_pose[7:14]"
  - name: ball
    shape: {sphere: 0.05}
    mass_kg: 0.2
    inertia_kgm2: [[0.0002, 0, 0], [0, 0.0002, 0], [0, 0, 0.0002]]
    material: wood
    initial_pose: {position_m: [0.4, 0.1, 0.9], rpy_rad: [0, 0, 1.5707963267948966]}
  - name: can
    shape: {cylinder: {radius: 0.03, length: 0.1}}
    mass_kg: 0.3
    inertia_kgm2: [0.001, 0.001, 0.0005]
environment:
  - {name: floor, shape: {plane: [0, 0, 2]}, material: wood}
  - name: table
    shape: {box: [1.2, 0.8, 0.05]}
    pose: {position_m: [0.5, 0, 0.775]}
    material: wood
cameras:
  - name: front
    pose: {position_m: [1.5, 0, 1.4], look_at_m: [0.5, 0, 0.8]}
    resolution: [640, 480]
    intrinsics: {fx: 600, fy: 610, cx: 320, cy: 240}
    near_m: 0.05
    far_m: 5.0
  - name: side
    pose: {position_m: [0.5, -1.2, 1.0], look_at_m: [0.5, 0, 0.8]}
    resolution: [320, 240]
    fov_y_deg: 60
lights:
  - {name: key, type: directional, direction: [0, 0, -2], color_rgb: [1, 0.9, 0.8], intensity: 3.0, shadows: false}
  - {name: bulb, type: point, position_m: [0, 0, 2], intensity: 10}
success:
  - {object_in_region: {object: cube, min_m: [0.3, -0.2, 0.8], max_m: [0.7, 0.2, 1.0]}}
  - {object_above_height: {object: ball, height_m: 0.9}}
)YAML";

TEST(SceneLoaderTest, RobotFreeSceneLandsInModel) {
  TempDir dir;
  WriteTextFile(dir / "scene.yaml", kTabletop);
  WriteTextFile(dir / "textures/wood.png", "not decoded here");
  const auto model = LoadScene(dir.path());  // the folder
  ASSERT_TRUE(model);
  EXPECT_EQ(model->name, "tabletop");
  EXPECT_TRUE(model->scene_file.is_absolute());
  EXPECT_EQ(model->scene_file, fs::canonical(dir / "scene.yaml"));
  EXPECT_EQ(model->scene_dir, fs::canonical(dir.path()));
  EXPECT_DOUBLE_EQ(model->sim.time_step_s, 0.002);
  EXPECT_EQ(model->sim.substeps_per_frame, 4);
  EXPECT_EQ(model->sim.solver_iterations, 30);
  EXPECT_EQ(model->sim.gravity_mps2, Eigen::Vector3d(0, 0, -9.8));
  EXPECT_FALSE(model->robot);

  const Material& wood = model->materials.at("wood");
  EXPECT_EQ(wood.rgba, Eigen::Vector4d(0.6, 0.4, 0.2, 1));
  EXPECT_DOUBLE_EQ(wood.lateral_friction, 0.6);
  EXPECT_DOUBLE_EQ(wood.rolling_friction, 0.001);
  EXPECT_DOUBLE_EQ(wood.spinning_friction, 0.002);
  EXPECT_DOUBLE_EQ(wood.restitution, 0.1);
  EXPECT_DOUBLE_EQ(wood.roughness, 0.7);
  EXPECT_EQ(wood.texture, fs::canonical(dir / "textures/wood.png").string());
  EXPECT_DOUBLE_EQ(model->materials.at("acrylic").restitution, Material{}.restitution);

  ASSERT_EQ(model->objects.size(), 3u);
  const ObjectModel& cube = model->objects[0];
  EXPECT_EQ(cube.name, "cube");
  EXPECT_FALSE(cube.is_static);
  ASSERT_EQ(cube.collisions.size(), 1u);
  EXPECT_EQ(cube.collisions[0].kind, ShapeKind::kBox);
  EXPECT_EQ(cube.collisions[0].box_size_m, Eigen::Vector3d(0.1, 0.2, 0.3));
  EXPECT_EQ(cube.visuals.size(), 1u);
  EXPECT_DOUBLE_EQ(cube.inertial.mass_kg, 0.6);
  EXPECT_TRUE(cube.inertial.inertia_kgm2.isApprox(BoxInertia(0.6, {0.1, 0.2, 0.3}), 1e-12));
  EXPECT_TRUE(cube.inertial.com_m.isZero(1e-15));
  // The inline restitution makes a material of the cube's own, derived from acrylic.
  const Material& cube_material = model->MaterialOf(cube.material);
  EXPECT_NE(cube.material, "acrylic");
  EXPECT_DOUBLE_EQ(cube_material.restitution, 0.4);
  EXPECT_DOUBLE_EQ(cube_material.lateral_friction, 0.3);
  EXPECT_EQ(cube.collisions[0].material, cube.material);
  EXPECT_TRUE(cube.initial_pose.translation().isApprox(Eigen::Vector3d(0.5, 0, 0.85)));
  EXPECT_TRUE((cube.initial_pose.linear() * Eigen::Vector3d::UnitX()).isApprox(Eigen::Vector3d::UnitY(), 1e-6));
  ASSERT_TRUE(cube.pose_feature);
  EXPECT_EQ(cube.pose_feature->feature, "observation.object_pose");
  EXPECT_EQ(cube.pose_feature->begin, 7);
  EXPECT_NE(cube.pose_feature->source.find("scene.yaml:12"), std::string::npos) << cube.pose_feature->source;

  const ObjectModel& ball = model->objects[1];
  EXPECT_EQ(ball.collisions[0].kind, ShapeKind::kSphere);
  EXPECT_DOUBLE_EQ(ball.collisions[0].radius_m, 0.05);
  EXPECT_EQ(ball.material, "wood");
  EXPECT_EQ(ball.inertial.inertia_kgm2, Eigen::Matrix3d::Identity() * 0.0002);
  EXPECT_TRUE((ball.initial_pose.linear() * Eigen::Vector3d::UnitX()).isApprox(Eigen::Vector3d::UnitY(), 1e-12));
  const ObjectModel& can = model->objects[2];
  EXPECT_EQ(can.collisions[0].kind, ShapeKind::kCylinder);
  EXPECT_DOUBLE_EQ(can.collisions[0].radius_m, 0.03);
  EXPECT_DOUBLE_EQ(can.collisions[0].length_m, 0.1);
  EXPECT_EQ(can.inertial.inertia_kgm2.diagonal(), Eigen::Vector3d(0.001, 0.001, 0.0005));
  EXPECT_EQ(can.material, "");

  ASSERT_EQ(model->environment.size(), 2u);
  EXPECT_TRUE(model->environment[0].is_static);
  EXPECT_EQ(model->environment[0].collisions[0].kind, ShapeKind::kPlane);
  EXPECT_EQ(model->environment[0].collisions[0].plane_normal, Eigen::Vector3d::UnitZ());
  EXPECT_DOUBLE_EQ(model->environment[0].inertial.mass_kg, 0);
  EXPECT_TRUE(model->environment[1].initial_pose.translation().isApprox(Eigen::Vector3d(0.5, 0, 0.775)));
  EXPECT_EQ(model->environment[1].material, "wood");

  ASSERT_EQ(model->cameras.size(), 2u);
  const CameraModel& front = model->cameras[0];
  EXPECT_EQ(front.width_px, 640);
  EXPECT_EQ(front.height_px, 480);
  EXPECT_DOUBLE_EQ(front.fx_px, 600);
  EXPECT_DOUBLE_EQ(front.fy_px, 610);
  EXPECT_DOUBLE_EQ(front.near_m, 0.05);
  EXPECT_DOUBLE_EQ(front.far_m, 5.0);
  EXPECT_TRUE(front.attached_link.empty());
  const CameraModel& side = model->cameras[1];
  EXPECT_NEAR(side.fy_px, 120.0 / std::tan(M_PI / 6), 1e-9);
  EXPECT_DOUBLE_EQ(side.fx_px, side.fy_px);
  EXPECT_DOUBLE_EQ(side.cx_px, 160);
  EXPECT_DOUBLE_EQ(side.cy_px, 120);
  EXPECT_DOUBLE_EQ(side.near_m, 0.01);  // defaults
  EXPECT_DOUBLE_EQ(side.far_m, 10.0);

  ASSERT_EQ(model->lights.size(), 2u);
  EXPECT_EQ(model->lights[0].kind, LightModel::Kind::kDirectional);
  EXPECT_TRUE(model->lights[0].direction.isApprox(-Eigen::Vector3d::UnitZ()));
  EXPECT_EQ(model->lights[0].color_rgb, Eigen::Vector3d(1, 0.9, 0.8));
  EXPECT_DOUBLE_EQ(model->lights[0].intensity, 3.0);
  EXPECT_FALSE(model->lights[0].casts_shadows);
  EXPECT_EQ(model->lights[1].kind, LightModel::Kind::kPoint);
  EXPECT_EQ(model->lights[1].position_m, Eigen::Vector3d(0, 0, 2));
  EXPECT_TRUE(model->lights[1].casts_shadows);

  ASSERT_EQ(model->success.size(), 2u);
  EXPECT_EQ(model->success[0].kind, SuccessCondition::Kind::kObjectInRegion);
  EXPECT_EQ(model->success[0].subject, "cube");
  EXPECT_EQ(model->success[0].region_min_m, Eigen::Vector3d(0.3, -0.2, 0.8));
  EXPECT_EQ(model->success[0].region_max_m, Eigen::Vector3d(0.7, 0.2, 1.0));
  EXPECT_EQ(model->success[1].kind, SuccessCondition::Kind::kObjectAboveHeight);
  EXPECT_DOUBLE_EQ(model->success[1].height_m, 0.9);
}

TEST(SceneLoaderTest, LookAtGivesAnOpenCvCameraFrame) {
  TempDir dir;
  WriteTextFile(dir / "scene.yaml", kTabletop);
  WriteTextFile(dir / "textures/wood.png", "x");
  const auto model = LoadScene(dir / "scene.yaml");  // the file
  for (const CameraModel& c : model->cameras) {
    SCOPED_TRACE(c.name);
    const Eigen::Vector3d target(0.5, 0, 0.8);
    const Eigen::Vector2d centre = Project(c, target);
    EXPECT_NEAR(centre.x(), c.cx_px, 1e-9);
    EXPECT_NEAR(centre.y(), c.cy_px, 1e-9);
    EXPECT_GT((c.pose.inverse() * target).z(), 0);  // in front: +z is the optical axis
    EXPECT_TRUE(c.pose.linear().isUnitary(1e-12));
    EXPECT_NEAR(c.pose.linear().determinant(), 1.0, 1e-12);
    // Up in the world is up in the image (smaller v), and the image is not mirrored.
    EXPECT_LT(Project(c, target + Eigen::Vector3d(0, 0, 0.1)).y(), c.cy_px);
  }
  // The front camera looks along -x: the world's +y is on the image's right.
  EXPECT_GT(Project(model->cameras[0], Eigen::Vector3d(0.5, 0.1, 0.8)).x(), model->cameras[0].cx_px);
  // The side camera looks along +y: the world's +x is on the image's right.
  EXPECT_GT(Project(model->cameras[1], Eigen::Vector3d(0.6, 0, 0.8)).x(), model->cameras[1].cx_px);
}

constexpr const char* kPandaScene = R"YAML(
name: panda_test
robot:
  urdf: robot/panda.urdf
  base_pose: {position_m: [0.1, 0.2, 0.3], rpy_rad: [0, 0, 0.5]}
  initial_q: {panda_joint4: -2.0, panda_joint6: 1.5, panda_finger_joint1: 0.02}
  control_mode: torque
  actuators:
    default: {kp: 600, kd: 50, latency_s: 0.002}
    panda_joint5: {kp: 250, kd: 20, coulomb_friction: 0.5, effort_limit: 10}
    panda_joint1: {armature: 0.1, viscous_friction: 0.2, damping: 0.3, velocity_limit: 2.0}
  bindings:
    - {feature: "observation.state[0:7]", signal: position, joints: [panda_joint1, panda_joint2, panda_joint3, panda_joint4, panda_joint5, panda_joint6, panda_joint7]}
    - feature: observation.effort
      signal: effort
      joints:
        - panda_joint1
        - panda_joint2
    - {feature: "action[7:9]", signal: torque_feedforward, joints: [panda_finger_joint2, panda_finger_joint1]}
cameras:
  - name: wrist
    pose: {position_m: [0, 0, 0.05], quaternion_xyzw: [0, 0, 0, 1]}
    attached_link: panda_hand
    resolution: [64, 48]
    fov_y_deg: 90
success:
  - {joint_reached: {joint: panda_joint1, target: 0.5, tolerance: 0.05}}
)YAML";

TEST(SceneLoaderTest, RobotActuatorsBindingsAndInitialState) {
  TempDir dir;
  CopyPanda(dir.path());
  WriteTextFile(dir / "scene.yaml", kPandaScene);
  const auto model = LoadScene(dir.path());
  ASSERT_TRUE(model->robot);
  const RobotModel& robot = *model->robot;
  ASSERT_EQ(robot.num_dofs(), 9);  // 7 arm joints + 2 fingers
  EXPECT_EQ(robot.control_mode, ControlMode::kTorque);
  EXPECT_TRUE(robot.base_pose.translation().isApprox(Eigen::Vector3d(0.1, 0.2, 0.3)));
  EXPECT_TRUE(
      robot.base_pose.linear().isApprox(Eigen::AngleAxisd(0.5, Eigen::Vector3d::UnitZ()).toRotationMatrix(), 1e-12));

  const int j1 = robot.FindDof("panda_joint1"), j2 = robot.FindDof("panda_joint2"), j5 = robot.FindDof("panda_joint5");
  ASSERT_GE(j1, 0);
  ASSERT_GE(j5, 0);
  ASSERT_EQ(robot.actuators.size(), 9u);
  // default, then per-joint overrides field by field; limits from the URDF's <limit> unless overridden.
  EXPECT_DOUBLE_EQ(robot.actuators[j2].kp, 600);
  EXPECT_DOUBLE_EQ(robot.actuators[j2].kd, 50);
  EXPECT_DOUBLE_EQ(robot.actuators[j2].latency_s, 0.002);
  EXPECT_DOUBLE_EQ(robot.actuators[j2].effort_limit, 87);
  EXPECT_DOUBLE_EQ(robot.actuators[j2].velocity_limit, 2.175);
  EXPECT_DOUBLE_EQ(robot.actuators[j5].kp, 250);
  EXPECT_DOUBLE_EQ(robot.actuators[j5].kd, 20);
  EXPECT_DOUBLE_EQ(robot.actuators[j5].latency_s, 0.002);
  EXPECT_DOUBLE_EQ(robot.actuators[j5].coulomb_friction, 0.5);
  EXPECT_DOUBLE_EQ(robot.actuators[j5].effort_limit, 10);
  EXPECT_DOUBLE_EQ(robot.actuators[j5].velocity_limit, 2.61);
  EXPECT_DOUBLE_EQ(robot.actuators[j1].kp, 600);
  EXPECT_DOUBLE_EQ(robot.actuators[j1].armature, 0.1);
  EXPECT_DOUBLE_EQ(robot.actuators[j1].viscous_friction, 0.2);
  EXPECT_DOUBLE_EQ(robot.actuators[j1].damping, 0.3);
  EXPECT_DOUBLE_EQ(robot.actuators[j1].velocity_limit, 2.0);
  EXPECT_DOUBLE_EQ(robot.actuators[j1].effort_limit, 87);
  EXPECT_DOUBLE_EQ(robot.actuators[j1].coulomb_friction, 0);

  ASSERT_EQ(robot.initial_q.size(), 9);
  EXPECT_DOUBLE_EQ(robot.initial_q[robot.FindDof("panda_joint4")], -2.0);
  EXPECT_DOUBLE_EQ(robot.initial_q[robot.FindDof("panda_joint6")], 1.5);
  EXPECT_DOUBLE_EQ(robot.initial_q[robot.FindDof("panda_finger_joint1")], 0.02);
  EXPECT_DOUBLE_EQ(robot.initial_q[j1], 0.0);

  ASSERT_EQ(model->joint_bindings.size(), 3u);
  const JointBinding& state = model->joint_bindings[0];
  EXPECT_EQ(state.feature, "observation.state");
  EXPECT_EQ(state.begin, 0);
  EXPECT_EQ(state.end, 7);
  EXPECT_EQ(state.signal, JointSignal::kPosition);
  ASSERT_EQ(state.dofs.size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(state.dofs[i], robot.FindDof("panda_joint" + std::to_string(i + 1)));
  EXPECT_EQ(state.source, "scene.yaml:13: robot.bindings[0]");
  const JointBinding& effort = model->joint_bindings[1];
  EXPECT_EQ(effort.feature, "observation.effort");
  EXPECT_EQ(effort.begin, 0);  // no slice: [0:len(joints)]
  EXPECT_EQ(effort.end, 2);
  EXPECT_EQ(effort.signal, JointSignal::kEffort);
  EXPECT_EQ(effort.source, "scene.yaml:14: robot.bindings[1]");
  const JointBinding& fingers = model->joint_bindings[2];
  EXPECT_EQ(fingers.begin, 7);
  EXPECT_EQ(fingers.end, 9);
  EXPECT_EQ(fingers.signal, JointSignal::kTorqueFeedforward);
  EXPECT_EQ(fingers.dofs,
            (std::vector<int>{robot.FindDof("panda_finger_joint2"), robot.FindDof("panda_finger_joint1")}));

  // The URDF's colours are merged into the scene's materials.
  EXPECT_GE(model->materials.size(), 1u);
  bool has_urdf_material = false;
  for (const auto& [name, m] : model->materials) has_urdf_material |= name.find("panda_white") != std::string::npos;
  EXPECT_TRUE(has_urdf_material);

  ASSERT_EQ(model->cameras.size(), 1u);
  EXPECT_EQ(model->cameras[0].attached_link, "panda_hand");
  EXPECT_NEAR(model->cameras[0].fy_px, 24.0, 1e-9);
  EXPECT_TRUE(model->cameras[0].pose.translation().isApprox(Eigen::Vector3d(0, 0, 0.05)));

  ASSERT_EQ(model->success.size(), 1u);
  EXPECT_EQ(model->success[0].kind, SuccessCondition::Kind::kJointReached);
  EXPECT_DOUBLE_EQ(model->success[0].target, 0.5);
  EXPECT_DOUBLE_EQ(model->success[0].tolerance, 0.05);
}

TEST(SceneLoaderTest, CompileIsDeterministicAndSpecIsEditable) {
  TempDir dir;
  CopyPanda(dir.path());
  WriteTextFile(dir / "scene.yaml", kPandaScene);
  SceneSpec spec = LoadSceneSpec(dir.path());
  EXPECT_EQ(spec.robot->where.Field("urdf"), "line 4: robot.urdf");
  EXPECT_EQ(spec.robot->bindings[1].where.Field("joints[1]"), "line 18: robot.bindings[1].joints[1]");
  const auto a = CompileScene(spec);
  const auto b = CompileScene(spec);
  // Everything compiled from the same spec is the same, to the bit.
  ASSERT_EQ(a->robot->num_dofs(), b->robot->num_dofs());
  for (int dof = 0; dof < a->robot->num_dofs(); ++dof) {
    const ActuatorParams& x = a->robot->actuators[dof];
    const ActuatorParams& y = b->robot->actuators[dof];
    EXPECT_EQ(std::tie(x.kp, x.kd, x.effort_limit, x.velocity_limit, x.latency_s, x.coulomb_friction,
                       x.viscous_friction, x.damping, x.armature),
              std::tie(y.kp, y.kd, y.effort_limit, y.velocity_limit, y.latency_s, y.coulomb_friction,
                       y.viscous_friction, y.damping, y.armature))
        << "dof " << dof;
  }
  ASSERT_EQ(a->robot->links.size(), b->robot->links.size());
  for (std::size_t i = 0; i < a->robot->links.size(); ++i) {
    const Link& x = a->robot->links[i];
    const Link& y = b->robot->links[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.inertial.mass_kg, y.inertial.mass_kg);
    EXPECT_EQ(x.inertial.com_m, y.inertial.com_m);
    EXPECT_EQ(x.inertial.inertia_kgm2, y.inertial.inertia_kgm2);
    EXPECT_TRUE(x.joint_origin.isApprox(y.joint_origin, 0.0));
  }
  EXPECT_EQ(a->robot->initial_q, b->robot->initial_q);
  EXPECT_TRUE(a->robot->base_pose.isApprox(b->robot->base_pose, 0.0));
  ASSERT_EQ(a->joint_bindings.size(), b->joint_bindings.size());
  for (std::size_t i = 0; i < a->joint_bindings.size(); ++i) {
    const JointBinding& x = a->joint_bindings[i];
    const JointBinding& y = b->joint_bindings[i];
    EXPECT_EQ(std::tie(x.source, x.feature, x.begin, x.end, x.signal, x.dofs),
              std::tie(y.source, y.feature, y.begin, y.end, y.signal, y.dofs));
  }
  ASSERT_EQ(a->materials.size(), b->materials.size());
  for (const auto& [name, m] : a->materials) {
    const Material& n = b->materials.at(name);
    EXPECT_EQ(std::tie(m.rgba, m.texture, m.lateral_friction, m.rolling_friction, m.spinning_friction, m.restitution,
                       m.roughness),
              std::tie(n.rgba, n.texture, n.lateral_friction, n.rolling_friction, n.spinning_friction, n.restitution,
                       n.roughness))
        << name;
  }
  // Edit the spec in code and recompile: the change lands.
  spec.robot->actuators["panda_joint3"].kp = 123;
  const auto c = CompileScene(spec);
  EXPECT_DOUBLE_EQ(c->robot->actuators[c->robot->FindDof("panda_joint3")].kp, 123);
  EXPECT_DOUBLE_EQ(c->robot->actuators[c->robot->FindDof("panda_joint3")].kd, 50);
}

TEST(SceneLoaderTest, ParamsOverlayChangesCompiledValues) {
  TempDir dir;
  CopyPanda(dir.path());
  std::string scene = kPandaScene;
  scene += R"YAML(objects:
  - {name: cube, shape: {box: [0.1, 0.1, 0.1]}, mass_kg: 0.5, inertia_kgm2: [0.001, 0.001, 0.001], lateral_friction: 0.9}
)YAML";
  WriteTextFile(dir / "scene.yaml", scene);
  const auto nominal = LoadScene(dir.path());
  const int link3 = nominal->robot->FindLink("panda_link3");
  const Inertial nominal_link3 = nominal->robot->links[link3].inertial;
  ASSERT_GT(nominal_link3.mass_kg, 0);

  WriteTextFile(dir / "params.yaml", R"YAML(format: real2sim.params/1
scene: panda_sysid
parameters:
  - {name: robot.panda_joint1.coulomb_friction, estimate: 0.51, std: 0.02, lower: 0.0, upper: 5.0, identified: true}
  - {name: robot.panda_joint5.kp, estimate: 300, std: 4, lower: 0, upper: 1000, identified: true}
  - {name: robot.panda_joint2.latency_s, estimate: 0.004, std: 0.001, lower: 0, upper: 0.1, identified: false}
  - {name: robot.panda_link3.mass_kg, estimate: 3.0, std: 0.1, lower: 0.1, upper: 10, identified: true}
  - {name: objects.cube.mass_kg, estimate: 1.0, std: 0.01, lower: 0.01, upper: 5, identified: true}
  - {name: objects.cube.lateral_friction, estimate: 0.45, std: 0.01, lower: 0, upper: 2, identified: true}
  - {name: objects.cube.restitution, estimate: 0.2}
covariance: {names: [robot.panda_joint1.coulomb_friction], matrix: [[0.0004]]}
metrics: {rms_panda_joint1: 0.4}
)YAML");
  const auto fitted = LoadScene(dir.path(), dir / "params.yaml");
  const RobotModel& robot = *fitted->robot;
  const int j1 = robot.FindDof("panda_joint1"), j2 = robot.FindDof("panda_joint2"), j5 = robot.FindDof("panda_joint5");
  EXPECT_DOUBLE_EQ(robot.actuators[j1].coulomb_friction, 0.51);
  EXPECT_DOUBLE_EQ(nominal->robot->actuators[j1].coulomb_friction, 0.0);
  EXPECT_DOUBLE_EQ(robot.actuators[j1].kp, 600);  // untouched fields keep the scene's values
  EXPECT_DOUBLE_EQ(robot.actuators[j5].kp, 300);  // params beat the per-joint entry (250)
  EXPECT_DOUBLE_EQ(robot.actuators[j5].kd, 20);
  EXPECT_DOUBLE_EQ(robot.actuators[j2].latency_s, 0.004);
  const Inertial& link3_inertial = robot.links[link3].inertial;
  EXPECT_DOUBLE_EQ(link3_inertial.mass_kg, 3.0);
  EXPECT_TRUE(link3_inertial.inertia_kgm2.isApprox(nominal_link3.inertia_kgm2 * (3.0 / nominal_link3.mass_kg)));
  const ObjectModel& cube = fitted->objects[0];
  EXPECT_DOUBLE_EQ(cube.inertial.mass_kg, 1.0);
  EXPECT_TRUE(cube.inertial.inertia_kgm2.isApprox(Eigen::Matrix3d::Identity() * 0.002));  // scales with the mass
  EXPECT_DOUBLE_EQ(fitted->MaterialOf(cube.material).lateral_friction, 0.45);
  EXPECT_DOUBLE_EQ(fitted->MaterialOf(cube.material).restitution, 0.2);
  EXPECT_DOUBLE_EQ(nominal->MaterialOf(nominal->objects[0].material).lateral_friction, 0.9);
}

TEST(SceneLoaderTest, ParamsRoundTripExactly) {
  TempDir dir;
  ParamsFile params;
  params.scene = "panda: \"sysid\"";  // needs quoting
  params.parameters = {
      {"robot.panda_joint1.coulomb_friction", 0.1, 1.0 / 3.0, 0.0, 5.0, true, 0},
      {"robot.panda_link3.mass_kg", 2.718281828459045, 1e-300, 1e-3, std::numeric_limits<double>::infinity(), false, 0},
      {"objects.cube.restitution", 5e-324, std::numeric_limits<double>::quiet_NaN(),
       -std::numeric_limits<double>::infinity(), 1, true, 0},
      {"robot.panda_joint2.kp", 600, 0, 600, 600, true, 0},
  };
  params.covariance_names = {"robot.panda_joint1.coulomb_friction", "robot.panda_link3.mass_kg"};
  params.covariance.resize(2, 2);
  params.covariance << 0.0004, -1.2345678901234567e-5, -1.2345678901234567e-5, 0.01;
  params.metrics = {{"rms_panda_joint1", 0.4}, {"cost", 123456789.125}, {"iterations", 17}};
  const fs::path out = dir / "params.yaml";
  WriteParams(params, out);
  EXPECT_EQ(r2s::testing::ListFiles(dir.path()), std::vector<std::string>{"params.yaml"});  // no temp file left
  const ParamsFile back = ReadParams(out);
  EXPECT_EQ(back.scene, params.scene);
  ASSERT_EQ(back.parameters.size(), params.parameters.size());
  for (std::size_t i = 0; i < params.parameters.size(); ++i) {
    const auto &a = params.parameters[i], &b = back.parameters[i];
    SCOPED_TRACE(a.name);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.estimate, b.estimate);
    if (std::isnan(a.std_dev)) {
      EXPECT_TRUE(std::isnan(b.std_dev));
    } else {
      EXPECT_EQ(a.std_dev, b.std_dev);
    }
    EXPECT_EQ(a.lower, b.lower);
    EXPECT_EQ(a.upper, b.upper);
    EXPECT_EQ(a.identified, b.identified);
    EXPECT_EQ(b.line, 4 + static_cast<int>(i));
  }
  EXPECT_EQ(back.covariance_names, params.covariance_names);
  EXPECT_EQ(back.covariance, params.covariance);
  EXPECT_EQ(back.metrics, params.metrics);

  // Overwriting replaces the file whole.
  params.parameters.resize(1);
  params.covariance_names.clear();
  params.covariance.resize(0, 0);
  params.metrics.clear();
  WriteParams(params, out);
  const ParamsFile again = ReadParams(out);
  EXPECT_EQ(again.parameters.size(), 1u);
  EXPECT_TRUE(again.covariance_names.empty());
  EXPECT_TRUE(again.metrics.empty());
}

TEST(MassPropertiesTest, PrimitivesMatchAnalyticFormulas) {
  Shape box;
  box.kind = ShapeKind::kBox;
  box.box_size_m = {0.1, 0.2, 0.3};
  const Inertial b = ComputeInertial({box}, 2.0);
  EXPECT_DOUBLE_EQ(b.mass_kg, 2.0);
  EXPECT_TRUE(b.inertia_kgm2.isApprox(BoxInertia(2.0, box.box_size_m), 1e-12));

  Shape sphere;
  sphere.kind = ShapeKind::kSphere;
  sphere.radius_m = 0.05;
  const Inertial s = ComputeInertial({sphere}, 0.3);
  EXPECT_TRUE(s.inertia_kgm2.isApprox(Eigen::Matrix3d::Identity() * (0.4 * 0.3 * 0.05 * 0.05), 1e-12));
  EXPECT_NEAR(ShapeVolume(sphere), 4.0 / 3.0 * M_PI * 1.25e-4, 1e-15);

  Shape cylinder;
  cylinder.kind = ShapeKind::kCylinder;
  cylinder.radius_m = 0.03;
  cylinder.length_m = 0.1;
  const Inertial c = ComputeInertial({cylinder}, 0.5);
  const double radial = 0.5 * (3 * 0.03 * 0.03 + 0.1 * 0.1) / 12;
  EXPECT_TRUE(c.inertia_kgm2.isApprox(
      Eigen::Vector3d(radial, radial, 0.5 * 0.03 * 0.03 / 2).asDiagonal().toDenseMatrix(), 1e-12));

  // Origins are honoured: a box rotated 90 degrees about z swaps its x and y moments; shifting it moves the CoM only.
  Shape turned = box;
  turned.origin = Eigen::Translation3d(1, 2, 3) * Eigen::AngleAxisd(M_PI / 2, Eigen::Vector3d::UnitZ());
  const Inertial t = ComputeInertial({turned}, 2.0);
  EXPECT_TRUE(t.com_m.isApprox(Eigen::Vector3d(1, 2, 3), 1e-12));
  EXPECT_TRUE(t.inertia_kgm2.isApprox(BoxInertia(2.0, {0.2, 0.1, 0.3}), 1e-12));

  // Compound: two unit cubes side by side are one 2x1x1 box (parallel-axis theorem).
  Shape left, right;
  left.box_size_m = right.box_size_m = Eigen::Vector3d::Ones();
  left.origin.translation() = Eigen::Vector3d(-0.5, 0, 0) + Eigen::Vector3d(0.25, 0, 0);
  right.origin.translation() = Eigen::Vector3d(0.5, 0, 0) + Eigen::Vector3d(0.25, 0, 0);
  const Inertial pair = ComputeInertial({left, right}, 4.0);
  EXPECT_TRUE(pair.com_m.isApprox(Eigen::Vector3d(0.25, 0, 0), 1e-12));
  EXPECT_TRUE(pair.inertia_kgm2.isApprox(BoxInertia(4.0, {2, 1, 1}), 1e-12));

  // Mass splits by volume: a sphere and a far box of equal volume put the CoM half way.
  Shape ball;
  ball.kind = ShapeKind::kSphere;
  ball.radius_m = 0.1;
  Shape cube;
  cube.kind = ShapeKind::kBox;
  const double side = std::cbrt(4.0 / 3.0 * std::numbers::pi * std::pow(0.1, 3));
  cube.box_size_m = Eigen::Vector3d::Constant(side);
  cube.origin.translation() = Eigen::Vector3d(1, 0, 0);
  const Inertial halves = ComputeInertial({ball, cube}, 2.0);
  EXPECT_TRUE(halves.com_m.isApprox(Eigen::Vector3d(0.5, 0, 0), 1e-12)) << halves.com_m.transpose();
  // Each half weighs 1 kg and sits 0.5 m from the CoM along x.
  Eigen::Matrix3d halves_expected = BoxInertia(1.0, cube.box_size_m);
  halves_expected += 0.4 * 0.1 * 0.1 * Eigen::Matrix3d::Identity();
  halves_expected(1, 1) += 2 * 0.25;
  halves_expected(2, 2) += 2 * 0.25;
  EXPECT_TRUE(halves.inertia_kgm2.isApprox(halves_expected, 1e-12)) << halves.inertia_kgm2;

  Shape plane;
  plane.kind = ShapeKind::kPlane;
  EXPECT_THROW(ComputeInertial({plane}, 1.0), std::invalid_argument);
  EXPECT_THROW(ComputeInertial({}, 1.0), std::invalid_argument);
  EXPECT_THROW(ComputeInertial({box}, 0.0), std::invalid_argument);
}

TEST(MassPropertiesTest, ClosedObjMeshMatchesAnalyticBox) {
  TempDir dir;
  const Eigen::Vector3d centre(0.3, -0.1, 0.2), size(0.1, 0.2, 0.4);
  WriteTextFile(dir / "box.obj", BoxObj(centre, size));
  Shape mesh;
  mesh.kind = ShapeKind::kMesh;
  mesh.mesh = LoadMesh(dir / "box.obj", Eigen::Vector3d::Ones(), "test", "box.obj");
  ASSERT_TRUE(IsClosedMesh(*mesh.mesh));
  EXPECT_NEAR(ShapeVolume(mesh), 0.1 * 0.2 * 0.4, 1e-9);  // Assimp keeps vertices in float
  const Inertial m = ComputeInertial({mesh}, 1.5);
  EXPECT_TRUE(m.com_m.isApprox(centre, 1e-6)) << m.com_m.transpose();
  EXPECT_TRUE(m.inertia_kgm2.isApprox(BoxInertia(1.5, size), 1e-6)) << m.inertia_kgm2;

  // Scaled on load: the inertia follows.
  Shape scaled = mesh;
  scaled.mesh = LoadMesh(dir / "box.obj", Eigen::Vector3d(2, 1, 0.5), "test", "box.obj");
  const Inertial ms = ComputeInertial({scaled}, 1.5);
  EXPECT_TRUE(ms.inertia_kgm2.isApprox(BoxInertia(1.5, {0.2, 0.2, 0.2}), 1e-6)) << ms.inertia_kgm2;

  // A tetrahedron, where a bounding box would be wrong: V = 1/6, CoM = (1/4, 1/4, 1/4), and the known tensor.
  WriteTextFile(dir / "tet.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n");
  Shape tet;
  tet.kind = ShapeKind::kMesh;
  tet.mesh = LoadMesh(dir / "tet.obj", Eigen::Vector3d::Ones(), "test", "tet.obj");
  ASSERT_TRUE(IsClosedMesh(*tet.mesh));
  EXPECT_NEAR(ShapeVolume(tet), 1.0 / 6.0, 1e-12);
  const Inertial ti = ComputeInertial({tet}, 6.0);  // density 36
  EXPECT_TRUE(ti.com_m.isApprox(Eigen::Vector3d::Constant(0.25), 1e-12));
  // About the origin: Ixx = rho * int (y^2 + z^2) = 36 * 2/60 = 1.2; Ixy = -rho * int xy = -36/120 = -0.3.
  Eigen::Matrix3d about_origin;
  about_origin << 1.2, -0.3, -0.3, -0.3, 1.2, -0.3, -0.3, -0.3, 1.2;
  const Eigen::Vector3d d = ti.com_m;
  const Eigen::Matrix3d expected =
      about_origin - 6.0 * (d.squaredNorm() * Eigen::Matrix3d::Identity() - d * d.transpose());
  EXPECT_TRUE(ti.inertia_kgm2.isApprox(expected, 1e-12)) << ti.inertia_kgm2;

  // An open mesh (one face missing) falls back to its bounding box: for a box, the same answer.
  WriteTextFile(dir / "open.obj", BoxObj(centre, size, /*drop_last_face=*/true));
  Shape open;
  open.kind = ShapeKind::kMesh;
  open.mesh = LoadMesh(dir / "open.obj", Eigen::Vector3d::Ones(), "test", "open.obj");
  EXPECT_FALSE(IsClosedMesh(*open.mesh));
  const Inertial mo = ComputeInertial({open}, 1.5);
  EXPECT_TRUE(mo.com_m.isApprox(centre, 1e-6));
  EXPECT_TRUE(mo.inertia_kgm2.isApprox(BoxInertia(1.5, size), 1e-6));
}

TEST(SceneLoaderTest, MeshObjectGetsInertiaFromItsMesh) {
  TempDir dir;
  WriteTextFile(dir / "meshes/brick.obj", BoxObj(Eigen::Vector3d::Zero(), {0.2, 0.1, 0.05}));
  WriteTextFile(dir / "scene.yaml", R"YAML(
name: bricks
objects:
  - name: brick
    shape: {mesh: meshes/brick.obj, scale: [1, 1, 2], collision: decomposition}
    mass_kg: 0.8
  - name: dumbbell
    shapes:
      - {sphere: 0.05, pose: {position_m: [-0.2, 0, 0]}}
      - {sphere: 0.05, pose: {position_m: [0.2, 0, 0]}}
      - {mesh: meshes/brick.obj, pose: {position_m: [0, 0, 0], rpy_rad: [0, 0, 1.5707963267948966]}}
    mass_kg: 1.0
)YAML");
  const auto model = LoadScene(dir.path());
  const ObjectModel& brick = model->objects[0];
  ASSERT_EQ(brick.collisions[0].kind, ShapeKind::kMesh);
  EXPECT_EQ(brick.collisions[0].mesh_collision, MeshCollision::kConvexDecomposition);
  EXPECT_TRUE(brick.inertial.inertia_kgm2.isApprox(BoxInertia(0.8, {0.2, 0.1, 0.1}), 1e-6))
      << brick.inertial.inertia_kgm2;
  const ObjectModel& dumbbell = model->objects[1];
  ASSERT_EQ(dumbbell.collisions.size(), 3u);
  EXPECT_EQ(dumbbell.collisions[0].mesh, nullptr);
  EXPECT_TRUE(dumbbell.inertial.com_m.isZero(1e-12));
  // Closed form: the mass splits by volume; each sphere adds its own 2/5 m r^2 plus m d^2 off the x axis, and
  // the brick, turned 90 degrees about z, is a 0.1 x 0.2 x 0.05 box at the centre.
  const double sphere_volume = 4.0 / 3.0 * std::numbers::pi * std::pow(0.05, 3);
  const double brick_volume = 0.2 * 0.1 * 0.05;
  const double sphere_mass = sphere_volume / (2 * sphere_volume + brick_volume);
  const double brick_mass = brick_volume / (2 * sphere_volume + brick_volume);
  Eigen::Matrix3d expected = BoxInertia(brick_mass, {0.1, 0.2, 0.05});
  expected += 2 * (0.4 * sphere_mass * 0.05 * 0.05) * Eigen::Matrix3d::Identity();
  expected(1, 1) += 2 * sphere_mass * 0.2 * 0.2;
  expected(2, 2) += 2 * sphere_mass * 0.2 * 0.2;
  EXPECT_TRUE(dumbbell.inertial.inertia_kgm2.isApprox(expected, 1e-6)) << dumbbell.inertial.inertia_kgm2;
  // Spheres far out on x dominate the y and z moments.
  EXPECT_GT(dumbbell.inertial.inertia_kgm2(1, 1), 2 * dumbbell.inertial.inertia_kgm2(0, 0));
}

TEST(SuccessTest, EachPredicatePassesAndFails) {
  TempDir dir;
  CopyPanda(dir.path());
  std::string scene = kPandaScene;
  scene += R"YAML(  - {object_in_region: {object: cube, min_m: [0.3, -0.2, 0.8], max_m: [0.7, 0.2, 1.0]}}
  - {object_above_height: {object: ball, height_m: 0.9}}
objects:
  - {name: cube, shape: {box: [0.05, 0.05, 0.05]}, mass_kg: 0.1}
  - {name: ball, shape: {sphere: 0.02}, mass_kg: 0.05}
)YAML";
  WriteTextFile(dir / "scene.yaml", scene);
  const auto model = LoadScene(dir.path());
  ASSERT_EQ(model->success.size(), 3u);
  const int j1 = model->robot->FindDof("panda_joint1");

  Eigen::VectorXd q = Eigen::VectorXd::Zero(9);
  q[j1] = 0.53;
  std::vector<Eigen::Isometry3d> poses(2, Eigen::Isometry3d::Identity());
  poses[0].translation() = Eigen::Vector3d(0.5, 0.0, 0.9);
  poses[1].translation() = Eigen::Vector3d(0.0, 0.0, 0.95);
  SuccessReport ok = EvaluateSuccess(*model, poses, q);
  EXPECT_TRUE(ok.success);
  EXPECT_TRUE(ok.failed.empty());

  q[j1] = 0.56;  // 0.06 from the target: outside the tolerance
  SuccessReport joint = EvaluateSuccess(*model, poses, q);
  EXPECT_FALSE(joint.success);
  ASSERT_EQ(joint.failed.size(), 1u);
  EXPECT_NE(joint.failed[0].find("panda_joint1"), std::string::npos) << joint.failed[0];
  q[j1] = 0.5;

  poses[0].translation().y() = 0.25;  // out of the region on y
  poses[1].translation().z() = 0.85;  // below 0.9
  SuccessReport objects = EvaluateSuccess(*model, poses, q);
  EXPECT_FALSE(objects.success);
  ASSERT_EQ(objects.failed.size(), 2u);
  EXPECT_NE(objects.failed[0].find("cube"), std::string::npos) << objects.failed[0];
  EXPECT_NE(objects.failed[1].find("ball"), std::string::npos) << objects.failed[1];

  EXPECT_THROW(EvaluateSuccess(*model, {}, q), std::invalid_argument);
  EXPECT_THROW(EvaluateSuccess(*model, poses, Eigen::VectorXd::Zero(3)), std::invalid_argument);
}

// A place target: a bin (static, turned a quarter about z) and a tray (free), each with a region in its own frame.
// The regions are longer along their body's x than y, so a turn of the body shows in which points count.
constexpr const char* kBinScene = R"YAML(name: bins
objects:
  - {name: cube, shape: {box: [0.03, 0.03, 0.03]}, mass_kg: 0.05}
  - {name: tray, shape: {box: [0.2, 0.1, 0.01]}, mass_kg: 0.3}
environment:
  - name: bin
    shapes:
      - {box: [0.2, 0.1, 0.01]}
      - {box: [0.2, 0.01, 0.08], pose: {position_m: [0, 0.045, 0.04]}}
    pose: {position_m: [0.4, 0.2, 0.05], rpy_rad: [0, 0, 1.5707963267948966]}
success:
  - {object_in_region: {object: cube, frame: bin, min_m: [-0.08, -0.03, 0.0], max_m: [0.08, 0.03, 0.1]}}
  - {object_in_region: {object: cube, frame: tray, min_m: [-0.08, -0.03, 0.0], max_m: [0.08, 0.03, 0.1]}}
  - {object_in_region: {object: tray, min_m: [-1, -1, -1], max_m: [1, 1, 1]}}
)YAML";

// The model with only success condition k.
Model WithCondition(const Model& model, std::size_t k) {
  Model one = model;
  one.success = {model.success.at(k)};
  return one;
}

TEST(SceneLoaderTest, ARegionsFrameIsParsed) {
  TempDir dir;
  WriteTextFile(dir / "scene.yaml", kBinScene);
  const auto model = LoadScene(dir.path());
  ASSERT_EQ(model->success.size(), 3u);
  EXPECT_EQ(model->success[0].frame, "bin");
  EXPECT_EQ(model->success[0].region_min_m, Eigen::Vector3d(-0.08, -0.03, 0.0));
  EXPECT_EQ(model->success[1].frame, "tray");
  EXPECT_EQ(model->success[2].frame, "");  // the world
}

TEST(SceneLoaderTest, AnUnknownOrSelfFrameNamesTheLineFieldAndValue) {
  struct Case {
    std::string frame;
    std::string problem;
  };
  for (const Case& c : {Case{"crate", "unknown body 'crate'; the environment bodies and free objects are: bin, cube, "
                                      "tray"},
                        Case{"cube", "'cube' is the object itself"}}) {
    TempDir dir;
    std::string scene = kBinScene;
    const std::string from = "frame: tray";
    scene.replace(scene.find(from), from.size(), "frame: " + c.frame);
    WriteTextFile(dir / "scene.yaml", scene);
    try {
      LoadScene(dir.path());
      ADD_FAILURE() << "no InputError for frame " << c.frame;
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), (dir / "scene.yaml").string());
      EXPECT_EQ(e.field(), "line 13: success[1].object_in_region.frame") << e.what();
      EXPECT_NE(e.problem().find(c.problem), std::string::npos) << e.what();
    }
  }
}

TEST(SuccessTest, ARegionInABodysFrameTurnsAndMovesWithTheBody) {
  TempDir dir;
  WriteTextFile(dir / "scene.yaml", kBinScene);
  const auto model = LoadScene(dir.path());
  const Model in_bin = WithCondition(*model, 0);
  const Eigen::Isometry3d bin = model->environment[0].initial_pose;
  std::vector<Eigen::Isometry3d> poses(2, Eigen::Isometry3d::Identity());

  // Inside: 0.07 along the bin's x, which the quarter turn points along the world's y.
  poses[0].translation() = bin * Eigen::Vector3d(0.07, 0.02, 0.05);
  EXPECT_TRUE(poses[0].translation().isApprox(Eigen::Vector3d(0.38, 0.27, 0.10), 1e-12));
  EXPECT_TRUE(EvaluateSuccess(in_bin, poses, {}).success);

  // Outside: the same offset along the world's axes lies 0.07 along the bin's -y.
  poses[0].translation() = bin.translation() + Eigen::Vector3d(0.07, 0.02, 0.05);
  SuccessReport out = EvaluateSuccess(in_bin, poses, {});
  EXPECT_FALSE(out.success);
  ASSERT_EQ(out.failed.size(), 1u);
  EXPECT_NE(out.failed[0].find("cube at (0.0200, -0.0700, 0.0500) m in bin's frame (world (0.4700, 0.2200, 0.1000) m)"),
            std::string::npos)
      << out.failed[0];

  // A variant's model with the bin turned back and moved: the region goes with it.
  Model moved = in_bin;
  moved.environment[0].initial_pose = Eigen::Isometry3d::Identity();
  moved.environment[0].initial_pose.translation() = Eigen::Vector3d(-0.3, 0.1, 0.05);
  poses[0].translation() = Eigen::Vector3d(-0.3 + 0.07, 0.1 + 0.02, 0.1);
  EXPECT_TRUE(EvaluateSuccess(moved, poses, {}).success);
  EXPECT_FALSE(EvaluateSuccess(in_bin, poses, {}).success);
  poses[0].translation() = bin * Eigen::Vector3d(0.07, 0.02, 0.05);  // where the scene's bin held it
  EXPECT_FALSE(EvaluateSuccess(moved, poses, {}).success);

  // A free object's frame is where object_poses puts it.
  const Model on_tray = WithCondition(*model, 1);
  poses[1] = Eigen::Isometry3d(Eigen::AngleAxisd(-0.5, Eigen::Vector3d::UnitZ()));
  poses[1].translation() = Eigen::Vector3d(0.1, -0.4, 0.02);
  poses[0].translation() = poses[1] * Eigen::Vector3d(-0.07, 0.0, 0.01);
  EXPECT_TRUE(EvaluateSuccess(on_tray, poses, {}).success);
  poses[0].translation() = poses[1] * Eigen::Vector3d(0.0, -0.07, 0.01);
  const SuccessReport off = EvaluateSuccess(on_tray, poses, {});
  EXPECT_FALSE(off.success);
  ASSERT_EQ(off.failed.size(), 1u);
  EXPECT_NE(off.failed[0].find("cube at (0.0000, -0.0700, 0.0100) m in tray's frame"), std::string::npos)
      << off.failed[0];

  Model unknown = in_bin;
  unknown.success[0].frame = "crate";
  EXPECT_THROW(EvaluateSuccess(unknown, poses, {}), std::invalid_argument);
}

}  // namespace
}  // namespace r2s::sim

namespace r2s::sim {
namespace {

// The bundled tabletop compiles to what later stages rely on, and at rest it stays at rest: the objects settle
// on the table without drifting, and the arm holds its initial pose under its PD loops.
TEST(BundledScenes, TabletopCompilesAndRestsStill) {
  const auto model = LoadScene(r2s::testing::SourceDir() / "scenes/tabletop");
  ASSERT_TRUE(model->robot.has_value());
  EXPECT_EQ(model->robot->num_dofs(), 9);
  EXPECT_EQ(model->objects.size(), 4u);
  EXPECT_EQ(model->environment.size(), 3u);
  ASSERT_EQ(model->cameras.size(), 2u);
  EXPECT_EQ(model->cameras[1].attached_link, "panda_hand");
  EXPECT_EQ(model->lights.size(), 2u);
  EXPECT_EQ(model->success.size(), 1u);
  const int bowl = model->FindObject("bowl");
  ASSERT_GE(bowl, 0);
  EXPECT_EQ(model->objects[bowl].collisions[0].mesh_collision, MeshCollision::kConvexDecomposition);
  EXPECT_GT(model->objects[bowl].inertial.inertia_kgm2.trace(), 0);

  World world(model);
  world.Reset();
  RobotCommand hold;
  hold.position = model->robot->initial_q;
  world.SetCommand(hold);
  world.Step(1000);  // 1 s
  for (std::size_t i = 0; i < model->objects.size(); ++i) {
    const double drift =
        (world.ObjectPose(static_cast<int>(i)).translation() - model->objects[i].initial_pose.translation()).norm();
    EXPECT_LT(drift, 0.005) << model->objects[i].name;
  }
  // The PD loops hold the arm where gravity balances them, q = q* - g(q)/kp (no gravity compensation here).
  const Eigen::VectorXd q = world.joint_positions();
  const Eigen::VectorXd gravity =
      RigidBodyDynamics(*model->robot, model->sim.gravity_mps2).BiasForces(q, Eigen::VectorXd::Zero(9));
  for (int dof = 0; dof < 7; ++dof) {
    const double sag = gravity[dof] / model->robot->actuators[dof].kp;
    EXPECT_NEAR(q[dof], model->robot->initial_q[dof] - sag, 0.002) << "joint " << dof + 1;
  }
  EXPECT_GT(std::abs(gravity[1] / model->robot->actuators[1].kp), 0.01);  // the shoulder does sag
  const auto success =
      EvaluateSuccess(*model, {world.ObjectPose(0), world.ObjectPose(1), world.ObjectPose(2), world.ObjectPose(3)},
                      world.joint_positions());
  EXPECT_TRUE(success.success);  // the cube starts inside its target region
}

TEST(BundledScenes, PandaSysidUsesThePlaceholderInertiaPrior) {
  const auto model = LoadScene(r2s::testing::SourceDir() / "scenes/panda_sysid");
  const RobotModel& robot = *model->robot;
  EXPECT_EQ(robot.num_dofs(), 9);
  EXPECT_EQ(model->joint_bindings.size(), 3u);
  EXPECT_DOUBLE_EQ(robot.links[robot.FindLink("panda_link3")].inertial.mass_kg, 2.04);
  EXPECT_DOUBLE_EQ(robot.actuators[robot.FindDof("panda_joint7")].kp, 50);
  EXPECT_DOUBLE_EQ(robot.actuators[robot.FindDof("panda_joint7")].kd, 1);
  EXPECT_DOUBLE_EQ(robot.actuators[robot.FindDof("panda_joint1")].kd, 10);
}

}  // namespace
}  // namespace r2s::sim

namespace r2s::sim {
namespace {

// The binding of `model` that reads `feature`.
const JointBinding& BindingOf(const Model& model, const std::string& feature) {
  for (const JointBinding& b : model.joint_bindings) {
    if (b.feature == feature) return b;
  }
  throw std::out_of_range("no binding of " + feature);
}

// units, sign, scale, gear_ratio and offset, scalar and per joint, compile into one factor and offset per joint,
// following the convention of JointBinding (model.h); velocities share the position's slope, efforts multiply by
// the gear ratio, and only positions take offsets.
TEST(BindingUnitsTest, ConversionFieldsCompileToTheDocumentedAffineMap) {
  TempDir dir;
  CopyPanda(dir.path());
  WriteTextFile(dir / "scene.yaml", R"(name: units
robot:
  urdf: robot/panda.urdf
  actuators: {default: {kp: 60, kd: 5}}
  bindings:
    - feature: "q[0:3]"
      signal: position
      joints: [panda_joint1, panda_joint2, panda_finger_joint1]
      units: [deg, ticks, mm]
      ticks_per_revolution: 1000
      sign: [1, -1, 1]
      gear_ratio: [2, 1, 1]
      offset: [0.1, 0, -0.01]
    - {feature: "qd[0:2]", signal: velocity, joints: [panda_joint1, panda_joint2], units: deg, sign: [1, -1],
       gear_ratio: 10}
    - {feature: "tau[0:2]", signal: effort, joints: [panda_joint1, panda_joint2], scale: 0.5, gear_ratio: 10}
    - {feature: "cmd[0:1]", signal: position_target, joints: [panda_joint1]}
)");
  const auto model = LoadScene(dir.path());
  const JointBinding& q = BindingOf(*model, "q");
  ASSERT_EQ(q.factor.size(), 3u);
  EXPECT_DOUBLE_EQ(q.factor[0], std::numbers::pi / 180 / 2);
  EXPECT_DOUBLE_EQ(q.factor[1], -2 * std::numbers::pi / 1000);
  EXPECT_DOUBLE_EQ(q.factor[2], 1e-3);
  EXPECT_DOUBLE_EQ(q.offset[0], 0.1);
  EXPECT_DOUBLE_EQ(q.offset[2], -0.01);
  EXPECT_DOUBLE_EQ(q.SiFromRaw(0, 90.0), std::numbers::pi / 4 + 0.1);  // 90 motor degrees through a 2:1 gear
  EXPECT_DOUBLE_EQ(q.SiFromRaw(2, 20.0), 0.01);                      // 20 mm less the 10 mm offset
  EXPECT_DOUBLE_EQ(q.RawFromSi(1, q.SiFromRaw(1, 250.0)), 250.0);
  const JointBinding& qd = BindingOf(*model, "qd");
  EXPECT_DOUBLE_EQ(qd.factor[0], std::numbers::pi / 180 / 10);
  EXPECT_DOUBLE_EQ(qd.factor[1], -std::numbers::pi / 180 / 10);
  EXPECT_EQ(qd.offset, std::vector<double>(2, 0.0));
  const JointBinding& tau = BindingOf(*model, "tau");
  EXPECT_EQ(tau.factor, std::vector<double>(2, 5.0));  // motor torque x 10, in half newton metres
  const JointBinding& cmd = BindingOf(*model, "cmd");  // no conversion: SI as before
  EXPECT_EQ(cmd.factor, std::vector<double>{1.0});
  EXPECT_EQ(cmd.offset, std::vector<double>{0.0});
}

// LeRobot SO-101 data: normalized values through the (synthetic) calibration file to motor ticks to radians about
// the middle of the calibrated range. Expected values follow LeRobot's _unnormalize by hand (4096 ticks a turn,
// its degrees mode using max_res = 4095).
TEST(BindingUnitsTest, LeRobotCalibrationMapsNormalizedValuesToRadians) {
  TempDir dir;
  CopyPanda(dir.path());
  fs::copy_file(SourceDir() / "tests/data/lerobot_calibration/so101_follower_SYNTHETIC.json",
                dir / "so101_follower_SYNTHETIC.json");
  const std::string binding = R"(
      joints: [panda_joint1, panda_joint2, panda_joint3, panda_joint4]
      calibration: so101_follower_SYNTHETIC.json
      motors: [synthetic_shoulder_pan, synthetic_shoulder_lift, synthetic_elbow_flex, synthetic_gripper]
      normalization: [range_m100_100, range_m100_100, degrees, range_0_100]
)";
  WriteTextFile(dir / "scene.yaml", R"(name: so101_synthetic
robot:
  urdf: robot/panda.urdf
  actuators: {default: {kp: 60, kd: 5}}
  bindings:
    - feature: "observation.state[0:4]"
      signal: position)" + binding +
                                        R"(    - feature: "action[0:4]"
      signal: position_target
      offset: 0.25)" + binding);
  const auto model = LoadScene(dir.path());
  const double rad_per_tick = 2 * std::numbers::pi / 4096;
  const JointBinding& state = BindingOf(*model, "observation.state");
  // shoulder_pan, range [1000, 3000]: 50 -> (150 / 200) 2000 + 1000 = 2500 ticks; the middle is 2000.
  EXPECT_NEAR(state.SiFromRaw(0, 50.0), 500 * rad_per_tick, 1e-12);
  EXPECT_NEAR(state.SiFromRaw(0, 0.0), 0.0, 1e-12);  // the middle of the range is the joint's zero
  // shoulder_lift, drive_mode 1, range [800, 3400]: 25 -> -25 -> (75 / 200) 2600 + 800 = 1775 ticks; middle 2100.
  EXPECT_NEAR(state.SiFromRaw(1, 25.0), -325 * rad_per_tick, 1e-12);
  // elbow_flex in degrees, range [900, 3100]: 90 -> 90 * 4095 / 360 + 2000 = 3023.75 ticks; middle 2000.
  EXPECT_NEAR(state.SiFromRaw(2, 90.0), 1023.75 * rad_per_tick, 1e-12);
  // gripper in range_0_100, range [2000, 3500]: 20 -> 0.2 * 1500 + 2000 = 2300 ticks; middle 2750.
  EXPECT_NEAR(state.SiFromRaw(3, 20.0), -450 * rad_per_tick, 1e-12);
  EXPECT_NEAR(state.SiFromRaw(3, 100.0), 750 * rad_per_tick, 1e-12);  // fully open: range_max
  EXPECT_NEAR(state.RawFromSi(3, state.SiFromRaw(3, 37.5)), 37.5, 1e-12);
  // offset moves the joint's zero, in radians.
  const JointBinding& action = BindingOf(*model, "action");
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_NEAR(action.SiFromRaw(k, 42.0), state.SiFromRaw(k, 42.0) + 0.25, 1e-12) << k;
  }
}

// params.yaml's robot.<joint>.position_offset (physical = measured + offset) lands in the position and
// position-target bindings of that joint, and nowhere else.
TEST(BindingUnitsTest, ParamsPositionOffsetShiftsPositionBindingsOnly) {
  TempDir dir;
  CopyPanda(dir.path());
  WriteTextFile(dir / "scene.yaml", R"(name: offsets
robot:
  urdf: robot/panda.urdf
  actuators: {default: {kp: 60, kd: 5}}
  bindings:
    - {feature: "q[0:2]", signal: position, joints: [panda_joint1, panda_joint2], units: deg}
    - {feature: "qd[0:2]", signal: velocity, joints: [panda_joint1, panda_joint2]}
    - {feature: "cmd[0:1]", signal: position_target, joints: [panda_joint2]}
)");
  WriteTextFile(dir / "params.yaml", R"(format: real2sim.params/1
parameters:
  - {name: robot.panda_joint2.position_offset, estimate: -0.03}
)");
  const auto model = LoadScene(dir.path(), dir / "params.yaml");
  EXPECT_EQ(model->robot->position_offset[model->robot->FindDof("panda_joint2")], -0.03);
  EXPECT_EQ(BindingOf(*model, "q").offset, (std::vector<double>{0.0, -0.03}));
  EXPECT_EQ(BindingOf(*model, "cmd").offset, std::vector<double>{-0.03});
  EXPECT_EQ(BindingOf(*model, "qd").offset, (std::vector<double>{0.0, 0.0}));
  EXPECT_DOUBLE_EQ(BindingOf(*model, "q").SiFromRaw(1, 90.0), std::numbers::pi / 2 - 0.03);
}

}  // namespace
}  // namespace r2s::sim

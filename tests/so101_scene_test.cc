// The bundled SO-101 pick-and-place deployment (scenes/so101_pick_place) through the real scene loader and a real
// Bullet world: the scene compiles with its cameras and retarget section, its LeRobot calibration maps normalized
// values onto the URDF's joints the way LeRobot's own kinematics read them, a scripted top-down grasp keeps the
// cube in the SO-101's jaw while lifting, holding and carrying it, and the success predicate tells a cube dropped
// in the box from one left elsewhere.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <numbers>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "amplify/retarget.h"
#include "sim/rigid_body_dynamics.h"
#include "sim/scene_compiler.h"
#include "sim/success.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace r2s::amplify {
namespace {

namespace fs = std::filesystem;
using r2s::testing::SourceDir;

constexpr double kPi = std::numbers::pi;
constexpr char kJoints[6][14] = {"shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"};

// The grasp: where the cube's centre sits in gripper_link's frame (its z runs from the fingertips up to the wrist).
// 3 mm short of the fixed jaw's pad (x -0.0091 at that height, plus the cube's half width 0.0125), so the moving jaw
// pushes the cube the last 3 mm onto it, as on the real arm; the fingertips (z -0.106) stay 3 mm above the desk.
const Eigen::Vector3d kCubeInGripper_m(0.0064, -0.0002, -0.0905);
constexpr double kCubeHalf_m = 0.0125;
// The shoulder_pan axis, in the world (the base stands at the origin): the arm's vertical plane turns about it.
const Eigen::Vector2d kPanAxisXy_m(0.0388353, 0.0);
// Jaw targets, rad: open (LeRobot ~50) and closed (LeRobot 0, the URDF's lower limit): a teleoperator closes the
// leader's trigger fully and the follower's jaw stops on the cube.
constexpr double kJawOpen_rad = 0.8;
constexpr double kJawClosed_rad = -0.1745;
// How far the wrist tilts forward (fingers towards +radial) once the cube is off the desk: the SO-101 cannot point
// its fingers straight down 10 cm above the desk (wrist_flex would pass its 1.66 rad limit), so a real grasp-and-
// lift tilts the hand as this does.
constexpr double kCarryPitch_rad = -0.5;

struct Placement {
  double x_m, y_m, yaw_rad;
};

// Where the cube's centre goes, and the hand's attitude: top-down (pitch 0) or tilted forward (kCarryPitch_rad),
// the jaw closing along `yaw_rad` (a direction in the desk plane).
struct HandGoal {
  Eigen::Vector3d cube_m;
  double yaw_rad = 0;
  double pitch_rad = 0;
};

// The gripper_link pose that puts the cube's centre at goal.cube_m. Reachable by the SO-101's 5 arm joints only
// with the pitch about the horizontal axis across the arm's vertical plane (the three flex joints), the arm's
// azimuth (shoulder_pan) and a roll about the gripper's own axis (wrist_roll): R = Rz(azimuth) Ry(pitch)
// Rz(yaw - azimuth). The azimuth is that of the gripper's roll axis about the pan axis, found by fixed point.
Eigen::Isometry3d GripperPose(const HandGoal& goal) {
  Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
  double azimuth = std::atan2(goal.cube_m.y() - kPanAxisXy_m.y(), goal.cube_m.x() - kPanAxisXy_m.x());
  for (int i = 0; i < 4; ++i) {
    pose.linear() = (Eigen::AngleAxisd(azimuth, Eigen::Vector3d::UnitZ()) *
                     Eigen::AngleAxisd(goal.pitch_rad, Eigen::Vector3d::UnitY()) *
                     Eigen::AngleAxisd(goal.yaw_rad - azimuth, Eigen::Vector3d::UnitZ()))
                        .toRotationMatrix();
    pose.translation() = goal.cube_m - pose.linear() * kCubeInGripper_m;
    azimuth = std::atan2(pose.translation().y() - kPanAxisXy_m.y(), pose.translation().x() - kPanAxisXy_m.x());
  }
  return pose;
}

// The jaw's closing direction for a cube turned by cube_yaw_rad: one of its four face normals, the one nearest the
// radial direction from the pan axis (where the SO-101's jaw closes with wrist_roll near 0).
double GraspYaw(const Placement& cube) {
  const double radial = std::atan2(cube.y_m - kPanAxisXy_m.y(), cube.x_m - kPanAxisXy_m.x());
  return cube.yaw_rad + std::round((radial - cube.yaw_rad) / (kPi / 2)) * (kPi / 2);
}

Eigen::Isometry3d CubePose(const Placement& cube) {
  Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
  pose.translation() = Eigen::Vector3d(cube.x_m, cube.y_m, kCubeHalf_m);
  pose.linear() = Eigen::AngleAxisd(cube.yaw_rad, Eigen::Vector3d::UnitZ()).toRotationMatrix();
  return pose;
}

// What happened to the cube in one scripted run.
struct GraspRecord {
  double worst_ik_error_m = 0;
  double jaw_on_cube_rad = 0;        // the jaw's angle once closed on the cube
  double cube_lift_m = 0;            // how far the cube rose with the hand (centre, from its resting height)
  double hand_lift_m = 0;            // how far the hand rose over the same frames
  double slip_after_lift_m = 0;      // the cube's centre in the gripper's frame, against where it was once gripped
  double slip_after_hold_m = 0;      //   ... after the 2 s hold
  double slip_after_carry_m = 0;     //   ... after the sideways move
  double max_slip_m = 0;             //   ... worst over lift, hold and carry
  double max_tilt_in_jaw_rad = 0;    // the cube's turn in the gripper's frame, worst over the same frames
  double carried_sideways_m = 0;     // how far the cube moved in the desk plane during the carry
  Eigen::Isometry3d final_cube_pose = Eigen::Isometry3d::Identity();
  sim::SuccessReport success;
  std::string trace;                 // a line per phase, for failure messages
};

// Drives a World frame by frame (LeRobot's 30 fps: substeps_per_frame physics steps a frame) through hand goals,
// as a teleoperated demonstration would: joint targets by IK (amplify::SolveEndEffectorIk, seeded by the previous
// frame), plus the gravity sag g(q) / kp that the servo's P loop leaves (no gravity compensation on an STS3215),
// so that the arm reaches the poses; the jaw's target ramps between open and closed.
class ScriptedPick {
 public:
  ScriptedPick(const std::shared_ptr<const sim::Model>& model, const RetargetSpec& spec, const Placement& cube)
      : model_(model), spec_(spec), robot_(*model->robot), dynamics_(robot_, model->sim.gravity_mps2),
        world_(model), cube_(model->FindObject("cube")), gripper_link_(robot_.FindLink("gripper_link")),
        jaw_(robot_.FindDof("gripper")), ee_link_(spec.end_effector_link) {
    gripper_to_ee_ = dynamics_.LinkPoses(robot_.initial_q)[gripper_link_].inverse() *
                     dynamics_.LinkPoses(robot_.initial_q)[ee_link_];
    world_.SetObjectPose(cube_, CubePose(cube));
    q_ = robot_.initial_q;
    jaw_target_ = q_[jaw_];
    goal_.cube_m = dynamics_.LinkPoses(q_)[gripper_link_] * kCubeInGripper_m;
    goal_.yaw_rad = GraspYaw(cube);
    goal_.pitch_rad = 0;
    frame_s_ = model->sim.time_step_s * model->sim.substeps_per_frame;
  }

  // Moves the cube goal along a straight line (smoothstep in time), yaw and pitch interpolated.
  void MoveTo(const HandGoal& goal, double seconds) {
    const HandGoal start = goal_;
    const int frames = Frames(seconds);
    for (int i = 1; i <= frames; ++i) {
      const double s = static_cast<double>(i) / frames, w = s * s * (3 - 2 * s);
      goal_.cube_m = (1 - w) * start.cube_m + w * goal.cube_m;
      goal_.yaw_rad = (1 - w) * start.yaw_rad + w * goal.yaw_rad;
      goal_.pitch_rad = (1 - w) * start.pitch_rad + w * goal.pitch_rad;
      const IkSolution ik =
          SolveEndEffectorIk(dynamics_, robot_, spec_, GripperPose(goal_) * gripper_to_ee_, q_);
      record_.worst_ik_error_m = std::max(record_.worst_ik_error_m, ik.position_error_m);
      q_ = ik.q;
      Frame();
    }
  }
  void Jaw(double target_rad, double seconds) {
    const double from = jaw_target_;
    const int frames = Frames(seconds);
    for (int i = 1; i <= frames; ++i) {
      jaw_target_ = from + (target_rad - from) * i / frames;
      Frame();
    }
  }
  void Hold(double seconds) {
    for (int i = Frames(seconds); i > 0; --i) Frame();
  }

  // The cube's pose in gripper_link's frame now.
  Eigen::Isometry3d CubeInGripper() const {
    return world_.LinkPose(gripper_link_).inverse() * world_.ObjectPose(cube_);
  }
  Eigen::Isometry3d CubeInWorld() const { return world_.ObjectPose(cube_); }
  Eigen::Isometry3d GripperInWorld() const { return world_.LinkPose(gripper_link_); }
  double JawAngle() const { return world_.joint_positions()[jaw_]; }
  const HandGoal& goal() const { return goal_; }
  GraspRecord& record() { return record_; }
  sim::SuccessReport Success() const {
    return sim::EvaluateSuccess(*model_, {world_.ObjectPose(cube_)}, world_.joint_positions());
  }
  void Note(const std::string& phase) {
    const Eigen::Vector3d c = CubeInWorld().translation();
    const Eigen::Vector3d g = CubeInGripper().translation();
    char line[200];
    std::snprintf(line, sizeof line, "%6.2f s %-8s cube (%.4f, %.4f, %.4f) m, in gripper (%.4f, %.4f, %.4f), jaw %.3f\n",
                  world_.time_s(), phase.c_str(), c.x(), c.y(), c.z(), g.x(), g.y(), g.z(), JawAngle());
    record_.trace += line;
  }

 private:
  int Frames(double seconds) const { return std::max(1, static_cast<int>(std::lround(seconds / frame_s_))); }
  void Frame() {
    Eigen::VectorXd target = q_;
    const Eigen::VectorXd gravity = dynamics_.BiasForces(q_, Eigen::VectorXd::Zero(q_.size()));
    for (int dof : spec_.arm_dofs) target[dof] += gravity[dof] / robot_.actuators[dof].kp;
    target[jaw_] = jaw_target_;
    sim::RobotCommand command;
    command.position = target;
    world_.SetCommand(command);
    world_.Step(model_->sim.substeps_per_frame);
  }

  std::shared_ptr<const sim::Model> model_;
  const RetargetSpec& spec_;
  const sim::RobotModel& robot_;
  sim::RigidBodyDynamics dynamics_;
  sim::World world_;
  int cube_, gripper_link_, jaw_, ee_link_;
  Eigen::Isometry3d gripper_to_ee_;
  Eigen::VectorXd q_;
  double jaw_target_ = 0;
  HandGoal goal_;
  double frame_s_ = 0;
  GraspRecord record_;
};

double Angle(const Eigen::Matrix3d& rotation) { return Eigen::AngleAxisd(rotation).angle(); }

// Approach from above, descend, close the jaw, lift 10 cm (tilting the hand forward), hold 2 s, carry 12 cm
// sideways (+y, towards the box), and then either lower into the box and let go, or set the cube down on the desk.
enum class Finish { kCarryOnly, kDropInBox, kSetDownOnDesk };

GraspRecord RunPick(const std::shared_ptr<const sim::Model>& model, const RetargetSpec& spec, const Placement& cube,
                    Finish finish) {
  ScriptedPick pick(model, spec, cube);
  const Eigen::Vector3d on_desk(cube.x_m, cube.y_m, kCubeHalf_m);
  const double yaw = GraspYaw(cube);
  GraspRecord& r = pick.record();
  pick.MoveTo({on_desk + Eigen::Vector3d(0, 0, 0.08), yaw, 0}, 1.5);
  pick.Note("above");
  pick.MoveTo({on_desk, yaw, 0}, 1.0);
  pick.Hold(0.2);
  pick.Note("down");
  pick.Jaw(kJawClosed_rad, 1.0);
  pick.Hold(0.5);
  pick.Note("closed");
  r.jaw_on_cube_rad = pick.JawAngle();
  const Eigen::Isometry3d gripped = pick.CubeInGripper();
  const double cube_z0 = pick.CubeInWorld().translation().z();
  const double hand_z0 = pick.GripperInWorld().translation().z();
  double max_slip = 0, max_tilt = 0;
  const auto slip = [&] {
    const Eigen::Isometry3d now = pick.CubeInGripper();
    const double s = (now.translation() - gripped.translation()).norm();
    max_slip = std::max(max_slip, s);
    max_tilt = std::max(max_tilt, Angle(gripped.linear().transpose() * now.linear()));
    return s;
  };
  // Lift 10 cm, sampling the slip every frame.
  const Eigen::Vector3d lifted = on_desk + Eigen::Vector3d(0, 0, 0.10);
  for (int i = 1; i <= 10; ++i) {
    pick.MoveTo({on_desk + (lifted - on_desk) * i / 10.0, yaw, kCarryPitch_rad * i / 10.0}, 0.12);
    slip();
  }
  pick.Hold(0.3);
  pick.Note("lifted");
  r.cube_lift_m = pick.CubeInWorld().translation().z() - cube_z0;
  r.hand_lift_m = pick.GripperInWorld().translation().z() - hand_z0;
  r.slip_after_lift_m = slip();
  for (int i = 0; i < 20; ++i) {
    pick.Hold(0.1);
    slip();
  }
  pick.Note("held 2 s");
  r.slip_after_hold_m = slip();
  const Eigen::Vector3d before_carry = pick.CubeInWorld().translation();
  const Eigen::Vector3d carried = lifted + Eigen::Vector3d(0, 0.12, 0);
  for (int i = 1; i <= 10; ++i) {
    pick.MoveTo({lifted + (carried - lifted) * i / 10.0, yaw, kCarryPitch_rad}, 0.15);
    slip();
  }
  pick.Hold(0.3);
  pick.Note("carried");
  r.slip_after_carry_m = slip();
  r.carried_sideways_m = (pick.CubeInWorld().translation() - before_carry).head<2>().norm();
  r.max_slip_m = max_slip;
  r.max_tilt_in_jaw_rad = max_tilt;
  if (finish != Finish::kCarryOnly) {
    // The box's middle (scene.yaml: bin at (0.2, 0.17)), or the desk 12 cm in front of the box.
    const Eigen::Vector3d over = finish == Finish::kDropInBox ? Eigen::Vector3d(0.2, 0.17, 0.1125)
                                                              : Eigen::Vector3d(0.3, 0.05, 0.1125);
    const double release_z = finish == Finish::kDropInBox ? 0.045 : kCubeHalf_m + 0.004;
    pick.MoveTo({over, yaw, kCarryPitch_rad}, 1.0);
    pick.MoveTo({Eigen::Vector3d(over.x(), over.y(), release_z), yaw, kCarryPitch_rad}, 1.0);
    pick.Note("lowered");
    pick.Jaw(kJawOpen_rad, 0.4);
    pick.MoveTo({over + Eigen::Vector3d(0, 0, 0.03), yaw, kCarryPitch_rad}, 0.8);
    pick.Hold(0.5);
    pick.Note("released");
  }
  r.final_cube_pose = pick.CubeInWorld();
  r.success = pick.Success();
  return r;
}

// One loaded scene for the suite: compiling the SO-101's collision hulls is most of the load time.
class So101SceneTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto start = std::chrono::steady_clock::now();
    model_ = sim::LoadScene(SourceDir() / "scenes/so101_pick_place");
    load_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto spec = ParseRetargetSpec(model_->scene_file, *model_);
    if (spec) spec_ = std::make_unique<RetargetSpec>(*spec);
  }
  static void TearDownTestSuite() {
    spec_.reset();
    model_.reset();
  }
  void SetUp() override { ASSERT_TRUE(spec_) << "scenes/so101_pick_place/scene.yaml has no retarget section"; }

  static const sim::Model& model() { return *model_; }
  static const sim::RobotModel& robot() { return *model_->robot; }

  static inline std::shared_ptr<const sim::Model> model_;
  static inline std::unique_ptr<RetargetSpec> spec_;
  static inline double load_s_ = 0;
};

const sim::JointBinding& BindingOf(const sim::Model& model, const std::string& feature) {
  for (const sim::JointBinding& b : model.joint_bindings) {
    if (b.feature == feature) return b;
  }
  throw std::runtime_error("no binding of " + feature);
}

// Projects a point given in the camera's frame (OpenCV: +z forward) to pixels; false when behind the camera.
bool Project(const sim::CameraModel& camera, const Eigen::Vector3d& in_camera, Eigen::Vector2d* pixel) {
  if (in_camera.z() <= camera.near_m) return false;
  *pixel = Eigen::Vector2d(camera.fx_px * in_camera.x() / in_camera.z() + camera.cx_px,
                           camera.fy_px * in_camera.y() / in_camera.z() + camera.cy_px);
  return pixel->x() >= 0 && pixel->x() < camera.width_px && pixel->y() >= 0 && pixel->y() < camera.height_px;
}

const sim::CameraModel& CameraOf(const sim::Model& model, const std::string& name) {
  for (const sim::CameraModel& c : model.cameras) {
    if (c.name == name) return c;
  }
  throw std::runtime_error("no camera " + name);
}

TEST_F(So101SceneTest, SceneCompilesWithItsObjectsCamerasAndRetargetSection) {
  EXPECT_LT(load_s_, 10.0) << "compiling the scene (13 STL hulls) took " << load_s_ << " s";
  const sim::RobotModel& r = robot();
  ASSERT_EQ(r.num_dofs(), 6);
  for (int dof = 0; dof < 6; ++dof) EXPECT_EQ(r.dof_link(dof).joint_name, kJoints[dof]);
  // The derived URDF: boxes for the palm and the jaws, the arm's own meshes elsewhere.
  const sim::Link& jaw = r.links[r.FindLink("moving_jaw_so101_v1_link")];
  ASSERT_EQ(jaw.collisions.size(), 2u);
  for (const sim::Shape& s : jaw.collisions) EXPECT_EQ(s.kind, sim::ShapeKind::kBox);
  EXPECT_FALSE(jaw.visuals.empty());
  EXPECT_EQ(jaw.visuals[0].kind, sim::ShapeKind::kMesh);  // the real jaw is what the cameras see

  const int cube = model().FindObject("cube");
  ASSERT_GE(cube, 0);
  const sim::ObjectModel& c = model().objects[cube];
  EXPECT_DOUBLE_EQ(c.inertial.mass_kg, 0.019);
  ASSERT_EQ(c.collisions.size(), 1u);
  EXPECT_TRUE(c.collisions[0].box_size_m.isApprox(Eigen::Vector3d::Constant(0.025)));
  EXPECT_NEAR(c.initial_pose.translation().z(), kCubeHalf_m, 1e-12);  // resting on the desk top, z = 0
  std::vector<std::string> statics;
  for (const sim::ObjectModel& o : model().environment) statics.push_back(o.name);
  EXPECT_EQ(statics, (std::vector<std::string>{"floor", "desk", "bin"}));
  EXPECT_EQ(model().environment[2].collisions.size(), 5u);  // the box: a floor and four walls

  ASSERT_EQ(model().cameras.size(), 2u);
  for (const sim::CameraModel& camera : model().cameras) {
    EXPECT_EQ(camera.width_px, 640) << camera.name;
    EXPECT_EQ(camera.height_px, 480) << camera.name;
  }
  EXPECT_TRUE(CameraOf(model(), "front").attached_link.empty());
  EXPECT_EQ(CameraOf(model(), "wrist").attached_link, "gripper_link");

  EXPECT_EQ(spec_->object, cube);
  EXPECT_EQ(spec_->end_effector_link, r.FindLink("gripper_link"));
  EXPECT_EQ(spec_->arm_dofs, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(spec_->gripper_dofs, std::vector<int>{5});
  // Between the jaw's angle on a 2.5 cm cube (~0.12 rad) and open (LeRobot 50: 0.79 rad).
  EXPECT_GT(spec_->gripper_closed_below, 0.15);
  EXPECT_LT(spec_->gripper_closed_below, 0.7);
  ASSERT_EQ(model().success.size(), 1u);
  EXPECT_EQ(model().success[0].subject, "cube");
}

// The STS3215 priors the scene states (scene.yaml says which are datasheet values, which identified, which guesses).
TEST_F(So101SceneTest, ActuatorsCarryTheServoPriors) {
  const sim::RobotModel& r = robot();
  for (int dof = 0; dof < 5; ++dof) {
    const sim::ActuatorParams& a = r.actuators[dof];
    EXPECT_DOUBLE_EQ(a.kp, 8.9) << kJoints[dof];
    EXPECT_DOUBLE_EQ(a.effort_limit, 2.94) << kJoints[dof];  // 30 kg cm at 12 V
    EXPECT_DOUBLE_EQ(a.armature, 0.028) << kJoints[dof];
    EXPECT_DOUBLE_EQ(a.coulomb_friction, 0.052) << kJoints[dof];
  }
  EXPECT_DOUBLE_EQ(r.actuators[5].effort_limit, 1.47);  // LeRobot's 50 % torque limit on the gripper
  EXPECT_EQ(r.control_mode, sim::ControlMode::kPosition);
  EXPECT_NEAR(model().sim.time_step_s * model().sim.substeps_per_frame, 1.0 / 30, 1e-12);  // LeRobot's 30 fps
}

// LeRobot's normalized values through the bundled (representative) calibration: 0 is the URDF's zero, -100 and 100
// land at or just inside the URDF's limits, the gripper's 0 is closed and 100 open, and the action is read as the
// state is.
TEST_F(So101SceneTest, LeRobotCalibrationMapsNormalizedValuesOntoTheJointLimits) {
  const sim::JointBinding& state = BindingOf(model(), "observation.state");
  const sim::JointBinding& action = BindingOf(model(), "action");
  ASSERT_EQ(state.dofs, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  ASSERT_EQ(action.dofs, state.dofs);
  for (std::size_t k = 0; k < 4; ++k) {  // shoulder_pan .. wrist_flex: range_m100_100
    const sim::Link& link = robot().dof_link(state.dofs[k]);
    EXPECT_NEAR(state.SiFromRaw(k, 0.0), 0.0, 1e-12) << link.joint_name;
    const double lower = state.SiFromRaw(k, -100.0), upper = state.SiFromRaw(k, 100.0);
    EXPECT_LT(lower, 0.0) << link.joint_name << ": -100 should bend the joint the URDF's negative way";
    EXPECT_GE(lower, link.lower_limit - 1e-9) << link.joint_name;
    EXPECT_LE(upper, link.upper_limit + 1e-9) << link.joint_name;
    EXPECT_GT(upper - lower, 0.95 * (link.upper_limit - link.lower_limit)) << link.joint_name;
  }
  // wrist_roll: LeRobot calibrates it as a full turn (range 0..4095), so +-100 is +-180 degrees, past the URDF's
  // limits; the URDF's range is within it.
  const sim::Link& roll = robot().dof_link(state.dofs[4]);
  EXPECT_NEAR(state.SiFromRaw(4, 0.0), 0.0, 1e-12);
  EXPECT_NEAR(state.SiFromRaw(4, 100.0), kPi * 4095 / 4096, 1e-9);
  EXPECT_LT(std::abs(state.RawFromSi(4, roll.lower_limit)), 100.0);
  EXPECT_LT(std::abs(state.RawFromSi(4, roll.upper_limit)), 100.0);
  // gripper: range_0_100 about the middle of the URDF's jaw range.
  const sim::Link& jaw = robot().dof_link(state.dofs[5]);
  EXPECT_NEAR(state.SiFromRaw(5, 0.0), jaw.lower_limit, 0.005);
  EXPECT_NEAR(state.SiFromRaw(5, 100.0), jaw.upper_limit, 0.005);
  EXPECT_GE(state.SiFromRaw(5, 0.0), jaw.lower_limit);
  EXPECT_LE(state.SiFromRaw(5, 100.0), jaw.upper_limit);
  for (std::size_t k = 0; k < 6; ++k) {
    for (double n : {-100.0, -37.5, 0.0, 12.0, 100.0}) {
      EXPECT_DOUBLE_EQ(action.SiFromRaw(k, n), state.SiFromRaw(k, n)) << k << " " << n;
      EXPECT_NEAR(state.RawFromSi(k, state.SiFromRaw(k, n)), n, 1e-9);
    }
  }
}

// The jaw's geometry, not just the numbers: at LeRobot's 0 the moving jaw's fingertip meets the fixed jaw's, at 100
// it stands wide open.
TEST_F(So101SceneTest, GripperZeroClosesTheJawAndHundredOpensIt) {
  const sim::JointBinding& state = BindingOf(model(), "observation.state");
  const sim::RigidBodyDynamics dynamics(robot(), model().sim.gravity_mps2);
  const int gripper_link = robot().FindLink("gripper_link"), jaw = robot().FindLink("moving_jaw_so101_v1_link");
  // Fingertips from the meshes (robot/PROVENANCE.md): the fixed jaw's in gripper_link, the moving jaw's in its link.
  const Eigen::Vector3d fixed_tip(-0.0079, -0.0002, -0.106), moving_tip(-0.0123, -0.083, 0.019);
  const auto gap = [&](double normalized) {
    Eigen::VectorXd q = Eigen::VectorXd::Zero(6);
    q[5] = state.SiFromRaw(5, normalized);
    const auto poses = dynamics.LinkPoses(q);
    return ((poses[jaw] * moving_tip) - (poses[gripper_link] * fixed_tip)).norm();
  };
  EXPECT_LT(gap(0.0), 0.006);
  EXPECT_GT(gap(50.0), 0.03);
  EXPECT_GT(gap(100.0), 0.08);
  EXPECT_LT(gap(0.0), gap(20.0));
}

// The front camera sees the cube and the box; the wrist camera, riding on gripper_link, sees between the jaw tips.
TEST_F(So101SceneTest, CamerasSeeTheWorkspaceAndTheJaw) {
  const sim::CameraModel& front = CameraOf(model(), "front");
  Eigen::Vector2d pixel;
  const int cube = model().FindObject("cube");
  const std::vector<Eigen::Vector3d> seen = {Eigen::Vector3d(model().objects[cube].initial_pose.translation()),
                                             Eigen::Vector3d(0.2, 0.17, 0.05), Eigen::Vector3d(0.0, 0.0, 0.1)};
  for (const Eigen::Vector3d& p : seen) {
    EXPECT_TRUE(Project(front, front.pose.inverse() * p, &pixel)) << "front does not see " << p.transpose();
  }
  const sim::CameraModel& wrist = CameraOf(model(), "wrist");
  EXPECT_TRUE(Project(wrist, wrist.pose.inverse() * kCubeInGripper_m, &pixel))
      << "the wrist camera does not see the grasped cube's place; pixel " << pixel.transpose();
  EXPECT_GT(pixel.y(), wrist.height_px / 3.0);  // the jaw's gap sits in the lower part of the image
  // Attached: its world pose follows the link (the same link-frame pose at two arm poses).
  const sim::RigidBodyDynamics dynamics(robot(), model().sim.gravity_mps2);
  Eigen::VectorXd q = robot().initial_q;
  const Eigen::Vector3d a = (dynamics.LinkPoses(q)[robot().FindLink("gripper_link")] * wrist.pose).translation();
  q[0] += 0.5;
  const Eigen::Vector3d b = (dynamics.LinkPoses(q)[robot().FindLink("gripper_link")] * wrist.pose).translation();
  EXPECT_GT((a - b).norm(), 0.05);
}

// The success predicate: the cube resting in the box passes; left on the desk, or held above the box, it fails.
TEST_F(So101SceneTest, SuccessMeansTheCubeRestsInTheBox) {
  const int cube = model().FindObject("cube");
  sim::World world(model_);
  const sim::SuccessReport at_start = sim::EvaluateSuccess(model(), {world.ObjectPose(cube)}, world.joint_positions());
  EXPECT_FALSE(at_start.success);
  // Dropped from 3 cm over the box's floor (4 mm thick), turned, as a released cube falls.
  Eigen::Isometry3d drop = CubePose({0.21, 0.15, 0.4});
  drop.translation().z() = 0.004 + kCubeHalf_m + 0.03;
  world.SetObjectPose(cube, drop);
  world.Step(static_cast<int>(1.0 / model().sim.time_step_s));
  const Eigen::Isometry3d rest = world.ObjectPose(cube);
  EXPECT_NEAR(rest.translation().z(), 0.004 + kCubeHalf_m, 0.002) << "the cube should rest on the box's floor";
  const sim::SuccessReport in_box = sim::EvaluateSuccess(model(), {rest}, world.joint_positions());
  EXPECT_TRUE(in_box.success) << (in_box.failed.empty() ? "" : in_box.failed[0]);
  Eigen::Isometry3d held = rest;
  held.translation().z() = 0.08;  // above the box, still in the hand
  EXPECT_FALSE(sim::EvaluateSuccess(model(), {held}, world.joint_positions()).success);
  Eigen::Isometry3d beside = rest;
  beside.translation().y() = 0.03;  // on the desk in front of the box
  beside.translation().z() = kCubeHalf_m;
  EXPECT_FALSE(sim::EvaluateSuccess(model(), {beside}, world.joint_positions()).success);
}

// Three cube placements and yaws across the workspace.
const Placement kPlacements[] = {{0.20, -0.06, 0.0}, {0.26, 0.0, 0.6}, {0.17, -0.12, -0.4}};

// The arm is a compliant servo arm (kp 8.9 N m/rad, no gravity compensation in the simulator): it rises about 8 of
// the 10 cm its targets ask for (the targets add the sag of the arm alone, not of the cube), and the cube must
// rise with the hand.
TEST_F(So101SceneTest, ScriptedGraspHoldsTheCubeWhileLiftingHoldingAndCarrying) {
  for (const Placement& p : kPlacements) {
    const GraspRecord r = RunPick(model_, *spec_, p, Finish::kCarryOnly);
    SCOPED_TRACE(r.trace);
    EXPECT_GT(r.jaw_on_cube_rad, 0.0) << "the jaw closed past the cube: it missed it";
    EXPECT_GT(r.hand_lift_m, 0.07);
    EXPECT_GT(r.cube_lift_m, 0.08) << "the cube did not rise with the hand";
    EXPECT_LT(r.max_slip_m, 0.004);
    EXPECT_LT(r.max_tilt_in_jaw_rad, 0.15);
    EXPECT_GT(r.carried_sideways_m, 0.10);
  }
}

TEST_F(So101SceneTest, DroppingTheCarriedCubeInTheBoxSucceedsAndSettingItDownElsewhereFails) {
  const GraspRecord in_box = RunPick(model_, *spec_, kPlacements[0], Finish::kDropInBox);
  EXPECT_TRUE(in_box.success.success) << in_box.trace;
  const GraspRecord elsewhere = RunPick(model_, *spec_, kPlacements[0], Finish::kSetDownOnDesk);
  EXPECT_FALSE(elsewhere.success.success) << elsewhere.trace;
}

}  // namespace
}  // namespace r2s::amplify

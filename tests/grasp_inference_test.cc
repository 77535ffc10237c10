// Object poses inferred from a demonstration's gripper (amplify/grasp_inference.h), through real Bullet
// pick-and-places: the Panda fixture (tests/fixtures/pick_place) with a cube planted at several poses, a scripted
// teleoperator who grasps it (and creeps a little while closing the gripper), the joints measured in the
// simulation with encoder noise; what is inferred from those measurements alone is compared with where the cube
// was planted. Also the gripper segmentation's hysteresis (in InferObjectPoses and in Retarget), the scene's new
// retarget keys, and the annotation file that overrides what was inferred.

#include "amplify/grasp_inference.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <numbers>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "amplify/retarget.h"
#include "episode/input_error.h"
#include "sim/rigid_body_dynamics.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"
#include "tests/pick_place_demo.h"
#include "tests/test_support.h"

namespace r2s::amplify {
namespace {

namespace fs = std::filesystem;
using r2s::testing::SourceDir;
using r2s::testing::TempDir;
using r2s::testing::WriteTextFile;
using namespace pick_place;  // NOLINT: the fixture's constants and scripted teleoperator

constexpr double kDeg = std::numbers::pi / 180;
// The scripted hand grips the cube this far below its centre (below the centre of mass), so the cube's frame in
// the hand's is 0.103 - 0.004 along the hand's z, turned half a turn about x (the hand points down): the
// grasp_offset the test scene declares.
constexpr double kGripBelowCentre_m = 0.004;
constexpr char kRetargetAdditions[] =
    "  gripper_open_above: 0.037\n"
    "  grasp_offset: {position_m: [0, 0, 0.099], rpy_rad: [3.141592653589793, 0, 0]}\n";
// Encoder noise of the measured joints: about what a Panda's (or a Feetech servo's, scaled) readings scatter.
constexpr double kArmNoise_rad = 0.0015;
constexpr double kFingerNoise_m = 0.0001;

double PositionError_m(const Eigen::Isometry3d& a, const Eigen::Isometry3d& b) {
  return (a.translation() - b.translation()).norm();
}
double AngleError_rad(const Eigen::Isometry3d& a, const Eigen::Isometry3d& b) {
  return Eigen::AngleAxisd(a.linear().transpose() * b.linear()).angle();
}

// How the teleoperator's hand behaves while closing the gripper.
struct Operator {
  Eigen::Vector3d creep_m = Eigen::Vector3d::Zero();  // over the 20 frames of closing
  double creep_yaw_rad = 0;
  int squeeze_frames = 4;  // the gripper's target ramps closed over this many frames
};

// Picks the cube where the operator believes it is (`grasp_cube`: position and yaw) and places it on the spot:
// approach, descend, close (creeping), lift, carry, lower, open, retreat.
Eigen::MatrixXd PickAndPlace(const sim::Model& model, const RetargetSpec& spec, const Eigen::Isometry3d& grasp_cube,
                             const Operator& hand, double* worst_ik_error_m = nullptr) {
  const Eigen::Vector3d up(0, 0, 0.12);
  const double yaw =
      Eigen::AngleAxisd(grasp_cube.linear()).angle() * (Eigen::AngleAxisd(grasp_cube.linear()).axis().z() < 0 ? -1 : 1);
  const Eigen::Vector3d grasp_m = grasp_cube.translation() - Eigen::Vector3d(0, 0, kGripBelowCentre_m);
  const Eigen::Vector3d place_m = kPlaceSpot_m + Eigen::Vector3d(0, 0, 0.002);
  ScriptedDemonstration demo(model, spec);
  demo.Hold(5);
  demo.MoveTo(HandPose(grasp_m + up, yaw), 40);
  demo.MoveTo(HandPose(grasp_m, yaw), 30);
  demo.MoveGripper(kGripperClosed_m, hand.squeeze_frames, 20, hand.creep_m, hand.creep_yaw_rad);
  const double held_yaw = yaw + hand.creep_yaw_rad;
  demo.MoveTo(HandPose(demo.pose() * kGraspPointInHand_m + up, held_yaw), 30);
  demo.MoveTo(HandPose(place_m + up, held_yaw), 50);
  demo.MoveTo(HandPose(place_m, held_yaw), 30);
  demo.MoveGripper(kGripperOpen_m, 4, 15);
  demo.MoveTo(HandPose(place_m + up, held_yaw), 25);
  demo.Hold(10);
  if (worst_ik_error_m) *worst_ik_error_m = demo.worst_ik_error_m();
  return demo.targets();
}

// What a recording of the demonstration holds: the joints as measured (with encoder noise), and what only the
// simulation knows (the cube's pose every frame), to check the inference against.
struct Recording {
  Eigen::MatrixXd measured_q;                // dofs x frames, before each frame's command, noisy
  std::vector<Eigen::Isometry3d> cube_pose;  // per frame, the truth
  double cube_highest_m = 0;
  std::int64_t open_command_frame = -1;  // the first frame whose gripper target opens towards the release
};

Recording Record(const std::shared_ptr<const sim::Model>& model, const Eigen::MatrixXd& targets,
                 const Eigen::Isometry3d& planted_cube, const RetargetSpec& spec, unsigned seed) {
  sim::World world(model);
  const int cube = model->FindObject("cube");
  world.SetObjectPose(cube, planted_cube);
  std::mt19937 random(seed);
  std::normal_distribution<double> unit(0, 1);
  Recording out;
  out.measured_q.resize(targets.rows(), targets.cols());
  const int finger = spec.gripper_dofs[0];
  for (Eigen::Index f = 1; f < targets.cols() && out.open_command_frame < 0; ++f) {
    if (targets(finger, f - 1) == kGripperClosed_m && targets(finger, f) > kGripperClosed_m) out.open_command_frame = f;
  }
  sim::RobotCommand command;
  for (Eigen::Index f = 0; f < targets.cols(); ++f) {
    Eigen::VectorXd q = world.joint_positions();
    for (int dof : spec.arm_dofs) q[dof] += kArmNoise_rad * unit(random);
    for (int dof : spec.gripper_dofs) q[dof] += kFingerNoise_m * unit(random);
    out.measured_q.col(f) = q;
    out.cube_pose.push_back(world.ObjectPose(cube));
    out.cube_highest_m = std::max(out.cube_highest_m, out.cube_pose.back().translation().z());
    command.position = targets.col(f);
    world.SetCommand(command);
    world.Step(model->sim.substeps_per_frame);
  }
  return out;
}

// One scene and spec for the suite: the fixture with the Panda, its retarget section given a grasp offset and
// hysteresis (kRetargetAdditions).
class GraspInferenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    MakePickPlaceScene(dir_->path());
    {
      std::ifstream in(dir_->path() / "scene.yaml");
      scene_text_.assign(std::istreambuf_iterator<char>(in), {});
    }
    WriteTextFile(dir_->path() / "scene.yaml", scene_text_ + kRetargetAdditions);
    model_ = sim::LoadScene(dir_->path());
    auto spec = ParseRetargetSpec(dir_->path() / "scene.yaml", *model_);
    if (spec) spec_ = std::make_unique<RetargetSpec>(*spec);
  }
  static void TearDownTestSuite() {
    spec_.reset();
    model_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_TRUE(spec_) << "the fixture's scene.yaml has no retarget section"; }

  static const sim::Model& model() { return *model_; }
  static const RetargetSpec& spec() { return *spec_; }
  static Eigen::Isometry3d FixtureCubePose() { return model().objects[spec().object].initial_pose; }
  // Writes a scene.yaml whose retarget section is `retarget` (the model stays the fixture's) and parses it.
  static std::optional<RetargetSpec> ParseSection(const std::string& retarget) {
    const fs::path file = *dir_ / "variants/scene.yaml";
    WriteTextFile(file, "name: pick_place\n" + retarget);
    return ParseRetargetSpec(file, model());
  }
  // Scripts a pick of the cube at `planted` (the operator sees it where it is), records it in Bullet.
  static Recording Demonstrate(const Eigen::Isometry3d& planted, const Operator& hand, unsigned seed,
                               const std::optional<Eigen::Isometry3d>& actually_at = std::nullopt) {
    const Eigen::MatrixXd targets = PickAndPlace(model(), spec(), planted, hand);
    return Record(model_, targets, actually_at.value_or(planted), spec(), seed);
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::string scene_text_;
  static inline std::shared_ptr<const sim::Model> model_;
  static inline std::unique_ptr<RetargetSpec> spec_;
};

constexpr char kGoodSection[] = R"(retarget:
  object: cube
  end_effector_link: panda_hand
  arm_joints: [panda_joint1, panda_joint2, panda_joint3, panda_joint4, panda_joint5, panda_joint6, panda_joint7]
  gripper_joints: [panda_finger_joint1, panda_finger_joint2]
  gripper_closed_below: 0.035
)";

// Runs `action`, expecting InputError whose file is `file` (when not empty), whose field starts with "line " and
// contains `field`, and whose problem contains `problem`.
void ExpectInputError(const std::function<void()>& action, const std::string& file, const std::string& field,
                      const std::string& problem, const std::string& context) {
  try {
    action();
    ADD_FAILURE() << "no error for:\n" << context;
  } catch (const InputError& e) {
    if (!file.empty()) {
      EXPECT_EQ(e.file(), file) << e.what();
    }
    EXPECT_EQ(e.field().rfind("line ", 0), 0u) << "the field should start with the line: " << e.what();
    EXPECT_NE(e.field().find(field), std::string::npos) << e.what() << "\nfor:\n" << context;
    EXPECT_NE(e.problem().find(problem), std::string::npos) << e.what() << "\nfor:\n" << context;
  }
}

// The issue's requirement: on simulated demonstrations with realistic noise (joint encoders scattering 1.5 mrad,
// an operator who creeps a millimetre or two and half a degree while closing), the cube's planted pose is
// recovered within 5 mm and 5 degrees, and the place pose is where the cube was when the gripper opened.
TEST_F(GraspInferenceTest, RecoversThePlantedPoseWithin5mmAnd5Degrees) {
  struct Plant {
    Eigen::Vector3d position_m;
    double yaw_deg;
    Operator hand;
  };
  const std::vector<Plant> plants = {
      {{0.50, -0.10, 0.02}, 0, {{0.0015, -0.001, 0}, 0.5 * kDeg}},
      {{0.45, 0.05, 0.02}, 25, {{-0.001, 0.0015, 0}, -0.5 * kDeg}},
      {{0.55, -0.18, 0.02}, -35, {{0.002, 0.0005, 0}, 0.3 * kDeg}},
      {{0.38, -0.22, 0.02}, 40, {{0, -0.002, 0}, -0.8 * kDeg}},
      {{0.60, 0.02, 0.02}, -15, {{0.001, 0.001, 0}, 0}},
  };
  double worst_m = 0, worst_rad = 0, worst_place_m = 0, worst_place_rad = 0;
  unsigned seed = 1;
  for (const Plant& plant : plants) {
    const Eigen::Isometry3d planted = CubePose(plant.position_m, plant.yaw_deg * kDeg);
    const Recording recording = Demonstrate(planted, plant.hand, seed++);
    SCOPED_TRACE("cube planted at (" + std::to_string(plant.position_m.x()) + ", " +
                 std::to_string(plant.position_m.y()) + "), yaw " + std::to_string(plant.yaw_deg) + " deg");
    ASSERT_GT(recording.cube_highest_m, 0.1) << "the demonstration did not pick the cube: nothing to infer from";

    const InferredObjectPoses inferred = InferObjectPoses(model(), spec(), recording.measured_q);
    ASSERT_TRUE(inferred.grasp_found) << inferred.summary;
    EXPECT_EQ(inferred.grasps, 1) << inferred.summary;
    // The script closes the gripper from frame 75 and opens it from frame 205; the measured fingers follow.
    EXPECT_GE(inferred.grasp_frame, 75) << inferred.summary;
    EXPECT_LE(inferred.grasp_frame, 80) << inferred.summary;
    EXPECT_GE(inferred.release_frame, 205) << inferred.summary;
    EXPECT_LE(inferred.release_frame, 212) << inferred.summary;

    const double error_m = PositionError_m(inferred.initial_pose, planted);
    const double error_rad = AngleError_rad(inferred.initial_pose, planted);
    EXPECT_LT(error_m, 0.005) << inferred.summary;
    EXPECT_LT(error_rad, 5 * kDeg) << inferred.summary;
    // A parallel gripper centres the cube: where it lay and where the grasp holds it agree within the hand's
    // motion while closing.
    EXPECT_LT(PositionError_m(inferred.initial_pose, inferred.pose_at_grasp), 0.005) << inferred.summary;
    worst_m = std::max(worst_m, error_m);
    worst_rad = std::max(worst_rad, error_rad);

    // The place pose: where the cube was, still held, when the operator began to open the gripper (the fingers
    // let it drop before the measured jaw moves: their grip fades as the target rises to the cube's width).
    // Looser than at the grasp: carried, the cube slides 2-4 mm down and turns 1-3 degrees in the fingers, which
    // the grasp offset (fixed while grasped) cannot know.
    ASSERT_GT(inferred.opening_start_frame, inferred.settled_frame) << inferred.summary;
    ASSERT_LE(inferred.opening_start_frame, inferred.release_frame) << inferred.summary;
    ASSERT_GT(recording.open_command_frame, inferred.settled_frame);
    const Eigen::Isometry3d placed = recording.cube_pose[recording.open_command_frame];
    const double place_m = PositionError_m(inferred.place_pose, placed);
    const double place_rad = AngleError_rad(inferred.place_pose, placed);
    EXPECT_LT(place_m, 0.008) << inferred.summary;
    EXPECT_LT(place_rad, 5 * kDeg) << inferred.summary;
    worst_place_m = std::max(worst_place_m, place_m);
    worst_place_rad = std::max(worst_place_rad, place_rad);

    // How sure: a held cube, a steady hand, estimates from several frames.
    EXPECT_TRUE(inferred.jaw_stopped_short) << inferred.summary;
    EXPECT_NEAR(inferred.jaw_held, 0.02, 0.002) << inferred.summary;
    // Few frames where the hand does not hold still for long: the compliant arm may be pushed off by the grip
    // right after it (by 6 mm at 40 degrees), and the arm comes to rest at the place only 3-4 frames before the
    // operator opens the gripper.
    EXPECT_GE(inferred.grasp_estimate_frames, 3) << inferred.summary;
    EXPECT_GE(inferred.place_estimate_frames, 3) << inferred.summary;
    EXPECT_TRUE(inferred.reliable) << inferred.summary;
    EXPECT_NE(inferred.summary.find("cube grasped at frame " + std::to_string(inferred.grasp_frame)), std::string::npos)
        << inferred.summary;
  }
  std::printf("worst inferred initial pose error: %.2f mm, %.2f deg; place pose: %.2f mm, %.2f deg\n", worst_m * 1000,
              worst_rad / kDeg, worst_place_m * 1000, worst_place_rad / kDeg);
  RecordProperty("worst_initial_error_mm", std::to_string(worst_m * 1000));
  RecordProperty("worst_initial_error_deg", std::to_string(worst_rad / kDeg));
}

// A hand that moves while the jaw closes leaves the grasp pose uncertain: the inference says so.
TEST_F(GraspInferenceTest, AHandMovingWhileClosingIsReportedUncertain) {
  const Eigen::Isometry3d planted = FixtureCubePose();
  const Recording steady = Demonstrate(planted, Operator{}, 7);
  // Squeezing slowly (16 frames) while drifting 4 cm and turning 8 degrees over the 20 frames of closing.
  const Recording moving = Demonstrate(planted, Operator{{0.0, 0.04, 0}, 8 * kDeg, 16}, 7);
  const InferredObjectPoses calm = InferObjectPoses(model(), spec(), steady.measured_q);
  const InferredObjectPoses shaky = InferObjectPoses(model(), spec(), moving.measured_q);
  ASSERT_TRUE(calm.grasp_found && shaky.grasp_found) << calm.summary << "\n" << shaky.summary;
  EXPECT_LT(calm.closing_motion_m, 0.003) << calm.summary;
  EXPECT_TRUE(calm.reliable) << calm.summary;
  EXPECT_GT(shaky.closing_motion_m, GraspInferenceOptions{}.max_closing_motion_m) << shaky.summary;
  EXPECT_FALSE(shaky.reliable) << shaky.summary;
  EXPECT_NE(shaky.summary.find("while the jaw closed (at most"), std::string::npos) << shaky.summary;
  EXPECT_NE(shaky.summary.find("uncertain"), std::string::npos) << shaky.summary;
}

// The operator closes the gripper where the cube is not: the jaw closes fully, nothing is held.
TEST_F(GraspInferenceTest, AnEmptyGraspSaysNothingIsHeld) {
  const Eigen::Isometry3d believed = FixtureCubePose();
  const Eigen::Isometry3d actual = CubePose({0.25, -0.35, 0.02}, 0);
  const Recording recording = Demonstrate(believed, Operator{}, 3, actual);
  const InferredObjectPoses inferred = InferObjectPoses(model(), spec(), recording.measured_q);
  ASSERT_TRUE(inferred.grasp_found) << inferred.summary;
  EXPECT_FALSE(inferred.jaw_stopped_short) << inferred.summary;
  EXPECT_LT(inferred.jaw_held, 0.002) << inferred.summary;
  EXPECT_DOUBLE_EQ(inferred.jaw_fully_closed, 0.0);  // the fingers' lower limits
  EXPECT_FALSE(inferred.reliable) << inferred.summary;
  EXPECT_NE(inferred.summary.find("nothing held?"), std::string::npos) << inferred.summary;
}

// A demonstration that never closes the gripper has no grasp, and says so; so does one closed from the start.
TEST_F(GraspInferenceTest, ADemonstrationWithoutAGraspSaysSo) {
  ScriptedDemonstration demo(model(), spec());
  demo.Hold(5);
  demo.MoveTo(HandPose(FixtureCubePose().translation() + Eigen::Vector3d(0, 0, 0.1), 0), 30);
  demo.MoveGripper(0.038, 3, 10);  // squeezed a little, not below gripper_closed_below
  demo.MoveTo(HandPose(kPlaceSpot_m + Eigen::Vector3d(0, 0, 0.1), 0), 30);
  const Recording recording = Record(model_, demo.targets(), FixtureCubePose(), spec(), 11);
  const InferredObjectPoses inferred = InferObjectPoses(model(), spec(), recording.measured_q);
  EXPECT_FALSE(inferred.grasp_found) << inferred.summary;
  EXPECT_EQ(inferred.grasps, 0);
  EXPECT_EQ(inferred.grasp_frame, -1);
  EXPECT_EQ(inferred.release_frame, -1);
  EXPECT_FALSE(inferred.reliable);
  EXPECT_NE(inferred.summary.find("no grasp of cube: the gripper never closes"), std::string::npos) << inferred.summary;

  Eigen::MatrixXd closed_throughout = recording.measured_q;
  for (int dof : spec().gripper_dofs) closed_throughout.row(dof).setConstant(0.02);
  const InferredObjectPoses before = InferObjectPoses(model(), spec(), closed_throughout);
  EXPECT_FALSE(before.grasp_found);
  EXPECT_NE(before.summary.find("before the recording"), std::string::npos) << before.summary;
}

// A gripper signal that chatters around the threshold, with one-frame dropouts: a plain threshold sees many grasps,
// the hysteresis and the minimum duration see one grasp and one release, where the signal really crosses.
TEST(GripperSegmentationTest, HysteresisGivesOneGraspAndOneReleaseOnAChatteringSignal) {
  std::vector<double> values;
  const auto add = [&](std::initializer_list<double> v) { values.insert(values.end(), v); };
  add({0.040, 0.040, 0.040, 0.000, 0.040, 0.040});                          // open, one dropout frame (0.0) at frame 3
  add({0.038, 0.036, 0.0345, 0.0355, 0.034, 0.0356, 0.030, 0.025, 0.021});  // closing: chatters at 0.035 (8-11)
  add({0.020, 0.021, 0.040, 0.020, 0.019, 0.020});                          // held, one spike frame (0.040) at frame 17
  add({0.030, 0.0355, 0.0345, 0.0365, 0.0352, 0.0372, 0.039, 0.040, 0.040, 0.040});  // opening, chatters
  const Eigen::VectorXd signal = Eigen::Map<const Eigen::VectorXd>(values.data(), values.size());

  const GripperEvents plain = SegmentGripper(signal, 0.035, 0.035, 1);
  EXPECT_GE(plain.grasp_frames.size(), 4u);  // the dropout, the chatter while closing and while opening
  const GripperEvents hysteresis_only = SegmentGripper(signal, 0.035, 0.037, 1);
  // The dropout and the spike still count: hysteresis alone does not filter them.
  EXPECT_EQ(hysteresis_only.grasp_frames, (std::vector<std::int64_t>{3, 8, 18}));
  EXPECT_EQ(hysteresis_only.release_frames, (std::vector<std::int64_t>{4, 17, 26}));
  const GripperEvents segmented = SegmentGripper(signal, 0.035, 0.037, 3);
  EXPECT_EQ(segmented.grasp_frames, (std::vector<std::int64_t>{8}));
  EXPECT_EQ(segmented.release_frames, (std::vector<std::int64_t>{26}));
  ASSERT_EQ(segmented.closed.size(), values.size());
  for (std::size_t f = 0; f < values.size(); ++f) {
    EXPECT_EQ(segmented.closed[f], f >= 8 && f < 26) << "frame " << f;
  }

  // A clean signal with equal thresholds and one frame is the plain threshold: the old behaviour.
  const Eigen::VectorXd clean = (Eigen::VectorXd(8) << 0.04, 0.04, 0.03, 0.02, 0.02, 0.036, 0.04, 0.04).finished();
  const GripperEvents old = SegmentGripper(clean, 0.035, 0.035, 1);
  EXPECT_EQ(old.grasp_frames, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(old.release_frames, (std::vector<std::int64_t>{5}));
  // A change too near the end to last min_frames is ignored; a signal closed from frame 0 makes no grasp event.
  EXPECT_TRUE(SegmentGripper(clean.head(4), 0.035, 0.035, 3).grasp_frames.empty());
  const GripperEvents starts_closed = SegmentGripper(clean.tail(4), 0.035, 0.035, 1);
  EXPECT_TRUE(starts_closed.closed[0]);
  EXPECT_TRUE(starts_closed.grasp_frames.empty());
  EXPECT_EQ(starts_closed.release_frames, (std::vector<std::int64_t>{1}));

  EXPECT_THROW(SegmentGripper(signal, 0.035, 0.03, 3), std::invalid_argument);
  EXPECT_THROW(SegmentGripper(signal, 0.035, 0.037, 0), std::invalid_argument);
}

// Retarget uses the same segmentation: a chattering gripper target makes the same three segments as a clean one.
// The grasps that carry objects: the longest, in time order; a re-grasp's abandoned try (short) is none of them.
TEST(GripperSegmentationTest, CarryingGraspsAreTheLongestInTimeOrder) {
  GripperEvents events;
  events.grasp_frames = {10, 30, 120, 300};
  events.release_frames = {15, 100, 200};  // the last grasp is never released (the episode ends at 400)
  using Grasps = std::vector<std::pair<std::int64_t, std::int64_t>>;
  EXPECT_EQ(CarryingGrasps(events, 400, 1), (Grasps{{300, 400}}));
  EXPECT_EQ(CarryingGrasps(events, 400, 2), (Grasps{{120, 200}, {300, 400}}));
  EXPECT_EQ(CarryingGrasps(events, 400, 3), (Grasps{{30, 100}, {120, 200}, {300, 400}}));
  EXPECT_EQ(CarryingGrasps(events, 400, 9).size(), 4u);
  EXPECT_TRUE(CarryingGrasps(events, 400, 0).empty());
  ASSERT_TRUE(CarryingGrasp(events, 400).has_value());
  EXPECT_EQ(*CarryingGrasp(events, 400), (std::pair<std::int64_t, std::int64_t>{300, 400}));
  EXPECT_FALSE(CarryingGrasp(GripperEvents{}, 400).has_value());
}

TEST_F(GraspInferenceTest, RetargetSegmentsAChatteringGripperOnce) {
  const Eigen::MatrixXd clean = PickAndPlace(model(), spec(), FixtureCubePose(), Operator{});
  RetargetSpec plain = spec();
  plain.gripper_open_above.reset();
  plain.gripper_min_frames = 1;
  const RetargetResult reference = Retarget(model(), plain, clean, FixtureCubePose(), FixtureCubePose());
  ASSERT_EQ(reference.segment_starts.size(), 3u);
  const std::int64_t grasp = reference.segment_starts[1], release = reference.segment_starts[2];

  // Chatter around gripper_closed_below just before the grasp and just before the release.
  Eigen::MatrixXd chattering = clean;
  for (int dof : spec().gripper_dofs) {
    for (std::int64_t k = 1; k <= 6; ++k) {
      chattering(dof, grasp - k) = k % 2 ? 0.0345 : 0.0355;
      chattering(dof, release - k) = k % 2 ? 0.0345 : 0.0356;
    }
  }
  const RetargetResult jumpy = Retarget(model(), plain, chattering, FixtureCubePose(), FixtureCubePose());
  EXPECT_GT(jumpy.segment_starts.size(), 6u);
  const RetargetResult result = Retarget(model(), spec(), chattering, FixtureCubePose(), FixtureCubePose());
  ASSERT_EQ(result.segment_starts.size(), 3u);
  EXPECT_EQ(result.segment_starts[1], grasp - 5);  // the first chatter frame that stays below open_above
  EXPECT_EQ(result.segment_starts[2], release);
  // The clean demonstration segments as before with the spec's hysteresis too (existing behaviour kept).
  EXPECT_EQ(Retarget(model(), spec(), clean, FixtureCubePose(), FixtureCubePose()).segment_starts,
            reference.segment_starts);
}

// worst_ik_frame names the frame of the worst IK miss: a cube moved out of reach makes the approach unreachable.
TEST_F(GraspInferenceTest, RetargetNamesTheWorstIkFrame) {
  const Eigen::MatrixXd source = PickAndPlace(model(), spec(), FixtureCubePose(), Operator{});
  const RetargetResult same = Retarget(model(), spec(), source, FixtureCubePose(), FixtureCubePose());
  EXPECT_GE(same.worst_ik_frame, 0);
  EXPECT_LT(same.worst_ik_frame, source.cols());
  EXPECT_LT(same.max_ik_error_m, 1e-6);

  const Eigen::Isometry3d far = CubePose(FixtureCubePose().translation() + Eigen::Vector3d(0.9, 0, 0), 0);
  const RetargetResult unreachable = Retarget(model(), spec(), source, FixtureCubePose(), far);
  ASSERT_EQ(unreachable.segment_starts.size(), 3u);
  EXPECT_GT(unreachable.max_ik_error_m, 0.1);
  // The approach follows the cube out of reach; transport and place stay where they were (reachable).
  EXPECT_GE(unreachable.worst_ik_frame, 0);
  EXPECT_LT(unreachable.worst_ik_frame, unreachable.segment_starts[1]);
}

TEST_F(GraspInferenceTest, RetargetSpecNewKeysParse) {
  // The suite's scene: kRetargetAdditions.
  ASSERT_TRUE(spec().gripper_open_above.has_value());
  EXPECT_DOUBLE_EQ(spec().open_above(), 0.037);
  EXPECT_DOUBLE_EQ(spec().gripper_closed_below, 0.035);
  EXPECT_TRUE(spec().grasp_offset.translation().isApprox(Eigen::Vector3d(0, 0, 0.099)));
  const Eigen::Matrix3d half_turn_about_x = Eigen::Vector3d(1, -1, -1).asDiagonal();
  EXPECT_TRUE(spec().grasp_offset.linear().isApprox(half_turn_about_x, 1e-12)) << spec().grasp_offset.linear();

  // Defaults: no hysteresis, identity offset.
  const auto defaults = ParseSection(kGoodSection);
  ASSERT_TRUE(defaults);
  EXPECT_FALSE(defaults->gripper_open_above.has_value());
  EXPECT_DOUBLE_EQ(defaults->open_above(), 0.035);
  EXPECT_TRUE(defaults->grasp_offset.isApprox(Eigen::Isometry3d::Identity()));
  EXPECT_EQ(defaults->gripper_min_frames, 3);

  // rpy_rad follows URDF: R = Rz(yaw) Ry(pitch) Rx(roll); each part may be left out.
  const auto turned = ParseSection(std::string(kGoodSection) + "  grasp_offset: {rpy_rad: [0.1, 0.2, 0.3]}\n");
  ASSERT_TRUE(turned);
  const Eigen::Matrix3d expected =
      (Eigen::AngleAxisd(0.3, Eigen::Vector3d::UnitZ()) * Eigen::AngleAxisd(0.2, Eigen::Vector3d::UnitY()) *
       Eigen::AngleAxisd(0.1, Eigen::Vector3d::UnitX()))
          .toRotationMatrix();
  EXPECT_TRUE(turned->grasp_offset.linear().isApprox(expected, 1e-12));
  EXPECT_TRUE(turned->grasp_offset.translation().isZero());
  const auto equal = ParseSection(std::string(kGoodSection) + "  gripper_open_above: 0.035\n");
  ASSERT_TRUE(equal);
  EXPECT_DOUBLE_EQ(equal->open_above(), 0.035);
}

TEST_F(GraspInferenceTest, RetargetSpecBadNewValuesAreRefused) {
  const fs::path file = *dir_ / "variants/scene.yaml";
  const auto expect = [&](const std::string& addition, const std::string& field, const std::string& problem) {
    const std::string section = std::string(kGoodSection) + addition;
    ExpectInputError([&] { ParseSection(section); }, file.string(), field, problem, section);
  };
  expect("  gripper_open_above: 0.03\n", "line 8: retarget.gripper_open_above",
         "gripper_open_above = 0.03 is below gripper_closed_below = 0.035");
  expect("  gripper_open_above: .nan\n", "retarget.gripper_open_above", "expected a finite number, found '.nan'");
  expect("  gripper_open_above: wide\n", "retarget.gripper_open_above", "expected a number, found 'wide'");
  expect("  grasp_offset: {position_m: [0, 0]}\n", "retarget.grasp_offset.position_m",
         "expected a list of 3 numbers, found 2");
  expect("  grasp_offset: {rpy_rad: [0, .inf, 0]}\n", "retarget.grasp_offset.rpy_rad[1]",
         "expected a finite number, found '.inf'");
  expect("  grasp_offset: {quaternion_xyzw: [0, 0, 0, 1]}\n", "retarget.grasp_offset.quaternion_xyzw",
         "unknown key 'quaternion_xyzw'");
  expect("  grasp_offset: [0, 0, 0.1]\n", "retarget.grasp_offset", "expected a map, found a list");
  expect("  gripper_open_abov: 0.04\n", "retarget.gripper_open_abov", "did you mean 'gripper_open_above'?");

  // A spec built in code is checked as well.
  RetargetSpec bad = spec();
  bad.gripper_open_above = 0.01;
  EXPECT_THROW(CheckRetargetSpec(model(), bad), std::invalid_argument);
  bad = spec();
  bad.gripper_min_frames = 0;
  EXPECT_THROW(CheckRetargetSpec(model(), bad), std::invalid_argument);
  bad = spec();
  bad.grasp_offset.translation().x() = std::nan("");
  EXPECT_THROW(InferObjectPoses(model(), bad, Eigen::MatrixXd::Zero(9, 5)), std::invalid_argument);
}

TEST_F(GraspInferenceTest, InferObjectPosesRefusesBadInput) {
  EXPECT_THROW(InferObjectPoses(model(), spec(), Eigen::MatrixXd::Zero(7, 5)), std::invalid_argument);
  EXPECT_THROW(InferObjectPoses(model(), spec(), Eigen::MatrixXd::Zero(9, 0)), std::invalid_argument);
  Eigen::MatrixXd q = Eigen::MatrixXd::Zero(9, 5);
  q(3, 2) = std::nan("");
  EXPECT_THROW(InferObjectPoses(model(), spec(), q), std::invalid_argument);
  GraspInferenceOptions options;
  options.estimate_frames = 0;
  try {
    InferObjectPoses(model(), spec(), Eigen::MatrixXd::Zero(9, 5), options);
    ADD_FAILURE() << "no error for estimate_frames = 0";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("estimate_frames = 0"), std::string::npos) << e.what();
  }
  options = {};
  options.held_fraction = 1.5;
  EXPECT_THROW(options.Check(), std::invalid_argument);
}

TEST_F(GraspInferenceTest, AnAnnotationFileOverridesTheInference) {
  const fs::path file = *dir_ / "annotations/poses.yaml";
  WriteTextFile(file, R"(# hand-measured poses
episodes:
  0: {cube: {position_m: [0.52, -0.08, 0.02], rpy_rad: [0, 0, 0.3]}}
  3:
    cube: {position_m: [0.45, 0.0, 0.02], quaternion_xyzw: [0, 0, 0.7071068, 0.7071068]}
    table: {position_m: [0.3, 0, -0.03]}
  5: {}
)");
  const ObjectPoseAnnotations annotations = ReadObjectPoseAnnotations(file, model());
  ASSERT_EQ(annotations.size(), 3u);
  ASSERT_EQ(annotations.count(0), 1u);
  ASSERT_EQ(annotations.count(3), 1u);
  EXPECT_TRUE(annotations.at(5).empty());
  const Eigen::Isometry3d& cube0 = annotations.at(0).at("cube");
  EXPECT_TRUE(cube0.isApprox(CubePose({0.52, -0.08, 0.02}, 0.3), 1e-12));
  EXPECT_TRUE(annotations.at(3).at("cube").isApprox(CubePose({0.45, 0.0, 0.02}, std::numbers::pi / 2), 1e-6));
  EXPECT_TRUE(annotations.at(3).at("table").translation().isApprox(Eigen::Vector3d(0.3, 0, -0.03)));

  // An inferred episode, overridden: the initial pose and the pose at grasp become the annotation's, the place
  // pose stays inferred.
  const Recording recording = Demonstrate(FixtureCubePose(), Operator{}, 5);
  InferredObjectPoses inferred = InferObjectPoses(model(), spec(), recording.measured_q);
  ASSERT_TRUE(inferred.grasp_found) << inferred.summary;
  const Eigen::Isometry3d place = inferred.place_pose;
  InferredObjectPoses unchanged = inferred;
  EXPECT_FALSE(ApplyAnnotation(model(), spec(), annotations.at(5), &unchanged));
  EXPECT_FALSE(unchanged.annotated);
  EXPECT_TRUE(unchanged.initial_pose.isApprox(inferred.initial_pose));
  ASSERT_TRUE(ApplyAnnotation(model(), spec(), annotations.at(0), &inferred));
  EXPECT_TRUE(inferred.annotated);
  EXPECT_TRUE(inferred.initial_pose.isApprox(cube0));
  EXPECT_TRUE(inferred.pose_at_grasp.isApprox(cube0));
  EXPECT_TRUE(inferred.place_pose.isApprox(place));
  EXPECT_EQ(inferred.summary.rfind("cube annotated at (0.5200, -0.0800, 0.0200) m, rpy (0.0, 0.0, 17.2) deg (inferred: "
                                   "cube grasped at frame ",
                                   0),
            0u)
      << inferred.summary;
}

TEST_F(GraspInferenceTest, BadAnnotationFilesAreRefusedNamingFileFieldAndValue) {
  const fs::path file = *dir_ / "annotations/bad.yaml";
  const auto expect = [&](const std::string& text, const std::string& field, const std::string& problem) {
    WriteTextFile(file, text);
    ExpectInputError([&] { ReadObjectPoseAnnotations(file, model()); }, file.string(), field, problem, text);
  };
  const std::string head = "episodes:\n";
  expect(head + "  0: {mug: {position_m: [0.5, 0, 0.02]}}\n", "line 2: episodes.0.mug",
         "unknown object 'mug'; the scene's objects are: cube, table (static)");
  expect(head + "  0: {cube: {position_m: [0.5, 0]}}\n", "line 2: episodes.0.cube.position_m",
         "expected a list of 3 numbers, found 2");
  expect(head + "  0: {cube: {position_m: [0.5, .nan, 0.02]}}\n", "episodes.0.cube.position_m[1]",
         "expected a finite number, found '.nan'");
  expect(head + "  0: {cube: {position_m: [0.5, 0, 0.02], rpy_rad: [0, 0, 1e999]}}\n", "episodes.0.cube.rpy_rad[2]",
         "expected a finite number, found '1e999'");
  expect(head + "  0: {cube: {position_m: [0.5, 0, 0.02], quaternion_xyzw: [0, 0, 0.5, 0.5]}}\n",
         "episodes.0.cube.quaternion_xyzw", "[0, 0, 0.5, 0.5] is not a unit quaternion");
  expect(head + "  0: {cube: {position_m: [0.5, 0, 0.02], rpy_rad: [0, 0, 0], quaternion_xyzw: [0, 0, 0, 1]}}\n",
         "episodes.0.cube", "give one of rpy_rad or quaternion_xyzw, not both");
  expect(head + "  0: {cube: {rpy_rad: [0, 0, 1]}}\n", "episodes.0.cube.position_m",
         "missing required key 'position_m'");
  expect(head + "  0: {cube: {position: [0.5, 0, 0.02]}}\n", "episodes.0.cube.position",
         "unknown key 'position' (did you mean 'position_m'?)");
  expect(head + "  -2: {cube: {position_m: [0.5, 0, 0.02]}}\n", "line 2: episodes.-2", "episode index -2 is negative");
  expect(head + "  first: {cube: {position_m: [0.5, 0, 0.02]}}\n", "episodes.first",
         "expected an integer, found 'first'");
  expect(head + "  1: {cube: {position_m: [0.5, 0, 0.02]}}\n  01: {}\n", "line 3: episodes.01",
         "episode 1 is given twice");
  expect(head + "  0: [0.5, 0, 0.02]\n", "episodes.0", "expected a map, found a list");
  expect("episode:\n  0: {}\n", "episode", "unknown key 'episode' (did you mean 'episodes'?)");
  expect("{}\n", "episodes", "missing required key 'episodes'");
  expect(head + "  0: {cube: {position_m: [0.5, 0, 0.02]}\n", "line", "malformed YAML");

  // A file that is not there.
  try {
    ReadObjectPoseAnnotations(*dir_ / "annotations/missing.yaml", model());
    ADD_FAILURE() << "no error for a missing file";
  } catch (const InputError& e) {
    EXPECT_NE(e.file().find("missing.yaml"), std::string::npos) << e.what();
    EXPECT_NE(e.problem().find("cannot be opened"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace r2s::amplify

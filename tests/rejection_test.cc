// Why a generated variant was not kept (amplify/rejection.h): the reach check before simulating, and the watch
// over a real Bullet world of the pick-and-place fixture (tests/fixtures/pick_place): a held cube that leaves the
// hand, a hand that leaves the cube behind, a world that blows up.

#include "amplify/rejection.h"

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "sim/scene_compiler.h"
#include "sim/world.h"
#include "tests/pick_place_demo.h"
#include "tests/test_support.h"

namespace r2s::amplify {
namespace {

using r2s::testing::TempDir;

constexpr double kFrameS = 0.05;  // the fixture's 20 frames per second

class RejectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    pick_place::MakePickPlaceScene(dir_->path());
    model_ = sim::LoadScene(dir_->path());
  }
  static void TearDownTestSuite() {
    model_.reset();
    dir_.reset();
  }
  static const sim::Model& model() { return *model_; }
  static int cube() { return model_->FindObject("cube"); }
  static int hand() { return model_->robot->FindLink("panda_hand"); }
  static std::vector<int> arm_dofs() { return {0, 1, 2, 3, 4, 5, 6}; }

  // Observes frames [first, last] of a world that is not stepped: each test moves things by hand in between.
  static void ObserveFrames(EpisodeWatch& watch, const sim::World& world, std::int64_t first, std::int64_t last) {
    for (std::int64_t f = first; f <= last; ++f) watch.Observe(f, f * kFrameS, world);
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::shared_ptr<const sim::Model> model_;
};

TEST_F(RejectionTest, ReasonCodesAreStable) {
  EXPECT_EQ(ReasonCode(RejectReason::kNone), "");
  EXPECT_EQ(ReasonCode(RejectReason::kIkUnreachable), "ik_unreachable");
  EXPECT_EQ(ReasonCode(RejectReason::kJointLimit), "joint_limit");
  EXPECT_EQ(ReasonCode(RejectReason::kSimulationUnstable), "simulation_unstable");
  EXPECT_EQ(ReasonCode(RejectReason::kGraspMissed), "grasp_missed");
  EXPECT_EQ(ReasonCode(RejectReason::kObjectDropped), "object_dropped");
  EXPECT_EQ(ReasonCode(RejectReason::kSuccessFalse), "success_false");
}

TEST_F(RejectionTest, ReachWithinTheLimitsPasses) {
  const Eigen::MatrixXd targets = model().robot->initial_q.replicate(1, 3);
  const Rejection r = CheckReach(*model().robot, arm_dofs(), targets, 1, 0.005, 0.05, ReachLimits{});
  EXPECT_EQ(r.reason, RejectReason::kNone) << r.detail;
}

TEST_F(RejectionTest, AMissedPoseIsUnreachableWithTheMissAndItsFrame) {
  const Eigen::MatrixXd targets = model().robot->initial_q.replicate(1, 3);
  const Rejection r = CheckReach(*model().robot, arm_dofs(), targets, 2, 0.0234, 0.0, ReachLimits{});
  EXPECT_EQ(r.reason, RejectReason::kIkUnreachable);
  EXPECT_NE(r.detail.find("23.4 mm"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("frame 2"), std::string::npos) << r.detail;
  // The orientation alone is enough.
  EXPECT_EQ(CheckReach(*model().robot, arm_dofs(), targets, 2, 0.0, 0.2, ReachLimits{}).reason,
            RejectReason::kIkUnreachable);
}

TEST_F(RejectionTest, AMissWithAJointPinnedAtItsLimitNamesTheJoint) {
  Eigen::MatrixXd targets = model().robot->initial_q.replicate(1, 3);
  const sim::Link& elbow = model().robot->dof_link(3);
  targets(3, 1) = elbow.upper_limit;
  const Rejection at_worst = CheckReach(*model().robot, arm_dofs(), targets, 1, 0.05, 0.0, ReachLimits{});
  EXPECT_EQ(at_worst.reason, RejectReason::kJointLimit);
  EXPECT_NE(at_worst.detail.find(elbow.joint_name + " at its upper limit"), std::string::npos) << at_worst.detail;
  // Pinned at another frame than the worst one: the limit is not what stopped it.
  EXPECT_EQ(CheckReach(*model().robot, arm_dofs(), targets, 2, 0.05, 0.0, ReachLimits{}).reason,
            RejectReason::kIkUnreachable);
}

TEST_F(RejectionTest, AHeldCubeThatLeavesTheHandIsDroppedAtThatFrame) {
  sim::World world(model_);
  EpisodeWatch watch(model(), cube(), hand(), HeldInterval{2, 100});
  ObserveFrames(watch, world, 0, 10);  // held from frame 2; settled and referenced by frame 8 (0.3 s later)
  EXPECT_EQ(watch.Verdict().reason, RejectReason::kNone) << watch.Verdict().detail;
  Eigen::Isometry3d pose = world.ObjectPose(cube());
  pose.translation().y() += 0.05;
  world.SetObjectPose(cube(), pose);
  ObserveFrames(watch, world, 11, 12);
  const Rejection r = watch.Verdict();
  EXPECT_EQ(r.reason, RejectReason::kObjectDropped) << r.detail;
  EXPECT_NE(r.detail.find("at frame 11"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("5.0 cm"), std::string::npos) << r.detail;
}

TEST_F(RejectionTest, AHandThatMovesAwayFromTheCubeMissedTheGrasp) {
  sim::World world(model_);
  EpisodeWatch watch(model(), cube(), hand(), HeldInterval{2, 100});
  ObserveFrames(watch, world, 0, 10);
  Eigen::VectorXd q = model().robot->initial_q;
  q[0] += 0.4;  // the hand swings ~20 cm; the cube stays on the table
  world.SetJointState(q, Eigen::VectorXd::Zero(q.size()));
  ObserveFrames(watch, world, 11, 11);
  const Rejection r = watch.Verdict();
  EXPECT_EQ(r.reason, RejectReason::kGraspMissed) << r.detail;
  EXPECT_NE(r.detail.find("did not follow the gripper closed at frame 2"), std::string::npos) << r.detail;
}

TEST_F(RejectionTest, ACubeCarriedWithTheHandIsHeld) {
  sim::World world(model_);
  EpisodeWatch watch(model(), cube(), hand(), HeldInterval{2, 100});
  ObserveFrames(watch, world, 0, 10);
  const Eigen::Isometry3d in_hand = world.LinkPose(hand()).inverse() * world.ObjectPose(cube());
  Eigen::VectorXd q = model().robot->initial_q;
  q[0] += 0.4;
  world.SetJointState(q, Eigen::VectorXd::Zero(q.size()));
  world.SetObjectPose(cube(), world.LinkPose(hand()) * in_hand);
  ObserveFrames(watch, world, 11, 20);
  EXPECT_EQ(watch.Verdict().reason, RejectReason::kNone) << watch.Verdict().detail;
}

// A jaw that catches the cube's edge can pin it to the table: hand and cube stay together and stay down. Where the
// commands lift the hand 9 cm while the jaw is closed, a cube that never rose is a missed grasp, said at the release.
TEST_F(RejectionTest, ACubeThatNeverRisesWithTheClosedGripperMissedTheGrasp) {
  sim::World world(model_);
  EpisodeWatch pinned(model(), cube(), hand(), HeldInterval{2, 40, 0.09});
  ObserveFrames(pinned, world, 0, 38);
  EXPECT_EQ(pinned.Verdict().reason, RejectReason::kNone) << "said before the release: " << pinned.Verdict().detail;
  ObserveFrames(pinned, world, 39, 45);
  const Rejection r = pinned.Verdict();
  EXPECT_EQ(r.reason, RejectReason::kGraspMissed) << r.detail;
  EXPECT_NE(r.detail.find("never went up with the gripper closed at frame 2"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("raised the hand 9.0 cm, cube rose 0.0 cm"), std::string::npos) << r.detail;

  // Lifted with the hand (by more than 30 % of the commanded lift), it was held.
  sim::World lifted_world(model_);
  EpisodeWatch lifted(model(), cube(), hand(), HeldInterval{2, 40, 0.09});
  ObserveFrames(lifted, lifted_world, 0, 20);
  const Eigen::Isometry3d in_hand = lifted_world.LinkPose(hand()).inverse() * lifted_world.ObjectPose(cube());
  const double start_z = lifted_world.ObjectPose(cube()).translation().z();
  Eigen::VectorXd q = model().robot->initial_q;
  q[3] += 0.5;  // the elbow unfolds: the hand rises
  lifted_world.SetJointState(q, Eigen::VectorXd::Zero(q.size()));
  lifted_world.SetObjectPose(cube(), lifted_world.LinkPose(hand()) * in_hand);
  ASSERT_GT(lifted_world.ObjectPose(cube()).translation().z() - start_z, 0.03) << "the test's lift is too small";
  ObserveFrames(lifted, lifted_world, 21, 45);
  EXPECT_EQ(lifted.Verdict().reason, RejectReason::kNone) << lifted.Verdict().detail;

  // Commands that slide the object without lifting it (or an unknown lift) are not checked.
  for (const double lift_m : {0.0, 0.02}) {
    sim::World slid_world(model_);
    EpisodeWatch slid(model(), cube(), hand(), HeldInterval{2, 40, lift_m});
    ObserveFrames(slid, slid_world, 0, 45);
    EXPECT_EQ(slid.Verdict().reason, RejectReason::kNone) << lift_m << ": " << slid.Verdict().detail;
  }
}

TEST_F(RejectionTest, MovesBeforeTheGripSettlesOrAfterTheReleaseAreNotDrops) {
  sim::World world(model_);
  EpisodeWatch watch(model(), cube(), hand(), HeldInterval{2, 30});
  Eigen::Isometry3d pose = world.ObjectPose(cube());
  ObserveFrames(watch, world, 0, 4);  // still closing: no reference yet
  pose.translation().x() += 0.05;
  world.SetObjectPose(cube(), pose);
  ObserveFrames(watch, world, 5, 29);  // the reference is taken here, after the move
  pose.translation().x() += 0.1;
  world.SetObjectPose(cube(), pose);
  ObserveFrames(watch, world, 30, 40);  // released: the cube may go
  EXPECT_EQ(watch.Verdict().reason, RejectReason::kNone) << watch.Verdict().detail;
  // Without a held interval nothing about the grasp is checked.
  EpisodeWatch no_grasp(model(), cube(), hand(), std::nullopt);
  ObserveFrames(no_grasp, world, 0, 3);
  EXPECT_EQ(no_grasp.Verdict().reason, RejectReason::kNone);
}

TEST_F(RejectionTest, AnObjectFlyingFasterThanAnythingOnATableIsUnstable) {
  sim::World world(model_);
  EpisodeWatch watch(model(), cube(), hand(), HeldInterval{2, 100});
  ObserveFrames(watch, world, 0, 10);
  world.SetObjectVelocity(cube(), Eigen::Vector3d(80, 0, 0), Eigen::Vector3d::Zero());
  Eigen::Isometry3d pose = world.ObjectPose(cube());
  pose.translation().x() += 0.5;  // and out of the hand: the instability is the reason, not the drop
  world.SetObjectPose(cube(), pose);
  ObserveFrames(watch, world, 11, 12);
  const Rejection r = watch.Verdict();
  EXPECT_EQ(r.reason, RejectReason::kSimulationUnstable) << r.detail;
  EXPECT_NE(r.detail.find("cube flies at 80 m/s"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("frame 11"), std::string::npos) << r.detail;
}

}  // namespace
}  // namespace r2s::amplify

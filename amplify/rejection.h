#pragma once
// Why a generated variant was not kept. Every attempted variant that does not succeed gets exactly one reason, the
// first its making meets: a retargeted pose the arm cannot reach is found before anything is simulated (and the
// variant is not simulated at all); a simulation that blows up, a grasp that never held the object and an object
// that slipped out of the hand are seen frame by frame while simulating; what is left is the scene's success
// predicate, false on the final state. Each reason carries the measured quantity that decided it, so that a run
// keeping 0 of 200 says which of its assumptions is wrong (a grasp offset, a reach, a contact parameter, the
// predicate's region) instead of only that it failed.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <Eigen/Core>

#include "amplify/reject_reason.h"
#include "sim/model.h"

namespace r2s::sim {
class World;
}

namespace r2s::amplify {

// How far a retargeted demonstration may miss its poses before the variant is refused unsimulated. The generator
// allows 0.35 rad for an arm with fewer than 6 joints: its IK reaches the position first (IkOptions), leaving the
// orientation off by what the arm cannot do, which a grasp from above tolerates.
struct ReachLimits {
  double max_ik_error_m = 0.01;
  double max_ik_error_rad = 0.1;
  // The orientation bound from the grasp that carries the object on (RetargetResult::carry_ik); unset:
  // max_ik_error_rad. Looser for an arm that cannot take every orientation: the object is in the hand, and a drop
  // into a box turned by the variant needs the hand there, not turned with the box.
  std::optional<double> carry_max_ik_error_rad;
};

// The pre-simulation check of a retargeted arm trajectory. `worst_frame` is the frame of the worst IK error and
// `targets` the retargeted joint targets (dofs x frames); an arm dof pinned at a limit there makes the reason
// kJointLimit (the pose would be reachable past it), else kIkUnreachable. kNone when both errors are within the
// limits.
Rejection CheckReach(const sim::RobotModel& robot, const std::vector<int>& arm_dofs, const Eigen::MatrixXd& targets,
                     std::int64_t worst_frame, double ik_error_m, double ik_error_rad, const ReachLimits& limits);

struct EpisodeWatchOptions {
  // Physically implausible speeds for a table-top scene: past these the solver has diverged, whatever the
  // success predicate says about where things ended up.
  double max_joint_speed_radps = 100;
  double max_object_speed_mps = 20;
  // After the gripper is commanded closed, the jaw closes and the contact settles for this long before the held
  // pose is taken as the reference (an SO-101's action-to-state lag is 0.1-0.15 s).
  double grasp_settle_s = 0.3;
  // The object is out of the hand once it lies this far from where the hand held it.
  double drop_distance_m = 0.02;
  // ... and the grasp counts as missed (rather than dropped) when the object had moved less than this fraction of
  // the hand's travel by then: it never went along.
  double follow_fraction = 0.5;
  // A grasp that never lifts the object is missed too: where the commands raise the hand at least
  // min_commanded_lift_m while the jaw is closed (HeldInterval::commanded_lift_m), the object must rise at least
  // lift_fraction of that by the release. (A jaw that catches a cube's edge can pin it to the table: the hand
  // stays down with it, nothing leaves the hand, and only the end state would say anything.)
  double min_commanded_lift_m = 0.03;
  double lift_fraction = 0.3;
};

// The gripper's held interval, as commanded: [grasp_frame, release_frame); release_frame is the episode's length
// when the demonstration never opens again.
struct HeldInterval {
  std::int64_t grasp_frame = 0, release_frame = 0;
  // How far the commanded end-effector rises above its pose at the grasp frame during the interval (forward
  // kinematics of the commands); 0: not known, the lift is not checked.
  double commanded_lift_m = 0;
};

// Watches a simulated episode frame by frame (call Observe after every frame, in order) for the reasons only a
// simulation shows. The held-object check runs only with a held interval (a scene with a retarget section whose
// demonstration grasps).
class EpisodeWatch {
 public:
  EpisodeWatch(const sim::Model& model, int object, int end_effector_link, std::optional<HeldInterval> held,
               const EpisodeWatchOptions& options = {});

  void Observe(std::int64_t frame, double time_s, const sim::World& world);
  // The first reason seen (kNone when none): instability wins over the grasp (a diverged world drops anything).
  Rejection Verdict() const;

 private:
  void CheckStable(std::int64_t frame, double time_s, const sim::World& world);
  void CheckHeld(std::int64_t frame, double time_s, const sim::World& world);
  void CheckLift(std::int64_t frame, double time_s, const sim::World& world);  // once, at the release

  const sim::Model& model_;
  int object_, end_effector_link_;
  std::optional<HeldInterval> held_;
  EpisodeWatchOptions options_;
  std::optional<double> grasp_time_s_;
  bool have_reference_ = false;
  bool lift_checked_ = false;
  double highest_rise_m_ = 0;  // the object's highest point above its reference, while held
  Eigen::Vector3d held_offset_m_, hand_at_reference_m_, object_at_reference_m_;
  Rejection unstable_, grasp_;
};

}  // namespace r2s::amplify

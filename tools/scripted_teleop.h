#pragma once
// A scripted teleoperator that makes SYNTHETIC pick-and-place demonstrations in the simulator, for scenes whose
// real demonstrations cannot be bundled (no licensed SO-101 recordings exist to ship). It behaves the way a person
// on a leader arm does, so that what real2sim does with the demonstrations (infer where the object lay from the
// grasp, retarget, replay) meets what it meets on real ones:
//   - minimum-jerk reaches (Flash & Hogan 1985) whose durations follow Fitts' law (T = a + b log2(1 + D / W)),
//     slower for the fine moves near the object;
//   - hand tremor (a few tenths of a millimetre to ~1.5 mm at 8-11 Hz, plus a slower drift);
//   - visual feedback: the person watches the follower's gripper (with a reaction delay) and nudges the leader
//     until the follower's gripper, not the leader, is where they want it (in position: the angle a 5-dof arm
//     cannot always reach, and a person judges it less well), and waits
//     for the follower to arrive before closing the jaw; the follower sags and lags, so the
//     leader's joints (the action) and the follower's (the state) differ as on a real arm;
//   - hesitations above the object, and re-grasps (close, reopen, adjust a few millimetres, close again);
//   - the jaw closed harder than the object allows (the state's jaw stops at the object, the action's does not).
// The action of frame f is the leader's joint positions when frame f is observed; the follower's response to it
// lags by its servo dynamics and latency (the scene's actuators), which on an SO-101 is 100-150 ms.
//
// The object is grasped from above: the hand's target is the object's pose (turned by a multiple of
// symmetry_yaw_rad to the one nearest the hand's yaw, as a person would pick a cube) composed with the inverse of
// the scene's grasp offset (retarget.grasp_offset). Deterministic for a seed.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "amplify/retarget.h"
#include "render/scene_state.h"
#include "sim/model.h"

namespace r2s::tools {

struct TeleopTask {
  Eigen::Isometry3d object_pose = Eigen::Isometry3d::Identity();  // where the object lies when the episode starts
  Eigen::Vector3d place_point_m = Eigen::Vector3d::Zero();        // where its frame is when the jaw opens
  double symmetry_yaw_rad = 1.5707963267948966;  // the object looks the same turned by this about z (a cube)
  // Where the person aims the object in the hand (its frame in the end-effector link's) when lining the open jaw
  // up on it; unset: the scene's grasp_offset (where it sits once held). On a gripper with one moving jaw the
  // two differ by the last millimetres the jaw pushes the object.
  std::optional<Eigen::Isometry3d> aim_offset;
  double gripper_open = 0;    // the leader's jaw value, open
  double gripper_closed = 0;  // and closed (past the object: the follower's jaw stops on it)
  // Once the object is off the table the person tilts the hand by this much about the horizontal axis across
  // the arm's vertical plane (through the first arm joint's axis): a 5-dof arm such as the SO-101 cannot point its
  // jaw straight down 10 cm above the desk, and a person carrying with it tilts the wrist (negative: the fingers
  // towards the outside of the reach). 0 for an arm that can keep any orientation.
  double carry_tilt_rad = 0;
};

// How this person moves in this demonstration; DrawStyle makes one from a seed.
struct TeleopStyle {
  double speed_scale = 1;        // multiplies every duration
  double approach_height_m = 0.07;  // above the object before descending, and above the place point
  double lift_height_m = 0.09;
  double hesitation_s = 0;       // a pause above the object before descending
  bool regrasp = false;          // close, reopen, adjust, close again
  Eigen::Vector2d regrasp_shift_m = Eigen::Vector2d::Zero();
  double tremor_m = 0.0008;
  double reaction_delay_s = 0.2;  // how old the follower pose the person sees is
  double correction_time_s = 0.5;  // how fast the person removes the follower's offset from where they want it
  Eigen::Vector4d tremor_phase_rad = Eigen::Vector4d::Zero();
  double settle_s = 0.5;          // holds still above the jaw's target, waiting for the follower, before closing
  double idle_start_s = 0.6;
  double idle_end_s = 0.5;
};
TeleopStyle DrawStyle(std::uint64_t seed);

struct TeleopDemo {
  Eigen::MatrixXd action;  // dofs x frames: the leader's joint positions (the follower's targets)
  Eigen::MatrixXd state;   // dofs x frames: the follower's measured joints when the frame is observed
  std::vector<double> time_s;
  std::vector<render::SceneState> scenes;  // per frame (when capture_scenes), for rendering the cameras
  Eigen::Isometry3d object_final = Eigen::Isometry3d::Identity();
  bool success = false;                    // the scene's success predicate on the final state
  std::vector<std::string> failed;         // its failing conditions
  double worst_ik_error_m = 0;             // of the leader's IK (a 5-dof arm cannot take every orientation)
  std::string worst_ik_phase;              // the phase it happened in
  std::vector<std::string> phases;         // "approach 0.00-1.53 s", ...: what the person did when
};

// Runs the person, the leader arm and the follower (a sim::World of `model` with the object at task.object_pose)
// at the scene's frame rate (substeps_per_frame physics steps a frame). Throws std::invalid_argument when the
// model has no robot or the spec does not fit it.
TeleopDemo RunScriptedTeleop(const std::shared_ptr<const sim::Model>& model, const amplify::RetargetSpec& spec,
                             const TeleopTask& task, const TeleopStyle& style, bool capture_scenes);

}  // namespace r2s::tools

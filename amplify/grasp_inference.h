#pragma once
// Object poses inferred from a demonstration's gripper. Datasets such as LeRobot's SO-101 pick-and-place record
// joint positions and actions, never where the objects were; retargeting (amplify/retarget.h) needs the
// manipulated object's pose at the start and the place target. Both follow from the hand: while the jaw holds the
// object, the object's frame is the end-effector link's frame composed with the scene's grasp offset
// (RetargetSpec::grasp_offset), so forward kinematics of the measured joints gives the object's pose.
//
// What InferObjectPoses does, given the measured joint positions (dofs x frames):
//   1. Gripper events (SegmentGripper): the mean of the gripper dofs closes the gripper when it falls below
//      gripper_closed_below, opens it again only when it rises to gripper_open_above (hysteresis), and a change
//      that does not last gripper_min_frames frames is a flicker, ignored. The grasp that carries the object
//      (CarryingGrasp: the one held longest; a re-grasp's abandoned first try is not it) gives the grasp frame,
//      the release after it the release frame.
//   2. The jaw's levels: its open value (median of the signal over the open frames before the grasp) and its held
//      value (median over the closed frames up to the release). The jaw starts closing at the last frame before
//      the grasp at which it is still within 10 % of its travel of the open value, and has settled at the first
//      frame from the grasp on within 10 % of the held value.
//   3. The pose at grasp: the end-effector pose by forward kinematics (sim::RigidBodyDynamics) composed with
//      grasp_offset, averaged (positions by their mean, orientations by the normalized mean of sign-aligned
//      quaternions) over up to estimate_frames frames around the settled frame whose hand stays within
//      still_tolerance_* of its pose there (one frame off is noise and skipped, two in a row are motion): back
//      towards the closing start (at most half of them; the operator holds still while squeezing) and forward
//      until the hand moves on (the lift, or a compliant arm pushed off by the grip). Measured joints are noisy;
//      averaging n frames divides the noise by about sqrt(n). The initial pose (where the object lay: it did not
//      move before the grasp) is the pose at grasp turned back about the vertical through it by what the hand
//      turned while the jaw closed: a single moving jaw pushes the object onto the fixed one and a compliant wrist
//      turns with the push (an SO-101's by 5-10 degrees), carrying the object along, while just before closing the
//      person had the hand lined up with it. What the push moved the object along the jaw is not undone: an
//      error of a few millimetres on such a gripper.
//   4. The place pose: the jaw starts opening at the first of the frames just before the release whose signal is
//      more than 10 % of the travel above the held value (from then on the object may drop); the same average
//      over up to estimate_frames held frames before that, while the hand stays within still_tolerance_* of its
//      pose at the last of them: the object where the gripper lets it go. (A grip that fades as the target opens
//      may let the object drop a frame or two before the measured jaw moves; the pose is the one held before.)
//   5. How sure: the hand's motion while the jaw closed (from the closing start to the settled frame; a hand that
//      moves while closing leaves the object somewhere between), whether the jaw stopped short of fully closed
//      (something is held: the held value stays above the fully closed one by held_fraction of the travel), the
//      spread (RMS deviation) of the averaged frames' poses, and a one-line summary for people.
// Assumptions: each manipulated object carried by one grasp (RetargetSpec::later_objects: several, one after the
// other; other grasps are counted and reported, not used), all held with the same grasp_offset; closing
// lowers the gripper signal (as gripper_closed_below says), so fully closed is the gripper dofs' lower limit
// unless GraspInferenceOptions::gripper_fully_closed says otherwise.
// Deterministic: no randomness.
//
// An annotation file overrides what was inferred, per episode (ReadObjectPoseAnnotations, ApplyAnnotation):
//   episodes:
//     0: {cube: {position_m: [0.2, 0.05, 0.0125], rpy_rad: [0, 0, 0.3]}}
//     3: {cube: {position_m: [0.25, 0.0, 0.0125]}, box: {position_m: [0.3, -0.1, 0], quaternion_xyzw: [0, 0, 0, 1]}}

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "amplify/retarget.h"
#include "sim/model.h"

namespace r2s::amplify {

// The gripper's state per frame and its changes.
struct GripperEvents {
  std::vector<bool> closed;                  // per frame, after hysteresis and without flickers
  std::vector<std::int64_t> grasp_frames;    // the first closed frame of each change open -> closed
  std::vector<std::int64_t> release_frames;  // the first open frame of each change closed -> open
};

// Segments a gripper signal (one value per frame): frame 0 is closed iff signal[0] < closed_below; an open
// gripper closes at the first frame below closed_below, a closed one opens at the first frame at or above
// open_above, and a change counts only when the gripper keeps its new state (by the same hysteresis) for
// min_frames frames from it; a change too near the end to do so is ignored. With open_above == closed_below and
// min_frames 1 this is the plain threshold. Throws std::invalid_argument when open_above < closed_below or
// min_frames < 1.
GripperEvents SegmentGripper(const Eigen::VectorXd& signal, double closed_below, double open_above, int min_frames);

// The same on the mean of spec.gripper_dofs over the rows of q (dofs x frames; targets or measured positions),
// with the spec's thresholds and gripper_min_frames. A spec without gripper dofs is open throughout.
GripperEvents SegmentGripper(const RetargetSpec& spec, const Eigen::MatrixXd& q);

// The grasp that carries the object: of the grasps in `events`, the one held longest (to its release, or to the
// end of an episode of `frames` frames). A person who grasps, finds the grip wrong, reopens and grasps again
// carries with the last grasp, not the first. Its grasp frame and release frame (`frames` when never released);
// nullopt without a grasp.
std::optional<std::pair<std::int64_t, std::int64_t>> CarryingGrasp(const GripperEvents& events, std::int64_t frames);

// The grasps that carry `count` objects picked one after the other: the `count` held longest, in time order (a
// re-grasp's abandoned tries are shorter than any carry). Fewer when the events hold fewer grasps.
std::vector<std::pair<std::int64_t, std::int64_t>> CarryingGrasps(const GripperEvents& events, std::int64_t frames,
                                                                  int count);

// The mean of the gripper dofs' rows of q, one value per frame.
Eigen::VectorXd MeanGripperSignal(const Eigen::MatrixXd& q, const std::vector<int>& gripper_dofs);

struct GraspInferenceOptions {
  int estimate_frames = 10;           // at most this many frames averaged into each pose estimate, >= 1
  double still_tolerance_m = 0.005;   // the hand counts as still within this distance of its reference pose
  double still_tolerance_rad = 0.05;  // and within this angle (above the noise of ~2 mrad joint encoders)
  double held_fraction = 0.1;         // the jaw holds something when it stops this fraction of its travel short
  std::optional<double> gripper_fully_closed;  // unset: the mean of the gripper dofs' lower joint limits
  // Above any of these the estimate is not `reliable`. A hand that moves 1 cm while the jaw closes leaves the
  // object within about 5 mm of the estimate; encoders scattering ~2 mrad make a still Panda hand's poses spread
  // 1.5-2 mm (RMS) at its reach. A turn of the hand while the jaw closes is undone (step 3), so the bound on it
  // is loose: an SO-101's wrist turns 5-10 degrees with its one moving jaw's push.
  double max_closing_motion_m = 0.01;
  double max_closing_motion_rad = 0.2;
  double max_spread_m = 0.005;
  double max_spread_rad = 0.05;

  // Throws std::invalid_argument naming the field and its value when one is out of range.
  void Check() const;
};

struct InferredObjectPoses {
  bool grasp_found = false;
  int grasps = 0;                   // how many grasps the demonstration holds (the first is used)
  std::int64_t grasp_frame = -1;    // the first closed frame of the carrying grasp (CarryingGrasp)
  std::int64_t release_frame = -1;  // the first open frame after it; -1 when the gripper never opens again
  // World poses of the object's frame (Model::objects[spec.object]); identity where not found.
  Eigen::Isometry3d initial_pose = Eigen::Isometry3d::Identity();
  Eigen::Isometry3d pose_at_grasp = Eigen::Isometry3d::Identity();
  Eigen::Isometry3d place_pose = Eigen::Isometry3d::Identity();  // when release_frame >= 0
  bool annotated = false;  // initial_pose and pose_at_grasp come from an annotation file (ApplyAnnotation)

  // How sure. The closing: the end effector's motion from the frame the jaw starts closing to the frame it settles.
  std::int64_t closing_start_frame = -1;
  std::int64_t settled_frame = -1;
  std::int64_t opening_start_frame = -1;  // the first frame the jaw opens towards the release; -1 without one
  double closing_motion_m = 0;
  double closing_motion_rad = 0;
  // The jaw: its open and held values (the mean gripper signal), and the fully closed value it was compared to.
  double jaw_open = 0;
  double jaw_held = 0;
  double jaw_fully_closed = 0;
  bool jaw_stopped_short = false;  // something is held
  // The estimates: how many frames each averages, and the RMS deviation of their poses from the average.
  int grasp_estimate_frames = 0;
  double spread_m = 0;
  double spread_rad = 0;
  int place_estimate_frames = 0;
  double place_spread_m = 0;
  double place_spread_rad = 0;
  bool reliable = false;  // grasp found, jaw stopped short, closing motion and spread within the options' bounds
  std::string summary;    // one line for people: what was inferred, and why it may be wrong
};

// measured_q: dofs x frames (at least one), the measured joint positions (rad, m). Throws std::invalid_argument
// when the spec does not fit the model (CheckRetargetSpec), the sizes do not fit, measured_q holds a NaN or an
// infinity, or the options are out of range. No grasp is a result (grasp_found false, said in the summary).
// pick: which of the spec's picked objects (PickedObjects: 0 the first) to infer; it was carried by the pick-th of
// CarryingGrasps(events, frames, number of picked objects).
InferredObjectPoses InferObjectPoses(const sim::Model& model, const RetargetSpec& spec,
                                     const Eigen::MatrixXd& measured_q, const GraspInferenceOptions& options = {},
                                     int pick = 0);

// Episode index -> object name -> world pose of the object's frame at the episode's start.
using ObjectPoseAnnotations = std::map<std::int64_t, std::map<std::string, Eigen::Isometry3d>>;

// Reads an annotation file (the format above): a top-level `episodes` map from episode indices (integers >= 0)
// to maps from object names (free objects or environment bodies of `model`) to poses {position_m: [x, y, z]
// (required), and at most one of rpy_rad: [r, p, y] (URDF: R = Rz(y) Ry(p) Rx(r)) or quaternion_xyzw (unit within
// 1e-3)}. Errors throw r2s::InputError(file, "line N: episodes.<i>.<object>[.<key>]", problem naming the value):
// malformed YAML, unknown keys, an unknown object, a negative or non-integer episode, a duplicate, a wrong number
// of values, a non-finite number, a quaternion that is not a unit one.
ObjectPoseAnnotations ReadObjectPoseAnnotations(const std::filesystem::path& file, const sim::Model& model);

// Where `episode_annotation` (one episode's entry) gives a pose for the spec's object, it replaces the inferred
// initial pose and pose at grasp (the hand took the object where it lay), sets annotated, and says so in the
// summary; the place pose stays inferred. Returns whether it replaced anything.
bool ApplyAnnotation(const sim::Model& model, const RetargetSpec& spec,
                     const std::map<std::string, Eigen::Isometry3d>& episode_annotation, InferredObjectPoses* inferred,
                     int pick = 0);

}  // namespace r2s::amplify

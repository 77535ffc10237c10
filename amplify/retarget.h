#pragma once
// Object-centric retargeting of a demonstration, as MimicGen does (Mandlekar et al., "MimicGen: A Data Generation
// System for Scalable Robot Learning using Human Demonstrations", CoRL 2023): when a variant puts the manipulated
// object somewhere else, the part of the demonstration that acts on the object is replayed relative to the object,
// so that the gripper still meets it, and the rest is kept where it was.
//
// What Retarget does, given the demonstration's joint position targets (dofs x frames):
//   1. Gripper state per frame, with hysteresis (SegmentGripper in amplify/grasp_inference.h): the mean of the
//      gripper dofs' targets closes the gripper when it falls below gripper_closed_below and opens it again only
//      when it rises to gripper_open_above, and a change that does not last gripper_min_frames frames is a
//      flicker, ignored. The demonstration splits into segments at every grasp (open -> closed) and release
//      (closed -> open).
//   2. The end-effector pose of every frame, by forward kinematics of the targets (sim::RigidBodyDynamics).
//   3. Each frame's end-effector pose is mapped by the pose of the object its subtask acts on (MimicGen: a
//      subtask replayed relative to its reference object). The frames before the grasp that carries the object
//      (CarryingGrasp in amplify/grasp_inference.h: the one held longest, so that a re-grasp's abandoned first try
//      belongs to the approach) act on the object: their pose in the object's frame at the demonstration's start
//      (T_obj^-1 T_ee) is mapped onto the new object pose (T_new T_obj^-1 T_ee), in full once the hand has come
//      within reach_in_m of its closest approach to the object and in part before: with w rising by smoothstep
//      from 0 where the approach starts to 1 there (by the demonstration's hand-to-object distance, never
//      decreasing), T_new is the pose w of the way from T_obj to T_new (so the approach's start, the robot's home
//      pose, stays where it was instead of swinging about the object out of an arm's reach; MimicGen interpolates
//      into the transformed segment for the same reason). Every later frame (transport, place, retreat) acts on
//      the place reference (place_relative_to: T_place_new T_place^-1 T_ee; without one, or where it stays, the
//      frames keep their world pose), and the change of mapping at the grasp is blended in step 5. (The lift is not
//      mapped by the object's motion: that would carry the object's turn into the carry, and a 5-dof arm cannot
//      turn a tilted hand about the vertical.)
//      Several objects picked in turn (RetargetSpec::later_objects): the k-th of the grasps that carry them
//      (CarryingGrasps: the longest, in time order) carries the k-th object; the frames from the previous release
//      to that grasp approach it, going from the place's mapping to that object's by the same smoothstep of how far
//      the hand has come towards it.
//   4. Damped-least-squares IK on the 6-D geometric Jacobian per frame for the arm dofs (position error and the
//      rotation vector of R_target R_current^T), clamped to the joint limits. Each frame starts from the previous
//      frame's solution advanced by the demonstration's own joint step, so an unchanged pose needs no iteration
//      and the redundant dof follows the demonstration instead of drifting; a frame whose transform differs from
//      the previous frame's (a segment boundary) also tries the demonstration's own joints and keeps the closer
//      start. Non-arm dofs (the gripper) keep the source targets.
//   5. No jumps: at each segment boundary b (and at frame 0, where the robot stands at the source's first targets)
//      the gap d = q_before - q_ik(b) between the joints just before the boundary and the new segment's solution
//      is carried as an offset, q(f) = q_ik(f) + (1 - w(f)) d, with w rising from 0 to 1 by smoothstep over
//      transition_frames frames (or the rest of the segment when it is shorter). While the demonstration's end
//      effector stays where it was at the boundary (it holds still while the fingers close), w stays 0: the robot
//      holds still too, so it closes the fingers on the moved object rather than starting towards the next
//      segment's world pose with the fingers half shut. Where the retargeted trajectory is continuous anyway (the
//      same transform on both sides), d is 0 and nothing changes.
//
// Assumptions: each free object carried by one grasp, all to one place; the end-effector
// link's pose describes the grasp (a rigid hand); the targets are what drives the robot, so a robot that sags
// under gravity reaches the retargeted poses with the same sag as in the demonstration (close poses, close sag).
// Limits: no collision avoidance (the approach is replayed relative to the object, whatever lies in its way); no
// check that the new pose is reachable beyond the IK error reported (max_ik_error_*: the caller decides what is
// too much); a gripper signal that chatters by more than the hysteresis (gripper_open_above - gripper_closed_below)
// for longer than gripper_min_frames frames still makes extra segments; the episode keeps its
// length (the transitions are blended into the next segment's frames instead of inserted as MimicGen does).
// Deterministic: no randomness, the same inputs give the same outputs.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "sim/model.h"
#include "sim/rigid_body_dynamics.h"

namespace r2s::amplify {

// From scene.yaml's top-level section:
//   retarget:
//     object: cube                      # the free object the demonstration manipulates (Model::objects), or a
//                                       # list of them in the order it picks them: [cube_a, cube_b]
//     end_effector_link: panda_hand     # a robot link, moved by every arm joint
//     arm_joints: [panda_joint1, ..., panda_joint7]
//     gripper_joints: [panda_finger_joint1, panda_finger_joint2]
//     gripper_closed_below: 0.035       # the mean gripper signal below this is "closed" (a grasp)
//     gripper_open_above: 0.037         # optional (default gripper_closed_below), >= gripper_closed_below: a
//                                       # closed gripper opens again (a release) only when the signal rises to this
//     transition_frames: 15             # optional (default 15), >= 1: frames over which one segment blends into
//                                       # the next
//     grasp_offset: {position_m: [0, 0, 0.099], rpy_rad: [3.14159265, 0, 0]}
//                                       # optional (default identity): the object's frame in the end-effector
//                                       # link's frame while grasped; rpy_rad as URDF, R = Rz(y) Ry(p) Rx(r)
//     place_relative_to: box            # optional: a free object or an environment body (not `object`); the
//                                       # transport, release and retreat follow it (unset: they stay in the world)
// The gripper thresholds apply to the logged targets (Retarget) and to the measured joints (InferObjectPoses in
// amplify/grasp_inference.h) alike, so choose them between the open value and the value a jaw blocked by the
// object measures (not the fully closed one its target may ask for).
struct RetargetSpec {
  int object = -1;             // index into Model::objects: the (first) object picked
  // The objects picked after it, in order (object: [cube_a, cube_b, ...]): a demonstration that carries several
  // objects one after the other, each by its own grasp (CarryingGrasps). Empty for one object.
  std::vector<int> later_objects;
  int end_effector_link = -1;  // index into RobotModel::links
  std::vector<int> arm_dofs;   // dof indices, as listed
  std::vector<int> gripper_dofs;
  double gripper_closed_below = 0;
  std::optional<double> gripper_open_above;  // unset: gripper_closed_below (no hysteresis)
  int transition_frames = 15;
  // The object's frame in the end-effector link's frame while grasped.
  Eigen::Isometry3d grasp_offset = Eigen::Isometry3d::Identity();
  // The place target's reference body (the second subtask's object, MimicGen): the frames after the grasp that
  // carries the object are replayed relative to it, so a variant that moves it moves the place too. Unset: they
  // keep their world pose.
  struct BodyRef {
    bool is_object = false;  // Model::objects[index] (a free object), else Model::environment[index] (static)
    int index = -1;
  };
  std::optional<BodyRef> place_relative_to;
  std::string source;  // "scene.yaml:40: retarget", for messages
  // When the demonstration's end effector counts as holding still after a boundary (step 5 above): within this
  // distance and angle of its pose at the boundary. Not in the YAML; loose enough for a teleoperator's jitter.
  double hold_tolerance_m = 0.002;
  double hold_tolerance_rad = 0.02;
  // Step 3: an approach frame follows the object fully once the demonstration's hand is within this distance of
  // its closest approach to the object; before, in proportion to how far it has come (smoothstep). Not in the YAML.
  double reach_in_m = 0.04;
  // A gripper state change counts only when the new state lasts at least this many frames (a trigger that
  // flickers for a frame or two is not a grasp); a change in the last gripper_min_frames - 1 frames is ignored.
  // Not in the YAML; 3 frames is 0.1 s at 30 fps, shorter than any real grasp.
  int gripper_min_frames = 3;

  double open_above() const { return gripper_open_above.value_or(gripper_closed_below); }
};

// Every object the demonstration picks, in order: object, then later_objects.
std::vector<int> PickedObjects(const RetargetSpec& spec);

// std::nullopt when the scene has no retarget section (or an empty one). Errors throw
// r2s::InputError(scene_yaml, "line N: retarget.<key>", problem): unknown or missing keys, an unknown object,
// link or joint, a joint listed twice or in both lists, an arm joint that does not move the end-effector link, a
// transition_frames below 1, a gripper_open_above below gripper_closed_below, a grasp_offset that is not a map of
// position_m and rpy_rad (3 finite numbers each), a scene without a robot.
std::optional<RetargetSpec> ParseRetargetSpec(const std::filesystem::path& scene_yaml, const sim::Model& model);

// Throws std::invalid_argument naming the field and its value when `spec` does not fit `model` (no robot, an
// index out of range, no arm dofs, transition_frames or gripper_min_frames below 1, gripper_open_above below
// gripper_closed_below, a non-finite threshold or grasp_offset). Retarget and InferObjectPoses call it.
void CheckRetargetSpec(const sim::Model& model, const RetargetSpec& spec);

struct RetargetResult {
  Eigen::MatrixXd position;                  // dofs x frames: the retargeted joint targets (non-arm dofs copied)
  std::vector<std::int64_t> segment_starts;  // first frame of each segment (0, grasp frame, release frame, ...)
  double max_ik_error_m = 0;                 // worst end-effector position error of the IK solutions
  double max_ik_error_rad = 0;               // worst orientation error (angle of R_target R_solution^T)
  // The frame whose IK solution misses its target most, by metres plus radians (the two maxima above may come
  // from different frames); -1 only before Retarget fills it.
  std::int64_t worst_ik_frame = -1;
  // The same per phase: the approach (the frames before the grasp that carries the object, where the hand must
  // meet the object) and the carry (from that grasp on: transport, place, retreat). A caller may hold them to
  // different bounds: once the object is in the hand, where it goes matters more than how the hand is turned.
  struct PhaseIkError {
    double max_m = 0;
    double max_rad = 0;
    std::int64_t worst_frame = -1;  // -1 when the phase has no frames
  };
  PhaseIkError approach_ik;
  PhaseIkError carry_ik;
};

// The world poses Retarget maps between: the object's (and the place reference's) in the demonstration and in
// the variant.
struct RetargetPoses {
  Eigen::Isometry3d source_object = Eigen::Isometry3d::Identity();  // where the object lay when it started
  Eigen::Isometry3d new_object = Eigen::Isometry3d::Identity();     // where this variant puts it
  // The place reference (RetargetSpec::place_relative_to) in the demonstration and in the variant; equal (the
  // default) when it does not move, or when the spec has none.
  Eigen::Isometry3d source_place = Eigen::Isometry3d::Identity();
  Eigen::Isometry3d new_place = Eigen::Isometry3d::Identity();
  // RetargetSpec::later_objects' poses, one each (both empty when it is).
  std::vector<Eigen::Isometry3d> source_later_objects;
  std::vector<Eigen::Isometry3d> new_later_objects;
};

// source_targets: dofs x frames (at least one frame), the demonstration's joint position targets (what drives the
// robot each frame). Throws std::invalid_argument with a clear message when the model has no robot or the sizes
// or the spec's indices do not fit the model, or a pose is not finite.
RetargetResult Retarget(const sim::Model& model, const RetargetSpec& spec, const Eigen::MatrixXd& source_targets,
                        const RetargetPoses& poses);
// The same with a place target that stays where it was.
RetargetResult Retarget(const sim::Model& model, const RetargetSpec& spec, const Eigen::MatrixXd& source_targets,
                        const Eigen::Isometry3d& source_object_pose, const Eigen::Isometry3d& new_object_pose);

// The IK of step 4, for callers that script motions (tests, examples).
struct IkOptions {
  int max_iterations = 100;  // a frame near its start converges in 1-3; a cold start 10 cm away in about 10
  double damping = 0.02;     // lambda of dq = J^T (J J^T + lambda^2 I)^-1 e, in m (and rad)
  double tolerance_m = 1e-6;
  double tolerance_rad = 1e-5;
  double max_step_m = 0.05;  // the task-space error one iteration aims to remove at most, for robustness far off
  double max_step_rad = 0.2;
  // How much a radian of orientation error counts against a metre of position error (the rotation rows of the
  // error and the Jacobian are scaled by it). 1 weighs them alike; an arm with fewer than 6 joints cannot match
  // every orientation, and a small weight makes it reach the position first (Retarget uses 0.05 for such arms:
  // a radian counts like 5 cm).
  double rotation_weight_m_per_rad = 1;
};

struct IkSolution {
  Eigen::VectorXd q;  // all dofs: the seed with the arm dofs replaced
  double position_error_m = 0;
  double rotation_error_rad = 0;
  int iterations = 0;
};

// Solves for the arm dofs of `spec` that put `spec.end_effector_link`'s frame at `target` (world), starting from
// `seed` (all dofs; the other dofs stay as they are), every iterate clamped to the robot's joint limits. Returns
// the best iterate found; its errors tell whether it converged.
IkSolution SolveEndEffectorIk(const sim::RigidBodyDynamics& dynamics, const sim::RobotModel& robot,
                              const RetargetSpec& spec, const Eigen::Isometry3d& target, const Eigen::VectorXd& seed,
                              const IkOptions& options = {});

}  // namespace r2s::amplify

#pragma once
// Why a generated variant was not kept: the reason's code and the measured quantity that decided it (rejection.h
// finds them). Public: every GeneratedEpisode carries one.

#include <string>
#include <string_view>

namespace r2s::amplify {

enum class RejectReason {
  kNone,                // succeeded (or nothing to say)
  kIkUnreachable,       // before simulating: a retargeted end-effector pose lies beyond the arm's reach
  kJointLimit,          // before simulating: reaching it would take a joint past its limit
  kSimulationUnstable,  // a joint or object state went non-finite or implausibly fast
  kGraspMissed,         // the gripper closed but the object did not follow the hand
  kObjectDropped,       // the object followed the hand, then left it before the gripper opened
  kSuccessFalse,        // simulated to the end; the scene's success predicate is false
};

// The stable code counted in summary.json and shown on the progress line: "ik_unreachable", "joint_limit",
// "simulation_unstable", "grasp_missed", "object_dropped", "success_false"; "" for kNone.
std::string_view ReasonCode(RejectReason reason);

struct Rejection {
  RejectReason reason = RejectReason::kNone;
  std::string detail;  // one line with the measured quantity: "cube left the gripper at frame 143 (4.77 s) ..."
};

}  // namespace r2s::amplify

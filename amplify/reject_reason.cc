#include "amplify/reject_reason.h"

namespace r2s::amplify {

std::string_view ReasonCode(RejectReason reason) {
  switch (reason) {
    case RejectReason::kNone: return "";
    case RejectReason::kIkUnreachable: return "ik_unreachable";
    case RejectReason::kJointLimit: return "joint_limit";
    case RejectReason::kSimulationUnstable: return "simulation_unstable";
    case RejectReason::kGraspMissed: return "grasp_missed";
    case RejectReason::kObjectDropped: return "object_dropped";
    case RejectReason::kSuccessFalse: return "success_false";
  }
  return "";
}

}  // namespace r2s::amplify

#include "amplify/rejection.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/world.h"

namespace r2s::amplify {
namespace {

constexpr double kRadToDeg = 180.0 / 3.14159265358979323846;

std::string Format(const char* format, auto... args) {
  char buffer[512];
  std::snprintf(buffer, sizeof(buffer), format, args...);
  return buffer;
}

bool Finite(const Eigen::Isometry3d& pose) { return pose.matrix().allFinite(); }

}  // namespace

Rejection CheckReach(const sim::RobotModel& robot, const std::vector<int>& arm_dofs, const Eigen::MatrixXd& targets,
                     std::int64_t worst_frame, double ik_error_m, double ik_error_rad, const ReachLimits& limits) {
  if (ik_error_m <= limits.max_ik_error_m && ik_error_rad <= limits.max_ik_error_rad) return {};
  const std::string miss = Format("the end effector stays %.1f mm and %.1f deg from the retargeted pose at frame %lld "
                                  "(at most %.1f mm and %.1f deg)",
                                  ik_error_m * 1e3, ik_error_rad * kRadToDeg, static_cast<long long>(worst_frame),
                                  limits.max_ik_error_m * 1e3, limits.max_ik_error_rad * kRadToDeg);
  if (worst_frame >= 0 && worst_frame < targets.cols()) {
    for (int dof : arm_dofs) {
      const sim::Link& link = robot.dof_link(dof);
      const double q = targets(dof, worst_frame);
      // The IK clamps every iterate to the limits: a dof sitting exactly on one is where the reach ran out.
      const double tolerance = 1e-9 * std::max(1.0, std::abs(q));
      const bool at_lower = std::isfinite(link.lower_limit) && q <= link.lower_limit + tolerance;
      const bool at_upper = std::isfinite(link.upper_limit) && q >= link.upper_limit - tolerance;
      if (at_lower || at_upper) {
        return {RejectReason::kJointLimit, Format("%s at its %s limit %.4g: ", link.joint_name.c_str(),
                                                  at_lower ? "lower" : "upper", q) + miss};
      }
    }
  }
  return {RejectReason::kIkUnreachable, miss};
}

EpisodeWatch::EpisodeWatch(const sim::Model& model, int object, int end_effector_link,
                           std::optional<HeldInterval> held, const EpisodeWatchOptions& options)
    : model_(model), object_(object), end_effector_link_(end_effector_link), held_(held), options_(options) {}

void EpisodeWatch::Observe(std::int64_t frame, double time_s, const sim::World& world) {
  if (unstable_.reason != RejectReason::kNone) return;
  CheckStable(frame, time_s, world);
  if (unstable_.reason == RejectReason::kNone && grasp_.reason == RejectReason::kNone) CheckHeld(frame, time_s, world);
}

void EpisodeWatch::CheckStable(std::int64_t frame, double time_s, const sim::World& world) {
  const auto fail = [&](const std::string& what) {
    unstable_ = {RejectReason::kSimulationUnstable,
                 Format("at frame %lld (%.2f s): ", static_cast<long long>(frame), time_s) + what};
  };
  if (model_.robot) {
    const Eigen::VectorXd q = world.joint_positions(), qd = world.joint_velocities();
    for (Eigen::Index d = 0; d < q.size(); ++d) {
      const std::string& joint = model_.robot->dof_link(static_cast<int>(d)).joint_name;
      if (!std::isfinite(q[d]) || !std::isfinite(qd[d])) return fail(joint + " is not finite");
      if (std::abs(qd[d]) > options_.max_joint_speed_radps) {
        return fail(Format("%s moves at %.4g rad/s (more than %.4g)", joint.c_str(), qd[d],
                           options_.max_joint_speed_radps));
      }
    }
  }
  for (std::size_t i = 0; i < model_.objects.size(); ++i) {
    const std::string& name = model_.objects[i].name;
    const Eigen::Isometry3d pose = world.ObjectPose(static_cast<int>(i));
    const Eigen::Vector3d v = world.ObjectLinearVelocity(static_cast<int>(i));
    if (!Finite(pose) || !v.allFinite()) return fail(name + "'s pose is not finite");
    if (v.norm() > options_.max_object_speed_mps) {
      return fail(Format("%s flies at %.4g m/s (more than %.4g)", name.c_str(), v.norm(),
                         options_.max_object_speed_mps));
    }
  }
}

void EpisodeWatch::CheckHeld(std::int64_t frame, double time_s, const sim::World& world) {
  if (!held_ || object_ < 0 || end_effector_link_ < 0) return;
  if (frame >= held_->release_frame - 1 && have_reference_ && !lift_checked_) CheckLift(frame, time_s, world);
  if (frame < held_->grasp_frame || frame >= held_->release_frame) return;
  if (!grasp_time_s_) grasp_time_s_ = time_s;
  if (time_s < *grasp_time_s_ + options_.grasp_settle_s) return;
  const Eigen::Isometry3d hand = world.LinkPose(end_effector_link_);
  const Eigen::Isometry3d object = world.ObjectPose(object_);
  const Eigen::Vector3d offset = hand.inverse() * object.translation();
  if (!have_reference_) {
    have_reference_ = true;
    held_offset_m_ = offset;
    hand_at_reference_m_ = hand.translation();
    object_at_reference_m_ = object.translation();
    return;
  }
  highest_rise_m_ = std::max(highest_rise_m_, object.translation().z() - object_at_reference_m_.z());
  const double out_of_hand_m = (offset - held_offset_m_).norm();
  if (out_of_hand_m <= options_.drop_distance_m) return;
  const double hand_travel_m = (hand.translation() - hand_at_reference_m_).norm();
  const double object_travel_m = (object.translation() - object_at_reference_m_).norm();
  const std::string& name = model_.objects[object_].name;
  if (object_travel_m < options_.follow_fraction * hand_travel_m) {
    grasp_ = {RejectReason::kGraspMissed,
              Format("%s did not follow the gripper closed at frame %lld: by frame %lld (%.2f s) the hand had moved "
                     "%.1f cm, %s %.1f cm",
                     name.c_str(), static_cast<long long>(held_->grasp_frame), static_cast<long long>(frame), time_s,
                     hand_travel_m * 100, name.c_str(), object_travel_m * 100)};
  } else {
    grasp_ = {RejectReason::kObjectDropped,
              Format("%s left the gripper at frame %lld (%.2f s), %.1f cm from where it was held, before the release "
                     "at frame %lld",
                     name.c_str(), static_cast<long long>(frame), time_s, out_of_hand_m * 100,
                     static_cast<long long>(held_->release_frame))};
  }
}

void EpisodeWatch::CheckLift(std::int64_t frame, double time_s, const sim::World& world) {
  lift_checked_ = true;
  if (!(held_->commanded_lift_m >= options_.min_commanded_lift_m)) return;
  const double rise_m = std::max(highest_rise_m_, world.ObjectPose(object_).translation().z() -
                                                      object_at_reference_m_.z());
  if (rise_m >= options_.lift_fraction * held_->commanded_lift_m) return;
  const std::string& name = model_.objects[object_].name;
  grasp_ = {RejectReason::kGraspMissed,
            Format("%s never went up with the gripper closed at frame %lld: by frame %lld (%.2f s) the commands had "
                   "raised the hand %.1f cm, %s rose %.1f cm",
                   name.c_str(), static_cast<long long>(held_->grasp_frame), static_cast<long long>(frame), time_s,
                   held_->commanded_lift_m * 100, name.c_str(), rise_m * 100)};
}

Rejection EpisodeWatch::Verdict() const { return unstable_.reason != RejectReason::kNone ? unstable_ : grasp_; }

}  // namespace r2s::amplify

#pragma once
// The Panda pick-and-place fixture (tests/fixtures/pick_place) and a scripted teleoperator on it, shared by the
// tests that need a demonstration with a grasp: retargeting (amplify_retarget_test), grasp inference
// (grasp_inference_test).

#include <algorithm>
#include <filesystem>
#include <numbers>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "amplify/retarget.h"
#include "sim/model.h"
#include "sim/rigid_body_dynamics.h"
#include "tests/test_support.h"

namespace r2s::amplify::pick_place {

// The fixture's place spot (tests/fixtures/pick_place/scene.yaml): the success region is centred on it.
inline const Eigen::Vector3d kPlaceSpot_m(0.4, 0.25, 0.02);
// The grasp point (between the fingertips' pads) in the panda_hand frame; panda_grasptarget is at 0.105.
inline const Eigen::Vector3d kGraspPointInHand_m(0, 0, 0.103);
inline constexpr double kGripperOpen_m = 0.04;
inline constexpr double kGripperClosed_m = 0.0;  // target inside the cube: the fingers squeeze it

inline Eigen::Isometry3d CubePose(const Eigen::Vector3d& position_m, double yaw_rad) {
  Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
  pose.translation() = position_m;
  pose.linear() = Eigen::AngleAxisd(yaw_rad, Eigen::Vector3d::UnitZ()).toRotationMatrix();
  return pose;
}

// The hand pointing down (its z along world -z), turned `yaw_rad` about z, with its grasp point at `grasp_point_m`.
inline Eigen::Isometry3d HandPose(const Eigen::Vector3d& grasp_point_m, double yaw_rad) {
  Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
  pose.linear() = (Eigen::AngleAxisd(yaw_rad, Eigen::Vector3d::UnitZ()) *
                   Eigen::AngleAxisd(std::numbers::pi, Eigen::Vector3d::UnitX()))
                      .toRotationMatrix();
  pose.translation() = grasp_point_m - pose.linear() * kGraspPointInHand_m;
  return pose;
}

// A copy of the fixture with the Panda beside it (a scene folder must hold its assets).
inline void MakePickPlaceScene(const std::filesystem::path& dir) {
  std::filesystem::copy(r2s::testing::SourceDir() / "tests/fixtures/pick_place", dir,
                        std::filesystem::copy_options::recursive);
  std::filesystem::copy(r2s::testing::SourceDir() / "scenes/panda_sysid/robot", dir / "robot",
                        std::filesystem::copy_options::recursive);
}

// A scripted teleoperator: the hand moves through key poses (smoothstep in
// time, straight lines in space, orientations by slerp), joint targets by IK plus the gravity sag g(q) / kp (the
// simulator's PD drive has no gravity compensation). The gripper's target ramps over a few frames, as a trigger
// squeezed by hand, and the hand may creep while it does.
class ScriptedDemonstration {
 public:
  ScriptedDemonstration(const sim::Model& model, const RetargetSpec& spec)
      : model_(model), spec_(spec), dynamics_(*model.robot, model.sim.gravity_mps2) {
    q_ = model.robot->initial_q;
    pose_ = dynamics_.LinkPoses(q_)[spec.end_effector_link];
    gripper_m_ = q_[spec.gripper_dofs[0]];
  }

  void Hold(int frames) {
    for (int i = 0; i < frames; ++i) Record();
  }
  void MoveTo(const Eigen::Isometry3d& goal, int frames) {
    const Eigen::Isometry3d start = pose_;
    const Eigen::Quaterniond q0(start.linear()), q1(goal.linear());
    for (int i = 1; i <= frames; ++i) {
      const double s = static_cast<double>(i) / frames, w = s * s * (3 - 2 * s);
      Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
      pose.translation() = (1 - w) * start.translation() + w * goal.translation();
      pose.linear() = q0.slerp(w, q1).toRotationMatrix();
      Solve(pose);
      Record();
    }
  }
  // The gripper's target ramps linearly to opening_m over ramp_frames frames while the hand drifts by creep_m
  // and turns by creep_yaw_rad about the world z, evenly over all `frames` frames.
  void MoveGripper(double opening_m, int ramp_frames, int frames, const Eigen::Vector3d& creep_m = {0, 0, 0},
                   double creep_yaw_rad = 0) {
    const double from_m = gripper_m_;
    const Eigen::Isometry3d start = pose_;
    for (int i = 1; i <= frames; ++i) {
      gripper_m_ = from_m + (opening_m - from_m) * std::min(1.0, static_cast<double>(i) / ramp_frames);
      const double s = static_cast<double>(i) / frames;
      Eigen::Isometry3d pose = start;
      pose.translation() += s * creep_m;
      pose.linear() = Eigen::AngleAxisd(s * creep_yaw_rad, Eigen::Vector3d::UnitZ()) * start.linear();
      Solve(pose);
      Record();
    }
  }

  // The gripper's target jumps to opening_m, then the hand holds still for hold_frames frames.
  void SetGripper(double opening_m, int hold_frames) {
    gripper_m_ = opening_m;
    Hold(hold_frames);
  }

  const Eigen::Isometry3d& pose() const { return pose_; }
  Eigen::MatrixXd targets() const {
    Eigen::MatrixXd out(model_.robot->num_dofs(), static_cast<Eigen::Index>(frames_.size()));
    for (std::size_t f = 0; f < frames_.size(); ++f) out.col(static_cast<Eigen::Index>(f)) = frames_[f];
    return out;
  }
  double worst_ik_error_m() const { return worst_ik_error_m_; }

 private:
  void Solve(const Eigen::Isometry3d& pose) {
    pose_ = pose;
    const IkSolution ik = SolveEndEffectorIk(dynamics_, *model_.robot, spec_, pose_, q_);
    worst_ik_error_m_ = std::max(worst_ik_error_m_, ik.position_error_m);
    q_ = ik.q;
  }
  void Record() {
    Eigen::VectorXd target = q_;
    const Eigen::VectorXd gravity = dynamics_.BiasForces(q_, Eigen::VectorXd::Zero(q_.size()));
    for (int dof : spec_.arm_dofs) target[dof] += gravity[dof] / model_.robot->actuators[dof].kp;
    for (int dof : spec_.gripper_dofs) target[dof] = gripper_m_;
    frames_.push_back(target);
  }

  const sim::Model& model_;
  const RetargetSpec& spec_;
  sim::RigidBodyDynamics dynamics_;
  Eigen::VectorXd q_;
  Eigen::Isometry3d pose_;
  double gripper_m_ = 0;
  double worst_ik_error_m_ = 0;
  std::vector<Eigen::VectorXd> frames_;
};

}  // namespace r2s::amplify::pick_place

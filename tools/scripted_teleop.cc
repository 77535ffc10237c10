#include "tools/scripted_teleop.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <numbers>
#include <stdexcept>

#include "randomize/stream.h"
#include "sim/rigid_body_dynamics.h"
#include "sim/success.h"
#include "sim/world.h"

namespace r2s::tools {
namespace {

constexpr double kTwoPi = 2 * std::numbers::pi;

// Flash & Hogan's minimum-jerk profile: position fraction at time fraction s.
double MinimumJerk(double s) {
  s = std::clamp(s, 0.0, 1.0);
  return s * s * s * (10 - 15 * s + 6 * s * s);
}

// Fitts' law for a reach of distance_m onto a target of width_m (a and b fitted to slow, careful teleoperation
// rather than to a free hand: a leader arm is heavier and the person watches the follower).
double FittsDuration_s(double distance_m, double width_m, double speed_scale) {
  return speed_scale * (0.45 + 0.3 * std::log2(1 + distance_m / width_m));
}

Eigen::Isometry3d Raised(const Eigen::Isometry3d& pose, double height_m) {
  Eigen::Isometry3d raised = pose;
  raised.translation().z() += height_m;
  return raised;
}

// One stretch of the person's plan: the pose the held object would have (the "object frame" the hand aims at)
// and the leader's jaw, each moving from -> to along a minimum-jerk profile.
struct Segment {
  std::string name;
  double duration_s = 0;
  Eigen::Isometry3d from = Eigen::Isometry3d::Identity(), to = Eigen::Isometry3d::Identity();
  double jaw_from = 0, jaw_to = 0;
};

class Plan {
 public:
  Plan(const Eigen::Isometry3d& start, double jaw) : pose_(start), jaw_(jaw) {}

  void Hold(const std::string& name, double duration_s) { Add(name, duration_s, pose_, jaw_); }
  void MoveTo(const std::string& name, const Eigen::Isometry3d& goal, double width_m, double speed_scale) {
    const double distance_m = (goal.translation() - pose_.translation()).norm();
    const double angle_rad = Eigen::AngleAxisd(goal.linear() * pose_.linear().transpose()).angle();
    // A turn of the wrist counts as a reach of 10 cm per radian.
    Add(name, FittsDuration_s(distance_m + 0.1 * angle_rad, width_m, speed_scale), goal, jaw_);
  }
  void Jaw(const std::string& name, double value, double duration_s) { Add(name, duration_s, pose_, value); }

  double duration_s() const {
    double total = 0;
    for (const Segment& s : segments_) total += s.duration_s;
    return total;
  }
  const std::vector<Segment>& segments() const { return segments_; }

  // The intended pose and jaw at time t.
  void At(double t, Eigen::Isometry3d* pose, double* jaw, std::string* name) const {
    for (const Segment& s : segments_) {
      if (t <= s.duration_s || &s == &segments_.back()) {
        const double w = MinimumJerk(s.duration_s > 0 ? t / s.duration_s : 1);
        const Eigen::Quaterniond q0(s.from.linear()), q1(s.to.linear());
        pose->linear() = q0.slerp(w, q1).toRotationMatrix();
        pose->translation() = (1 - w) * s.from.translation() + w * s.to.translation();
        *jaw = (1 - w) * s.jaw_from + w * s.jaw_to;
        *name = s.name;
        return;
      }
      t -= s.duration_s;
    }
  }

 private:
  void Add(const std::string& name, double duration_s, const Eigen::Isometry3d& goal, double jaw) {
    segments_.push_back({name, duration_s, pose_, goal, jaw_, jaw});
    pose_ = goal;
    jaw_ = jaw;
  }
  Eigen::Isometry3d pose_;
  double jaw_;
  std::vector<Segment> segments_;
};

// The object's pose turned about z by the multiple of symmetry_yaw_rad that brings its x axis nearest the
// current hand's (the held-object frame's) x axis: a person picks a cube by its nearest pair of faces.
Eigen::Isometry3d NearestSymmetricPose(const Eigen::Isometry3d& object, const Eigen::Isometry3d& held,
                                       double symmetry_yaw_rad) {
  Eigen::Isometry3d best = object;
  double best_angle = 1e9;
  const int turns = symmetry_yaw_rad > 0 ? static_cast<int>(std::lround(kTwoPi / symmetry_yaw_rad)) : 1;
  for (int k = 0; k < std::max(turns, 1); ++k) {
    Eigen::Isometry3d candidate = object;
    candidate.linear() = object.linear() * Eigen::AngleAxisd(k * symmetry_yaw_rad, Eigen::Vector3d::UnitZ());
    const double angle = Eigen::AngleAxisd(candidate.linear() * held.linear().transpose()).angle();
    if (angle < best_angle) {
      best_angle = angle;
      best = candidate;
    }
  }
  return best;
}

// The pose turned by tilt_rad about the horizontal axis across the vertical plane through `pivot_xy_m` (the
// arm's first joint axis) and the pose's own position.
Eigen::Isometry3d Tilted(const Eigen::Isometry3d& pose, const Eigen::Vector2d& pivot_xy_m, double tilt_rad) {
  if (tilt_rad == 0) return pose;
  const double azimuth = std::atan2(pose.translation().y() - pivot_xy_m.y(), pose.translation().x() - pivot_xy_m.x());
  Eigen::Isometry3d tilted = pose;
  tilted.linear() =
      Eigen::AngleAxisd(tilt_rad, Eigen::Vector3d(-std::sin(azimuth), std::cos(azimuth), 0)) * pose.linear();
  return tilted;
}

}  // namespace

TeleopStyle DrawStyle(std::uint64_t seed) {
  randomize::Stream r(seed, 0, 0, "scripted_teleop/style");
  const auto uniform = [&](double lo, double hi) { return lo + (hi - lo) * r.Uniform01(); };
  TeleopStyle s;
  s.speed_scale = uniform(0.85, 1.3);
  s.approach_height_m = uniform(0.05, 0.08);
  s.lift_height_m = uniform(0.07, 0.10);
  s.hesitation_s = r.Uniform01() < 0.5 ? uniform(0.3, 0.9) : 0.0;
  s.regrasp = r.Uniform01() < 0.25;
  const double shift_angle = uniform(0, kTwoPi), shift_m = uniform(0.004, 0.008);
  s.regrasp_shift_m = shift_m * Eigen::Vector2d(std::cos(shift_angle), std::sin(shift_angle));
  s.tremor_m = uniform(0.0004, 0.0012);
  s.reaction_delay_s = uniform(0.15, 0.25);
  s.correction_time_s = uniform(0.4, 0.7);
  for (int i = 0; i < 4; ++i) s.tremor_phase_rad[i] = uniform(0, kTwoPi);
  s.settle_s = uniform(0.3, 0.7);
  s.idle_start_s = uniform(0.4, 1.0);
  s.idle_end_s = uniform(0.3, 0.7);
  return s;
}

TeleopDemo RunScriptedTeleop(const std::shared_ptr<const sim::Model>& base_model, const amplify::RetargetSpec& spec,
                             const TeleopTask& task, const TeleopStyle& style, bool capture_scenes) {
  if (!base_model->robot) throw std::invalid_argument("RunScriptedTeleop: the scene has no robot");
  amplify::CheckRetargetSpec(*base_model, spec);
  // The object lies where the task plants it from the first step on.
  auto planted = std::make_shared<sim::Model>(*base_model);
  planted->objects[spec.object].initial_pose = task.object_pose;
  const std::shared_ptr<const sim::Model> model = planted;
  const sim::RobotModel& robot = *model->robot;
  const sim::RigidBodyDynamics dynamics(robot, model->sim.gravity_mps2);
  const Eigen::Isometry3d offset_inverse = task.aim_offset.value_or(spec.grasp_offset).inverse();
  const double frame_s = model->sim.time_step_s * model->sim.substeps_per_frame;

  // The plan, in poses of the held-object frame (hand pose x grasp offset).
  const Eigen::Isometry3d home = dynamics.LinkPoses(robot.initial_q)[spec.end_effector_link] * offset_inverse.inverse();
  const Eigen::Isometry3d grasp = NearestSymmetricPose(task.object_pose, home, task.symmetry_yaw_rad);
  // The arm's vertical plane turns about its first joint's axis.
  const Eigen::Vector2d pivot_xy_m =
      dynamics.LinkPoses(robot.initial_q)[robot.dof_links[spec.arm_dofs.front()]].translation().head<2>();
  // Tilted in proportion to the height above the grasp, fully from the lift's height up: straight down at the
  // object, where the arm can, tilted where it cannot. Applied to each frame's intended pose (not to the plan's
  // key poses), so that the tilt stays across the arm's plane wherever the hand is on its way.
  const auto carry = [&](const Eigen::Isometry3d& pose) {
    const double height_m = pose.translation().z() - grasp.translation().z();
    const double fraction = std::clamp(height_m / style.lift_height_m, 0.0, 1.0);
    return Tilted(pose, pivot_xy_m, fraction * task.carry_tilt_rad);
  };
  Eigen::Isometry3d place = grasp;
  place.translation() = task.place_point_m;
  const double s = style.speed_scale;
  Plan plan(home, task.gripper_open);
  plan.Hold("idle", style.idle_start_s);
  Eigen::Isometry3d first_grasp = grasp;
  if (style.regrasp) first_grasp.translation().head<2>() += style.regrasp_shift_m;
  plan.MoveTo("reach", Raised(first_grasp, style.approach_height_m), 0.02, s);
  if (style.hesitation_s > 0) plan.Hold("hesitate", style.hesitation_s);
  plan.MoveTo("descend", first_grasp, 0.004, s);
  plan.Hold("settle", style.settle_s);  // waits for the lagging follower to arrive before closing
  plan.Jaw("close", task.gripper_closed, 0.45 * s);
  plan.Hold("squeeze", 0.25 * s);
  if (style.regrasp) {
    plan.Jaw("reopen", task.gripper_open, 0.35 * s);
    plan.MoveTo("back off", Raised(first_grasp, 0.012), 0.004, s);
    plan.MoveTo("adjust", Raised(grasp, 0.012), 0.004, s);
    plan.MoveTo("descend again", grasp, 0.004, s);
    plan.Hold("settle", style.settle_s);
    plan.Jaw("close again", task.gripper_closed, 0.45 * s);
    plan.Hold("squeeze", 0.25 * s);
  }
  plan.MoveTo("lift", Raised(grasp, style.lift_height_m), 0.02, s);
  plan.MoveTo("transport", Raised(place, style.approach_height_m), 0.02, s);
  plan.MoveTo("lower", place, 0.006, s);
  plan.Jaw("release", task.gripper_open, 0.3 * s);
  plan.Hold("let go", 0.3 * s);
  plan.MoveTo("retreat", Raised(place, style.approach_height_m), 0.02, s);
  plan.MoveTo("return", home, 0.03, s);
  plan.Hold("idle", style.idle_end_s);

  TeleopDemo demo;
  double t0 = 0;
  for (const Segment& segment : plan.segments()) {
    char line[96];
    std::snprintf(line, sizeof(line), "%s %.2f-%.2f s", segment.name.c_str(), t0, t0 + segment.duration_s);
    demo.phases.push_back(line);
    t0 += segment.duration_s;
  }

  const auto frames = static_cast<Eigen::Index>(std::ceil(plan.duration_s() / frame_s)) + 1;
  const int n = robot.num_dofs();
  demo.action.resize(n, frames);
  demo.state.resize(n, frames);
  sim::World world(model);
  Eigen::VectorXd leader = robot.initial_q;
  Eigen::Vector3d correction_m = Eigen::Vector3d::Zero();
  // What the person sees, reaction_delay_s late: the follower's hand and where they wanted it then.
  std::deque<std::pair<Eigen::Isometry3d, Eigen::Isometry3d>> seen;
  const auto delay_frames = static_cast<std::size_t>(std::lround(style.reaction_delay_s / frame_s));
  const Eigen::Vector4d& phase = style.tremor_phase_rad;
  sim::RobotCommand command;
  for (Eigen::Index f = 0; f < frames; ++f) {
    const double t = static_cast<double>(f) * frame_s;
    demo.time_s.push_back(t);
    const Eigen::VectorXd q = world.joint_positions();
    demo.state.col(f) = q;
    if (capture_scenes) demo.scenes.push_back(render::CaptureState(world));

    Eigen::Isometry3d intended;
    double jaw = 0;
    std::string name;
    plan.At(t, &intended, &jaw, &name);
    Eigen::Isometry3d hand = carry(intended) * offset_inverse;
    // Tremor: physiological (8-11 Hz) and a slow drift, in the horizontal plane mostly.
    hand.translation() += style.tremor_m * Eigen::Vector3d(std::sin(kTwoPi * 9.5 * t + phase[0]) +
                                                               0.6 * std::sin(kTwoPi * 0.7 * t + phase[3]),
                                                           std::sin(kTwoPi * 10.3 * t + phase[1]) +
                                                               0.6 * std::sin(kTwoPi * 0.5 * t + phase[2]),
                                                           0.5 * std::sin(kTwoPi * 8.7 * t + phase[2]));
    // Visual feedback: the follower's hand against where the person wanted it, as seen a reaction time ago.
    seen.emplace_back(dynamics.LinkPoses(q)[spec.end_effector_link], hand);
    if (seen.size() > delay_frames) {
      const auto& [follower, wanted] = seen.front();
      const double gain = frame_s / style.correction_time_s;
      correction_m += (wanted.translation() - follower.translation()) * gain;
      if (correction_m.norm() > 0.03) correction_m *= 0.03 / correction_m.norm();
      seen.pop_front();
    }
    Eigen::Isometry3d leader_hand = hand;
    leader_hand.translation() += correction_m;

    const amplify::IkSolution ik = amplify::SolveEndEffectorIk(dynamics, robot, spec, leader_hand, leader);
    if (ik.position_error_m > demo.worst_ik_error_m) {
      demo.worst_ik_error_m = ik.position_error_m;
      demo.worst_ik_phase = name;
    }
    leader = ik.q;
    for (int d : spec.gripper_dofs) leader[d] = jaw;
    demo.action.col(f) = leader;

    command.position = leader;
    world.SetCommand(command);
    world.Step(model->sim.substeps_per_frame);
  }
  demo.object_final = world.ObjectPose(spec.object);
  std::vector<Eigen::Isometry3d> poses;
  for (std::size_t i = 0; i < model->objects.size(); ++i) poses.push_back(world.ObjectPose(static_cast<int>(i)));
  const sim::SuccessReport success = sim::EvaluateSuccess(*model, poses, world.joint_positions());
  demo.success = success.success;
  demo.failed = success.failed;
  return demo;
}

}  // namespace r2s::tools

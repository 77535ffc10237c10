#include "amplify/retarget.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

#include <Eigen/Cholesky>

#include "amplify/grasp_inference.h"
#include "episode/input_error.h"
#include "sim/yaml_values.h"

namespace r2s::amplify {
namespace {

using sim::yaml::Map;
using sim::yaml::Reader;
using sim::yaml::Value;

// The movable joints of the robot, for "expected one of" messages.
std::string MovableJoints(const sim::RobotModel& robot) {
  std::string names;
  for (int dof = 0; dof < robot.num_dofs(); ++dof) names += (dof ? ", " : "") + robot.dof_link(dof).joint_name;
  return names;
}

std::vector<int> JointList(const Reader& r, const Value& v, const sim::RobotModel& robot, std::set<int>& seen) {
  const auto items = r.List(v);
  if (items.empty()) r.Fail(v, "expected at least one joint, found an empty list");
  std::vector<int> dofs;
  for (const Value& item : items) {
    const std::string name = r.String(item);
    const int dof = robot.FindDof(name);
    if (dof < 0) r.Fail(item, "unknown joint '" + name + "'; the robot's movable joints are: " + MovableJoints(robot));
    if (!seen.insert(dof).second) r.Fail(item, "joint '" + name + "' is listed twice in retarget");
    dofs.push_back(dof);
  }
  return dofs;
}

// Whether `dof` lies on the chain from `link` to the root, i.e. moves the link.
bool MovesLink(const sim::RobotModel& robot, int dof, int link) {
  for (int l = link; l >= 0; l = robot.links[l].parent) {
    if (robot.links[l].dof == dof) return true;
  }
  return false;
}

Eigen::Vector3d RotationVector(const Eigen::Matrix3d& rotation) {
  const Eigen::AngleAxisd aa(rotation);
  return aa.axis() * aa.angle();
}

// The task-space error [position; rotation vector of R_target R_current^T] of `current` against `target`.
Eigen::Matrix<double, 6, 1> PoseError(const Eigen::Isometry3d& target, const Eigen::Isometry3d& current) {
  Eigen::Matrix<double, 6, 1> e;
  e.head<3>() = target.translation() - current.translation();
  e.tail<3>() = RotationVector(target.linear() * current.linear().transpose());
  return e;
}

// One number to compare two starts by: metres plus radians (a 1 cm miss weighs like a 0.01 rad one).
double ErrorSize(const Eigen::Matrix<double, 6, 1>& e) { return e.head<3>().norm() + e.tail<3>().norm(); }

void ClampToLimits(const sim::RobotModel& robot, const std::vector<int>& dofs, Eigen::VectorXd& q) {
  for (int dof : dofs) {
    const sim::Link& link = robot.dof_link(dof);
    q[dof] = std::clamp(q[dof], link.lower_limit, link.upper_limit);
  }
}

double Smoothstep(double s) { return s * s * (3 - 2 * s); }

}  // namespace

void CheckRetargetSpec(const sim::Model& model, const RetargetSpec& spec) {
  if (!model.robot) throw std::invalid_argument("Retarget: the model '" + model.name + "' has no robot");
  const sim::RobotModel& robot = *model.robot;
  const std::string where = spec.source.empty() ? "Retarget" : "Retarget (" + spec.source + ")";
  if (spec.object < 0 || spec.object >= static_cast<int>(model.objects.size())) {
    throw std::invalid_argument(where + ": object index " + std::to_string(spec.object) + " is not one of the " +
                                std::to_string(model.objects.size()) + " objects");
  }
  if (spec.end_effector_link < 0 || spec.end_effector_link >= static_cast<int>(robot.links.size())) {
    throw std::invalid_argument(where + ": end_effector_link index " + std::to_string(spec.end_effector_link) +
                                " is not one of the robot's " + std::to_string(robot.links.size()) + " links");
  }
  if (spec.arm_dofs.empty()) throw std::invalid_argument(where + ": no arm dofs");
  for (const auto* dofs : {&spec.arm_dofs, &spec.gripper_dofs}) {
    for (int dof : *dofs) {
      if (dof < 0 || dof >= robot.num_dofs()) {
        throw std::invalid_argument(where + ": dof index " + std::to_string(dof) + " is not one of the robot's " +
                                    std::to_string(robot.num_dofs()) + " dofs");
      }
    }
  }
  if (spec.transition_frames < 1) {
    throw std::invalid_argument(where + ": transition_frames = " + std::to_string(spec.transition_frames) +
                                ", expected at least 1");
  }
  if (spec.gripper_min_frames < 1) {
    throw std::invalid_argument(where + ": gripper_min_frames = " + std::to_string(spec.gripper_min_frames) +
                                ", expected at least 1");
  }
  if (!std::isfinite(spec.gripper_closed_below) || !std::isfinite(spec.open_above())) {
    throw std::invalid_argument(where + ": gripper_closed_below = " + std::to_string(spec.gripper_closed_below) +
                                ", gripper_open_above = " + std::to_string(spec.open_above()) +
                                ", expected finite numbers");
  }
  if (spec.open_above() < spec.gripper_closed_below) {
    throw std::invalid_argument(where + ": gripper_open_above = " + std::to_string(spec.open_above()) +
                                " is below gripper_closed_below = " + std::to_string(spec.gripper_closed_below));
  }
  if (!spec.grasp_offset.matrix().allFinite()) {
    throw std::invalid_argument(where + ": grasp_offset holds a NaN or infinity");
  }
}

std::optional<RetargetSpec> ParseRetargetSpec(const std::filesystem::path& scene_yaml, const sim::Model& model) {
  const Reader r(scene_yaml);
  const YAML::Node root = sim::yaml::LoadFile(scene_yaml);
  const Value top{root, "", std::max(1, sim::yaml::LineOf(root))};
  const auto section = Map(r, top, {}).Get("retarget");
  if (!section || section->node.IsNull()) return std::nullopt;
  const Map m(r, *section,
              {"object", "end_effector_link", "arm_joints", "gripper_joints", "gripper_closed_below",
               "gripper_open_above", "transition_frames", "grasp_offset"});
  if (!model.robot) r.Fail(*section, "the scene has no robot to retarget");
  const sim::RobotModel& robot = *model.robot;

  RetargetSpec spec;
  spec.source = scene_yaml.filename().string() + ":" + std::to_string(section->line) + ": retarget";

  const Value object = m.Require("object");
  const std::string object_name = r.String(object);
  spec.object = model.FindObject(object_name);
  if (spec.object < 0) {
    std::string names;
    for (const sim::ObjectModel& o : model.objects) names += (names.empty() ? "" : ", ") + o.name;
    const bool is_static = std::any_of(model.environment.begin(), model.environment.end(),
                                       [&](const sim::ObjectModel& o) { return o.name == object_name; });
    r.Fail(object, "unknown object '" + object_name + "'" + (is_static ? " (it is static: environment)" : "") +
                       "; the scene's free objects are: " + (names.empty() ? "none" : names));
  }

  const Value link = m.Require("end_effector_link");
  const std::string link_name = r.String(link);
  spec.end_effector_link = robot.FindLink(link_name);
  if (spec.end_effector_link < 0) {
    std::string names;
    for (const sim::Link& l : robot.links) names += (names.empty() ? "" : ", ") + l.name;
    r.Fail(link, "unknown link '" + link_name + "'; the robot's links are: " + names);
  }

  std::set<int> seen;
  const Value arm = m.Require("arm_joints");
  spec.arm_dofs = JointList(r, arm, robot, seen);
  const auto arm_items = r.List(arm);
  for (std::size_t i = 0; i < spec.arm_dofs.size(); ++i) {
    if (!MovesLink(robot, spec.arm_dofs[i], spec.end_effector_link)) {
      r.Fail(arm_items[i], "joint '" + robot.dof_link(spec.arm_dofs[i]).joint_name + "' does not move '" + link_name +
                               "' (end_effector_link), so IK cannot use it");
    }
  }
  spec.gripper_dofs = JointList(r, m.Require("gripper_joints"), robot, seen);
  spec.gripper_closed_below = r.Number(m.Require("gripper_closed_below"));
  if (auto v = m.Get("gripper_open_above")) {
    spec.gripper_open_above = r.Number(*v);
    if (*spec.gripper_open_above < spec.gripper_closed_below) {
      r.Fail(*v, "gripper_open_above = " + v->node.Scalar() + " is below gripper_closed_below = " +
                     m.Require("gripper_closed_below").node.Scalar() + "; it must be at least that (hysteresis)");
    }
  }
  if (auto v = m.Get("transition_frames")) {
    spec.transition_frames = r.Integer(*v);
    if (spec.transition_frames < 1) {
      r.Fail(*v, "transition_frames = " + std::to_string(spec.transition_frames) + ", expected at least 1");
    }
  }
  if (auto v = m.Get("grasp_offset")) {
    const Map offset(r, *v, {"position_m", "rpy_rad"});
    if (auto p = offset.Get("position_m")) spec.grasp_offset.translation() = r.Vec3(*p);
    if (auto p = offset.Get("rpy_rad")) {
      const Eigen::Vector3d rpy = r.Vec3(*p);
      spec.grasp_offset.linear() =
          (Eigen::AngleAxisd(rpy.z(), Eigen::Vector3d::UnitZ()) * Eigen::AngleAxisd(rpy.y(), Eigen::Vector3d::UnitY()) *
           Eigen::AngleAxisd(rpy.x(), Eigen::Vector3d::UnitX()))
              .toRotationMatrix();
    }
  }
  return spec;
}

IkSolution SolveEndEffectorIk(const sim::RigidBodyDynamics& dynamics, const sim::RobotModel& robot,
                              const RetargetSpec& spec, const Eigen::Isometry3d& target, const Eigen::VectorXd& seed,
                              const IkOptions& options) {
  const int n = static_cast<int>(spec.arm_dofs.size());
  IkSolution best;
  best.q = seed;
  ClampToLimits(robot, spec.arm_dofs, best.q);
  Eigen::VectorXd q = best.q;
  double best_size = std::numeric_limits<double>::infinity();
  const Eigen::Matrix<double, 6, 6> damping =
      options.damping * options.damping * Eigen::Matrix<double, 6, 6>::Identity();
  const double weight = options.rotation_weight_m_per_rad;
  const auto weighted_size = [&](const Eigen::Matrix<double, 6, 1>& e) {
    return e.head<3>().norm() + weight * e.tail<3>().norm();
  };
  for (int iteration = 0;; ++iteration) {
    const Eigen::Isometry3d current = dynamics.LinkPoses(q)[spec.end_effector_link];
    Eigen::Matrix<double, 6, 1> e = PoseError(target, current);
    const double position_error = e.head<3>().norm(), rotation_error = e.tail<3>().norm();
    // Keep the best iterate: clamping at a limit can make an iteration worse.
    if (weighted_size(e) < best_size) {
      best_size = weighted_size(e);
      best.q = q;
      best.position_error_m = position_error;
      best.rotation_error_rad = rotation_error;
      best.iterations = iteration;
    }
    if ((position_error <= options.tolerance_m && rotation_error <= options.tolerance_rad) ||
        iteration == options.max_iterations) {
      break;
    }
    // Far from the target, aim at a nearer point on the way: the linearisation holds only nearby.
    if (position_error > options.max_step_m) e.head<3>() *= options.max_step_m / position_error;
    if (rotation_error > options.max_step_rad) e.tail<3>() *= options.max_step_rad / rotation_error;
    const Eigen::Matrix<double, 6, Eigen::Dynamic> full = dynamics.Jacobian(q, spec.end_effector_link, {0, 0, 0});
    Eigen::Matrix<double, 6, Eigen::Dynamic> jacobian(6, n);
    for (int i = 0; i < n; ++i) jacobian.col(i) = full.col(spec.arm_dofs[i]);
    jacobian.bottomRows<3>() *= weight;
    e.tail<3>() *= weight;
    // Damped least squares (Wampler; Nakamura and Hanafusa): bounded steps near singularities.
    const Eigen::Matrix<double, 6, 1> y = (jacobian * jacobian.transpose() + damping).ldlt().solve(e);
    const Eigen::VectorXd step = jacobian.transpose() * y;
    for (int i = 0; i < n; ++i) q[spec.arm_dofs[i]] += step[i];
    ClampToLimits(robot, spec.arm_dofs, q);
  }
  return best;
}

RetargetResult Retarget(const sim::Model& model, const RetargetSpec& spec, const Eigen::MatrixXd& source_targets,
                        const Eigen::Isometry3d& source_object_pose, const Eigen::Isometry3d& new_object_pose) {
  CheckRetargetSpec(model, spec);
  const sim::RobotModel& robot = *model.robot;
  if (source_targets.rows() != robot.num_dofs() || source_targets.cols() < 1) {
    throw std::invalid_argument("Retarget: source_targets is " + std::to_string(source_targets.rows()) + " x " +
                                std::to_string(source_targets.cols()) + ", expected " +
                                std::to_string(robot.num_dofs()) + " dofs x at least one frame");
  }
  if (!source_targets.allFinite()) throw std::invalid_argument("Retarget: source_targets holds a NaN or infinity");
  const std::int64_t frames = source_targets.cols();
  const sim::RigidBodyDynamics dynamics(robot, model.sim.gravity_mps2);

  // 1. Gripper state and segments, with hysteresis and without flickers.
  const GripperEvents gripper = SegmentGripper(spec, source_targets);
  const std::vector<bool>& closed = gripper.closed;
  RetargetResult result;
  result.segment_starts.push_back(0);
  for (std::int64_t f = 1; f < frames; ++f) {
    if (closed[f] != closed[f - 1]) result.segment_starts.push_back(f);
  }
  // The approach ends at the grasp that carries the object (a re-grasp's first, abandoned grasp is part of it).
  const auto carrying = CarryingGrasp(gripper, frames);
  const std::int64_t first_grasp = carrying ? carrying->first : frames;

  // 2. and 3. The source's end-effector poses and where each frame's pose goes. The open frames before the first
  // grasp approach the object and move with it; the rest act on the place target, which stays (see the header).
  std::vector<Eigen::Isometry3d> source_ee(frames);
  std::vector<bool> on_object(frames);
  for (std::int64_t f = 0; f < frames; ++f) {
    source_ee[f] = dynamics.LinkPoses(source_targets.col(f))[spec.end_effector_link];
    on_object[f] = f < first_grasp;
  }
  // How much of the object's motion an approach frame takes: all of it once the hand has come within reach_in_m
  // of its closest approach to the object (the grasp), none where the approach starts, in between by how far the
  // hand has come (smoothstep, never decreasing). Moving the whole approach rigidly would also swing its start
  // (the robot's home pose, far from the object) about the object, out of reach of an arm with few joints; the
  // hand only needs to meet the object.
  std::vector<double> follow(frames, 1.0);
  {
    const auto distance_m = [&](std::int64_t f) {
      return (source_ee[f].translation() - source_object_pose.translation()).norm();
    };
    const std::int64_t approach_end = std::min(first_grasp, frames);
    double closest_m = distance_m(0);
    for (std::int64_t f = 0; f < approach_end; ++f) closest_m = std::min(closest_m, distance_m(f));
    const double span_m = distance_m(0) - closest_m - spec.reach_in_m;
    double reached = 0;
    for (std::int64_t f = 0; f < approach_end; ++f) {
      reached = std::max(reached, span_m > 0 ? std::clamp((distance_m(0) - distance_m(f)) / span_m, 0.0, 1.0) : 1.0);
      follow[f] = Smoothstep(reached);
    }
  }
  const auto object_motion_at = [&](std::int64_t f) {
    const double w = follow[f];
    Eigen::Isometry3d moved = Eigen::Isometry3d::Identity();
    moved.translation() = (1 - w) * source_object_pose.translation() + w * new_object_pose.translation();
    moved.linear() = Eigen::Quaterniond(source_object_pose.linear())
                         .slerp(w, Eigen::Quaterniond(new_object_pose.linear()))
                         .toRotationMatrix();
    return Eigen::Isometry3d(moved * source_object_pose.inverse());
  };
  auto target_of = [&](std::int64_t f) { return on_object[f] ? object_motion_at(f) * source_ee[f] : source_ee[f]; };

  // 4. IK per frame. The start: the previous solution moved by the demonstration's own joint step (exact where the
  // transform does not change, and the redundancy follows the demonstration); where the transform changes, the
  // source's own joints are tried too (exact for a frame kept in the world).
  Eigen::MatrixXd solution = source_targets;
  double worst_ik_error = -1;  // metres plus radians, as ErrorSize
  // An arm with fewer than 6 joints cannot match every orientation: it reaches the position first.
  IkOptions ik_options;
  if (spec.arm_dofs.size() < 6) ik_options.rotation_weight_m_per_rad = 0.05;
  for (std::int64_t f = 0; f < frames; ++f) {
    const Eigen::Isometry3d target = target_of(f);
    Eigen::VectorXd seed = source_targets.col(f);
    if (f > 0) {
      Eigen::VectorXd advanced = source_targets.col(f);
      for (int dof : spec.arm_dofs) {
        advanced[dof] = solution(dof, f - 1) + source_targets(dof, f) - source_targets(dof, f - 1);
      }
      const bool transform_changes = on_object[f] != on_object[f - 1];
      const auto error_of = [&](const Eigen::VectorXd& q) {
        return ErrorSize(PoseError(target, dynamics.LinkPoses(q)[spec.end_effector_link]));
      };
      if (!transform_changes || error_of(advanced) <= error_of(seed)) seed = advanced;
    }
    const IkSolution ik = SolveEndEffectorIk(dynamics, robot, spec, target, seed, ik_options);
    for (int dof : spec.arm_dofs) solution(dof, f) = ik.q[dof];
    result.max_ik_error_m = std::max(result.max_ik_error_m, ik.position_error_m);
    result.max_ik_error_rad = std::max(result.max_ik_error_rad, ik.rotation_error_rad);
    if (ik.position_error_m + ik.rotation_error_rad > worst_ik_error) {
      worst_ik_error = ik.position_error_m + ik.rotation_error_rad;
      result.worst_ik_frame = f;
    }
  }

  // 5. Transitions: carry the gap at each boundary as an offset that fades once the demonstration moves on.
  result.position = solution;
  const auto still = [&](std::int64_t f, std::int64_t reference) {
    const Eigen::Matrix<double, 6, 1> e = PoseError(source_ee[reference], source_ee[f]);
    return e.head<3>().norm() <= spec.hold_tolerance_m && e.tail<3>().norm() <= spec.hold_tolerance_rad;
  };
  for (std::size_t s = 0; s < result.segment_starts.size(); ++s) {
    const std::int64_t begin = result.segment_starts[s];
    const std::int64_t end = s + 1 < result.segment_starts.size() ? result.segment_starts[s + 1] : frames;
    // Before frame 0 the robot stands at the source's first targets: that is where an episode starts it.
    const Eigen::VectorXd before =
        begin == 0 ? Eigen::VectorXd(source_targets.col(0)) : Eigen::VectorXd(result.position.col(begin - 1));
    Eigen::VectorXd gap = Eigen::VectorXd::Zero(robot.num_dofs());
    for (int dof : spec.arm_dofs) gap[dof] = before[dof] - solution(dof, begin);
    if (gap.lpNorm<Eigen::Infinity>() == 0) continue;
    std::int64_t moves = begin + 1;  // the first frame where the demonstration leaves its pose at the boundary
    while (moves < end && still(moves, begin)) ++moves;
    const std::int64_t blend = std::min<std::int64_t>(spec.transition_frames, end - moves);
    for (std::int64_t f = begin; f < end; ++f) {
      double w = 1;
      if (f < moves) {
        w = 0;
      } else if (f - moves < blend) {
        w = Smoothstep(static_cast<double>(f - moves + 1) / static_cast<double>(blend));
      }
      if (w == 1) break;
      Eigen::VectorXd q = result.position.col(f);
      for (int dof : spec.arm_dofs) q[dof] += (1 - w) * gap[dof];
      ClampToLimits(robot, spec.arm_dofs, q);
      result.position.col(f) = q;
    }
  }
  return result;
}

}  // namespace r2s::amplify

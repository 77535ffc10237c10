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

std::vector<int> PickedObjects(const RetargetSpec& spec) {
  std::vector<int> objects = {spec.object};
  objects.insert(objects.end(), spec.later_objects.begin(), spec.later_objects.end());
  return objects;
}

void CheckRetargetSpec(const sim::Model& model, const RetargetSpec& spec) {
  if (!model.robot) throw std::invalid_argument("Retarget: the model '" + model.name + "' has no robot");
  const sim::RobotModel& robot = *model.robot;
  const std::string where = spec.source.empty() ? "Retarget" : "Retarget (" + spec.source + ")";
  std::set<int> picked;
  for (int object : PickedObjects(spec)) {
    if (object < 0 || object >= static_cast<int>(model.objects.size())) {
      throw std::invalid_argument(where + ": object index " + std::to_string(object) + " is not one of the " +
                                  std::to_string(model.objects.size()) + " objects");
    }
    if (!picked.insert(object).second) {
      throw std::invalid_argument(where + ": object index " + std::to_string(object) + " is picked twice");
    }
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
  if (const auto& place = spec.place_relative_to) {
    const std::size_t bodies = place->is_object ? model.objects.size() : model.environment.size();
    if (place->index < 0 || static_cast<std::size_t>(place->index) >= bodies ||
        (place->is_object && picked.count(place->index))) {
      throw std::invalid_argument(where + ": place_relative_to = " + (place->is_object ? "object " : "environment ") +
                                  std::to_string(place->index) + ", expected another of the model's " +
                                  std::to_string(bodies) + (place->is_object ? " objects" : " environment bodies"));
    }
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
               "gripper_open_above", "transition_frames", "grasp_offset", "place_relative_to"});
  if (!model.robot) r.Fail(*section, "the scene has no robot to retarget");
  const sim::RobotModel& robot = *model.robot;

  RetargetSpec spec;
  spec.source = scene_yaml.filename().string() + ":" + std::to_string(section->line) + ": retarget";

  const Value object = m.Require("object");
  const auto find_object = [&](const Value& v) {
    const std::string object_name = r.String(v);
    const int index = model.FindObject(object_name);
    if (index < 0) {
      std::string names;
      for (const sim::ObjectModel& o : model.objects) names += (names.empty() ? "" : ", ") + o.name;
      const bool is_static = std::any_of(model.environment.begin(), model.environment.end(),
                                         [&](const sim::ObjectModel& o) { return o.name == object_name; });
      r.Fail(v, "unknown object '" + object_name + "'" + (is_static ? " (it is static: environment)" : "") +
                    "; the scene's free objects are: " + (names.empty() ? "none" : names));
    }
    return index;
  };
  if (object.node.IsSequence()) {
    const auto items = r.List(object);
    if (items.empty()) r.Fail(object, "an empty list: name the object (or the objects, in the order picked)");
    std::set<int> picked;
    for (const Value& item : items) {
      const int index = find_object(item);
      if (!picked.insert(index).second) r.Fail(item, "'" + item.node.Scalar() + "' is listed twice");
      if (spec.object < 0) {
        spec.object = index;
      } else {
        spec.later_objects.push_back(index);
      }
    }
  } else {
    spec.object = find_object(object);
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
  const auto offset_of = [&](const Value& v) {
    const Map offset(r, v, {"position_m", "rpy_rad"});
    Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
    if (auto p = offset.Get("position_m")) pose.translation() = r.Vec3(*p);
    if (auto p = offset.Get("rpy_rad")) {
      const Eigen::Vector3d rpy = r.Vec3(*p);
      pose.linear() =
          (Eigen::AngleAxisd(rpy.z(), Eigen::Vector3d::UnitZ()) * Eigen::AngleAxisd(rpy.y(), Eigen::Vector3d::UnitY()) *
           Eigen::AngleAxisd(rpy.x(), Eigen::Vector3d::UnitX()))
              .toRotationMatrix();
    }
    return pose;
  };
  if (auto v = m.Get("grasp_offset")) spec.grasp_offset = offset_of(*v);
  if (auto v = m.Get("place_relative_to")) {
    const std::string name = r.String(*v);
    RetargetSpec::BodyRef body;
    if (const int object_index = model.FindObject(name); object_index >= 0) {
      const std::vector<int> picked = PickedObjects(spec);
      if (std::find(picked.begin(), picked.end(), object_index) != picked.end()) {
        r.Fail(*v, "'" + name + "' is an object being moved (retarget.object); the place needs another body");
      }
      body = {true, object_index};
    } else {
      std::string names;
      for (std::size_t i = 0; i < model.environment.size(); ++i) {
        if (model.environment[i].name == name) body = {false, static_cast<int>(i)};
        names += (names.empty() ? "" : ", ") + model.environment[i].name;
      }
      for (const sim::ObjectModel& o : model.objects) names += (names.empty() ? "" : ", ") + o.name;
      if (body.index < 0) r.Fail(*v, "unknown body '" + name + "'; the scene's bodies are: " + names);
    }
    spec.place_relative_to = body;
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
  RetargetPoses poses;
  poses.source_object = source_object_pose;
  poses.new_object = new_object_pose;
  return Retarget(model, spec, source_targets, poses);
}

RetargetResult Retarget(const sim::Model& model, const RetargetSpec& spec, const Eigen::MatrixXd& source_targets,
                        const RetargetPoses& poses) {
  CheckRetargetSpec(model, spec);
  const sim::RobotModel& robot = *model.robot;
  if (source_targets.rows() != robot.num_dofs() || source_targets.cols() < 1) {
    throw std::invalid_argument("Retarget: source_targets is " + std::to_string(source_targets.rows()) + " x " +
                                std::to_string(source_targets.cols()) + ", expected " +
                                std::to_string(robot.num_dofs()) + " dofs x at least one frame");
  }
  if (!source_targets.allFinite()) throw std::invalid_argument("Retarget: source_targets holds a NaN or infinity");
  const std::pair<const char*, const Eigen::Isometry3d*> named_poses[] = {{"source_object", &poses.source_object},
                                                                          {"new_object", &poses.new_object},
                                                                          {"source_place", &poses.source_place},
                                                                          {"new_place", &poses.new_place}};
  for (const auto& [name, pose] : named_poses) {
    if (!pose->matrix().allFinite()) throw std::invalid_argument(std::string("Retarget: ") + name + " is not finite");
  }
  if (poses.source_later_objects.size() != spec.later_objects.size() ||
      poses.new_later_objects.size() != spec.later_objects.size()) {
    throw std::invalid_argument("Retarget: " + std::to_string(poses.source_later_objects.size()) + " source and " +
                                std::to_string(poses.new_later_objects.size()) + " new poses for " +
                                std::to_string(spec.later_objects.size()) + " later objects");
  }
  for (std::size_t i = 0; i < spec.later_objects.size(); ++i) {
    if (!poses.source_later_objects[i].matrix().allFinite() || !poses.new_later_objects[i].matrix().allFinite()) {
      throw std::invalid_argument("Retarget: later object " + std::to_string(i) + "'s pose is not finite");
    }
  }
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
  // Each picked object's approach ends at the grasp that carries it (a re-grasp's first, abandoned grasp is part of
  // it), and the next object's approach starts at that grasp's release.
  const std::vector<int> picked = PickedObjects(spec);
  const auto carrying = CarryingGrasps(gripper, frames, static_cast<int>(picked.size()));
  // Subtask k approaches object k over [approach_begin[k], grasp_at[k]) (from the previous release on) and carries
  // it from its grasp until the next approach begins. Per frame: its subtask and whether it approaches.
  const std::size_t subtasks = std::max<std::size_t>(carrying.size(), 1);
  std::vector<std::int64_t> approach_begin(subtasks), grasp_at(subtasks);
  std::vector<int> subtask(frames, 0);
  std::vector<bool> approaching(frames, true);
  for (std::size_t k = 0; k < subtasks; ++k) {
    approach_begin[k] = k == 0 ? 0 : carrying[k - 1].second;
    grasp_at[k] = k < carrying.size() ? carrying[k].first : frames;
    const std::int64_t carry_end = k + 1 < subtasks ? carrying[k].second : frames;
    for (std::int64_t f = approach_begin[k]; f < carry_end; ++f) {
      subtask[f] = static_cast<int>(k);
      approaching[f] = f < grasp_at[k];
    }
  }
  std::vector<Eigen::Isometry3d> source_objects = {poses.source_object}, new_objects = {poses.new_object};
  source_objects.insert(source_objects.end(), poses.source_later_objects.begin(), poses.source_later_objects.end());
  new_objects.insert(new_objects.end(), poses.new_later_objects.begin(), poses.new_later_objects.end());

  // 2. and 3. The source's end-effector poses and where each frame's pose goes (see the header).
  std::vector<Eigen::Isometry3d> source_ee(frames);
  for (std::int64_t f = 0; f < frames; ++f) {
    source_ee[f] = dynamics.LinkPoses(source_targets.col(f))[spec.end_effector_link];
  }
  // How far the hand has come towards `point` over frames [begin, end), per frame: 0 where it starts, 1 once
  // within reach_in_m of its closest approach, smoothstep between and never decreasing.
  const auto progress_towards = [&](const Eigen::Vector3d& point, std::int64_t begin, std::int64_t end) {
    std::vector<double> w(static_cast<std::size_t>(std::max<std::int64_t>(end - begin, 0)), 1.0);
    if (end <= begin) return w;
    const auto distance_m = [&](std::int64_t f) { return (source_ee[f].translation() - point).norm(); };
    double closest_m = distance_m(begin);
    for (std::int64_t f = begin; f < end; ++f) closest_m = std::min(closest_m, distance_m(f));
    const double span_m = distance_m(begin) - closest_m - spec.reach_in_m;
    double reached = 0;
    for (std::int64_t f = begin; f < end; ++f) {
      reached =
          std::max(reached, span_m > 0 ? std::clamp((distance_m(begin) - distance_m(f)) / span_m, 0.0, 1.0) : 1.0);
      w[static_cast<std::size_t>(f - begin)] = Smoothstep(reached);
    }
    return w;
  };
  // How much of the object's motion an approach frame takes: all of it once the hand has come within reach of the
  // object, none where the approach starts. Moving the whole approach rigidly would also swing its start (the
  // robot's home pose, far from the object) about the object, out of reach of an arm with few joints; the hand
  // only needs to meet the object.
  std::vector<double> follow(frames, 1.0);
  for (std::size_t k = 0; k < subtasks; ++k) {
    const std::vector<double> w = progress_towards(source_objects[k].translation(), approach_begin[k], grasp_at[k]);
    std::copy(w.begin(), w.end(), follow.begin() + approach_begin[k]);
  }
  // The frames from the grasp on act on the place reference (the identity when it stays). At the grasp the mapping
  // changes from the object's to the place's; step 5 blends the gap in joint space once the hand moves on. (Mapping
  // the lift by the object's motion too would carry the object's turn into the carry: a 5-dof arm cannot turn a
  // tilted hand about the vertical.)
  const Eigen::Isometry3d place_motion = poses.new_place * poses.source_place.inverse();
  // The pose w of the way from a to b (positions straight, orientations by slerp).
  const auto between = [](const Eigen::Isometry3d& a, const Eigen::Isometry3d& b, double w) {
    Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
    pose.translation() = (1 - w) * a.translation() + w * b.translation();
    pose.linear() = Eigen::Quaterniond(a.linear()).slerp(w, Eigen::Quaterniond(b.linear())).toRotationMatrix();
    return pose;
  };
  auto target_of = [&](std::int64_t f) -> Eigen::Isometry3d {
    if (!approaching[f]) return place_motion * source_ee[f];
    const std::size_t k = static_cast<std::size_t>(subtask[f]);
    if (k == 0) {
      // The object's pose w of the way to where the variant put it, and the hand kept in its frame.
      const Eigen::Isometry3d moved = between(poses.source_object, poses.new_object, follow[f]);
      return moved * poses.source_object.inverse() * source_ee[f];
    }
    // A later object's approach starts at the previous place: from the place's mapping to the object's.
    return between(place_motion * source_ee[f], new_objects[k] * source_objects[k].inverse() * source_ee[f],
                   follow[f]);
  };

  // 4. IK per frame. The start: the previous solution moved by the demonstration's own joint step (exact where the
  // transform does not change, and the redundancy follows the demonstration); where the transform changes, the
  // source's own joints are tried too (exact for a frame kept in the world).
  Eigen::MatrixXd solution = source_targets;
  double worst_ik_error = -1;  // metres plus radians, as ErrorSize
  double phase_worst[2] = {-1, -1};  // the same for the approach and the carry
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
      const bool transform_changes = approaching[f] != approaching[f - 1];
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
    const int in_carry = approaching[f] ? 0 : 1;
    RetargetResult::PhaseIkError& phase = in_carry ? result.carry_ik : result.approach_ik;
    phase.max_m = std::max(phase.max_m, ik.position_error_m);
    phase.max_rad = std::max(phase.max_rad, ik.rotation_error_rad);
    if (ik.position_error_m + ik.rotation_error_rad > phase_worst[in_carry]) {
      phase_worst[in_carry] = ik.position_error_m + ik.rotation_error_rad;
      phase.worst_frame = f;
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

#include "amplify/grasp_inference.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "episode/input_error.h"
#include "sim/rigid_body_dynamics.h"
#include "sim/yaml_values.h"

namespace r2s::amplify {
namespace {

using sim::yaml::Map;
using sim::yaml::Reader;
using sim::yaml::Value;

// The closing starts and settles within this fraction of the jaw's travel from its open and held values.
constexpr double kJawLevelFraction = 0.1;

template <typename... Args>
std::string Format(const char* format, Args... args) {
  char buffer[256];
  std::snprintf(buffer, sizeof(buffer), format, args...);
  return buffer;
}

double Median(std::vector<double> values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

double AngleBetween(const Eigen::Isometry3d& a, const Eigen::Isometry3d& b) {
  return Eigen::AngleAxisd(a.linear().transpose() * b.linear()).angle();
}

// Mean position and normalized mean of the sign-aligned quaternions: good for the small spreads of one grasp.
Eigen::Isometry3d AveragePose(const std::vector<Eigen::Isometry3d>& poses) {
  Eigen::Vector3d position = Eigen::Vector3d::Zero();
  Eigen::Vector4d quaternion = Eigen::Vector4d::Zero();
  const Eigen::Quaterniond first(poses.front().linear());
  for (const Eigen::Isometry3d& pose : poses) {
    position += pose.translation();
    Eigen::Quaterniond q(pose.linear());
    if (q.dot(first) < 0) q.coeffs() = -q.coeffs();
    quaternion += q.coeffs();
  }
  Eigen::Isometry3d mean = Eigen::Isometry3d::Identity();
  mean.translation() = position / static_cast<double>(poses.size());
  mean.linear() = Eigen::Quaterniond(quaternion.normalized()).toRotationMatrix();
  return mean;
}

// RMS distance and RMS angle of `poses` from `mean`.
std::pair<double, double> Spread(const std::vector<Eigen::Isometry3d>& poses, const Eigen::Isometry3d& mean) {
  double m2 = 0, rad2 = 0;
  for (const Eigen::Isometry3d& pose : poses) {
    m2 += (pose.translation() - mean.translation()).squaredNorm();
    rad2 += std::pow(AngleBetween(pose, mean), 2);
  }
  const double n = static_cast<double>(poses.size());
  return {std::sqrt(m2 / n), std::sqrt(rad2 / n)};
}

// The average of the poses of frames f - 1 .. f + 1 within [begin, end): one frame's pose with its noise damped.
Eigen::Isometry3d Smoothed(const std::vector<Eigen::Isometry3d>& poses, std::int64_t f, std::int64_t begin,
                           std::int64_t end) {
  std::vector<Eigen::Isometry3d> near;
  for (std::int64_t k = std::max(begin, f - 1); k <= std::min(end - 1, f + 1); ++k) near.push_back(poses[k]);
  return AveragePose(near);
}

// `value`, with what would print as -0 at `resolution` printed as 0.
double Printable(double value, double resolution) { return std::abs(value) < resolution / 2 ? 0.0 : value; }

std::string DescribePose(const Eigen::Isometry3d& pose) {
  const Eigen::Matrix3d& r = pose.linear();
  // URDF roll-pitch-yaw (R = Rz(y) Ry(p) Rx(r)), in degrees for people.
  const double deg = 180 / std::numbers::pi;
  const double pitch = std::asin(std::clamp(-r(2, 0), -1.0, 1.0));
  const double roll = std::atan2(r(2, 1), r(2, 2)), yaw = std::atan2(r(1, 0), r(0, 0));
  const Eigen::Vector3d& p = pose.translation();
  return Format("(%.4f, %.4f, %.4f) m, rpy (%.1f, %.1f, %.1f) deg", Printable(p.x(), 1e-4), Printable(p.y(), 1e-4),
                Printable(p.z(), 1e-4), Printable(roll * deg, 0.1), Printable(pitch * deg, 0.1),
                Printable(yaw * deg, 0.1));
}

Eigen::Matrix3d RollPitchYaw(const Eigen::Vector3d& rpy) {
  return (Eigen::AngleAxisd(rpy.z(), Eigen::Vector3d::UnitZ()) * Eigen::AngleAxisd(rpy.y(), Eigen::Vector3d::UnitY()) *
          Eigen::AngleAxisd(rpy.x(), Eigen::Vector3d::UnitX()))
      .toRotationMatrix();
}

}  // namespace

Eigen::VectorXd MeanGripperSignal(const Eigen::MatrixXd& q, const std::vector<int>& gripper_dofs) {
  Eigen::VectorXd signal = Eigen::VectorXd::Zero(q.cols());
  if (gripper_dofs.empty()) return signal;
  for (int dof : gripper_dofs) signal += q.row(dof).transpose();
  return signal / static_cast<double>(gripper_dofs.size());
}

GripperEvents SegmentGripper(const Eigen::VectorXd& signal, double closed_below, double open_above, int min_frames) {
  if (!(open_above >= closed_below)) {
    throw std::invalid_argument("SegmentGripper: open_above = " + std::to_string(open_above) +
                                " is below closed_below = " + std::to_string(closed_below));
  }
  if (min_frames < 1) {
    throw std::invalid_argument("SegmentGripper: min_frames = " + std::to_string(min_frames) + ", expected at least 1");
  }
  const std::int64_t frames = signal.size();
  GripperEvents events;
  events.closed.assign(frames, false);
  if (frames == 0) return events;
  bool closed = signal[0] < closed_below;
  events.closed[0] = closed;
  // Whether frame k, seen from the state `from`, asks for the other state.
  const auto flips = [&](bool from, std::int64_t k) {
    return from ? signal[k] >= open_above : signal[k] < closed_below;
  };
  for (std::int64_t f = 1; f < frames; ++f) {
    if (flips(closed, f)) {
      // The new state must hold min_frames frames: none of them may flip back to the old one.
      bool holds = f + min_frames <= frames;
      for (std::int64_t k = f; holds && k < f + min_frames; ++k) holds = !flips(!closed, k);
      if (holds) {
        closed = !closed;
        (closed ? events.grasp_frames : events.release_frames).push_back(f);
      }
    }
    events.closed[f] = closed;
  }
  return events;
}

GripperEvents SegmentGripper(const RetargetSpec& spec, const Eigen::MatrixXd& q) {
  if (spec.gripper_dofs.empty()) {
    GripperEvents events;
    events.closed.assign(q.cols(), false);
    return events;
  }
  return SegmentGripper(MeanGripperSignal(q, spec.gripper_dofs), spec.gripper_closed_below, spec.open_above(),
                        spec.gripper_min_frames);
}

void GraspInferenceOptions::Check() const {
  const auto fail = [](const std::string& field, double value, const std::string& rule) {
    throw std::invalid_argument("GraspInferenceOptions: " + field + " = " + Format("%g", value) + ", expected " + rule);
  };
  if (estimate_frames < 1) fail("estimate_frames", estimate_frames, "at least 1");
  const std::pair<const char*, double> positive[] = {{"still_tolerance_m", still_tolerance_m},
                                                     {"still_tolerance_rad", still_tolerance_rad},
                                                     {"max_closing_motion_m", max_closing_motion_m},
                                                     {"max_closing_motion_rad", max_closing_motion_rad},
                                                     {"max_spread_m", max_spread_m},
                                                     {"max_spread_rad", max_spread_rad}};
  for (const auto& [field, value] : positive) {
    if (!(value > 0) || !std::isfinite(value)) fail(field, value, "a finite number above 0");
  }
  if (!(held_fraction > 0 && held_fraction < 1)) fail("held_fraction", held_fraction, "a number in (0, 1)");
  if (gripper_fully_closed && !std::isfinite(*gripper_fully_closed)) {
    fail("gripper_fully_closed", *gripper_fully_closed, "a finite number");
  }
}

std::vector<std::pair<std::int64_t, std::int64_t>> CarryingGrasps(const GripperEvents& events, std::int64_t frames,
                                                                  int count) {
  std::vector<std::pair<std::int64_t, std::int64_t>> grasps;
  for (std::int64_t grasp : events.grasp_frames) {
    std::int64_t release = frames;
    for (std::int64_t r : events.release_frames) {
      if (r > grasp) {
        release = r;
        break;
      }
    }
    grasps.emplace_back(grasp, release);
  }
  // Longest first; of equally long ones, the earlier.
  std::stable_sort(grasps.begin(), grasps.end(),
                   [](const auto& a, const auto& b) { return a.second - a.first > b.second - b.first; });
  grasps.resize(std::min<std::size_t>(grasps.size(), static_cast<std::size_t>(std::max(count, 0))));
  std::sort(grasps.begin(), grasps.end());
  return grasps;
}

std::optional<std::pair<std::int64_t, std::int64_t>> CarryingGrasp(const GripperEvents& events, std::int64_t frames) {
  const auto grasps = CarryingGrasps(events, frames, 1);
  if (grasps.empty()) return std::nullopt;
  return grasps.front();
}

InferredObjectPoses InferObjectPoses(const sim::Model& model, const RetargetSpec& spec,
                                     const Eigen::MatrixXd& measured_q, const GraspInferenceOptions& options,
                                     int pick) {
  CheckRetargetSpec(model, spec);
  options.Check();
  const sim::RobotModel& robot = *model.robot;
  if (measured_q.rows() != robot.num_dofs() || measured_q.cols() < 1) {
    throw std::invalid_argument("InferObjectPoses: measured_q is " + std::to_string(measured_q.rows()) + " x " +
                                std::to_string(measured_q.cols()) + ", expected " + std::to_string(robot.num_dofs()) +
                                " dofs x at least one frame");
  }
  if (!measured_q.allFinite()) throw std::invalid_argument("InferObjectPoses: measured_q holds a NaN or infinity");
  const std::vector<int> picked = PickedObjects(spec);
  if (pick < 0 || pick >= static_cast<int>(picked.size())) {
    throw std::invalid_argument("InferObjectPoses: pick = " + std::to_string(pick) + ", expected 0 to " +
                                std::to_string(picked.size() - 1) + " (the objects the spec picks)");
  }
  const std::string& object_name = model.objects[picked[pick]].name;
  const std::int64_t frames = measured_q.cols();

  // 1. Gripper events.
  InferredObjectPoses out;
  const Eigen::VectorXd signal = MeanGripperSignal(measured_q, spec.gripper_dofs);
  const GripperEvents events = SegmentGripper(spec, measured_q);
  out.grasps = static_cast<int>(events.grasp_frames.size());
  if (events.grasp_frames.empty()) {
    out.summary = "no grasp of " + object_name + ": the gripper ";
    if (spec.gripper_dofs.empty()) {
      out.summary += "has no dofs";
    } else if (events.closed[0] && events.release_frames.empty()) {
      out.summary += "is closed throughout (the grasp happened before the recording)";
    } else if (events.closed[0]) {
      out.summary += "is closed from frame 0 (the grasp happened before the recording) and never closes again";
    } else {
      out.summary += Format(
          "never closes (its signal's lowest value %.4g is not below gripper_closed_below %.4g "
          "for %d frames)",
          signal.minCoeff(), spec.gripper_closed_below, spec.gripper_min_frames);
    }
    return out;
  }
  const auto carrying_grasps = CarryingGrasps(events, frames, static_cast<int>(picked.size()));
  if (pick >= static_cast<int>(carrying_grasps.size())) {
    out.summary = Format("no grasp of %s: it is object %d of the %zu picked, and the demonstration holds %zu grasps",
                         object_name.c_str(), pick + 1, picked.size(), carrying_grasps.size());
    return out;
  }
  out.grasp_found = true;
  const std::int64_t grasp = carrying_grasps[static_cast<std::size_t>(pick)].first;
  const std::int64_t release = carrying_grasps[static_cast<std::size_t>(pick)].second;
  out.grasp_frame = grasp;
  out.release_frame = release < frames ? release : -1;
  std::int64_t open_begin = 0;  // the open run before the grasp: [open_begin, grasp)
  for (std::int64_t r : events.release_frames) {
    if (r < grasp) open_begin = r;
  }
  const std::int64_t closed_end = out.release_frame >= 0 ? out.release_frame : frames;  // closed run: [grasp, end)

  // 2. The jaw's levels, and when it starts closing and settles.
  const auto median_of = [&](std::int64_t begin, std::int64_t end) {
    return Median(std::vector<double>(signal.data() + begin, signal.data() + end));
  };
  out.jaw_open = median_of(open_begin, grasp);
  out.jaw_held = median_of(grasp, closed_end);
  const double travel = out.jaw_open - out.jaw_held;
  out.closing_start_frame = grasp - 1;
  out.settled_frame = grasp;
  if (travel > 0) {
    while (out.closing_start_frame > open_begin &&
           signal[out.closing_start_frame] < out.jaw_open - kJawLevelFraction * travel) {
      --out.closing_start_frame;
    }
    while (out.settled_frame + 1 < closed_end &&
           signal[out.settled_frame] > out.jaw_held + kJawLevelFraction * travel) {
      ++out.settled_frame;
    }
  }
  if (options.gripper_fully_closed) {
    out.jaw_fully_closed = *options.gripper_fully_closed;
  } else {
    double sum = 0;
    for (int dof : spec.gripper_dofs) sum += robot.dof_link(dof).lower_limit;
    out.jaw_fully_closed = sum / static_cast<double>(spec.gripper_dofs.size());
  }
  out.jaw_stopped_short =
      out.jaw_held - out.jaw_fully_closed > options.held_fraction * (out.jaw_open - out.jaw_fully_closed);

  // The end effector's and the object's poses of every frame.
  const sim::RigidBodyDynamics dynamics(robot, model.sim.gravity_mps2);
  std::vector<Eigen::Isometry3d> hand(frames), object(frames);
  for (std::int64_t f = 0; f < frames; ++f) {
    hand[f] = dynamics.LinkPoses(measured_q.col(f))[spec.end_effector_link];
    object[f] = hand[f] * spec.grasp_offset;
  }
  const auto still = [&](std::int64_t f, const Eigen::Isometry3d& reference) {
    return (hand[f].translation() - reference.translation()).norm() <= options.still_tolerance_m &&
           AngleBetween(hand[f], reference) <= options.still_tolerance_rad;
  };
  // Walks from frame `first` by `step` (+1 or -1) within [begin, end), adding to `samples` the object poses of the
  // frames whose hand is still at `reference`, at most `count`; one frame off is noise (skipped), two in a row
  // are motion (the walk stops).
  const auto collect = [&](std::int64_t first, int step, std::int64_t begin, std::int64_t end,
                           const Eigen::Isometry3d& reference, int count, std::vector<Eigen::Isometry3d>& samples) {
    bool missed = false;
    for (std::int64_t f = first; f >= begin && f < end && count > 0; f += step) {
      if (still(f, reference)) {
        samples.push_back(object[f]);
        --count;
        missed = false;
      } else if (missed) {
        break;
      } else {
        missed = true;
      }
    }
  };

  // How far the hand moved while the jaw closed, each end's pose damped over its neighbours.
  const Eigen::Isometry3d before = Smoothed(hand, out.closing_start_frame, open_begin, grasp);
  const Eigen::Isometry3d settled = Smoothed(hand, out.settled_frame, grasp, closed_end);
  out.closing_motion_m = (settled.translation() - before.translation()).norm();
  out.closing_motion_rad = AngleBetween(before, settled);

  // 3. The pose at grasp: the frames around the settled one whose hand is still there, averaged. Back to the
  // closing start (the operator holds still while squeezing; a compliant arm may also be pushed off by the grip,
  // which the frames after the settled one would carry into the estimate), forward until the hand moves on.
  std::vector<Eigen::Isometry3d> samples;
  collect(out.settled_frame - 1, -1, out.closing_start_frame, out.settled_frame, settled, options.estimate_frames / 2,
          samples);
  collect(out.settled_frame, +1, out.settled_frame, closed_end, settled,
          options.estimate_frames - static_cast<int>(samples.size()), samples);
  if (samples.empty()) samples.push_back(object[out.settled_frame]);
  out.pose_at_grasp = AveragePose(samples);
  // Where it lay: the pose at grasp, turned back about the vertical through it by what the hand turned while the
  // jaw closed. A single moving jaw pushes the object onto the fixed one and a compliant wrist turns with the push
  // (an SO-101's by 5-10 degrees), carrying the object along; just before closing, the person had the hand lined up
  // with the object, so the hand's heading then is the object's where it lay.
  const auto heading = [](const Eigen::Isometry3d& pose) {
    return std::atan2(pose.linear()(1, 0), pose.linear()(0, 0));
  };
  const double turned_rad = heading(settled * spec.grasp_offset) - heading(before * spec.grasp_offset);
  out.initial_pose = out.pose_at_grasp;
  out.initial_pose.linear() = Eigen::AngleAxisd(-turned_rad, Eigen::Vector3d::UnitZ()) * out.pose_at_grasp.linear();
  out.grasp_estimate_frames = static_cast<int>(samples.size());
  std::tie(out.spread_m, out.spread_rad) = Spread(samples, out.pose_at_grasp);

  // 4. The place pose: the still frames before the jaw starts opening (from then on the object may drop), averaged.
  if (out.release_frame >= 0) {
    out.opening_start_frame = out.release_frame;
    if (travel > 0) {
      while (out.opening_start_frame - 1 > out.settled_frame &&
             signal[out.opening_start_frame - 1] > out.jaw_held + kJawLevelFraction * travel) {
        --out.opening_start_frame;
      }
    }
    const std::int64_t held_end = out.opening_start_frame;  // the held frames: [settled_frame, held_end)
    const Eigen::Isometry3d last = Smoothed(hand, held_end - 1, out.settled_frame, held_end);
    samples.clear();
    collect(held_end - 1, -1, out.settled_frame, held_end, last, options.estimate_frames, samples);
    if (samples.empty()) samples.push_back(object[held_end - 1]);
    out.place_pose = AveragePose(samples);
    out.place_estimate_frames = static_cast<int>(samples.size());
    std::tie(out.place_spread_m, out.place_spread_rad) = Spread(samples, out.place_pose);
  }

  // 5. How sure, in one line.
  const double mm = 1000, deg = 180 / std::numbers::pi;
  std::vector<std::string> doubts;
  if (!out.jaw_stopped_short) {
    doubts.push_back(Format("the jaw closed to %.4g, within %.0f %% of fully closed (%.4g): nothing held?",
                            out.jaw_held, 100 * options.held_fraction, out.jaw_fully_closed));
  }
  if (out.closing_motion_m > options.max_closing_motion_m || out.closing_motion_rad > options.max_closing_motion_rad) {
    doubts.push_back(Format("the hand moved %.1f mm, %.1f deg while the jaw closed (at most %.1f mm, %.1f deg)",
                            out.closing_motion_m * mm, out.closing_motion_rad * deg, options.max_closing_motion_m * mm,
                            options.max_closing_motion_rad * deg));
  }
  if (out.spread_m > options.max_spread_m || out.spread_rad > options.max_spread_rad) {
    doubts.push_back(Format("the grasp pose spreads %.1f mm, %.1f deg over its %d frames (at most %.1f mm, %.1f deg)",
                            out.spread_m * mm, out.spread_rad * deg, out.grasp_estimate_frames,
                            options.max_spread_m * mm, options.max_spread_rad * deg));
  }
  out.reliable = doubts.empty();
  if (out.grasps > 1) doubts.push_back(std::to_string(out.grasps) + " grasps, the one held longest used");
  if (out.release_frame < 0) doubts.push_back("never released: no place pose");
  out.summary =
      object_name + " grasped at frame " + std::to_string(grasp) +
      (out.release_frame >= 0 ? ", released at frame " + std::to_string(out.release_frame) : "") + "; lay at " +
      DescribePose(out.initial_pose) + "; at grasp " + DescribePose(out.pose_at_grasp) +
      Format(" from %d frames (spread %.1f mm, %.1f deg); hand moved %.1f mm, %.1f deg while the jaw closed",
             out.grasp_estimate_frames, out.spread_m * mm, out.spread_rad * deg, out.closing_motion_m * mm,
             out.closing_motion_rad * deg) +
      Format("; jaw held at %.4g (open %.4g, fully closed %.4g)", out.jaw_held, out.jaw_open, out.jaw_fully_closed) +
      (out.release_frame >= 0 ? "; placed at " + DescribePose(out.place_pose) : "") +
      (out.reliable ? "; reliable" : "; uncertain");
  for (const std::string& doubt : doubts) out.summary += "; " + doubt;
  return out;
}

ObjectPoseAnnotations ReadObjectPoseAnnotations(const std::filesystem::path& file, const sim::Model& model) {
  const Reader r(file);
  const YAML::Node root = sim::yaml::LoadFile(file);
  const Value top{root, "", std::max(1, sim::yaml::LineOf(root))};
  const Value episodes = Map(r, top, {"episodes"}).Require("episodes");
  ObjectPoseAnnotations annotations;
  if (episodes.node.IsNull()) return annotations;  // "episodes:" with nothing under it: no overrides
  const Map episode_map(r, episodes, {});          // named: a temporary's entries() would dangle in the loop
  for (const auto& [key, entry] : episode_map.entries()) {
    const Value index_value{YAML::Node(key), entry.path, entry.line};
    const int index = r.Integer(index_value);
    if (index < 0) r.Fail(entry, "episode index " + key + " is negative; expected an index >= 0");
    // "1" and "01" are the same episode: yaml-cpp's duplicate check compares the text only.
    if (annotations.count(index)) r.Fail(entry, "episode " + std::to_string(index) + " is given twice");
    std::map<std::string, Eigen::Isometry3d>& poses = annotations[index];
    if (entry.node.IsNull()) continue;
    const Map object_map(r, entry, {});
    for (const auto& [name, pose_value] : object_map.entries()) {
      const bool is_object = model.FindObject(name) >= 0;
      const bool is_environment = std::any_of(model.environment.begin(), model.environment.end(),
                                              [&](const sim::ObjectModel& o) { return o.name == name; });
      if (!is_object && !is_environment) {
        std::string names;
        for (const sim::ObjectModel& o : model.objects) names += (names.empty() ? "" : ", ") + o.name;
        for (const sim::ObjectModel& o : model.environment) names += (names.empty() ? "" : ", ") + o.name + " (static)";
        r.Fail(pose_value,
               "unknown object '" + name + "'; the scene's objects are: " + (names.empty() ? "none" : names));
      }
      const Map m(r, pose_value, {"position_m", "rpy_rad", "quaternion_xyzw"});
      Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
      pose.translation() = r.Vec3(m.Require("position_m"));
      const auto rpy = m.Get("rpy_rad");
      const auto quaternion = m.Get("quaternion_xyzw");
      if (rpy && quaternion) r.Fail(pose_value, "give one of rpy_rad or quaternion_xyzw, not both");
      if (rpy) pose.linear() = RollPitchYaw(r.Vec3(*rpy));
      if (quaternion) {
        const Eigen::Vector4d q = r.Numbers(*quaternion, 4);
        // Hand-written unit quaternions carry a few digits; anything further off is a mistake, not rounding.
        if (!(std::abs(q.norm() - 1.0) <= 1e-3)) {
          r.Fail(*quaternion, Format("[%g, %g, %g, %g] is not a unit quaternion (x, y, z, w): its norm is %g", q[0],
                                     q[1], q[2], q[3], q.norm()));
        }
        pose.linear() = Eigen::Quaterniond(q[3], q[0], q[1], q[2]).normalized().toRotationMatrix();
      }
      poses[name] = pose;
    }
  }
  return annotations;
}

bool ApplyAnnotation(const sim::Model& model, const RetargetSpec& spec,
                     const std::map<std::string, Eigen::Isometry3d>& episode_annotation, InferredObjectPoses* inferred,
                     int pick) {
  CheckRetargetSpec(model, spec);
  const std::vector<int> picked = PickedObjects(spec);
  if (pick < 0 || pick >= static_cast<int>(picked.size())) {
    throw std::invalid_argument("ApplyAnnotation: pick = " + std::to_string(pick) + ", expected 0 to " +
                                std::to_string(picked.size() - 1));
  }
  const auto it = episode_annotation.find(model.objects[picked[pick]].name);
  if (it == episode_annotation.end()) return false;
  inferred->initial_pose = it->second;
  inferred->pose_at_grasp = it->second;
  inferred->annotated = true;
  inferred->summary =
      it->first + " annotated at " + DescribePose(it->second) + " (inferred: " + inferred->summary + ")";
  return true;
}

}  // namespace r2s::amplify

// Problem 3: object contact parameters from tracked poses, by simulation in the loop.
//
// The world each candidate runs in: a copy of the scene's Model holding the static environment, the tracked objects
// and, only when the dataset drives it, the robot. Free objects the dataset does not track are dropped: their
// poses during the recording are unknown, and the scene's initial poses (a generation default) would put bodies
// where none were; on the tabletop scene the ball, can and bowl sit where the cube tosses land. An undriven robot
// is dropped for the same reason and because its links cost most of a step. Static bodies stay (they are what the
// objects land on and slide along; far ones cost little in the broadphase).
//
// How an episode runs: sim::ReplayEpisode, exactly as `r2s replay` runs it (step rounding, a driven robot), on a
// slimmed copy of the episode (the bound features and timestamps only) whose first three poses are replaced by a
// smooth fit of the first frames. ReplayEpisode starts an object at frame 0 with the velocity of a second-order
// difference of frames 0-2; at 148 Hz that difference amplifies tracking noise several hundred times (0.1 mm of
// noise gives ~4 cm/s). The fit here is ballistic while the object is in free flight (its lowest point above where
// it comes to rest): centre of mass p0 + v0 t + g t^2 / 2 and a constant angular velocity (exact for a free body
// with isotropic inertia such as a cube, a good approximation over a short window otherwise), else a local
// quadratic. The difference formula is exact on the fitted curve, so the replay starts from the fitted state.
//
// The residual of one frame is, per tracked object, the displacement of its centre of mass (m) and its rotation
// error (rotation vector of R_measured^T R_simulated, rad) times sqrt(I / m): to first order in the rotation, the
// squared norm of the six values is the mass-weighted mean squared displacement of the body's points between the
// simulated and the measured pose. Position and orientation so weigh in the same unit without a tuning constant.
//
// Mass: with one moving body among static ones, Coulomb friction, restitution and gravity all scale with the mass,
// and the motion does not depend on it; it is then reported as not identified without being fitted (its Jacobian
// column would be zero to rounding). With two tracked objects only their mass ratio is observable: the first
// object's mass is the reference and the others' are fitted. With a driven robot every tracked object's mass is
// fitted (the robot's finite gains feel the load), and the Jacobian analysis says what the data did not pin down.

#include "sysid/object_fit.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "common/options_check.h"
#include "episode/dataset_info.h"
#include "episode/input_error.h"
#include "sysid/object_pose_residuals.h"
#include "sysid/object_simulator.h"
#include "sysid/object_start_state.h"
#include "sysid/sim_fit.h"

namespace r2s::sysid {
namespace {

using episode::Array;
using objects::AngleBetween;
using objects::Field;
using objects::FrameResiduals;
using objects::kFields;
using objects::ObjectValues;
using objects::OrientationFit;
using objects::PoseErrors;
using objects::PositionFit;
using objects::PreparedEpisode;
using objects::SimulatedPoses;
using objects::Simulator;
using objects::SmoothStart;
using objects::Tracked;

constexpr std::int64_t kMinFrames = 10;  // three to start from, a few to fit and a few held out

const char* FieldName(Field field) {
  switch (field) {
    case Field::kLateralFriction:
      return "lateral_friction";
    case Field::kRestitution:
      return "restitution";
    case Field::kRollingFriction:
      return "rolling_friction";
    case Field::kSpinningFriction:
      return "spinning_friction";
    case Field::kMass:
      return "mass_kg";
  }
  return "";
}

const char* FieldUnit(Field field) {
  switch (field) {
    case Field::kRollingFriction:
    case Field::kSpinningFriction:
      return "m";
    case Field::kMass:
      return "kg";
    default:
      return "";
  }
}

std::string Format(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

// Reads and checks one pose; the quaternion is normalized (trackers round it).
Eigen::Isometry3d ReadPose(const Array& data, std::int64_t width, std::int64_t frame, const sim::PoseBinding& binding,
                           std::int64_t episode, const std::string& dataset) {
  static const char* kNames[7] = {"x", "y", "z", "qx", "qy", "qz", "qw"};
  double v[7];
  const std::string field = binding.feature + " (episode " + std::to_string(episode) + ")";
  for (int k = 0; k < 7; ++k) {
    v[k] = episode::FloatAt(data, width, frame, binding.begin + k);
    if (!std::isfinite(v[k])) {
      throw InputError(dataset, field,
                       "frame " + std::to_string(frame) + ": " + kNames[k] + " = " + Format(v[k]) +
                           "; an object fit needs a finite pose in every frame");
    }
  }
  const Eigen::Quaterniond q(v[6], v[3], v[4], v[5]);
  const double norm = q.norm();
  const std::string quaternion =
      "(qx, qy, qz, qw) = (" + Format(v[3]) + ", " + Format(v[4]) + ", " + Format(v[5]) + ", " + Format(v[6]) + ")";
  if (norm < 1e-6) {
    throw InputError(dataset, field, "frame " + std::to_string(frame) + ": the quaternion " + quaternion + " is zero");
  }
  if (std::abs(norm - 1.0) > 0.1) {
    throw InputError(dataset, field,
                     "frame " + std::to_string(frame) + ": the quaternion " + quaternion + " has norm " + Format(norm) +
                         ", not a unit quaternion (does the slice hold x, y, z, qx, qy, qz, qw?)");
  }
  Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
  pose.translation() = Eigen::Vector3d(v[0], v[1], v[2]);
  pose.linear() = q.normalized().toRotationMatrix();
  return pose;
}

bool CanRoll(const sim::ObjectModel& object) {
  return std::any_of(object.collisions.begin(), object.collisions.end(),
                     [](const sim::Shape& shape) { return shape.kind != sim::ShapeKind::kBox; });
}

// The first `frames` rows of a column.
Array Rows(const Array& array, std::int64_t frames) {
  std::vector<std::int64_t> shape = array.shape;
  shape[0] = frames;
  Array out = Array::Zeros(array.dtype, shape);
  std::memcpy(out.bytes.data(), array.bytes.data(), out.bytes.size());
  return out;
}

episode::Episode Truncated(const episode::Episode& source, std::int64_t frames) {
  episode::Episode out;
  out.metadata = source.metadata;
  out.metadata.length = frames;
  for (const auto& [name, column] : source.columns) out.columns[name].data = Rows(column.data, frames);
  return out;
}

Eigen::Matrix3d MatrixSqrt(const Eigen::Matrix3d& m) {
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> eigen(0.5 * (m + m.transpose()));
  return eigen.eigenvectors() * eigen.eigenvalues().cwiseMax(0).cwiseSqrt().asDiagonal() *
         eigen.eigenvectors().transpose();
}

struct Bounds {
  double lower, upper;
  bool log_scale;
};

Bounds BoundsOf(Field field, double nominal) {
  switch (field) {
    case Field::kLateralFriction:
      return nominal > 0 ? Bounds{std::min(0.01, nominal), std::max(2.0, nominal), true} : Bounds{0, 2.0, false};
    case Field::kRestitution:
      return {0, 1, false};
    case Field::kRollingFriction:
    case Field::kSpinningFriction:
      // Bullet bounds the contact's torque impulse by this length times the normal impulse (m).
      return nominal > 0 ? Bounds{std::min(1e-5, nominal), std::max(0.05, nominal), true} : Bounds{0, 0.05, false};
    case Field::kMass:
      return {0.25 * nominal, 4 * nominal, true};
  }
  return {0, 1, false};
}

// ---- The world and the episodes ----

// Throws InputError when the dataset feeds no pose of a free object, naming the poses the scene binds.
void CheckPosesTracked(const ProblemInput& input) {
  const sim::Model& scene = *input.model;
  if (!input.plan.pose_bindings().empty()) return;
  std::string bound;
  for (const auto& object : scene.objects) {
    if (object.pose_feature) {
      bound += (bound.empty() ? "" : ", ") + object.pose_feature->feature + " (" + object.name + ")";
    }
  }
  throw InputError(input.dataset_file, "(features)",
                   "records no pose of a free object of scene " + scene.scene_file.string() +
                       ", so there is nothing to fit objects to; the scene binds " +
                       (bound.empty() ? std::string("no object pose at all") : bound));
}

// The model the candidates run in (see the top of the file) and the objects it tracks.
struct FittingWorld {
  std::shared_ptr<sim::Model> model;
  std::vector<Tracked> tracked;
  bool driven_robot = false;
};

// The environment, the tracked objects (each with a material of its own, so that its values can differ), the robot
// only when the dataset drives it.
FittingWorld MakeFittingWorld(const sim::Model& scene, const sim::ReplayPlan& plan) {
  FittingWorld world;
  world.model = std::make_shared<sim::Model>(scene);
  sim::Model& base = *world.model;
  world.driven_robot = !plan.joint_bindings().empty() && scene.robot.has_value();
  if (!world.driven_robot) {
    base.robot.reset();
    base.joint_bindings.clear();
  }
  base.objects.clear();
  base.success.clear();
  for (const auto& [index, binding] : plan.pose_bindings()) {
    sim::ObjectModel object = scene.objects[index];
    sim::Material material = scene.MaterialOf(object.material);
    material.name = "objects/" + object.name;
    object.material = material.name;
    for (sim::Shape& shape : object.collisions) shape.material = material.name;
    base.materials[material.name] = material;
    Tracked t;
    t.scene_index = index;
    t.world_index = static_cast<int>(base.objects.size());
    t.name = object.name;
    t.binding = binding;
    t.com_m = object.inertial.com_m;
    t.gyration_m = MatrixSqrt(object.inertial.inertia_kgm2 / object.inertial.mass_kg);
    t.nominal = {material.lateral_friction, material.restitution, material.rolling_friction,
                 material.spinning_friction, object.inertial.mass_kg};
    world.tracked.push_back(t);
    base.objects.push_back(std::move(object));
  }
  return world;
}

// The features the replays read: the tracked poses and, with a driven robot, its bound joint signals.
std::vector<std::string> ReplayedFeatures(const FittingWorld& world, const sim::ReplayPlan& plan) {
  std::vector<std::string> features;
  for (const auto& t : world.tracked) features.push_back(t.binding.feature);
  if (world.driven_robot) {
    for (const auto& b : plan.joint_bindings()) features.push_back(b.feature);
  }
  std::sort(features.begin(), features.end());
  features.erase(std::unique(features.begin(), features.end()), features.end());
  return features;
}

// Seconds from the first frame: the timestamp column (checked to increase), else frame / fps.
std::vector<double> ReadTimes(const ProblemInput& input, const episode::Episode& source, const std::string& which,
                              std::int64_t frames) {
  const std::string& dataset = input.dataset_file;
  std::vector<double> time_s(static_cast<std::size_t>(frames));
  if (const episode::Column* ts = source.Find("timestamp")) {
    const std::int64_t w = episode::FrameWidth(ts->data);
    for (std::int64_t i = 0; i < frames; ++i) {
      time_s[i] = episode::FloatAt(ts->data, w, i, 0) - episode::FloatAt(ts->data, w, 0, 0);
      if (!std::isfinite(time_s[i]) || (i > 0 && !(time_s[i] > time_s[i - 1]))) {
        throw InputError(dataset, "timestamp (" + which + ")",
                         "frame " + std::to_string(i) + ": " + Format(episode::FloatAt(ts->data, w, i, 0)) +
                             " does not follow the previous frame's time");
      }
    }
  } else {
    if (!input.plan.fps()) {
      throw InputError(dataset, "timestamp (" + which + ")", "is missing and the dataset declares no fps");
    }
    for (std::int64_t i = 0; i < frames; ++i) time_s[i] = static_cast<double>(i) / *input.plan.fps();
  }
  return time_s;
}

// The slim copy of an episode the replays read: `features` and its timestamps.
episode::Episode SlimCopy(const std::string& dataset, const episode::Episode& source,
                          const std::vector<std::string>& features, std::int64_t frames, const std::string& which) {
  episode::Episode slim;
  slim.metadata = source.metadata;
  std::vector<std::string> columns = features;
  if (source.Find("timestamp") != nullptr) columns.push_back("timestamp");
  for (const std::string& feature : columns) {
    const episode::Column* column = source.Find(feature);
    if (column == nullptr) throw InputError(dataset, feature + " (" + which + ")", "is missing from this episode");
    if (column->num_frames() != frames) {
      throw InputError(dataset, feature + " (" + which + ")",
                       "has " + std::to_string(column->num_frames()) + " frames; the episode has " +
                           std::to_string(frames));
    }
    slim.columns[feature].data = column->data;
  }
  return slim;
}

// Reads each tracked object's measured poses and puts its smoothed start into the first three frames of e.full.
void ReadPosesAndSmoothStarts(const std::string& dataset, const sim::Model& scene, const FittingWorld& world,
                              PreparedEpisode& e) {
  for (const Tracked& t : world.tracked) {
    Array& data = e.full.columns.at(t.binding.feature).data;
    const std::int64_t width = episode::FrameWidth(data);
    std::vector<Eigen::Isometry3d> poses(static_cast<std::size_t>(e.frames));
    for (std::int64_t i = 0; i < e.frames; ++i) poses[i] = ReadPose(data, width, i, t.binding, e.index, dataset);
    std::string method;
    const auto start = SmoothStart(poses, e.time_s, t.com_m, world.model->objects[t.world_index],
                                   scene.sim.gravity_mps2, scene.sim.time_step_s, method);
    for (int k = 0; k < 3; ++k) {
      const Eigen::Quaterniond q(start[k].linear());
      const double values[7] = {start[k].translation().x(), start[k].translation().y(), start[k].translation().z(),
                                q.x(), q.y(), q.z(), q.w()};
      for (int j = 0; j < 7; ++j) episode::SetFloatAt(data, width, k, t.binding.begin + j, values[j]);
    }
    e.measured.push_back(std::move(poses));
    e.start.push_back(method);
  }
}

// One episode checked, its measured poses read, its slim copies with smoothed starts made.
PreparedEpisode PrepareEpisode(const ProblemInput& input, const episode::Episode& source, const FittingWorld& world,
                               const std::vector<std::string>& features, const ObjectFitOptions& options) {
  const std::string& dataset = input.dataset_file;
  PreparedEpisode e;
  e.index = source.metadata.index;
  e.frames = source.metadata.length;
  const std::string which = "episode " + std::to_string(e.index);
  if (e.frames < kMinFrames) {
    throw InputError(dataset, which,
                     "has " + std::to_string(e.frames) + " frames; an object fit needs at least " +
                         std::to_string(kMinFrames) + " (three to start from, some to fit, some held out)");
  }
  e.split = HeldOutSplit(e.frames, options.common.held_out_fraction);
  if (e.split < 4) {
    throw InputError(dataset, which,
                     "leaves " + std::to_string(e.split) + " frames to fit after holding out " +
                         Format(options.common.held_out_fraction * 100) + " %; at least 4 are needed");
  }
  e.time_s = ReadTimes(input, source, which, e.frames);
  e.full = SlimCopy(dataset, source, features, e.frames, which);
  ReadPosesAndSmoothStarts(dataset, *input.model, world, e);
  e.fit = Truncated(e.full, e.split);
  return e;
}

struct PreparedEpisodes {
  std::vector<PreparedEpisode> episodes;
  episode::DatasetInfo info;  // what the slim copies hold, for the replays' plan
};

PreparedEpisodes PrepareEpisodes(const ProblemInput& input, const FittingWorld& world,
                                 const ObjectFitOptions& options) {
  PreparedEpisodes prepared;
  prepared.info.fps = input.plan.fps();
  const std::vector<std::string> features = ReplayedFeatures(world, input.plan);
  for (const episode::Episode& source : input.episodes) {
    PreparedEpisode e = PrepareEpisode(input, source, world, features, options);
    if (prepared.episodes.empty()) {
      for (const auto& [name, column] : e.full.columns) {
        episode::FeatureSpec spec;
        spec.dtype = column.data.dtype;
        spec.shape.assign(column.data.shape.begin() + 1, column.data.shape.end());
        prepared.info.features[name] = spec;
      }
    }
    prepared.episodes.push_back(std::move(e));
  }
  return prepared;
}

// ---- What is fitted ----

// One fitted field of one tracked object.
struct FittedField {
  int tracked;
  int field;  // index into kFields
};

struct FitPlan {
  std::vector<FittedField> fields;
  std::vector<BoundedParameter> parameters;  // per fitted field
  std::vector<int> result_index;             // per fitted field: its index in FitResult::parameters
};

// Why field of tracked object k is not fitted; empty when it is. Its mass only where another moving body shares
// the world (see the top of the file).
std::string WhyNotFitted(Field field, std::size_t k, const sim::ObjectModel& object, const FittingWorld& world,
                         const ObjectFitOptions& options) {
  const int moving_bodies = static_cast<int>(world.tracked.size()) + (world.driven_robot ? 1 : 0);
  if (field == Field::kRollingFriction && !options.fit_rolling_friction.value_or(CanRoll(object))) {
    return options.fit_rolling_friction ? "not fitted (ObjectFitOptions::fit_rolling_friction is off)"
                                        : "not fitted: only boxes, which do not roll (its effect trades off against "
                                          "restitution); ObjectFitOptions::fit_rolling_friction forces it";
  }
  if (field == Field::kSpinningFriction && !options.fit_spinning_friction) {
    return "not fitted (ObjectFitOptions::fit_spinning_friction is off)";
  }
  if (field == Field::kMass && moving_bodies == 1) {
    return "the only moving body in the episodes, touching only static ones: its motion does not depend on its "
           "mass";
  }
  if (field == Field::kMass && !world.driven_robot && k == 0) {
    return "the reference mass: with no robot, only the tracked objects' mass ratios are observable";
  }
  return "";
}

// Every tracked object's fields into result.parameters (at their nominal values; those not fitted say why), and
// the fitted ones as the fit sees them.
FitPlan ChooseParameters(const sim::Model& scene, const FittingWorld& world, const ObjectFitOptions& options,
                         FitResult& result) {
  FitPlan plan;
  const std::vector<Tracked>& tracked = world.tracked;
  for (std::size_t k = 0; k < tracked.size(); ++k) {
    for (int f = 0; f < static_cast<int>(std::size(kFields)); ++f) {
      const Field field = kFields[f];
      const double nominal = tracked[k].nominal[f];
      const Bounds bounds = BoundsOf(field, nominal);
      FitParameter p;
      p.name = "objects." + tracked[k].name + "." + FieldName(field);
      p.unit = FieldUnit(field);
      p.nominal = p.estimate = nominal;
      p.lower = bounds.lower;
      p.upper = bounds.upper;
      const std::string why = WhyNotFitted(field, k, scene.objects[tracked[k].scene_index], world, options);
      if (!why.empty()) {
        p.identified = false;
        p.why_not_identified = why;
        p.std_dev = (p.upper - p.lower) / std::sqrt(12.0);
      } else {
        plan.fields.push_back({static_cast<int>(k), f});
        plan.parameters.push_back({p.name, p.unit, nominal, bounds.lower, bounds.upper, bounds.log_scale});
        plan.result_index.push_back(static_cast<int>(result.parameters.size()));
      }
      result.parameters.push_back(p);
    }
  }
  return plan;
}

// ---- The fit ----

void Progress(const ObjectFitOptions& options, double fraction, const std::string& what) {
  if (options.progress) options.progress(fraction, what);
}

// The residual of the first `fitted` episodes (see the top of the file) with the fitted fields at x, the others at
// their nominal values. Frames whose simulation drifted (a toss that tipped onto another face) would dominate a
// plain least-squares cost and make it jump with the parameters; a Cauchy loss on each frame's displacement caps
// their pull.
ResidualFunction TrackingResidual(const Simulator& simulator, const std::vector<ObjectValues>& nominal_values,
                                  const FitPlan& plan, const std::vector<PreparedEpisode>& episodes,
                                  std::int64_t fitted, double robust_m) {
  return [&simulator, &nominal_values, &plan, &episodes, fitted, robust_m](const Eigen::VectorXd& x,
                                                                           Eigen::VectorXd& r) {
    std::vector<ObjectValues> values = nominal_values;
    for (std::size_t i = 0; i < plan.fields.size(); ++i) {
      values[plan.fields[i].tracked][plan.fields[i].field] = x[static_cast<Eigen::Index>(i)];
    }
    const std::vector<Tracked>& tracked = simulator.tracked();
    const auto simulated = simulator.Run(values, episodes, fitted, /*full=*/false, 1);
    Eigen::Index at = 0;
    for (std::int64_t e = 0; e < fitted; ++e) {
      for (std::int64_t i = 0; i < episodes[e].split; ++i) {
        for (std::size_t k = 0; k < tracked.size(); ++k, at += 6) {
          FrameResiduals(tracked[k], episodes[e].measured[k][i], simulated[e][k][i], r.data() + at);
          if (robust_m > 0) {
            auto block = r.segment(at, 6);
            const double s2 = block.squaredNorm();
            if (s2 > 0) block *= std::sqrt(robust_m * robust_m * std::log1p(s2 / (robust_m * robust_m)) / s2);
          }
        }
      }
    }
  };
}

// The global search and refinement (FitBySimulation), then, unless quick, a second, dense search around the
// solution.
SimFitOutcome Search(const std::vector<BoundedParameter>& parameters, std::int64_t residual_count,
                     const ResidualFunction& residual, const std::vector<PreparedEpisode>& episodes,
                     std::int64_t fitted, std::size_t tracked_count, const ObjectFitOptions& options) {
  SimFitOptions fit;
  fit.global_samples = options.common.quick ? std::min(options.global_samples, 8) : options.global_samples;
  fit.refine_starts = options.common.quick ? 1 : options.refine_starts;
  fit.max_iterations = options.common.quick ? std::min(options.max_iterations, 4) : options.max_iterations;
  fit.relative_step = options.relative_step;
  fit.seed = options.common.seed;
  fit.threads = options.common.threads;
  // The residuals of one episode are strongly correlated (a simulated toss that drifts stays off for the rest of
  // the episode) while episodes are independent: the covariance is clustered by episode (uncertainty.h).
  fit.uncertainty.rows_per_step = 6 * static_cast<int>(tracked_count);
  for (std::int64_t e = 0; e < fitted; ++e) {
    fit.uncertainty.residual_groups.insert(fit.uncertainty.residual_groups.end(),
                                           static_cast<std::size_t>(episodes[e].split) * 6 * tracked_count,
                                           episodes[e].index);
  }
  Progress(options, 0.02, "global search and refinement of " + std::to_string(parameters.size()) + " parameters");
  SimFitOutcome outcome = FitBySimulation(parameters, static_cast<int>(residual_count), residual, fit);
  if (!(options.refine_width > 0 && !options.common.quick)) return outcome;
  // The cost is rugged at the scale of a few percent (each toss's outcome flips at some parameter values): a
  // second, dense search in a box around the first solution finds the bottom of its basin more reliably than
  // Levenberg-Marquardt alone. It starts from (and so cannot end above) the first solution.
  std::vector<BoundedParameter> searched = parameters;
  for (std::size_t i = 0; i < searched.size(); ++i) {
    BoundedParameter& q = searched[i];
    const double x = outcome.x[static_cast<Eigen::Index>(i)];
    q.nominal = x;
    if (q.log_scale) {
      q.lower = std::max(q.lower, x / (1 + options.refine_width));
      q.upper = std::min(q.upper, x * (1 + options.refine_width));
    } else {
      const double span = std::max(options.refine_width * std::abs(x), 0.01 * (q.upper - q.lower));
      q.lower = std::max(q.lower, x - span);
      q.upper = std::min(q.upper, x + span);
    }
  }
  Progress(options, 0.45, "dense search around the solution");
  SimFitOptions fine = fit;
  fine.global_samples = options.refine_samples;
  fine.seed = options.common.seed + 1;
  const int evaluations = outcome.evaluations;
  outcome = FitBySimulation(searched, static_cast<int>(residual_count), residual, fine);
  outcome.evaluations += evaluations;
  return outcome;
}

// Identifiability and the episode-clustered covariance from the fit's own analysis at its solution.
void ReportEstimates(const SimFitOutcome& outcome, const FitPlan& plan, FitResult& result) {
  const Uncertainty& u = outcome.uncertainty;
  const bool analysed = u.identified.size() == plan.parameters.size();
  for (std::size_t i = 0; i < plan.parameters.size(); ++i) {
    FitParameter& p = result.parameters[plan.result_index[i]];
    if (analysed && u.identified[i]) {
      p.estimate = outcome.x[static_cast<Eigen::Index>(i)];
      p.std_dev = u.std_dev[static_cast<Eigen::Index>(i)];
      result.covariance_names.push_back(p.name);
    } else {
      p.identified = false;
      p.why_not_identified = i < u.why_not.size() && !u.why_not[i].empty() ? u.why_not[i]
                                                                           : "the simulation failed near the solution";
      p.std_dev = (p.upper - p.lower) / std::sqrt(12.0);
    }
  }
  result.covariance = analysed ? u.covariance : Eigen::MatrixXd(0, 0);
  result.warnings.insert(result.warnings.end(), u.warnings.begin(), u.warnings.end());
}

// The covariance describes the basin the fit ended in. A tumbling cube's cost is rugged (each toss's outcome
// flips at some parameter values) and can have other basins nearly as deep: on 5 real tosses restitution landed
// at 0.01-0.22 depending on the subset, each with a tight local interval. A scan of each identified parameter
// over its bounds (the others at the estimate) finds such basins; a point whose cost rises by less than the
// robust interval's edge would (1/2 chi2_1(0.95) s^2 inflation^2, s^2 = 2 cost / (m - n)) is flagged with a
// warning; one as deep as the fit's own (within 1/2 chi2_1(0.95) s^2) widens the interval to reach it.
void ScanForOtherBasins(const SimFitOutcome& outcome, const FitPlan& plan, const ResidualFunction& residual,
                        std::int64_t residual_count, const ObjectFitOptions& options, FitResult& result) {
  const std::vector<BoundedParameter>& parameters = plan.parameters;
  const Uncertainty& u = outcome.uncertainty;
  const Eigen::VectorXd& x = outcome.x;
  Progress(options, 0.75, "scanning each parameter for other basins");
  const double s2 =
      2 * outcome.cost / static_cast<double>(residual_count - static_cast<std::int64_t>(parameters.size()));
  std::vector<Eigen::VectorXd> points;
  std::vector<std::size_t> owner;
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    if (!u.identified[i]) continue;
    const BoundedParameter& b = parameters[i];
    for (int k = 0; k < options.profile_points; ++k) {
      const double f = (k + 0.5) / options.profile_points;
      Eigen::VectorXd point = x;
      point[static_cast<Eigen::Index>(i)] = FromUnit(b, f);
      points.push_back(point);
      owner.push_back(i);
    }
  }
  const std::vector<double> costs = CostsAt(points, static_cast<int>(residual_count), residual, options.common.threads);
  for (std::size_t i = 0, c = 0; i < parameters.size(); ++i) {
    if (!u.identified[i]) continue;
    const auto ii = static_cast<Eigen::Index>(i);
    const double inflation = std::isfinite(u.inflation[ii]) ? u.inflation[ii] : 1.0;
    // Within the classical threshold: as deep as the fit's own basin, so the interval widens to reach it.
    // Within the robust one only: flagged (widening to the bounds would make every rugged parameter unknown).
    const double deep = 0.5 * kChiSquare1Dof95 * s2, shallow = deep * inflation * inflation;
    double reach_deep = 0, reach = 0, at = x[ii], rise = 0;
    for (std::size_t k = 0; k < points.size(); ++k) {
      if (owner[k] != i || !(costs[k] - outcome.cost <= shallow)) continue;
      const double distance = std::abs(points[k][ii] - x[ii]);
      if (costs[k] - outcome.cost <= deep) reach_deep = std::max(reach_deep, distance);
      if (distance > reach) {
        reach = distance;
        at = points[k][ii];
        rise = costs[k] - outcome.cost;
      }
    }
    FitParameter& p = result.parameters[plan.result_index[i]];
    const auto cc = static_cast<Eigen::Index>(c++);
    if (reach > 1.96 * p.std_dev) {
      result.warnings.push_back(p.name + ": another basin of the cost at " + Format(at) + " (cost +" +
                                Format(100 * rise / outcome.cost) + " %) lies outside the interval " + Format(x[ii]) +
                                " +- " + Format(1.96 * p.std_dev) +
                                " (95 %): the fit's optimum is one of several; treat the estimate with care");
    }
    if (reach_deep > 1.96 * p.std_dev) {
      const double factor = reach_deep / (1.96 * p.std_dev);
      p.std_dev *= factor;
      result.covariance.row(cc) *= factor;
      result.covariance.col(cc) *= factor;
    }
  }
}

// The fit of the plan's parameters into the result: estimates, covariance, the scan for other basins, Ceres's
// termination.
void FitPlanned(const FitPlan& plan, const ResidualFunction& residual, std::int64_t residual_count,
                const std::vector<PreparedEpisode>& episodes, std::int64_t fitted, std::size_t tracked_count,
                const ObjectFitOptions& options, FitResult& result) {
  const SimFitOutcome outcome =
      Search(plan.parameters, residual_count, residual, episodes, fitted, tracked_count, options);
  ReportEstimates(outcome, plan, result);
  const bool analysed = outcome.uncertainty.identified.size() == plan.parameters.size();
  if (analysed && options.profile_points > 0 &&
      residual_count > static_cast<std::int64_t>(plan.parameters.size())) {
    ScanForOtherBasins(outcome, plan, residual, residual_count, options, result);
  }
  result.condition_number = outcome.uncertainty.condition_number;
  result.rank = outcome.uncertainty.rank;
  result.termination = outcome.termination;
  result.converged = outcome.converged;
  result.iterations = outcome.iterations;
  if (!outcome.converged) result.warnings.push_back("the fit stopped before converging: " + outcome.termination);
}

// ---- Predictions ----

// Tracked object k's fit: training (of the fitted episodes) and held-out position and orientation against the
// baseline's, its held-out series, and a warning where no free flight starts an episode.
void ReportObject(std::size_t k, const std::vector<Tracked>& tracked, const std::vector<PreparedEpisode>& episodes,
                  std::int64_t fitted, const SimulatedPoses& predicted, const SimulatedPoses& baseline,
                  FitResult& result) {
  const auto total = static_cast<std::int64_t>(episodes.size());
  const std::string baseline_name = "the scene's nominal values";
  PoseErrors train, train_nominal, held, held_nominal;
  auto add = [&](PoseErrors& errors, const Eigen::Isometry3d& measured, const Eigen::Isometry3d& simulated) {
    errors.measured_p.push_back(measured.translation());
    errors.predicted_p.push_back(simulated.translation());
    errors.measured_r.push_back(measured.linear());
    errors.angle_deg.push_back(AngleBetween(measured.linear(), simulated.linear()) * 180 / M_PI);
  };
  for (std::int64_t e = 0; e < total; ++e) {
    const PreparedEpisode& episode = episodes[e];
    static const char* kAxes[3] = {"x", "y", "z"};
    std::array<HeldOutSeries, 3> series;
    for (int a = 0; a < 3; ++a) {
      series[a].channel = tracked[k].name + " " + kAxes[a];
      series[a].unit = "m";
      series[a].episode = episode.index;
    }
    for (std::int64_t i = 0; i < episode.frames; ++i) {
      const Eigen::Isometry3d& measured = episode.measured[k][i];
      if (i < episode.split) {
        if (e < fitted) {
          add(train, measured, predicted[e][k][i]);
          add(train_nominal, measured, baseline[e][k][i]);
        }
        continue;
      }
      add(held, measured, predicted[e][k][i]);
      add(held_nominal, measured, baseline[e][k][i]);
      for (int a = 0; a < 3; ++a) {
        series[a].time_s.push_back(episode.time_s[i]);
        series[a].measured.push_back(measured.translation()[a]);
        series[a].predicted.push_back(predicted[e][k][i].translation()[a]);
        series[a].baseline.push_back(baseline[e][k][i].translation()[a]);
      }
    }
    for (auto& s : series) result.predictions.push_back(std::move(s));
  }
  auto with_baseline = [&](ChannelFit fit, const ChannelFit& nominal) {
    fit.baseline_rms = nominal.rms;
    fit.baseline = baseline_name;
    return fit;
  };
  const std::string position = tracked[k].name + " position", orientation = tracked[k].name + " orientation";
  result.train.push_back(with_baseline(PositionFit(position, train), PositionFit(position, train_nominal)));
  result.train.push_back(with_baseline(OrientationFit(orientation, train), OrientationFit(orientation, train_nominal)));
  result.held_out.push_back(with_baseline(PositionFit(position, held), PositionFit(position, held_nominal)));
  result.held_out.push_back(
      with_baseline(OrientationFit(orientation, held), OrientationFit(orientation, held_nominal)));
  result.train_samples += static_cast<std::int64_t>(train.angle_deg.size());
  result.held_out_samples += static_cast<std::int64_t>(held.angle_deg.size());

  int local = 0;
  for (const auto& e : episodes) local += e.start[k].rfind("local", 0) == 0 ? 1 : 0;
  if (local > 0) {
    result.warnings.push_back(tracked[k].name + ": in " + std::to_string(local) + " of " + std::to_string(total) +
                              " episodes no free flight starts the episode; the initial velocity comes from a "
                              "local quadratic fit of the first frames");
  }
}

// Every episode run to its end with the fitted and with the nominal values.
void Predict(const Simulator& simulator, const std::vector<PreparedEpisode>& episodes, std::int64_t fitted,
             const std::vector<ObjectValues>& nominal_values, const ObjectFitOptions& options, FitResult& result) {
  const std::vector<Tracked>& tracked = simulator.tracked();
  const auto total = static_cast<std::int64_t>(episodes.size());
  std::vector<ObjectValues> fitted_values = nominal_values;
  for (std::size_t k = 0; k < tracked.size(); ++k) {
    for (std::size_t f = 0; f < std::size(kFields); ++f) {
      fitted_values[k][f] = result.parameters[k * std::size(kFields) + f].estimate;
    }
  }
  const int threads = std::max(1, options.common.threads);
  const auto predicted = simulator.Run(fitted_values, episodes, total, /*full=*/true, threads);
  const auto baseline = simulator.Run(nominal_values, episodes, total, /*full=*/true, threads);
  for (std::size_t k = 0; k < tracked.size(); ++k) {
    ReportObject(k, tracked, episodes, fitted, predicted, baseline, result);
  }
}

}  // namespace

bool ObjectFitOptions::IsValid(std::string* why) const { return IsValidByValidate(*this, why); }

void ObjectFitOptions::Validate() const {
  const std::string owner = "ObjectFitOptions";
  common.Validate(owner);
  if (max_fit_episodes < 0) FailOption(owner, "max_fit_episodes", max_fit_episodes, "0 or more (0: all)");
  if (!(robust_scale_m >= 0) || !std::isfinite(robust_scale_m)) {
    FailOption(owner, "robust_scale_m", robust_scale_m, "a finite scale >= 0 (0: plain least squares)");
  }
  if (global_samples < 0) FailOption(owner, "global_samples", global_samples, "0 or more (0: the scene's values only)");
  if (refine_starts < 1) FailOption(owner, "refine_starts", refine_starts, "at least 1");
  if (max_iterations < 0) FailOption(owner, "max_iterations", max_iterations, "0 or more");
  if (!(relative_step > 0 && relative_step < 1)) FailOption(owner, "relative_step", relative_step, "a step in (0, 1)");
  if (!(refine_width >= 0) || !std::isfinite(refine_width)) {
    FailOption(owner, "refine_width", refine_width, "a finite width >= 0");
  }
  if (refine_samples < 0) FailOption(owner, "refine_samples", refine_samples, "0 or more");
  if (profile_points < 0) FailOption(owner, "profile_points", profile_points, "0 or more");
}

FitResult FitObjects(const ProblemInput& input, const ObjectFitOptions& options) {
  options.Validate();
  const auto started = std::chrono::steady_clock::now();
  if (!input.model) throw std::invalid_argument("FitObjects: no model");
  CheckPosesTracked(input);
  if (input.episodes.empty()) throw InputError(input.dataset_file, "(episodes)", "holds no episode");
  const FittingWorld world = MakeFittingWorld(*input.model, input.plan);
  const PreparedEpisodes prepared = PrepareEpisodes(input, world, options);
  const std::vector<PreparedEpisode>& episodes = prepared.episodes;
  const auto total = static_cast<std::int64_t>(episodes.size());
  const std::int64_t fitted =
      options.max_fit_episodes > 0 ? std::min<std::int64_t>(options.max_fit_episodes, total) : total;

  FitResult result;
  result.problem = Problem::kObjects;
  const FitPlan plan = ChooseParameters(*input.model, world, options, result);
  const Simulator simulator(world.model, world.tracked, prepared.info, input.dataset_file);
  std::vector<ObjectValues> nominal_values;
  for (const auto& t : world.tracked) nominal_values.push_back(t.nominal);
  const auto tracked_count = static_cast<std::int64_t>(world.tracked.size());
  std::int64_t residual_count = 0;
  for (std::int64_t e = 0; e < fitted; ++e) residual_count += episodes[e].split * 6 * tracked_count;
  const ResidualFunction residual =
      TrackingResidual(simulator, nominal_values, plan, episodes, fitted, options.robust_scale_m);
  if (!plan.parameters.empty()) {
    FitPlanned(plan, residual, residual_count, episodes, fitted, world.tracked.size(), options, result);
  } else {
    result.termination = "nothing to fit: every parameter is fixed or unobservable";
    result.converged = true;
  }
  Predict(simulator, episodes, fitted, nominal_values, options, result);
  AddHeldOutWarnings(result);
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace r2s::sysid

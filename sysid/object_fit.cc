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
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "episode/dataset_info.h"
#include "episode/input_error.h"
#include "sim/world.h"
#include "sysid/parallel_for.h"
#include "sysid/sim_fit.h"

namespace r2s::sysid {
namespace {

using episode::Array;
using episode::DType;

constexpr std::int64_t kMinFrames = 10;         // three to start from, a few to fit and a few held out
constexpr double kFreeFlightMargin_m = 0.005;   // above the resting height: surely out of contact
constexpr int kMaxStartWindow = 40;             // frames of the start fit (~0.27 s at 148 Hz)
constexpr double kMaxStartAngle_rad = 2.5;      // rotation vectors stay unwrapped within the window
constexpr double kBallisticTolerance_m = 0.002; // a ballistic fit worse than this was not free flight
const double kNaN = std::numeric_limits<double>::quiet_NaN();

enum class Field { kLateralFriction, kRestitution, kRollingFriction, kSpinningFriction, kMass };
constexpr Field kFields[] = {Field::kLateralFriction, Field::kRestitution, Field::kRollingFriction,
                             Field::kSpinningFriction, Field::kMass};

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

// One tracked object's values of every field, in kFields order.
using ObjectValues = std::array<double, std::size(kFields)>;


Eigen::Vector3d RotationVector(const Eigen::Matrix3d& rotation) {
  const Eigen::AngleAxisd aa(rotation);
  return aa.axis() * aa.angle();
}

Eigen::Matrix3d FromRotationVector(const Eigen::Vector3d& v) {
  const double angle = v.norm();
  if (angle < 1e-300) return Eigen::Matrix3d::Identity();
  return Eigen::AngleAxisd(angle, v / angle).toRotationMatrix();
}

double AngleBetween(const Eigen::Matrix3d& a, const Eigen::Matrix3d& b) {
  return Eigen::AngleAxisd(a.transpose() * b).angle();
}

std::string Format(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

// A free object the dataset tracks.
struct Tracked {
  int scene_index = 0;  // in the scene's Model::objects
  int world_index = 0;  // in the fitting model's objects
  std::string name;
  sim::PoseBinding binding;
  Eigen::Vector3d com_m = Eigen::Vector3d::Zero();            // in the object's frame
  Eigen::Matrix3d gyration_m = Eigen::Matrix3d::Identity();   // sqrt(I / m), object frame axes
  ObjectValues nominal{};
};

struct PreparedEpisode {
  std::int64_t index = 0;  // as stored
  std::int64_t frames = 0;
  std::int64_t split = 0;  // [0, split) fitted, [split, frames) held out
  std::vector<double> time_s;
  std::vector<std::vector<Eigen::Isometry3d>> measured;  // [tracked][frame], the object's frame
  std::vector<std::string> start;                        // [tracked]: how its initial state was estimated
  episode::Episode full;  // the bound features and timestamps, first poses smoothed
  episode::Episode fit;   // the same, [0, split)
};

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

// Height along `up` of the lowest point of the object's collision shapes at `pose`.
double LowestPoint(const sim::ObjectModel& object, const Eigen::Isometry3d& pose, const Eigen::Vector3d& up) {
  double lowest = std::numeric_limits<double>::infinity();
  for (const sim::Shape& shape : object.collisions) {
    const Eigen::Isometry3d at = pose * shape.origin;
    const double centre = up.dot(at.translation());
    switch (shape.kind) {
      case sim::ShapeKind::kBox:
        for (int corner = 0; corner < 8; ++corner) {
          const Eigen::Vector3d local(corner & 1 ? 0.5 : -0.5, corner & 2 ? 0.5 : -0.5, corner & 4 ? 0.5 : -0.5);
          lowest = std::min(lowest, up.dot(at * local.cwiseProduct(shape.box_size_m)));
        }
        break;
      case sim::ShapeKind::kSphere:
        lowest = std::min(lowest, centre - shape.radius_m);
        break;
      case sim::ShapeKind::kCylinder: {
        const double axial = std::abs(up.dot(at.linear().col(2)));
        lowest = std::min(lowest, centre - 0.5 * shape.length_m * axial -
                                      shape.radius_m * std::sqrt(std::max(0.0, 1 - axial * axial)));
        break;
      }
      case sim::ShapeKind::kMesh:
        if (shape.mesh) {
          for (const Eigen::Vector3d& v : shape.mesh->vertices_m) lowest = std::min(lowest, up.dot(at * v));
        }
        break;
      case sim::ShapeKind::kPlane:
        break;
    }
  }
  return std::isfinite(lowest) ? lowest : 0.0;
}

bool CanRoll(const sim::ObjectModel& object) {
  return std::any_of(object.collisions.begin(), object.collisions.end(),
                     [](const sim::Shape& shape) { return shape.kind != sim::ShapeKind::kBox; });
}

// Least squares of y_i ~ sum_k c_k t_i^k (k < order) over the rows given; returns the coefficients (order x 3).
Eigen::MatrixXd PolynomialFit(const std::vector<double>& t, const std::vector<Eigen::Vector3d>& y, int count,
                              int order) {
  Eigen::MatrixXd a(count, order), b(count, 3);
  for (int i = 0; i < count; ++i) {
    double power = 1;
    for (int k = 0; k < order; ++k, power *= t[i]) a(i, k) = power;
    b.row(i) = y[i].transpose();
  }
  return a.colPivHouseholderQr().solve(b);
}

// The poses ReplayEpisode should see at t0, t0 + h, t0 + 2h (h = half of t2 - t0) so that its second-order
// difference gives the fitted initial velocity: a smooth fit of the object's first frames (see the top of the file).
std::array<Eigen::Isometry3d, 3> SmoothStart(const std::vector<Eigen::Isometry3d>& poses, const std::vector<double>& t,
                                             const Tracked& tracked, const sim::ObjectModel& object,
                                             const Eigen::Vector3d& gravity, double time_step_s, std::string& method) {
  const auto frames = static_cast<int>(poses.size());
  const Eigen::Vector3d up = gravity.norm() > 0 ? Eigen::Vector3d(-gravity.normalized()) : Eigen::Vector3d::UnitZ();
  double rest = std::numeric_limits<double>::infinity();
  std::vector<double> lowest(frames);
  for (int i = 0; i < frames; ++i) rest = std::min(rest, lowest[i] = LowestPoint(object, poses[i], up));
  int free = 0;
  while (free < frames && lowest[free] > rest + kFreeFlightMargin_m) ++free;
  std::vector<Eigen::Vector3d> com(frames), rotation(frames);
  const Eigen::Matrix3d r0 = poses[0].linear();
  int window = std::min(frames, kMaxStartWindow);
  for (int i = 0; i < window; ++i) {
    com[i] = poses[i] * tracked.com_m;
    rotation[i] = RotationVector(poses[i].linear() * r0.transpose());
    if (rotation[i].norm() > kMaxStartAngle_rad) window = i;
  }
  const double h = (t[2] - t[0]) / 2;
  Eigen::Vector3d c0, v0, a0;
  const int ballistic = std::min(free, window);
  bool fitted = false;
  if (ballistic >= 4) {
    // Centre of mass in free flight: p0 + v0 t + g t^2 / 2.
    std::vector<Eigen::Vector3d> y(ballistic);
    for (int i = 0; i < ballistic; ++i) y[i] = com[i] - 0.5 * gravity * t[i] * t[i];
    const Eigen::MatrixXd c = PolynomialFit(t, y, ballistic, 2);
    double sum = 0;
    for (int i = 0; i < ballistic; ++i) sum += (y[i] - c.row(0).transpose() - c.row(1).transpose() * t[i]).squaredNorm();
    if (std::sqrt(sum / ballistic) < kBallisticTolerance_m) {
      c0 = c.row(0).transpose();
      v0 = c.row(1).transpose();
      a0 = gravity;
      window = ballistic;
      fitted = true;
      method = "ballistic fit of frames 0-" + std::to_string(ballistic - 1);
    }
  }
  if (!fitted) {
    // In contact from the start (a push, a slide): a local quadratic over the first frames.
    window = std::min(window, 6);
    const Eigen::MatrixXd c = PolynomialFit(t, com, window, 3);
    c0 = c.row(0).transpose();
    v0 = c.row(1).transpose();
    a0 = 2 * c.row(2).transpose();
    method = "local quadratic fit of frames 0-" + std::to_string(window - 1);
  }
  // Bullet integrates semi-implicitly (v += a dt, then x += v dt), so a body started with velocity v follows
  // x0 + (v + a dt / 2) t + a t^2 / 2 at the steps: starting it with v0 - a dt / 2 puts it on the fitted curve (at
  // 1 ms, g dt / 2 is 5 mm/s, enough to send a tumbling cube onto another face).
  v0 -= 0.5 * a0 * time_step_s;
  // Orientation: R(t) = exp(w t) exp(d) R0, by a straight-line fit of the rotation vectors.
  const Eigen::MatrixXd r = PolynomialFit(t, rotation, window, 2);
  const Eigen::Vector3d offset = r.row(0).transpose(), omega = r.row(1).transpose();
  const Eigen::Matrix3d start = FromRotationVector(offset) * r0;
  std::array<Eigen::Isometry3d, 3> out;
  for (int k = 0; k < 3; ++k) {
    const double tk = k * h;
    Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
    pose.linear() = FromRotationVector(omega * tk) * start;
    pose.translation() = c0 + v0 * tk + 0.5 * a0 * tk * tk - pose.linear() * tracked.com_m;
    out[k] = pose;
  }
  return out;
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

// Runs episodes in worlds of a model carrying candidate values.
class Simulator {
 public:
  Simulator(std::shared_ptr<const sim::Model> base, std::vector<Tracked> tracked, episode::DatasetInfo info,
            std::string dataset)
      : base_(std::move(base)), tracked_(std::move(tracked)), info_(std::move(info)), dataset_(std::move(dataset)) {}

  const std::vector<Tracked>& tracked() const { return tracked_; }

  // Simulated poses [episode][tracked][frame] of `episodes` (the fit or the full copies), on `threads` threads.
  std::vector<std::vector<std::vector<Eigen::Isometry3d>>> Run(const std::vector<ObjectValues>& values,
                                                               const std::vector<PreparedEpisode>& episodes,
                                                               std::int64_t count, bool full, int threads) const {
    std::shared_ptr<sim::Model> model = std::make_shared<sim::Model>(*base_);
    for (std::size_t k = 0; k < tracked_.size(); ++k) {
      sim::ObjectModel& object = model->objects[tracked_[k].world_index];
      sim::Material& material = model->materials.at(object.material);
      const ObjectValues& v = values[k];
      material.lateral_friction = v[0];
      material.restitution = v[1];
      material.rolling_friction = v[2];
      material.spinning_friction = v[3];
      // Same shape and density: the inertia scales with the mass.
      object.inertial.inertia_kgm2 *= v[4] / object.inertial.mass_kg;
      object.inertial.mass_kg = v[4];
    }
    const std::shared_ptr<const sim::Model> shared = model;
    const sim::ReplayPlan plan = sim::ReplayPlan::Make(shared, info_, dataset_);
    std::vector<std::vector<std::vector<Eigen::Isometry3d>>> out(static_cast<std::size_t>(count));
    auto run_range = [&](std::int64_t first, std::int64_t step) {
      sim::World world(shared);
      for (std::int64_t e = first; e < count; e += step) {
        const episode::Episode& source = full ? episodes[e].full : episodes[e].fit;
        const sim::EpisodeReplay replay = sim::ReplayEpisode(plan, source, dataset_, world);
        auto& poses = out[e];
        poses.resize(tracked_.size());
        for (std::size_t k = 0; k < tracked_.size(); ++k) {
          const sim::PoseBinding& b = tracked_[k].binding;
          const Array& data = replay.episode.At(b.feature).data;
          const std::int64_t width = episode::FrameWidth(data);
          poses[k].resize(static_cast<std::size_t>(replay.frames));
          for (std::int64_t i = 0; i < replay.frames; ++i) {
            auto v = [&](int j) { return episode::FloatAt(data, width, i, b.begin + j); };
            Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
            pose.translation() = Eigen::Vector3d(v(0), v(1), v(2));
            pose.linear() = Eigen::Quaterniond(v(6), v(3), v(4), v(5)).normalized().toRotationMatrix();
            poses[k][i] = pose;
          }
        }
      }
    };
    // One World per worker, its episodes strided: worker w replays episodes w, w + threads, ...
    threads = static_cast<int>(std::clamp<std::int64_t>(threads, 1, std::max<std::int64_t>(1, count)));
    ParallelFor(threads, threads, [&](int w) { run_range(w, threads); });
    return out;
  }

 private:
  std::shared_ptr<const sim::Model> base_;
  std::vector<Tracked> tracked_;
  episode::DatasetInfo info_;
  std::string dataset_;
};

// Six residuals per tracked object and frame (see the top of the file).
void FrameResiduals(const Tracked& tracked, const Eigen::Isometry3d& measured, const Eigen::Isometry3d& simulated,
                    double* out) {
  const Eigen::Vector3d dp = simulated * tracked.com_m - measured * tracked.com_m;
  const Eigen::Vector3d dr = tracked.gyration_m * RotationVector(measured.linear().transpose() * simulated.linear());
  for (int j = 0; j < 3; ++j) {
    out[j] = dp[j];
    out[3 + j] = dr[j];
  }
}

// Position (m, distance of the object's frame) and orientation (deg) fit over frames [begin(e), end(e)).
struct PoseErrors {
  std::vector<Eigen::Vector3d> measured_p, predicted_p;
  std::vector<Eigen::Matrix3d> measured_r;
  std::vector<double> angle_deg;
};

ChannelFit PositionFit(const std::string& channel, const PoseErrors& e) {
  ChannelFit fit;
  fit.channel = channel;
  fit.unit = "m";
  fit.samples = static_cast<std::int64_t>(e.measured_p.size());
  if (e.measured_p.empty()) {
    fit.rms = fit.r2 = kNaN;
    return fit;
  }
  Eigen::Vector3d mean = Eigen::Vector3d::Zero();
  for (const auto& p : e.measured_p) mean += p;
  mean /= static_cast<double>(e.measured_p.size());
  double sse = 0, sst = 0;
  for (std::size_t i = 0; i < e.measured_p.size(); ++i) {
    sse += (e.predicted_p[i] - e.measured_p[i]).squaredNorm();
    sst += (e.measured_p[i] - mean).squaredNorm();
  }
  fit.rms = std::sqrt(sse / static_cast<double>(fit.samples));
  fit.r2 = sst > 0 ? 1 - sse / sst : kNaN;
  return fit;
}

ChannelFit OrientationFit(const std::string& channel, const PoseErrors& e) {
  ChannelFit fit;
  fit.channel = channel;
  fit.unit = "deg";
  fit.samples = static_cast<std::int64_t>(e.angle_deg.size());
  if (e.angle_deg.empty()) {
    fit.rms = fit.r2 = kNaN;
    return fit;
  }
  // R^2 about the measured orientations' mean (the dominant eigenvector of the summed quaternion outer products).
  Eigen::Matrix4d sum = Eigen::Matrix4d::Zero();
  for (const auto& r : e.measured_r) {
    const Eigen::Vector4d q = Eigen::Quaterniond(r).coeffs();
    sum += q * q.transpose();
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix4d> eigen(sum);
  const Eigen::Vector4d m = eigen.eigenvectors().col(3);
  const Eigen::Matrix3d mean = Eigen::Quaterniond(m[3], m[0], m[1], m[2]).normalized().toRotationMatrix();
  double sse = 0, sst = 0;
  for (std::size_t i = 0; i < e.angle_deg.size(); ++i) {
    sse += e.angle_deg[i] * e.angle_deg[i];
    const double a = AngleBetween(mean, e.measured_r[i]) * 180 / M_PI;
    sst += a * a;
  }
  fit.rms = std::sqrt(sse / static_cast<double>(fit.samples));
  fit.r2 = sst > 0 ? 1 - sse / sst : kNaN;
  return fit;
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

}  // namespace

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
  const sim::Model& scene = *input.model;
  const std::string& dataset = input.dataset_file;
  const sim::ReplayPlan& plan = input.plan;

  if (plan.pose_bindings().empty()) {
    std::string bound;
    for (const auto& object : scene.objects) {
      if (object.pose_feature) bound += (bound.empty() ? "" : ", ") + object.pose_feature->feature + " (" + object.name + ")";
    }
    throw InputError(dataset, "(features)",
                     "records no pose of a free object of scene " + scene.scene_file.string() +
                         ", so there is nothing to fit objects to; the scene binds " +
                         (bound.empty() ? std::string("no object pose at all") : bound));
  }
  if (input.episodes.empty()) throw InputError(dataset, "(episodes)", "holds no episode");

  // The fitting model: the environment, the tracked objects, the robot only when the dataset drives it.
  auto base = std::make_shared<sim::Model>(scene);
  const bool driven_robot = !plan.joint_bindings().empty() && scene.robot.has_value();
  if (!driven_robot) {
    base->robot.reset();
    base->joint_bindings.clear();
  }
  base->objects.clear();
  base->success.clear();
  std::vector<Tracked> tracked;
  for (const auto& [index, binding] : plan.pose_bindings()) {
    sim::ObjectModel object = scene.objects[index];
    sim::Material material = scene.MaterialOf(object.material);
    material.name = "objects/" + object.name;
    object.material = material.name;
    for (sim::Shape& shape : object.collisions) shape.material = material.name;
    base->materials[material.name] = material;
    Tracked t;
    t.scene_index = index;
    t.world_index = static_cast<int>(base->objects.size());
    t.name = object.name;
    t.binding = binding;
    t.com_m = object.inertial.com_m;
    t.gyration_m = MatrixSqrt(object.inertial.inertia_kgm2 / object.inertial.mass_kg);
    t.nominal = {material.lateral_friction, material.restitution, material.rolling_friction,
                 material.spinning_friction, object.inertial.mass_kg};
    tracked.push_back(t);
    base->objects.push_back(std::move(object));
  }

  // Episodes: checked, measured poses read, slim copies with smoothed starts.
  std::vector<PreparedEpisode> episodes;
  episode::DatasetInfo info;
  info.fps = plan.fps();
  std::vector<std::string> features;
  for (const auto& t : tracked) features.push_back(t.binding.feature);
  if (driven_robot) {
    for (const auto& b : plan.joint_bindings()) features.push_back(b.feature);
  }
  std::sort(features.begin(), features.end());
  features.erase(std::unique(features.begin(), features.end()), features.end());
  const Eigen::Vector3d gravity = scene.sim.gravity_mps2;
  for (const episode::Episode& source : input.episodes) {
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
    e.time_s.resize(static_cast<std::size_t>(e.frames));
    if (const episode::Column* ts = source.Find("timestamp")) {
      const std::int64_t w = episode::FrameWidth(ts->data);
      for (std::int64_t i = 0; i < e.frames; ++i) {
        e.time_s[i] = episode::FloatAt(ts->data, w, i, 0) - episode::FloatAt(ts->data, w, 0, 0);
        if (!std::isfinite(e.time_s[i]) || (i > 0 && !(e.time_s[i] > e.time_s[i - 1]))) {
          throw InputError(dataset, "timestamp (" + which + ")",
                           "frame " + std::to_string(i) + ": " + Format(episode::FloatAt(ts->data, w, i, 0)) +
                               " does not follow the previous frame's time");
        }
      }
    } else {
      if (!plan.fps()) throw InputError(dataset, "timestamp (" + which + ")", "is missing and the dataset declares no fps");
      for (std::int64_t i = 0; i < e.frames; ++i) e.time_s[i] = static_cast<double>(i) / *plan.fps();
    }
    e.full.metadata = source.metadata;
    std::vector<std::string> columns = features;
    if (source.Find("timestamp") != nullptr) columns.push_back("timestamp");
    for (const std::string& feature : columns) {
      const episode::Column* column = source.Find(feature);
      if (column == nullptr) throw InputError(dataset, feature + " (" + which + ")", "is missing from this episode");
      if (column->num_frames() != e.frames) {
        throw InputError(dataset, feature + " (" + which + ")",
                         "has " + std::to_string(column->num_frames()) + " frames; the episode has " +
                             std::to_string(e.frames));
      }
      e.full.columns[feature].data = column->data;
    }
    for (const Tracked& t : tracked) {
      Array& data = e.full.columns.at(t.binding.feature).data;
      const std::int64_t width = episode::FrameWidth(data);
      std::vector<Eigen::Isometry3d> poses(static_cast<std::size_t>(e.frames));
      for (std::int64_t i = 0; i < e.frames; ++i) poses[i] = ReadPose(data, width, i, t.binding, e.index, dataset);
      std::string method;
      const auto start = SmoothStart(poses, e.time_s, t, base->objects[t.world_index], gravity,
                                     scene.sim.time_step_s, method);
      for (int k = 0; k < 3; ++k) {
        const Eigen::Quaterniond q(start[k].linear());
        const double values[7] = {start[k].translation().x(), start[k].translation().y(), start[k].translation().z(),
                                  q.x(), q.y(), q.z(), q.w()};
        for (int j = 0; j < 7; ++j) episode::SetFloatAt(data, width, k, t.binding.begin + j, values[j]);
      }
      e.measured.push_back(std::move(poses));
      e.start.push_back(method);
    }
    e.fit = Truncated(e.full, e.split);
    if (episodes.empty()) {
      for (const auto& [name, column] : e.full.columns) {
        episode::FeatureSpec spec;
        spec.dtype = column.data.dtype;
        spec.shape.assign(column.data.shape.begin() + 1, column.data.shape.end());
        info.features[name] = spec;
      }
    }
    episodes.push_back(std::move(e));
  }
  const auto total = static_cast<std::int64_t>(episodes.size());
  const std::int64_t fitted = options.max_fit_episodes > 0 ? std::min<std::int64_t>(options.max_fit_episodes, total)
                                                            : total;

  // What is fitted: per tracked object its contact values; masses where another moving body shares the world.
  struct Fitted {
    int tracked;
    int field;  // index into kFields
  };
  std::vector<Fitted> fitted_fields;
  std::vector<BoundedParameter> parameters;
  FitResult result;
  result.problem = Problem::kObjects;
  std::vector<int> result_index;  // per fitted parameter: its index in result.parameters
  const int moving_bodies = static_cast<int>(tracked.size()) + (driven_robot ? 1 : 0);
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
      std::string why;
      if (field == Field::kRollingFriction && !options.fit_rolling_friction.value_or(CanRoll(scene.objects[tracked[k].scene_index]))) {
        why = options.fit_rolling_friction ? "not fitted (ObjectFitOptions::fit_rolling_friction is off)"
                                           : "not fitted: only boxes, which do not roll (its effect trades off against "
                                             "restitution); ObjectFitOptions::fit_rolling_friction forces it";
      } else if (field == Field::kSpinningFriction && !options.fit_spinning_friction) {
        why = "not fitted (ObjectFitOptions::fit_spinning_friction is off)";
      } else if (field == Field::kMass && moving_bodies == 1) {
        why = "the only moving body in the episodes, touching only static ones: its motion does not depend on its "
              "mass";
      } else if (field == Field::kMass && !driven_robot && k == 0) {
        why = "the reference mass: with no robot, only the tracked objects' mass ratios are observable";
      }
      if (!why.empty()) {
        p.identified = false;
        p.why_not_identified = why;
        p.std_dev = (p.upper - p.lower) / std::sqrt(12.0);
      } else {
        fitted_fields.push_back({static_cast<int>(k), f});
        parameters.push_back({p.name, p.unit, nominal, bounds.lower, bounds.upper, bounds.log_scale});
        result_index.push_back(static_cast<int>(result.parameters.size()));
      }
      result.parameters.push_back(p);
    }
  }

  Simulator simulator(base, tracked, info, dataset);
  std::vector<ObjectValues> nominal_values;
  for (const auto& t : tracked) nominal_values.push_back(t.nominal);
  auto values_of = [&](const Eigen::VectorXd& x) {
    std::vector<ObjectValues> values = nominal_values;
    for (std::size_t i = 0; i < fitted_fields.size(); ++i) {
      values[fitted_fields[i].tracked][fitted_fields[i].field] = x[static_cast<Eigen::Index>(i)];
    }
    return values;
  };
  std::int64_t residual_count = 0;
  for (std::int64_t e = 0; e < fitted; ++e) residual_count += episodes[e].split * 6 * static_cast<std::int64_t>(tracked.size());
  // Frames whose simulation drifted (a toss that tipped onto another face) would dominate a plain least-squares
  // cost and make it jump with the parameters; a Cauchy loss on each frame's displacement caps their pull.
  const double robust_m = options.robust_scale_m;
  const ResidualFunction residual = [&](const Eigen::VectorXd& x, Eigen::VectorXd& r) {
    const auto simulated = simulator.Run(values_of(x), episodes, fitted, /*full=*/false, 1);
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

  if (!parameters.empty()) {
    SimFitOptions fit;
    fit.global_samples = options.common.quick ? std::min(options.global_samples, 8) : options.global_samples;
    fit.refine_starts = options.common.quick ? 1 : options.refine_starts;
    fit.max_iterations = options.common.quick ? std::min(options.max_iterations, 4) : options.max_iterations;
    fit.relative_step = options.relative_step;
    fit.seed = options.common.seed;
    fit.threads = options.common.threads;
    // The residuals of one episode are strongly correlated (a simulated toss that drifts stays off for the rest of
    // the episode) while episodes are independent: the covariance is clustered by episode (uncertainty.h).
    fit.uncertainty.rows_per_step = 6 * static_cast<int>(tracked.size());
    for (std::int64_t e = 0; e < fitted; ++e) {
      fit.uncertainty.residual_groups.insert(fit.uncertainty.residual_groups.end(),
                                             static_cast<std::size_t>(episodes[e].split) * 6 * tracked.size(),
                                             episodes[e].index);
    }
    const auto progress = [&](double fraction, const std::string& what) {
      if (options.progress) options.progress(fraction, what);
    };
    progress(0.02, "global search and refinement of " + std::to_string(parameters.size()) + " parameters");
    SimFitOutcome outcome = FitBySimulation(parameters, static_cast<int>(residual_count), residual, fit);
    std::vector<BoundedParameter> searched = parameters;
    if (options.refine_width > 0 && !options.common.quick) {
      // The cost is rugged at the scale of a few percent (each toss's outcome flips at some parameter values): a
      // second, dense search in a box around the first solution finds the bottom of its basin more reliably than
      // Levenberg-Marquardt alone. It starts from (and so cannot end above) the first solution.
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
      progress(0.45, "dense search around the solution");
      SimFitOptions fine = fit;
      fine.global_samples = options.refine_samples;
      fine.seed = options.common.seed + 1;
      const int evaluations = outcome.evaluations;
      outcome = FitBySimulation(searched, static_cast<int>(residual_count), residual, fine);
      outcome.evaluations += evaluations;
    }
    const Eigen::VectorXd& x = outcome.x;

    // Identifiability and the episode-clustered covariance from the fit's own analysis at its solution.
    const Uncertainty& u = outcome.uncertainty;
    const bool analysed = u.identified.size() == parameters.size();
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      FitParameter& p = result.parameters[result_index[i]];
      if (analysed && u.identified[i]) {
        p.estimate = x[static_cast<Eigen::Index>(i)];
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
    // The covariance describes the basin the fit ended in. A tumbling cube's cost is rugged (each toss's outcome
    // flips at some parameter values) and can have other basins nearly as deep: on 5 real tosses restitution landed
    // at 0.01-0.22 depending on the subset, each with a tight local interval. A scan of each identified parameter
    // over its bounds (the others at the estimate) finds such basins; a point whose cost rises by less than the
    // robust interval's edge would (1/2 chi2_1(0.95) s^2 inflation^2, s^2 = 2 cost / (m - n)) is flagged with a
    // warning; one as deep as the fit's own (within 1/2 chi2_1(0.95) s^2) widens the interval to reach it.
    if (analysed && options.profile_points > 0 && residual_count > static_cast<std::int64_t>(parameters.size())) {
      progress(0.75, "scanning each parameter for other basins");
      const double s2 = 2 * outcome.cost / static_cast<double>(residual_count - static_cast<std::int64_t>(parameters.size()));
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
      const std::vector<double> costs =
          CostsAt(points, static_cast<int>(residual_count), residual, options.common.threads);
      for (std::size_t i = 0, c = 0; i < parameters.size(); ++i) {
        if (!u.identified[i]) continue;
        const auto ii = static_cast<Eigen::Index>(i);
        const double inflation = std::isfinite(u.inflation[ii]) ? u.inflation[ii] : 1.0;
        // Within the classical threshold: as deep as the fit's own basin, so the interval widens to reach it.
        // Within the robust one only: flagged (widening to the bounds would make every rugged parameter unknown).
        const double deep = 0.5 * 3.8415 * s2, shallow = deep * inflation * inflation;
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
        FitParameter& p = result.parameters[result_index[i]];
        const auto cc = static_cast<Eigen::Index>(c++);
        if (reach > 1.96 * p.std_dev) {
          result.warnings.push_back(p.name + ": another basin of the cost at " + Format(at) + " (cost +" +
                                    Format(100 * rise / outcome.cost) + " %) lies outside the interval " +
                                    Format(x[ii]) + " +- " + Format(1.96 * p.std_dev) +
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
    result.condition_number = outcome.uncertainty.condition_number;
    result.rank = outcome.uncertainty.rank;
    result.termination = outcome.termination;
    result.converged = outcome.converged;
    result.iterations = outcome.iterations;
    if (!outcome.converged) result.warnings.push_back("the fit stopped before converging: " + outcome.termination);
  } else {
    result.termination = "nothing to fit: every parameter is fixed or unobservable";
    result.converged = true;
  }

  // Predictions: every episode run to its end with the fitted and with the nominal values.
  std::vector<ObjectValues> fitted_values = nominal_values;
  for (std::size_t k = 0; k < tracked.size(); ++k) {
    for (std::size_t f = 0; f < std::size(kFields); ++f) {
      fitted_values[k][f] = result.parameters[k * std::size(kFields) + f].estimate;
    }
  }
  const int threads = std::max(1, options.common.threads);
  const auto predicted = simulator.Run(fitted_values, episodes, total, /*full=*/true, threads);
  const auto baseline = simulator.Run(nominal_values, episodes, total, /*full=*/true, threads);

  const std::string baseline_name = "the scene's nominal values";
  for (std::size_t k = 0; k < tracked.size(); ++k) {
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
    result.train.push_back(
        with_baseline(OrientationFit(orientation, train), OrientationFit(orientation, train_nominal)));
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
  AddHeldOutWarnings(result);
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace r2s::sysid

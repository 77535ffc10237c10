#include "sysid/joint_dynamics.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <numbers>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include <ceres/ceres.h>
#include <Eigen/Cholesky>
#include <Eigen/QR>

#include "episode/input_error.h"
#include "sim/rigid_body_dynamics.h"
#include "sysid/reference_model.h"

namespace r2s::sysid {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Num(double x, int precision = 4) {
  std::ostringstream s;
  s.precision(precision);
  s << x;
  return s.str();
}

// ---- The signals the fit needs ----

struct Slice {
  std::string feature;
  int column = 0;
  const sim::JointBinding* binding = nullptr;  // converts the dataset's units to SI; none for timestamps
  std::size_t index = 0;                       // the column's joint within the binding
};

// Where the dataset holds each dof's position, velocity and torque.
struct Sources {
  std::vector<int> measured;  // dofs with a torque, in binding order: the fit's joints
  std::vector<int> moving;    // dofs with a position (measured among them): their motion enters the dynamics
  std::map<int, Slice> position, velocity, effort;
};

Sources FindSources(const ProblemInput& input) {
  const sim::RobotModel& robot = *input.model->robot;
  Sources s;
  for (const sim::JointBinding& b : input.plan.joint_bindings()) {
    std::map<int, Slice>* target = nullptr;
    if (b.signal == sim::JointSignal::kPosition) target = &s.position;
    if (b.signal == sim::JointSignal::kVelocity) target = &s.velocity;
    if (b.signal == sim::JointSignal::kEffort) target = &s.effort;
    if (target == nullptr) continue;
    for (std::size_t k = 0; k < b.dofs.size(); ++k) {
      if (target->count(b.dofs[k])) continue;  // the first binding of a signal wins
      (*target)[b.dofs[k]] = Slice{b.feature, b.begin + static_cast<int>(k), &b, k};
      if (b.signal == sim::JointSignal::kEffort) s.measured.push_back(b.dofs[k]);
    }
  }
  const auto joint = [&](int dof) { return robot.dof_link(dof).joint_name; };
  if (s.measured.empty()) {
    throw InputError(input.dataset_file, "features",
                     "joint dynamics needs measured joint torques (a binding with signal: effort in " +
                         input.scene_file + "); the dataset feeds none");
  }
  std::string missing;
  for (int dof : s.measured) {
    if (!s.position.count(dof)) missing += (missing.empty() ? "" : ", ") + joint(dof) + " position";
  }
  if (!missing.empty()) {
    throw InputError(input.dataset_file, "features",
                     "joint dynamics needs measured positions of every joint with a measured torque; missing: " +
                         missing + " (signal: position bindings in " + input.scene_file + ")");
  }
  for (const auto& [dof, slice] : s.position) s.moving.push_back(dof);
  return s;
}

// Column `c` of a [T, width] float column, as doubles; throws InputError on NaN/Inf naming frame and joint.
Eigen::VectorXd ReadSignal(const ProblemInput& input, std::int64_t episode_index, const episode::Episode& episode,
                           const Slice& slice, const std::string& what) {
  const std::string field =
      "episode " + std::to_string(episode_index) + ": " + slice.feature + "[" + std::to_string(slice.column) + "]";
  const episode::Column* column = episode.Find(slice.feature);
  if (column == nullptr) throw InputError(input.dataset_file, field, "is missing (" + what + ")");
  const episode::Array& a = column->data;
  const std::int64_t frames = column->num_frames();
  const std::int64_t width = frames > 0 ? a.size() / frames : 0;
  if (slice.column >= width) {
    throw InputError(input.dataset_file, field,
                     "is out of range: the feature has " + std::to_string(width) + " values per frame (" + what + ")");
  }
  Eigen::VectorXd out(frames);
  const auto read = [&](auto values) {
    for (std::int64_t i = 0; i < frames; ++i) {
      const double raw = static_cast<double>(values[i * width + slice.column]);
      out[i] = slice.binding ? slice.binding->SiFromRaw(slice.index, raw) : raw;
    }
  };
  if (a.dtype == episode::DType::kFloat64) {
    read(a.values<double>());
  } else if (a.dtype == episode::DType::kFloat32) {
    read(a.values<float>());
  } else {
    throw InputError(input.dataset_file, field, "is not float32 or float64 (" + what + ")");
  }
  for (std::int64_t i = 0; i < frames; ++i) {
    if (!std::isfinite(out[i])) {
      throw InputError(input.dataset_file, field,
                       "is " + Num(out[i]) + " at frame " + std::to_string(i) + " (" + what + ")");
    }
  }
  return out;
}

// Seconds from the episode's first frame: its timestamp column, else frame / fps.
Eigen::VectorXd ReadTimes(const ProblemInput& input, std::int64_t episode_index, const episode::Episode& episode,
                          std::int64_t frames) {
  Eigen::VectorXd t(frames);
  const std::string field = "episode " + std::to_string(episode_index) + ": timestamp";
  if (const episode::Column* column = episode.Find("timestamp")) {
    t = ReadSignal(input, episode_index, episode, Slice{"timestamp", 0}, "time");
    if (t.size() != frames) throw InputError(input.dataset_file, field, "has another length than the signals");
    const double t0 = t[0];
    t.array() -= t0;
    for (std::int64_t i = 1; i < frames; ++i) {
      if (!(t[i] > t[i - 1])) {
        throw InputError(input.dataset_file, field,
                         "does not increase at frame " + std::to_string(i) + " (" + Num(t[i - 1], 10) + " s then " +
                             Num(t[i], 10) + " s)");
      }
    }
    (void)column;
    return t;
  }
  if (!input.plan.fps() || !(*input.plan.fps() > 0)) {
    throw InputError(input.dataset_file, field, "is missing and the dataset declares no fps");
  }
  for (std::int64_t i = 0; i < frames; ++i) t[i] = static_cast<double>(i) / *input.plan.fps();
  return t;
}

// One episode's training or held-out frames, low-passed. q, qd, qdd hold every dof of the robot (the ones not
// recorded at their scene value, at rest); tau the measured joints' raw torques.
struct Part {
  std::int64_t episode = 0;
  Eigen::VectorXd t;
  Eigen::MatrixXd q, qd, qdd;
  Eigen::MatrixXd tau;
  std::int64_t frames() const { return t.size(); }
};

constexpr std::int64_t kMinPartFrames = 8;  // the filter's one-sided differences need a few

Part SlicePart(const Part& p, std::int64_t begin, std::int64_t end) {
  Part out;
  out.episode = p.episode;
  const std::int64_t n = end - begin;
  out.t = p.t.segment(begin, n);
  out.q = p.q.middleRows(begin, n);
  out.qd = p.qd.middleRows(begin, n);
  out.qdd = p.qdd.middleRows(begin, n);
  out.tau = p.tau.middleRows(begin, n);
  return out;
}

Part MakePart(const Sources& s, const Eigen::VectorXd& q_fixed, std::int64_t episode, const Eigen::VectorXd& t,
              const std::map<int, Eigen::VectorXd>& position, const std::map<int, Eigen::VectorXd>& velocity,
              const std::vector<Eigen::VectorXd>& effort, std::int64_t begin, std::int64_t end,
              const SmoothingOptions& smoothing, bool measured_velocity) {
  Part p;
  p.episode = episode;
  const std::int64_t n = end - begin;
  const auto dofs = q_fixed.size();
  p.t = t.segment(begin, n);
  p.q = q_fixed.transpose().replicate(n, 1);
  p.qd = Eigen::MatrixXd::Zero(n, dofs);
  p.qdd = Eigen::MatrixXd::Zero(n, dofs);
  Eigen::MatrixXd raw_q(n, s.moving.size());
  for (std::size_t k = 0; k < s.moving.size(); ++k) raw_q.col(k) = position.at(s.moving[k]).segment(begin, n);
  const SmoothedSignals q = SmoothAndDifferentiate(p.t, raw_q, smoothing);
  // A measured velocity is differentiated once rather than the position twice: one difference less of noise.
  std::vector<int> with_velocity;
  for (int dof : s.moving) {
    if (measured_velocity && velocity.count(dof)) with_velocity.push_back(dof);
  }
  Eigen::MatrixXd raw_qd(n, with_velocity.size());
  for (std::size_t k = 0; k < with_velocity.size(); ++k)
    raw_qd.col(k) = velocity.at(with_velocity[k]).segment(begin, n);
  SmoothedSignals qd;
  if (!with_velocity.empty()) qd = SmoothAndDifferentiate(p.t, raw_qd, smoothing);
  for (std::size_t k = 0; k < s.moving.size(); ++k) {
    const int dof = s.moving[k];
    p.q.col(dof) = q.value.col(k);
    const auto it = std::find(with_velocity.begin(), with_velocity.end(), dof);
    if (it != with_velocity.end()) {
      const auto v = it - with_velocity.begin();
      p.qd.col(dof) = qd.value.col(v);
      p.qdd.col(dof) = qd.rate.col(v);
    } else {
      p.qd.col(dof) = q.rate.col(k);
      p.qdd.col(dof) = q.acceleration.col(k);
    }
  }
  p.tau.resize(n, s.measured.size());
  for (std::size_t j = 0; j < s.measured.size(); ++j) p.tau.col(j) = effort[j].segment(begin, n);
  return p;
}

// ---- The parameters ----

enum FrictionField { kCoulomb, kViscous, kOffset, kCoulombVelocity, kStribeck, kStribeckVelocity, kFrictionFields };

struct Parameter {
  std::string name;
  std::string unit;
  double nominal = 0;
  double lower = -kInf;
  double upper = kInf;
  double scale = 1;  // a typical size: the column scaling of the identifiability analysis
  bool overlays = false;
  bool free = true;
  std::string why_fixed;  // when !free
};

// p = [beta (r) | per measured joint: fc, fv, fo, vc, fs, vs]; without Stribeck fs = 0 and vs fixed.
struct Layout {
  int base = 0;
  int joints = 0;
  bool stribeck = false;
  std::vector<Parameter> parameters;
  int friction(int joint, FrictionField field) const { return base + kFrictionFields * joint + field; }
};

struct Friction {
  double value = 0;
  std::array<double, kFrictionFields> d{};  // d value / d field
};

Friction EvaluateFriction(const double* f, double v, bool stribeck) {
  Friction out;
  const double u = v / f[kCoulombVelocity];
  const double sign = std::tanh(u);
  const double sech2 = 1 - sign * sign;
  double coulomb = f[kCoulomb];
  out.d[kCoulomb] = sign;
  out.d[kViscous] = v;
  out.d[kOffset] = 1;
  out.value = f[kCoulomb] * sign + f[kViscous] * v + f[kOffset];
  if (stribeck) {
    const double w = v / f[kStribeckVelocity];
    const double e = std::exp(-w * w);
    out.value += f[kStribeck] * e * sign;
    out.d[kStribeck] = e * sign;
    out.d[kStribeckVelocity] = f[kStribeck] * sign * e * 2 * w * w / f[kStribeckVelocity];
    coulomb += f[kStribeck] * e;
  }
  out.d[kCoulombVelocity] = -coulomb * sech2 * u / f[kCoulombVelocity];
  return out;
}

// The thinned training samples in the form the residuals read.
struct FitData {
  int joints = 0;
  RowMatrix y;              // (samples * joints) x base: row s * joints + j
  Eigen::MatrixXd qd, tau;  // samples x joints; qd holds the motors' velocities (T qd) with a coupled transmission
  // Per joint j: the motors k whose friction it feels, with T_kj; {(j, 1)} without a coupled transmission.
  std::vector<std::vector<std::pair<int, double>>> motors_of_joint;
  Eigen::VectorXd sigma;    // per joint: the robust noise level residuals are divided by
  std::vector<std::int64_t> sample_group;  // per sample: its episode (training part)
  Eigen::Index samples() const { return qd.rows(); }
};

// The most motors one joint's torque may feel through a coupled transmission (a wrist's differential couples 2 or
// 3); FitJointDynamics refuses more.
constexpr std::size_t kMaxCoupledMotors = 8;

// Maps the free parameters (Ceres's x) and the fixed ones onto the full vector.
struct FreeMap {
  std::vector<int> free_index;  // per full parameter: its index in x, or -1
  std::vector<int> full_index;  // per x entry: its full parameter
  Eigen::VectorXd fixed;        // the full vector (free entries overwritten from x)
};

FreeMap MakeFreeMap(const Layout& layout, const Eigen::VectorXd& p) {
  FreeMap m;
  m.fixed = p;
  for (std::size_t i = 0; i < layout.parameters.size(); ++i) {
    if (layout.parameters[i].free) {
      m.free_index.push_back(static_cast<int>(m.full_index.size()));
      m.full_index.push_back(static_cast<int>(i));
    } else {
      m.free_index.push_back(-1);
    }
  }
  return m;
}

// One joint's torque at one sample, normalised by the joint's noise level: (tau - predicted) / sigma.
class TorqueResidual final : public ceres::CostFunction {
 public:
  TorqueResidual(const FitData& data, const Layout& layout, const FreeMap& map, Eigen::Index sample, int joint)
      : data_(data), layout_(layout), map_(map), sample_(sample), joint_(joint) {
    set_num_residuals(1);
    mutable_parameter_block_sizes()->push_back(static_cast<int>(map.full_index.size()));
  }

  bool Evaluate(double const* const* parameters, double* residuals, double** jacobians) const override {
    const double* x = parameters[0];
    const auto value = [&](int full) {
      const int f = map_.free_index[full];
      return f >= 0 ? x[f] : map_.fixed[full];
    };
    const auto row = data_.y.row(sample_ * data_.joints + joint_);
    double predicted = 0;
    for (int k = 0; k < layout_.base; ++k) predicted += row[k] * value(k);
    const auto& motors = data_.motors_of_joint[joint_];
    std::array<Friction, kMaxCoupledMotors> frictions;
    for (std::size_t m = 0; m < motors.size(); ++m) {
      std::array<double, kFrictionFields> f{};
      for (int k = 0; k < kFrictionFields; ++k) f[k] = value(layout_.friction(motors[m].first, FrictionField(k)));
      frictions[m] = EvaluateFriction(f.data(), data_.qd(sample_, motors[m].first), layout_.stribeck);
      predicted += motors[m].second * frictions[m].value;
    }
    const double inverse_sigma = 1.0 / data_.sigma[joint_];
    residuals[0] = (data_.tau(sample_, joint_) - predicted) * inverse_sigma;
    if (jacobians != nullptr && jacobians[0] != nullptr) {
      double* j = jacobians[0];
      std::fill(j, j + map_.full_index.size(), 0.0);
      for (int k = 0; k < layout_.base; ++k) {
        if (const int i = map_.free_index[k]; i >= 0) j[i] = -row[k] * inverse_sigma;
      }
      for (std::size_t m = 0; m < motors.size(); ++m) {
        for (int k = 0; k < kFrictionFields; ++k) {
          if (const int i = map_.free_index[layout_.friction(motors[m].first, FrictionField(k))]; i >= 0) {
            j[i] += -(motors[m].second * frictions[m].d[k]) * inverse_sigma;
          }
        }
      }
    }
    return true;
  }

 private:
  const FitData& data_;
  const Layout& layout_;
  const FreeMap& map_;
  Eigen::Index sample_;
  int joint_;
};

double Median(std::vector<double> v) {
  if (v.empty()) return kNaN;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

// The linear part of the model (beta, fc, fv, fo, fs) by least squares with vc and vs held: the start for Ceres.
// Returns the residuals (samples x joints).
Eigen::MatrixXd LinearStart(const FitData& data, const Layout& layout, Eigen::VectorXd& p) {
  const int m = data.joints;
  std::vector<int> columns;  // full indices of the linear, free parameters
  for (int k = 0; k < layout.base; ++k) {
    if (layout.parameters[k].free) columns.push_back(k);
  }
  for (int j = 0; j < m; ++j) {
    for (FrictionField f : {kCoulomb, kViscous, kOffset, kStribeck}) {
      const int i = layout.friction(j, f);
      if (layout.parameters[i].free) columns.push_back(i);
    }
  }
  const Eigen::Index rows = data.samples() * m;
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(rows, static_cast<Eigen::Index>(columns.size()));
  Eigen::VectorXd b(rows);
  std::vector<int> column_of(layout.parameters.size(), -1);
  for (std::size_t c = 0; c < columns.size(); ++c) column_of[columns[c]] = static_cast<int>(c);
  for (Eigen::Index s = 0; s < data.samples(); ++s) {
    for (int j = 0; j < m; ++j) {
      const Eigen::Index r = s * m + j;
      double fixed = 0;
      for (int k = 0; k < layout.base; ++k) {
        if (column_of[k] >= 0)
          a(r, column_of[k]) = data.y(r, k);
        else
          fixed += data.y(r, k) * p[k];
      }
      for (const auto& [motor, weight] : data.motors_of_joint[j]) {
        const Friction f =
            EvaluateFriction(p.data() + layout.friction(motor, kCoulomb), data.qd(s, motor), layout.stribeck);
        for (FrictionField field : {kCoulomb, kViscous, kOffset, kStribeck}) {
          const int i = layout.friction(motor, field);
          if (column_of[i] >= 0)
            a(r, column_of[i]) += weight * f.d[field];
          else
            fixed += weight * f.d[field] * p[i];
        }
      }
      b[r] = data.tau(s, j) - fixed;
    }
  }
  Eigen::VectorXd norms = a.colwise().norm();
  for (Eigen::Index c = 0; c < norms.size(); ++c) {
    if (norms[c] == 0) norms[c] = 1;
  }
  const Eigen::MatrixXd scaled = a * norms.cwiseInverse().asDiagonal();
  const Eigen::VectorXd solution = scaled.colPivHouseholderQr().solve(b).cwiseQuotient(norms);
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const Parameter& par = layout.parameters[columns[c]];
    p[columns[c]] = std::clamp(solution[static_cast<Eigen::Index>(c)], par.lower, par.upper);
  }
  Eigen::MatrixXd residual(data.samples(), m);
  for (Eigen::Index s = 0; s < data.samples(); ++s) {
    for (int j = 0; j < m; ++j) {
      const Eigen::Index r = s * m + j;
      double friction = 0;
      for (const auto& [motor, weight] : data.motors_of_joint[j]) {
        friction += weight * EvaluateFriction(p.data() + layout.friction(motor, kCoulomb), data.qd(s, motor),
                                              layout.stribeck).value;
      }
      residual(s, j) = data.tau(s, j) - data.y.row(r).head(layout.base).dot(p.head(layout.base)) - friction;
    }
  }
  return residual;
}

struct StageOutcome {
  ceres::Solver::Summary summary;
  Uncertainty uncertainty;
  std::vector<int> analysed;  // full indices, in the order of uncertainty's entries
};

// Fits the free parameters of p (in place) with Ceres and analyses the result.
StageOutcome SolveAndAnalyse(const FitData& data, const Layout& layout, Eigen::VectorXd& p,
                             const JointDynamicsOptions& options, bool analyse) {
  FreeMap map = MakeFreeMap(layout, p);
  std::vector<double> x;
  for (int i : map.full_index) x.push_back(p[i]);
  StageOutcome out;
  out.analysed = map.full_index;
  if (x.empty()) return out;

  ceres::Problem::Options problem_options;
  problem_options.loss_function_ownership = ceres::DO_NOT_TAKE_OWNERSHIP;
  ceres::Problem problem(problem_options);
  std::unique_ptr<ceres::LossFunction> loss;
  if (options.huber_threshold > 0) loss = std::make_unique<ceres::HuberLoss>(options.huber_threshold);
  for (Eigen::Index s = 0; s < data.samples(); ++s) {
    for (int j = 0; j < data.joints; ++j) {
      problem.AddResidualBlock(new TorqueResidual(data, layout, map, s, j), loss.get(), x.data());
    }
  }
  for (std::size_t k = 0; k < x.size(); ++k) {
    // Only two-sided bounds go to Ceres (the smooth-sign and Stribeck velocities, which the model needs inside
    // them). A one-sided physical bound (friction, armature >= 0) is an active set outside (FitJointDynamics):
    // projected Levenberg-Marquardt steps against an active bound crawl.
    const Parameter& par = layout.parameters[map.full_index[k]];
    if (!std::isfinite(par.lower) || !std::isfinite(par.upper)) continue;
    problem.SetParameterLowerBound(x.data(), static_cast<int>(k), par.lower);
    problem.SetParameterUpperBound(x.data(), static_cast<int>(k), par.upper);
  }
  ceres::Solver::Options solver;
  solver.linear_solver_type = ceres::DENSE_NORMAL_CHOLESKY;
  solver.max_num_iterations = options.max_iterations;
  solver.num_threads = std::max(1, options.common.threads);
  solver.function_tolerance = 1e-9;
  solver.parameter_tolerance = 1e-9;
  solver.logging_type = ceres::SILENT;
  if (options.common.quick) solver.max_num_iterations = std::min(solver.max_num_iterations, 10);
  ceres::Solve(solver, &problem, &out.summary);
  for (std::size_t k = 0; k < x.size(); ++k) p[map.full_index[k]] = x[k];
  if (!analyse) return out;

  std::vector<std::string> names;
  Eigen::VectorXd scale(static_cast<Eigen::Index>(x.size()));
  for (std::size_t k = 0; k < x.size(); ++k) {
    const Parameter& par = layout.parameters[map.full_index[k]];
    names.push_back(par.name);
    scale[static_cast<Eigen::Index>(k)] = par.scale;
  }
  // Residual rows are (sample, joint), samples in time order within each episode: clustered by episode.
  UncertaintyOptions uncertainty = options.uncertainty;
  uncertainty.residual_groups.clear();
  for (std::int64_t group : data.sample_group) {
    uncertainty.residual_groups.insert(uncertainty.residual_groups.end(), static_cast<std::size_t>(data.joints), group);
  }
  uncertainty.rows_per_step = data.joints;
  out.uncertainty = AnalyzeProblem(problem, x.data(), names, scale, uncertainty);
  return out;
}

// ---- Physically consistent standard parameters (log-Cholesky, Rucker & Wensing 2022) ----

// theta (10) -> (m, m c, I about the origin: xx, xy, xz, yy, yz, zz), the regressor's layout. The pseudo-inertia
// J = U U^T with U upper triangular, positive diagonal, is positive definite for every theta: a real mass
// distribution (positive mass, positive principal moments obeying the triangle inequality).
template <typename T>
void StandardFromLogCholesky(const T* th, T* pi) {
  using std::exp;
  const T e = exp(th[0]);
  // U = e^alpha [[e^d1, s12, s13, t1], [0, e^d2, s23, t2], [0, 0, e^d3, t3], [0, 0, 0, 1]]
  const T u00 = e * exp(th[1]), u01 = e * th[4], u02 = e * th[6], u03 = e * th[7];
  const T u11 = e * exp(th[2]), u12 = e * th[5], u13 = e * th[8];
  const T u22 = e * exp(th[3]), u23 = e * th[9];
  const T u33 = e;
  // J = U U^T: Sigma = J[0:3, 0:3] (second moments), h = J[0:3, 3], m = J[3, 3].
  const T s00 = u00 * u00 + u01 * u01 + u02 * u02 + u03 * u03;
  const T s01 = u01 * u11 + u02 * u12 + u03 * u13;
  const T s02 = u02 * u22 + u03 * u23;
  const T s11 = u11 * u11 + u12 * u12 + u13 * u13;
  const T s12 = u12 * u22 + u13 * u23;
  const T s22 = u22 * u22 + u23 * u23;
  pi[0] = u33 * u33;
  pi[1] = u03 * u33;
  pi[2] = u13 * u33;
  pi[3] = u23 * u33;
  // I = tr(Sigma) 1 - Sigma.
  pi[4] = s11 + s22;
  pi[5] = -s01;
  pi[6] = -s02;
  pi[7] = s00 + s22;
  pi[8] = -s12;
  pi[9] = s00 + s11;
}

// The log-Cholesky parameters of a physically consistent pi; a thin rod of its mass at its CoM where pi is not.
Eigen::Matrix<double, 10, 1> LogCholeskyFromStandard(const Eigen::Matrix<double, 10, 1>& pi_in) {
  Eigen::Matrix<double, 10, 1> pi = pi_in;
  if (!(pi[0] > 0)) pi << 1e-3, 0, 0, 0, 1e-6, 0, 0, 1e-6, 0, 1e-6;
  const auto pseudo = [](const Eigen::Matrix<double, 10, 1>& v) {
    Eigen::Matrix3d inertia;
    inertia << v[4], v[5], v[6], v[5], v[7], v[8], v[6], v[8], v[9];
    Eigen::Matrix4d j;
    j.topLeftCorner<3, 3>() = 0.5 * inertia.trace() * Eigen::Matrix3d::Identity() - inertia;
    j.topRightCorner<3, 1>() = v.segment<3>(1);
    j.bottomLeftCorner<1, 3>() = v.segment<3>(1).transpose();
    j(3, 3) = v[0];
    return j;
  };
  Eigen::Matrix4d j = pseudo(pi);
  // U U^T with U upper triangular is the Cholesky factor of J with rows and columns reversed.
  const Eigen::Matrix4d reverse = Eigen::Matrix4d::Identity().rowwise().reverse();
  Eigen::LLT<Eigen::Matrix4d> llt(reverse * j * reverse);
  if (llt.info() != Eigen::Success || (llt.matrixL().toDenseMatrix().diagonal().array() <= 1e-12).any()) {
    // Inconsistent nominal values: keep mass and CoM, give it the inertia of a 5 cm ball.
    const double m = pi[0];
    const Eigen::Vector3d c = pi.segment<3>(1) / m;
    const Eigen::Matrix3d ic = 0.4 * m * 0.05 * 0.05 * Eigen::Matrix3d::Identity();
    const Eigen::Matrix3d io = ic + m * (c.squaredNorm() * Eigen::Matrix3d::Identity() - c * c.transpose());
    pi << m, m * c, io(0, 0), io(0, 1), io(0, 2), io(1, 1), io(1, 2), io(2, 2);
    j = pseudo(pi);
    llt.compute(reverse * j * reverse);
  }
  const Eigen::Matrix4d u = reverse * llt.matrixL().toDenseMatrix() * reverse;
  const double e = u(3, 3);
  Eigen::Matrix<double, 10, 1> th;
  th << std::log(e), std::log(u(0, 0) / e), std::log(u(1, 1) / e), std::log(u(2, 2) / e), u(0, 1) / e, u(1, 2) / e,
      u(0, 2) / e, u(0, 3) / e, u(1, 3) / e, u(2, 3) / e;
  return th;
}

// (m, m c, I about the origin) -> the scene's form: (m, c, I about the CoM: xx, xy, xz, yy, yz, zz), link frame.
template <typename T>
void SceneFromStandard(const T* pi, T* out) {
  const T m = pi[0];
  const T cx = pi[1] / m, cy = pi[2] / m, cz = pi[3] / m;
  const T c2 = cx * cx + cy * cy + cz * cz;
  // I_com = I_origin - m (|c|^2 1 - c c^T)
  out[0] = m;
  out[1] = cx;
  out[2] = cy;
  out[3] = cz;
  out[4] = pi[4] - m * (c2 - cx * cx);
  out[5] = pi[5] + m * cx * cy;
  out[6] = pi[6] + m * cx * cz;
  out[7] = pi[7] - m * (c2 - cy * cy);
  out[8] = pi[8] + m * cy * cz;
  out[9] = pi[9] - m * (c2 - cz * cz);
}

// || L^T (C_links pi(theta) + offset) ||^2 + sum ((scene form - nominal) / scale)^2: reproduce the base parameters'
// torques on the training samples (L L^T = Y^T W Y), otherwise stay near the nominal mass, CoM and inertia (a
// prior on m c instead would let a light link's CoM wander off).
struct ConsistencyResidual {
  Eigen::MatrixXd lt;              // r x r
  Eigen::MatrixXd combination;     // r x 10 L
  Eigen::VectorXd offset;          // r: the fixed standard parameters' share minus the fitted beta
  Eigen::VectorXd nominal, scale;  // 10 L, scene form
  int links = 0;

  template <typename T>
  bool operator()(T const* const* parameters, T* residuals) const {
    const Eigen::Index r = lt.rows();
    std::vector<T> pi(10 * static_cast<std::size_t>(links));
    for (int l = 0; l < links; ++l) StandardFromLogCholesky(parameters[0] + 10 * l, pi.data() + 10 * l);
    std::vector<T> delta(static_cast<std::size_t>(r));
    for (Eigen::Index k = 0; k < r; ++k) {
      T sum = T(offset[k]);
      for (Eigen::Index c = 0; c < combination.cols(); ++c) {
        if (combination(k, c) != 0) sum += combination(k, c) * pi[c];
      }
      delta[k] = sum;
    }
    for (Eigen::Index i = 0; i < r; ++i) {
      T sum = T(0);
      for (Eigen::Index k = i; k < r; ++k) sum += lt(i, k) * delta[k];
      residuals[i] = sum;
    }
    for (int l = 0; l < links; ++l) {
      T scene[10];
      SceneFromStandard(pi.data() + 10 * l, scene);
      for (int k = 0; k < 10; ++k) residuals[r + 10 * l + k] = (scene[k] - nominal[10 * l + k]) / scale[10 * l + k];
    }
    return true;
  }
};

const char* const kInertialSuffix[10] = {"m", "mcx", "mcy", "mcz", "Ixx", "Ixy", "Ixz", "Iyy", "Iyz", "Izz"};

std::string InertialUnit(int k) { return k == 0 ? "kg" : k < 4 ? "kg m" : "kg m^2"; }
// How far the consistency step may move field k of a link's scene-form inertial (mass, CoM, inertia about the CoM)
// from its nominal value: the prior's spread, and the reported std of these unidentified values.
double PriorSpread(int k, double nominal_mass_kg) {
  return k == 0 ? std::max(nominal_mass_kg, 0.5) : k < 4 ? 0.05 : 0.05;
}
double InertialScale(int k) { return k == 0 ? 1.0 : k < 4 ? 0.1 : 0.01; }

// ---- Predictions ----

struct Predictor {
  const sim::RigidBodyDynamics& dynamics;
  const BaseParameters& base;
  const Layout& layout;
  const Eigen::MatrixXd& transmission;  // RobotModel::transmission: empty unless coupled
  const std::vector<std::vector<std::pair<int, double>>>& motors_of_joint;
  Eigen::VectorXd p;  // full parameter vector

  // Torques of the measured joints at frame i of a part: the base-parameter model and, when `standard` is given
  // (standard inertial parameters and armatures, BaseParameters::standard_names order), that model.
  void Torques(const Part& part, Eigen::Index i, Eigen::VectorXd& fitted, const Eigen::VectorXd* standard,
               Eigen::VectorXd* consistent) const {
    const Eigen::MatrixXd y = MeasuredRegressor(dynamics, base.measured_dofs, part.q.row(i).transpose(),
                                                part.qd.row(i).transpose(), part.qdd.row(i).transpose(), transmission);
    fitted = base.Reduce(y) * p.head(layout.base);
    if (standard != nullptr) *consistent = y * *standard;
    for (int j = 0; j < layout.joints; ++j) {
      double f = 0;
      for (const auto& [motor, weight] : motors_of_joint[j]) {
        const int dof = base.measured_dofs[motor];
        const double v = transmission.size() ? transmission.row(dof).dot(part.qd.row(i)) : part.qd(i, dof);
        f += weight * EvaluateFriction(p.data() + layout.friction(motor, kCoulomb), v, layout.stribeck).value;
      }
      fitted[j] += f;
      if (standard != nullptr) (*consistent)[j] += f;
    }
  }
};

}  // namespace

void JointDynamicsOptions::Validate() const {
  const std::string owner = "JointDynamicsOptions";
  common.Validate(owner);
  const auto positive = [&](const char* field, double value, const char* what) {
    if (!(value > 0) || !std::isfinite(value)) FailOption(owner, field, value, std::string("a finite ") + what + " > 0");
  };
  positive("fit_rate_hz", fit_rate_hz, "rate");
  positive("smoothing.cutoff_hz", smoothing.cutoff_hz, "frequency");
  positive("smooth_sign_velocity", smooth_sign_velocity, "velocity");
  if (smoothing.order < 1) FailOption(owner, "smoothing.order", smoothing.order, "at least 1");
  if (!(smoothing.grid_period_s >= 0) || !std::isfinite(smoothing.grid_period_s)) {
    FailOption(owner, "smoothing.grid_period_s", smoothing.grid_period_s, "a finite period >= 0 (0: the median)");
  }
  if (!std::isfinite(huber_threshold)) {
    FailOption(owner, "huber_threshold", huber_threshold, "a finite threshold (<= 0: plain least squares)");
  }
  if (max_iterations < 0) FailOption(owner, "max_iterations", max_iterations, "0 or more");
  if (!(min_range_rad >= 0) || !std::isfinite(min_range_rad)) {
    FailOption(owner, "min_range_rad", min_range_rad, "a finite range >= 0");
  }
}

FitResult FitJointDynamics(const ProblemInput& input, const JointDynamicsOptions& options) {
  options.Validate();
  const auto start = std::chrono::steady_clock::now();
  if (!input.model || !input.model->robot) {
    throw InputError(input.scene_file, "robot", "joint dynamics needs a robot; the scene has none");
  }
  const sim::Model& model = *input.model;
  const sim::RobotModel& robot = *model.robot;
  const Sources sources = FindSources(input);
  const int m = static_cast<int>(sources.measured.size());
  const auto joint_name = [&](int j) { return robot.dof_link(sources.measured[j]).joint_name; };
  const auto is_prismatic = [&](int j) {
    return robot.dof_link(sources.measured[j]).joint_type == sim::JointType::kPrismatic;
  };
  if (input.episodes.empty()) throw InputError(input.dataset_file, "episodes", "holds no episode");

  // A coupled transmission: each measured joint feels the friction of the motors that turn it. A motor group must
  // be measured whole: a recorded joint's torque holds the friction of a motor whose torque is not recorded.
  std::vector<std::vector<std::pair<int, double>>> motors_of_joint(m);
  for (int j = 0; j < m; ++j) {
    if (!robot.coupled()) {
      motors_of_joint[j].emplace_back(j, 1.0);
      continue;
    }
    for (int dof = 0; dof < robot.num_dofs(); ++dof) {
      const double weight = robot.transmission(dof, sources.measured[j]);
      if (weight == 0) continue;
      const auto k = std::find(sources.measured.begin(), sources.measured.end(), dof) - sources.measured.begin();
      if (k == m) {
        throw InputError(input.dataset_file, "features",
                         "the scene's robot.transmission couples joint " + joint_name(j) + " with the motor of " +
                             robot.dof_link(dof).joint_name + ", whose torque the dataset does not record; joint "
                             "dynamics needs the torques of a coupled group's joints all together (bindings with "
                             "signal: effort in " + input.scene_file + ")");
      }
      motors_of_joint[j].emplace_back(static_cast<int>(k), weight);
    }
    if (motors_of_joint[j].size() > kMaxCoupledMotors) {
      throw InputError(input.scene_file, "robot.transmission",
                       "couples joint " + joint_name(j) + " with " + std::to_string(motors_of_joint[j].size()) +
                           " motors; joint dynamics takes at most " + std::to_string(kMaxCoupledMotors));
    }
  }

  // The reference model first: a bad file fails before the fit, not after.
  std::optional<ReferenceModel> reference;
  std::vector<int> reference_joint(m, -1);  // reference joint of each measured joint
  std::vector<int> reference_dof;           // per reference joint: the dof it reads q from
  if (options.baseline) {
    reference = ReferenceModel::Load(*options.baseline);
    if (reference->num_joints() != m) {
      throw InputError(options.baseline->string(), "kinematics_modified_DH_Craig",
                       "describes " + std::to_string(reference->num_joints()) + " joints; the episodes measure the " +
                           "torque of " + std::to_string(m));
    }
    for (int r = 0; r < m; ++r) {
      int j = r;
      if (!reference->joint_names().empty()) {
        j = -1;
        for (int k = 0; k < m; ++k) {
          if (joint_name(k) == reference->joint_names()[r]) j = k;
        }
        if (j < 0) {
          throw InputError(options.baseline->string(), "joint_names[" + std::to_string(r) + "]",
                           "'" + reference->joint_names()[r] + "' is not a joint whose torque the episodes measure");
        }
      }
      reference_joint[j] = r;
      reference_dof.push_back(sources.measured[j]);
    }
  }

  FitResult result;
  result.problem = Problem::kJointDynamics;
  Eigen::VectorXd q_fixed =
      robot.initial_q.size() == robot.num_dofs() ? robot.initial_q : Eigen::VectorXd::Zero(robot.num_dofs());
  std::vector<std::string> unrecorded;
  for (int dof = 0; dof < robot.num_dofs(); ++dof) {
    if (!sources.position.count(dof)) unrecorded.push_back(robot.dof_link(dof).joint_name);
  }
  if (!unrecorded.empty()) {
    std::string list;
    for (const auto& n : unrecorded) list += (list.empty() ? "" : ", ") + n;
    result.warnings.push_back("joints without recorded positions are held at the scene's initial_q as rigid parts: " +
                              list);
  }

  // ---- Read, check and filter the episodes ----
  std::vector<Part> train, held_out;
  for (std::size_t e = 0; e < input.episodes.size(); ++e) {
    const episode::Episode& episode = input.episodes[e];
    const auto index = static_cast<std::int64_t>(e);
    std::map<int, Eigen::VectorXd> position, velocity;
    std::vector<Eigen::VectorXd> effort;
    for (int dof : sources.moving) {
      position[dof] =
          ReadSignal(input, index, episode, sources.position.at(dof), robot.dof_link(dof).joint_name + " position");
      if (sources.velocity.count(dof)) {
        velocity[dof] =
            ReadSignal(input, index, episode, sources.velocity.at(dof), robot.dof_link(dof).joint_name + " velocity");
      }
    }
    for (int j = 0; j < m; ++j) {
      effort.push_back(
          ReadSignal(input, index, episode, sources.effort.at(sources.measured[j]), joint_name(j) + " effort"));
    }
    const std::int64_t frames = effort[0].size();
    const std::int64_t split = HeldOutSplit(frames, options.common.held_out_fraction);
    if (split < kMinPartFrames) {
      throw InputError(input.dataset_file, "episode " + std::to_string(e),
                       "has " + std::to_string(frames) + " frames, " + std::to_string(split) +
                           " of them to fit; joint dynamics needs at least " + std::to_string(kMinPartFrames));
    }
    const Eigen::VectorXd t = ReadTimes(input, index, episode, frames);
    SmoothingOptions smoothing = options.smoothing;
    {
      std::vector<double> periods(frames - 1);
      for (std::int64_t i = 0; i + 1 < frames; ++i) periods[i] = t[i + 1] - t[i];
      const double nyquist_hz = 0.5 / Median(periods);
      if (smoothing.cutoff_hz > 0.4 * nyquist_hz) {
        smoothing.cutoff_hz = 0.4 * nyquist_hz;
        result.warnings.push_back("episode " + std::to_string(e) + ": sampled at " + Num(2 * nyquist_hz, 3) +
                                  " Hz, too slow for the " + Num(options.smoothing.cutoff_hz, 3) +
                                  " Hz low-pass; filtered at " + Num(smoothing.cutoff_hz, 3) + " Hz instead");
      }
    }
    // The whole episode is filtered at once: q and qd are inputs, never targets, and a cut at the split would put
    // two more filter edges (where qdd is least certain) into the data. The fit skips the episode's first and
    // last 2 / cutoff seconds: at the ends the filter extrapolates.
    const Part whole = MakePart(sources, q_fixed, index, t, position, velocity, effort, 0, frames, smoothing,
                                options.measured_velocity);
    const double edge_s = 2.0 / smoothing.cutoff_hz;
    std::int64_t first = 0, last = split;
    while (first < split / 4 && t[first] < edge_s) ++first;
    while (last > 3 * split / 4 && t[last - 1] > t[frames - 1] - edge_s) --last;
    train.push_back(SlicePart(whole, first, last));
    if (frames > split) held_out.push_back(SlicePart(whole, split, frames));
  }

  // ---- Base parameters ----
  const sim::RigidBodyDynamics dynamics(robot, model.sim.gravity_mps2);
  std::vector<std::string> armature_names;
  for (int j = 0; j < m; ++j) armature_names.push_back("robot." + joint_name(j) + ".armature");
  const BaseParameters base =
      FindBaseParameters(robot, dynamics, sources.measured, sources.moving, armature_names, q_fixed, options.base);
  const int inertial_columns = 10 * dynamics.num_links();
  Eigen::VectorXd standard_nominal(base.standard_names.size());
  standard_nominal.head(inertial_columns) = dynamics.InertialParameters();
  for (int j = 0; j < m; ++j) {
    standard_nominal[inertial_columns + j] =
        robot.actuators.empty() ? 0.0 : robot.actuators[sources.measured[j]].armature;
  }
  // A link without mass but with an inertia tensor (URDF placeholders: PyBullet's Panda gives its massless flange
  // 0.1 kg m^2) is no mass distribution: its nominal inertia counts as zero, and the overlay says so.
  std::vector<int> massless_with_inertia;
  for (int l = 0; l < dynamics.num_links(); ++l) {
    if (standard_nominal[10 * l] > 0 || !(standard_nominal.segment(10 * l + 4, 6).array() != 0).any()) continue;
    if ((base.combination.middleCols(10 * l, 10).array() != 0).any()) massless_with_inertia.push_back(l);
    standard_nominal.segment(10 * l, 10).setZero();
  }

  Layout layout;
  layout.base = base.size();
  layout.joints = m;
  layout.stribeck = options.stribeck;
  const Eigen::VectorXd beta_nominal = base.combination * standard_nominal;
  for (int k = 0; k < base.size(); ++k) {
    Parameter par;
    const int s = base.independent[k];
    par.nominal = beta_nominal[k];
    if (s >= inertial_columns) {  // an armature of its own
      par.name = base.name(k);
      par.unit = is_prismatic(s - inertial_columns) ? "kg" : "kg m^2";
      par.lower = 0;
      par.scale = 0.01;
      par.overlays = true;
    } else {
      par.name = "robot.base." + base.name(k);
      par.unit = InertialUnit(s % 10);
      par.scale = InertialScale(s % 10);
    }
    layout.parameters.push_back(par);
  }
  for (int j = 0; j < m; ++j) {
    const std::string prefix = "robot." + joint_name(j) + ".";
    const bool prismatic = is_prismatic(j);
    const std::string force = prismatic ? "N" : "N m";
    const std::string speed = prismatic ? "m/s" : "rad/s";
    const sim::ActuatorParams actuator =
        robot.actuators.empty() ? sim::ActuatorParams{} : robot.actuators[sources.measured[j]];
    const auto make = [&](const char* field, std::string unit, double nominal, double lower, double upper, double scale,
                          bool overlays) {
      Parameter par;
      par.name = prefix + field;
      par.unit = std::move(unit);
      par.nominal = nominal;
      par.lower = lower;
      par.upper = upper;
      par.scale = scale;
      par.overlays = overlays;
      return par;
    };
    Parameter fc = make("coulomb_friction", force, actuator.coulomb_friction, 0, kInf, 0.1, true);
    Parameter fv = make("viscous_friction", force + " s/" + (prismatic ? "m" : "rad"), actuator.viscous_friction, 0,
                        kInf, 0.1, true);
    Parameter fo = make("torque_offset", force, 0, -kInf, kInf, 0.1, false);
    Parameter vc = make("coulomb_velocity", speed, options.smooth_sign_velocity, 1e-3, 1.0, 0.05, false);
    Parameter fs = make("stribeck_friction", force, 0, 0, kInf, 0.1, false);
    Parameter vs = make("stribeck_velocity", speed, 0.05, 1e-3, 1.0, 0.05, false);
    if (!options.stribeck) {
      fs.free = vs.free = false;
      fs.why_fixed = vs.why_fixed = "Stribeck term off";
    }
    // A joint that barely moves shows no friction to fit.
    double lo = kInf, hi = -kInf;
    for (const Part& part : train) {
      lo = std::min(lo, part.q.col(sources.measured[j]).minCoeff());
      hi = std::max(hi, part.q.col(sources.measured[j]).maxCoeff());
    }
    if (hi - lo < options.min_range_rad) {
      const std::string why =
          "joint barely moves in the training samples (range " +
          (prismatic ? Num(1e3 * (hi - lo), 3) + " mm" : Num((hi - lo) * 180 / std::numbers::pi, 3) + " deg") + ")";
      for (Parameter* par : {&fc, &fv, &vc, &fs, &vs}) {
        if (par->free) par->free = false, par->why_fixed = why;
      }
    }
    for (const Parameter& par : {fc, fv, fo, vc, fs, vs}) layout.parameters.push_back(par);
  }
  const auto parameter_count = static_cast<std::int64_t>(
      std::count_if(layout.parameters.begin(), layout.parameters.end(), [](const Parameter& p) { return p.free; }));

  // ---- The training samples, thinned ----
  FitData data;
  data.joints = m;
  data.motors_of_joint = motors_of_joint;
  {
    std::vector<std::pair<int, Eigen::Index>> picks;  // (part, frame)
    for (std::size_t k = 0; k < train.size(); ++k) {
      const Part& part = train[k];
      const double period = part.t[part.frames() - 1] / static_cast<double>(part.frames() - 1);
      const auto stride = std::max<Eigen::Index>(1, std::lround(1.0 / (options.fit_rate_hz * period)));
      for (Eigen::Index i = 0; i < part.frames(); i += stride) picks.emplace_back(static_cast<int>(k), i);
      result.train_samples += part.frames();
    }
    const auto n = static_cast<Eigen::Index>(picks.size());
    if (n * m < 4 * parameter_count) {
      throw InputError(input.dataset_file, "episodes",
                       "hold " + std::to_string(result.train_samples) + " frames to fit (" + std::to_string(n) +
                           " at the fit rate of " + Num(options.fit_rate_hz) + " Hz) for " +
                           std::to_string(parameter_count) + " parameters of " + std::to_string(m) +
                           " joints; joint dynamics needs at least " +
                           std::to_string((4 * parameter_count + m - 1) / m) + " samples at that rate");
    }
    data.y.resize(n * m, base.size());
    data.qd.resize(n, m);
    data.tau.resize(n, m);
    for (Eigen::Index s = 0; s < n; ++s) {
      const Part& part = train[picks[s].first];
      data.sample_group.push_back(part.episode);
      const Eigen::Index i = picks[s].second;
      const Eigen::MatrixXd y =
          MeasuredRegressor(dynamics, sources.measured, part.q.row(i).transpose(), part.qd.row(i).transpose(),
                            part.qdd.row(i).transpose(), robot.transmission);
      data.y.middleRows(s * m, m) = base.Reduce(y);
      for (int j = 0; j < m; ++j) {
        const int dof = sources.measured[j];
        data.qd(s, j) = robot.coupled() ? robot.transmission.row(dof).dot(part.qd.row(i)) : part.qd(i, dof);
        data.tau(s, j) = part.tau(i, j);
      }
    }
  }
  for (const Part& part : held_out) result.held_out_samples += part.frames();

  // ---- Fit ----
  Eigen::VectorXd p(static_cast<Eigen::Index>(layout.parameters.size()));
  for (std::size_t i = 0; i < layout.parameters.size(); ++i) p[i] = layout.parameters[i].nominal;
  data.sigma = Eigen::VectorXd::Ones(m);
  const Eigen::MatrixXd start_residual = LinearStart(data, layout, p);
  for (int j = 0; j < m; ++j) {
    std::vector<double> r(start_residual.col(j).data(), start_residual.col(j).data() + start_residual.rows());
    const double median = Median(r);
    for (double& v : r) v = std::abs(v - median);
    const double tau_rms = std::sqrt(data.tau.col(j).squaredNorm() / static_cast<double>(data.samples()));
    data.sigma[j] = std::max(1.4826 * Median(r), 1e-6 * tau_rms + 1e-12);
  }

  // Physical bounds by active set: a parameter the free fit pushes past its one-sided bound is held there.
  StageOutcome outcome;
  int iterations = 0;
  for (int round = 0;; ++round) {
    outcome = SolveAndAnalyse(data, layout, p, options, /*analyse=*/false);
    iterations += static_cast<int>(outcome.summary.iterations.size()) - 1;
    bool changed = false;
    for (std::size_t i = 0; i < layout.parameters.size(); ++i) {
      Parameter& par = layout.parameters[i];
      if (!par.free || (std::isfinite(par.lower) && std::isfinite(par.upper))) continue;
      const double bound = p[i] < par.lower ? par.lower : p[i] > par.upper ? par.upper : p[i];
      if (bound == p[i]) continue;
      par.free = false;
      par.why_fixed =
          "held at its bound " + Num(bound) + ": the fit without it gives " + Num(p[i], 3) + ", which is not physical";
      p[i] = bound;
      changed = true;
    }
    if (!changed || round == 3) break;
  }
  outcome = SolveAndAnalyse(data, layout, p, options, /*analyse=*/true);
  iterations += static_cast<int>(outcome.summary.iterations.size()) - 1;
  for (int round = 0; round < 2; ++round) {
    bool changed = false;
    for (std::size_t k = 0; k < outcome.analysed.size(); ++k) {
      if (outcome.uncertainty.identified[k]) continue;
      Parameter& par = layout.parameters[outcome.analysed[k]];
      par.free = false;
      par.why_fixed = outcome.uncertainty.why_not[k];
      p[outcome.analysed[k]] = par.nominal;
      changed = true;
    }
    if (!changed) break;
    outcome = SolveAndAnalyse(data, layout, p, options, /*analyse=*/true);
    iterations += static_cast<int>(outcome.summary.iterations.size()) - 1;
  }
  const ceres::Solver::Summary& summary = outcome.summary;
  result.termination = summary.message;
  result.converged = summary.termination_type == ceres::CONVERGENCE;
  result.iterations = iterations;
  if (!result.converged) {
    result.warnings.push_back("the fit did not converge: " + summary.message);
  }

  // ---- Parameters out ----
  std::vector<double> std_dev(layout.parameters.size(), kNaN);
  std::vector<std::string> why_not(layout.parameters.size());
  for (std::size_t i = 0; i < layout.parameters.size(); ++i) why_not[i] = layout.parameters[i].why_fixed;
  for (std::size_t k = 0; k < outcome.analysed.size(); ++k) {
    const int i = outcome.analysed[k];
    std_dev[i] = outcome.uncertainty.std_dev[static_cast<Eigen::Index>(k)];
    if (!outcome.uncertainty.identified[k]) why_not[i] = outcome.uncertainty.why_not[k];
  }
  for (std::size_t k = 0; k < outcome.analysed.size(); ++k) {
    if (outcome.uncertainty.identified[k])
      result.covariance_names.push_back(layout.parameters[outcome.analysed[k]].name);
  }
  result.covariance = outcome.uncertainty.covariance;
  result.condition_number = outcome.uncertainty.condition_number;
  result.rank = outcome.uncertainty.rank;
  result.warnings.insert(result.warnings.end(), outcome.uncertainty.warnings.begin(),
                         outcome.uncertainty.warnings.end());
  for (std::size_t i = 0; i < layout.parameters.size(); ++i) {
    const Parameter& par = layout.parameters[i];
    if (!options.stribeck && (par.name.ends_with(".stribeck_friction") || par.name.ends_with(".stribeck_velocity"))) {
      continue;  // not part of this model
    }
    FitParameter out;
    out.name = par.name;
    out.unit = par.unit;
    out.nominal = par.nominal;
    out.estimate = p[i];
    out.lower = par.lower;
    out.upper = par.upper;
    out.overlays_scene = par.overlays;
    out.identified = why_not[i].empty();
    out.why_not_identified = why_not[i];
    if (out.identified) {
      out.std_dev = std_dev[i];
    } else if (std::isfinite(par.upper - par.lower)) {
      out.std_dev = (par.upper - par.lower) / std::sqrt(12.0);
    } else {
      // Unbounded and unseen: the prior's own spread, its scale.
      out.std_dev = par.scale;
      out.lower = par.nominal - std::sqrt(3.0) * par.scale;
      out.upper = par.nominal + std::sqrt(3.0) * par.scale;
      if (par.lower == 0) out.lower = 0;
    }
    result.parameters.push_back(std::move(out));
  }

  // ---- Standard parameters: the consistent link inertials closest to nominal ----
  Eigen::VectorXd standard;  // full standard vector (inertial + armature) of the consistent model
  if (options.standard_parameters) {
    // Links whose parameters reach a measured joint and that have mass in the scene.
    std::vector<int> links;
    for (int l = 0; l < dynamics.num_links(); ++l) {
      const bool reaches = (base.combination.middleCols(10 * l, 10).array() != 0).any();
      if (reaches && standard_nominal[10 * l] > 0) links.push_back(l);
    }
    const auto nl = static_cast<int>(links.size());
    standard = standard_nominal;
    for (int j = 0; j < m; ++j) {
      // Independent armatures take their fit; merged ones stay nominal (their share lives in the link inertias).
      for (int k = 0; k < base.size(); ++k) {
        if (base.independent[k] == inertial_columns + j) standard[inertial_columns + j] = p[k];
      }
    }
    ConsistencyResidual residual;
    residual.links = nl;
    residual.combination.resize(base.size(), 10 * nl);
    residual.nominal.resize(10 * nl);
    residual.scale.resize(10 * nl);
    Eigen::VectorXd fixed_share = standard;
    for (int a = 0; a < nl; ++a) {
      const int l = links[a];
      residual.combination.middleCols(10 * a, 10) = base.combination.middleCols(10 * l, 10);
      SceneFromStandard(standard_nominal.data() + 10 * l, residual.nominal.data() + 10 * a);
      for (int k = 0; k < 10; ++k) residual.scale[10 * a + k] = PriorSpread(k, standard_nominal[10 * l]);
      fixed_share.segment(10 * l, 10).setZero();
    }
    residual.offset = base.combination * fixed_share - p.head(base.size());
    // Weight: the training samples' base regressor, each joint divided by its noise level, so a mismatch costs
    // what it would cost in torque.
    Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(base.size(), base.size());
    for (Eigen::Index s = 0; s < data.samples(); ++s) {
      for (int j = 0; j < m; ++j) {
        const auto row = data.y.row(s * m + j);
        gram.selfadjointView<Eigen::Lower>().rankUpdate(row.transpose(), 1.0 / (data.sigma[j] * data.sigma[j]));
      }
    }
    gram = gram.selfadjointView<Eigen::Lower>();
    gram.diagonal().array() += 1e-12 * std::max(1.0, gram.diagonal().maxCoeff());
    const Eigen::LLT<Eigen::MatrixXd> llt(gram);
    residual.lt = llt.matrixU();

    std::vector<double> theta(10 * static_cast<std::size_t>(nl));
    for (int a = 0; a < nl; ++a) {
      const Eigen::Matrix<double, 10, 1> th = LogCholeskyFromStandard(standard_nominal.segment<10>(10 * links[a]));
      std::copy(th.data(), th.data() + 10, theta.begin() + 10 * a);
    }
    ceres::Problem problem;
    auto* cost = new ceres::DynamicAutoDiffCostFunction<ConsistencyResidual, 10>(new ConsistencyResidual(residual));
    cost->AddParameterBlock(10 * nl);
    cost->SetNumResiduals(base.size() + 10 * nl);
    problem.AddResidualBlock(cost, nullptr, theta.data());
    ceres::Solver::Options solver;
    solver.linear_solver_type = ceres::DENSE_QR;
    solver.max_num_iterations = options.common.quick ? 20 : 200;
    solver.logging_type = ceres::SILENT;
    ceres::Solver::Summary consistent_summary;
    ceres::Solve(solver, &problem, &consistent_summary);
    if (!consistent_summary.IsSolutionUsable()) {
      result.warnings.push_back("consistent link inertials: " + consistent_summary.message);
    }
    for (int a = 0; a < nl; ++a) {
      StandardFromLogCholesky(theta.data() + 10 * a, standard.data() + 10 * links[a]);
    }

    // The link inertials as the scene takes them: mass, CoM and inertia about the CoM in the link frame.
    static constexpr const char* kFields[10] = {"mass_kg",  "com_x_m",  "com_y_m",  "com_z_m",  "ixx_kgm2",
                                                "ixy_kgm2", "ixz_kgm2", "iyy_kgm2", "iyz_kgm2", "izz_kgm2"};
    const auto scene_form = [](const Eigen::Matrix<double, 10, 1>& pi) {
      Eigen::Matrix<double, 10, 1> out;
      SceneFromStandard(pi.data(), out.data());
      return out;
    };
    const std::vector<std::string> link_names = [&] {
      std::vector<std::string> names;
      for (const sim::Link& link : robot.links) names.push_back(link.name);
      return names;
    }();
    for (int a = 0; a < nl; ++a) {
      const int l = links[a];
      const auto value = scene_form(standard.segment<10>(10 * l));
      const auto nominal = scene_form(standard_nominal.segment<10>(10 * l));
      for (int k = 0; k < 10; ++k) {
        FitParameter out;
        out.name = "robot." + link_names[l] + "." + kFields[k];
        out.unit = k == 0 ? "kg" : k < 4 ? "m" : "kg m^2";
        out.nominal = nominal[k];
        out.estimate = value[k];
        out.overlays_scene = true;
        // Only base combinations are identified (a link's mass merges with its neighbours', its inertia about the
        // joint axis with the rotor's): the overlay gets one consistent member of the family that fits.
        out.identified = false;
        const double spread = PriorSpread(k, nominal[0]);
        out.std_dev = spread;
        const bool non_negative = k == 0 || k == 4 || k == 7 || k == 9;
        out.lower =
            non_negative ? std::max(0.0, value[k] - std::sqrt(3.0) * spread) : value[k] - std::sqrt(3.0) * spread;
        out.upper = value[k] + std::sqrt(3.0) * spread;
        out.why_not_identified =
            "only combinations with other links' parameters are identifiable (the robot.base.* parameters); this is "
            "the physically consistent value closest to the scene's nominal that reproduces them";
        result.parameters.push_back(std::move(out));
      }
    }
    for (int l : massless_with_inertia) {
      const Eigen::Matrix3d& inertia = robot.links[l].inertial.inertia_kgm2;
      const double nominal[6] = {inertia(0, 0), inertia(0, 1), inertia(0, 2),
                                 inertia(1, 1), inertia(1, 2), inertia(2, 2)};
      for (int k = 4; k < 10; ++k) {
        FitParameter out;
        out.name = "robot." + link_names[l] + "." + kFields[k];
        out.unit = "kg m^2";
        out.nominal = nominal[k - 4];
        out.estimate = 0;
        out.lower = out.upper = 0;
        out.identified = false;
        out.why_not_identified = "the link has no mass: the scene's inertia tensor for it is dropped";
        result.parameters.push_back(std::move(out));
      }
    }
  }

  // ---- Predictions: training and held-out fit, the baseline, the series ----
  const Predictor predictor{dynamics, base, layout, robot.transmission, motors_of_joint, p};
  const auto predict_parts = [&](const std::vector<Part>& parts, bool keep_series, std::vector<ChannelFit>& fits,
                                 double* consistent_rms_sum) {
    std::vector<std::vector<double>> measured(m), predicted(m), baseline(m), consistent(m);
    for (const Part& part : parts) {
      std::vector<HeldOutSeries> series(m);
      for (int j = 0; j < m; ++j) {
        series[j].channel = joint_name(j) + " torque";
        series[j].unit = is_prismatic(j) ? "N" : "N m";
        series[j].episode = part.episode;
      }
      Eigen::VectorXd fitted, standard_torque, ref_q(m), ref_qd(m), ref_qdd(m);
      for (Eigen::Index i = 0; i < part.frames(); ++i) {
        predictor.Torques(part, i, fitted, standard.size() ? &standard : nullptr, &standard_torque);
        Eigen::VectorXd ref_tau;
        if (reference) {
          for (int r = 0; r < m; ++r) {
            ref_q[r] = part.q(i, reference_dof[r]);
            ref_qd[r] = part.qd(i, reference_dof[r]);
            ref_qdd[r] = part.qdd(i, reference_dof[r]);
          }
          ref_tau = reference->Torque(ref_q, ref_qd, ref_qdd);
        }
        for (int j = 0; j < m; ++j) {
          measured[j].push_back(part.tau(i, j));
          predicted[j].push_back(fitted[j]);
          if (standard.size()) consistent[j].push_back(standard_torque[j]);
          if (reference) baseline[j].push_back(ref_tau[reference_joint[j]]);
          if (keep_series) {
            series[j].time_s.push_back(part.t[i]);
            series[j].measured.push_back(part.tau(i, j));
            series[j].predicted.push_back(fitted[j]);
            if (reference) series[j].baseline.push_back(ref_tau[reference_joint[j]]);
          }
        }
      }
      if (keep_series) {
        for (auto& s : series) result.predictions.push_back(std::move(s));
      }
    }
    for (int j = 0; j < m; ++j) {
      ChannelFit fit = MeasureFit(joint_name(j) + " torque", is_prismatic(j) ? "N" : "N m", measured[j], predicted[j]);
      if (reference) {
        fit.baseline_rms = MeasureFit("", "", measured[j], baseline[j]).rms;
        fit.baseline = reference->description();
      }
      if (consistent_rms_sum != nullptr && standard.size()) {
        consistent_rms_sum[j] = MeasureFit("", "", measured[j], consistent[j]).rms;
      }
      fits.push_back(std::move(fit));
    }
  };
  std::vector<double> consistent_train(m, kNaN), consistent_held_out(m, kNaN);
  predict_parts(train, false, result.train, consistent_train.data());
  predict_parts(held_out, true, result.held_out, consistent_held_out.data());
  if (standard.size()) {
    const auto& fits = held_out.empty() ? result.train : result.held_out;
    const auto& consistent = held_out.empty() ? consistent_train : consistent_held_out;
    std::string worse;
    for (int j = 0; j < m; ++j) {
      if (consistent[j] > 1.05 * fits[j].rms + 1e-3) {
        worse +=
            (worse.empty() ? "" : ", ") + joint_name(j) + " " + Num(consistent[j], 3) + " vs " + Num(fits[j].rms, 3);
      }
    }
    if (!worse.empty()) {
      result.warnings.push_back(
          std::string("the physically consistent link inertials (the scene's overlay) predict the ") +
          (held_out.empty() ? "training" : "held-out") + " torques worse than the base parameters (RMS " + worse +
          "): the fitted base parameters are not exactly those of a real mass distribution");
    }
  }
  AddHeldOutWarnings(result);
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace r2s::sysid

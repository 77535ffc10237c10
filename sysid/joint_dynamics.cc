#include "sysid/joint_dynamics.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <numbers>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ceres/ceres.h>
#include <Eigen/Cholesky>

#include "common/options_check.h"
#include "episode/input_error.h"
#include "sim/rigid_body_dynamics.h"
#include "sysid/joint_torque_model.h"
#include "sysid/joint_torque_samples.h"
#include "sysid/physical_consistency.h"
#include "sysid/reference_model.h"

namespace r2s::sysid {
namespace {

using joint_dynamics::EpisodeParts;
using joint_dynamics::EvaluateFriction;
using joint_dynamics::FindSources;
using joint_dynamics::FitConsistentInertials;
using joint_dynamics::FitData;
using joint_dynamics::FreeMap;
using joint_dynamics::kCoulomb;
using joint_dynamics::kMaxCoupledMotors;
using joint_dynamics::Layout;
using joint_dynamics::LinearStart;
using joint_dynamics::MakeFreeMap;
using joint_dynamics::Median;
using joint_dynamics::Parameter;
using joint_dynamics::Part;
using joint_dynamics::PriorSpread;
using joint_dynamics::ReadEpisodeParts;
using joint_dynamics::SceneFromStandard;
using joint_dynamics::Sources;
using joint_dynamics::TorqueResidual;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Num(double x, int precision = 4) { return FormatNumber(x, precision); }

// ---- Solve and analyse ----

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

// Physical bounds by active set: a parameter the free fit pushes past its one-sided bound is held there. Returns
// the iterations run.
int FitWithinPhysicalBounds(const FitData& data, Layout& layout, Eigen::VectorXd& p,
                            const JointDynamicsOptions& options) {
  int iterations = 0;
  for (int round = 0;; ++round) {
    const StageOutcome outcome = SolveAndAnalyse(data, layout, p, options, /*analyse=*/false);
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
  return iterations;
}

// The fit analysed at its solution; what the analysis does not identify is held at its nominal value and the rest
// refitted (twice at most). Adds the iterations run to `iterations`.
StageOutcome FitIdentified(const FitData& data, Layout& layout, Eigen::VectorXd& p,
                           const JointDynamicsOptions& options, int& iterations) {
  StageOutcome outcome = SolveAndAnalyse(data, layout, p, options, /*analyse=*/true);
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
  return outcome;
}

// ---- Data and sources ----

// The fit's joints: the dofs whose torque the dataset measures, in binding order (Sources::measured).
struct MeasuredJoints {
  const sim::RobotModel& robot;
  const std::vector<int>& dofs;

  int size() const { return static_cast<int>(dofs.size()); }
  const std::string& name(int j) const { return robot.dof_link(dofs[j]).joint_name; }
  bool prismatic(int j) const { return robot.dof_link(dofs[j]).joint_type == sim::JointType::kPrismatic; }
};

using MotorsOfJoint = std::vector<std::vector<std::pair<int, double>>>;  // FitData::motors_of_joint

// A coupled transmission: each measured joint feels the friction of the motors that turn it. A motor group must
// be measured whole: a recorded joint's torque holds the friction of a motor whose torque is not recorded.
MotorsOfJoint FindMotorsOfJoints(const ProblemInput& input, const MeasuredJoints& joints) {
  const sim::RobotModel& robot = joints.robot;
  const int m = joints.size();
  MotorsOfJoint motors_of_joint(m);
  for (int j = 0; j < m; ++j) {
    if (!robot.coupled()) {
      motors_of_joint[j].emplace_back(j, 1.0);
      continue;
    }
    for (int dof = 0; dof < robot.num_dofs(); ++dof) {
      const double weight = robot.transmission(dof, joints.dofs[j]);
      if (weight == 0) continue;
      const auto k = std::find(joints.dofs.begin(), joints.dofs.end(), dof) - joints.dofs.begin();
      if (k == m) {
        throw InputError(input.dataset_file, "features",
                         "the scene's robot.transmission couples joint " + joints.name(j) + " with the motor of " +
                             robot.dof_link(dof).joint_name + ", whose torque the dataset does not record; joint "
                             "dynamics needs the torques of a coupled group's joints all together (bindings with "
                             "signal: effort in " + input.scene_file + ")");
      }
      motors_of_joint[j].emplace_back(static_cast<int>(k), weight);
    }
    if (motors_of_joint[j].size() > kMaxCoupledMotors) {
      throw InputError(input.scene_file, "robot.transmission",
                       "couples joint " + joints.name(j) + " with " + std::to_string(motors_of_joint[j].size()) +
                           " motors; joint dynamics takes at most " + std::to_string(kMaxCoupledMotors));
    }
  }
  return motors_of_joint;
}

// The published model the predictions are compared with (JointDynamicsOptions::baseline; none without one).
struct Baseline {
  std::optional<ReferenceModel> model;
  std::vector<int> reference_joint;  // reference joint of each measured joint
  std::vector<int> reference_dof;    // per reference joint: the dof it reads q from
};

// Throws InputError naming the file when it does not load or describes another joint count or other joints.
Baseline LoadBaseline(const JointDynamicsOptions& options, const MeasuredJoints& joints) {
  const int m = joints.size();
  Baseline baseline;
  baseline.reference_joint.assign(m, -1);
  if (!options.baseline) return baseline;
  std::optional<ReferenceModel>& reference = baseline.model;
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
        if (joints.name(k) == reference->joint_names()[r]) j = k;
      }
      if (j < 0) {
        throw InputError(options.baseline->string(), "joint_names[" + std::to_string(r) + "]",
                         "'" + reference->joint_names()[r] + "' is not a joint whose torque the episodes measure");
      }
    }
    baseline.reference_joint[j] = r;
    baseline.reference_dof.push_back(joints.dofs[j]);
  }
  return baseline;
}

// Where the dofs without a recorded position are held: the scene's initial_q (as rigid parts, with a warning).
Eigen::VectorXd HeldPositions(const sim::RobotModel& robot, const Sources& sources,
                              std::vector<std::string>& warnings) {
  Eigen::VectorXd q_fixed =
      robot.initial_q.size() == robot.num_dofs() ? robot.initial_q : Eigen::VectorXd::Zero(robot.num_dofs());
  std::vector<std::string> unrecorded;
  for (int dof = 0; dof < robot.num_dofs(); ++dof) {
    if (!sources.position.count(dof)) unrecorded.push_back(robot.dof_link(dof).joint_name);
  }
  if (!unrecorded.empty()) {
    std::string list;
    for (const auto& n : unrecorded) list += (list.empty() ? "" : ", ") + n;
    warnings.push_back("joints without recorded positions are held at the scene's initial_q as rigid parts: " + list);
  }
  return q_fixed;
}

// The training samples thinned to about options.fit_rate_hz, in the form the residuals read (sigma not yet set).
// Adds the training parts' frames to `train_samples`. Throws InputError when they are too few for the free
// parameters.
FitData ThinTrainingSamples(const ProblemInput& input, const std::vector<Part>& train, const MeasuredJoints& joints,
                            const sim::RigidBodyDynamics& dynamics, const BaseParameters& base,
                            const MotorsOfJoint& motors_of_joint, const Layout& layout,
                            const JointDynamicsOptions& options, std::int64_t& train_samples) {
  const sim::RobotModel& robot = joints.robot;
  const int m = joints.size();
  const auto parameter_count = static_cast<std::int64_t>(
      std::count_if(layout.parameters.begin(), layout.parameters.end(), [](const Parameter& p) { return p.free; }));
  FitData data;
  data.joints = m;
  data.motors_of_joint = motors_of_joint;
  std::vector<std::pair<int, Eigen::Index>> picks;  // (part, frame)
  for (std::size_t k = 0; k < train.size(); ++k) {
    const Part& part = train[k];
    const double period = part.t[part.frames() - 1] / static_cast<double>(part.frames() - 1);
    const auto stride = std::max<Eigen::Index>(1, std::lround(1.0 / (options.fit_rate_hz * period)));
    for (Eigen::Index i = 0; i < part.frames(); i += stride) picks.emplace_back(static_cast<int>(k), i);
    train_samples += part.frames();
  }
  const auto n = static_cast<Eigen::Index>(picks.size());
  if (n * m < 4 * parameter_count) {
    throw InputError(input.dataset_file, "episodes",
                     "hold " + std::to_string(train_samples) + " frames to fit (" + std::to_string(n) +
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
    const Eigen::MatrixXd y = MeasuredRegressor(dynamics, joints.dofs, part.q.row(i).transpose(),
                                                part.qd.row(i).transpose(), part.qdd.row(i).transpose(),
                                                robot.transmission);
    data.y.middleRows(s * m, m) = base.Reduce(y);
    for (int j = 0; j < m; ++j) {
      const int dof = joints.dofs[j];
      data.qd(s, j) = robot.coupled() ? robot.transmission.row(dof).dot(part.qd.row(i)) : part.qd(i, dof);
      data.tau(s, j) = part.tau(i, j);
    }
  }
  return data;
}

// ---- The torque model's parameters ----

std::string InertialUnit(int k) { return k == 0 ? "kg" : k < 4 ? "kg m" : "kg m^2"; }
double InertialScale(int k) { return k == 0 ? 1.0 : k < 4 ? 0.1 : 0.01; }

// The scene's standard parameters (10 per link, then the measured joints' armatures), and the links whose inertia
// tensor without a mass counts as zero.
struct NominalStandard {
  Eigen::VectorXd values;
  std::vector<int> massless_with_inertia;
};

NominalStandard NominalStandardParameters(const sim::RigidBodyDynamics& dynamics, const BaseParameters& base,
                                          const MeasuredJoints& joints) {
  const sim::RobotModel& robot = joints.robot;
  const int inertial_columns = 10 * dynamics.num_links();
  NominalStandard nominal;
  Eigen::VectorXd& standard_nominal = nominal.values;
  standard_nominal.resize(base.standard_names.size());
  standard_nominal.head(inertial_columns) = dynamics.InertialParameters();
  for (int j = 0; j < joints.size(); ++j) {
    standard_nominal[inertial_columns + j] = robot.actuators.empty() ? 0.0 : robot.actuators[joints.dofs[j]].armature;
  }
  // A link without mass but with an inertia tensor (URDF placeholders: PyBullet's Panda gives its massless flange
  // 0.1 kg m^2) is no mass distribution: its nominal inertia counts as zero, and the overlay says so.
  for (int l = 0; l < dynamics.num_links(); ++l) {
    if (standard_nominal[10 * l] > 0 || !(standard_nominal.segment(10 * l + 4, 6).array() != 0).any()) continue;
    if ((base.combination.middleCols(10 * l, 10).array() != 0).any()) nominal.massless_with_inertia.push_back(l);
    standard_nominal.segment(10 * l, 10).setZero();
  }
  return nominal;
}

// Joint j's friction parameters, in FrictionField order; not free where the joint barely moves in the training
// parts, or for the Stribeck term when it is off.
std::vector<Parameter> FrictionParameters(const MeasuredJoints& joints, int j, const std::vector<Part>& train,
                                          const JointDynamicsOptions& options) {
  const sim::RobotModel& robot = joints.robot;
  const std::string prefix = "robot." + joints.name(j) + ".";
  const bool prismatic = joints.prismatic(j);
  const std::string force = prismatic ? "N" : "N m";
  const std::string speed = prismatic ? "m/s" : "rad/s";
  const sim::ActuatorParams actuator =
      robot.actuators.empty() ? sim::ActuatorParams{} : robot.actuators[joints.dofs[j]];
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
    lo = std::min(lo, part.q.col(joints.dofs[j]).minCoeff());
    hi = std::max(hi, part.q.col(joints.dofs[j]).maxCoeff());
  }
  if (hi - lo < options.min_range_rad) {
    const std::string why =
        "joint barely moves in the training samples (range " +
        (prismatic ? Num(1e3 * (hi - lo), 3) + " mm" : Num((hi - lo) * 180 / std::numbers::pi, 3) + " deg") + ")";
    for (Parameter* par : {&fc, &fv, &vc, &fs, &vs}) {
      if (par->free) par->free = false, par->why_fixed = why;
    }
  }
  return {fc, fv, fo, vc, fs, vs};
}

// p = [beta | per measured joint: its friction parameters], at their nominal values (see Layout).
Layout MakeLayout(const BaseParameters& base, const Eigen::VectorXd& standard_nominal, int inertial_columns,
                  const MeasuredJoints& joints, const std::vector<Part>& train, const JointDynamicsOptions& options) {
  Layout layout;
  layout.base = base.size();
  layout.joints = joints.size();
  layout.stribeck = options.stribeck;
  const Eigen::VectorXd beta_nominal = base.combination * standard_nominal;
  for (int k = 0; k < base.size(); ++k) {
    Parameter par;
    const int s = base.independent[k];
    par.nominal = beta_nominal[k];
    if (s >= inertial_columns) {  // an armature of its own
      par.name = base.name(k);
      par.unit = joints.prismatic(s - inertial_columns) ? "kg" : "kg m^2";
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
  for (int j = 0; j < joints.size(); ++j) {
    for (const Parameter& par : FrictionParameters(joints, j, train, options)) layout.parameters.push_back(par);
  }
  return layout;
}

// The linear least-squares start of p and, from its residuals, each joint's robust noise level (1.4826 MAD)
// that the residuals are divided by.
void LinearStartAndNoiseLevels(FitData& data, const Layout& layout, Eigen::VectorXd& p) {
  const int m = data.joints;
  data.sigma = Eigen::VectorXd::Ones(m);
  const Eigen::MatrixXd start_residual = LinearStart(data, layout, p);
  for (int j = 0; j < m; ++j) {
    std::vector<double> r(start_residual.col(j).data(), start_residual.col(j).data() + start_residual.rows());
    const double median = Median(r);
    for (double& v : r) v = std::abs(v - median);
    const double tau_rms = std::sqrt(data.tau.col(j).squaredNorm() / static_cast<double>(data.samples()));
    data.sigma[j] = std::max(1.4826 * Median(r), 1e-6 * tau_rms + 1e-12);
  }
}

// ---- Results ----

// The base, armature and friction parameters into the result, with the analysis's covariance and diagnostics.
void ReportParameters(const Layout& layout, const Eigen::VectorXd& p, const StageOutcome& outcome,
                      const JointDynamicsOptions& options, FitResult& result) {
  std::vector<double> std_dev(layout.parameters.size(), kNaN);
  std::vector<std::string> why_not(layout.parameters.size());
  for (std::size_t i = 0; i < layout.parameters.size(); ++i) why_not[i] = layout.parameters[i].why_fixed;
  for (std::size_t k = 0; k < outcome.analysed.size(); ++k) {
    const int i = outcome.analysed[k];
    std_dev[i] = outcome.uncertainty.std_dev[static_cast<Eigen::Index>(k)];
    if (!outcome.uncertainty.identified[k]) why_not[i] = outcome.uncertainty.why_not[k];
  }
  for (std::size_t k = 0; k < outcome.analysed.size(); ++k) {
    if (outcome.uncertainty.identified[k]) {
      result.covariance_names.push_back(layout.parameters[outcome.analysed[k]].name);
    }
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
}

// The links the consistent inertials are fitted for: those whose parameters reach a measured joint and that have
// mass in the scene.
std::vector<int> ConsistentLinks(const sim::RigidBodyDynamics& dynamics, const BaseParameters& base,
                                 const Eigen::VectorXd& standard_nominal) {
  std::vector<int> links;
  for (int l = 0; l < dynamics.num_links(); ++l) {
    const bool reaches = (base.combination.middleCols(10 * l, 10).array() != 0).any();
    if (reaches && standard_nominal[10 * l] > 0) links.push_back(l);
  }
  return links;
}

// The full standard vector (inertial and armature) of the consistent model: the links' inertials closest to
// nominal that reproduce the fitted base parameters (physical_consistency.h), the independent armatures' fits, and
// the rest nominal.
Eigen::VectorXd ConsistentStandardParameters(const sim::RigidBodyDynamics& dynamics, const BaseParameters& base,
                                             const std::vector<int>& links, const Eigen::VectorXd& standard_nominal,
                                             const Eigen::VectorXd& p, const FitData& data, bool quick,
                                             std::vector<std::string>& warnings) {
  const int m = data.joints;
  const int inertial_columns = 10 * dynamics.num_links();
  Eigen::VectorXd standard = standard_nominal;
  for (int j = 0; j < m; ++j) {
    // Independent armatures take their fit; merged ones stay nominal (their share lives in the link inertias).
    for (int k = 0; k < base.size(); ++k) {
      if (base.independent[k] == inertial_columns + j) standard[inertial_columns + j] = p[k];
    }
  }
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
  FitConsistentInertials(base.combination, gram, p.head(base.size()), links, standard_nominal, quick ? 20 : 200,
                         standard, warnings);
  return standard;
}

// The link inertials as the scene takes them: mass, CoM and inertia about the CoM in the link frame.
constexpr const char* kSceneInertialFields[10] = {"mass_kg",  "com_x_m",  "com_y_m",  "com_z_m",  "ixx_kgm2",
                                                  "ixy_kgm2", "ixz_kgm2", "iyy_kgm2", "iyz_kgm2", "izz_kgm2"};

// The consistent links' inertials into the result, as the scene's overlay, not identified.
void ReportLinkInertials(const sim::RobotModel& robot, const std::vector<int>& links, const Eigen::VectorXd& standard,
                         const Eigen::VectorXd& standard_nominal, FitResult& result) {
  const auto scene_form = [](const Eigen::Matrix<double, 10, 1>& pi) {
    Eigen::Matrix<double, 10, 1> out;
    SceneFromStandard(pi.data(), out.data());
    return out;
  };
  for (int l : links) {
    const auto value = scene_form(standard.segment<10>(10 * l));
    const auto nominal = scene_form(standard_nominal.segment<10>(10 * l));
    for (int k = 0; k < 10; ++k) {
      FitParameter out;
      out.name = "robot." + robot.links[l].name + "." + kSceneInertialFields[k];
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
      out.lower = non_negative ? std::max(0.0, value[k] - std::sqrt(3.0) * spread) : value[k] - std::sqrt(3.0) * spread;
      out.upper = value[k] + std::sqrt(3.0) * spread;
      out.why_not_identified =
          "only combinations with other links' parameters are identifiable (the robot.base.* parameters); this is "
          "the physically consistent value closest to the scene's nominal that reproduces them";
      result.parameters.push_back(std::move(out));
    }
  }
}

// A massless link's inertia tensor, dropped: the overlay says so.
void ReportDroppedInertias(const sim::RobotModel& robot, const std::vector<int>& massless_with_inertia,
                           FitResult& result) {
  for (int l : massless_with_inertia) {
    const Eigen::Matrix3d& inertia = robot.links[l].inertial.inertia_kgm2;
    const double nominal[6] = {inertia(0, 0), inertia(0, 1), inertia(0, 2),
                               inertia(1, 1), inertia(1, 2), inertia(2, 2)};
    for (int k = 4; k < 10; ++k) {
      FitParameter out;
      out.name = "robot." + robot.links[l].name + "." + kSceneInertialFields[k];
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

// Predicts the measured joints' torques on `parts`: their fit (and the baseline's RMS on the same samples) into
// `fits`; with a consistent model (`standard` not empty), its RMS per joint into consistent_rms; and, when
// keep_series, each part's series into `predictions`.
void PredictParts(const std::vector<Part>& parts, bool keep_series, const MeasuredJoints& joints,
                  const Predictor& predictor, const Eigen::VectorXd& standard, const Baseline& baseline,
                  std::vector<ChannelFit>& fits, double* consistent_rms, std::vector<HeldOutSeries>& predictions) {
  const int m = joints.size();
  const std::optional<ReferenceModel>& reference = baseline.model;
  std::vector<std::vector<double>> measured(m), predicted(m), reference_tau(m), consistent(m);
  for (const Part& part : parts) {
    std::vector<HeldOutSeries> series(m);
    for (int j = 0; j < m; ++j) {
      series[j].channel = joints.name(j) + " torque";
      series[j].unit = joints.prismatic(j) ? "N" : "N m";
      series[j].episode = part.episode;
    }
    Eigen::VectorXd fitted, standard_torque, ref_q(m), ref_qd(m), ref_qdd(m);
    for (Eigen::Index i = 0; i < part.frames(); ++i) {
      predictor.Torques(part, i, fitted, standard.size() ? &standard : nullptr, &standard_torque);
      Eigen::VectorXd ref_tau;
      if (reference) {
        for (int r = 0; r < m; ++r) {
          ref_q[r] = part.q(i, baseline.reference_dof[r]);
          ref_qd[r] = part.qd(i, baseline.reference_dof[r]);
          ref_qdd[r] = part.qdd(i, baseline.reference_dof[r]);
        }
        ref_tau = reference->Torque(ref_q, ref_qd, ref_qdd);
      }
      for (int j = 0; j < m; ++j) {
        measured[j].push_back(part.tau(i, j));
        predicted[j].push_back(fitted[j]);
        if (standard.size()) consistent[j].push_back(standard_torque[j]);
        if (reference) reference_tau[j].push_back(ref_tau[baseline.reference_joint[j]]);
        if (keep_series) {
          series[j].time_s.push_back(part.t[i]);
          series[j].measured.push_back(part.tau(i, j));
          series[j].predicted.push_back(fitted[j]);
          if (reference) series[j].baseline.push_back(ref_tau[baseline.reference_joint[j]]);
        }
      }
    }
    if (keep_series) {
      for (auto& s : series) predictions.push_back(std::move(s));
    }
  }
  for (int j = 0; j < m; ++j) {
    ChannelFit fit =
        MeasureFit(joints.name(j) + " torque", joints.prismatic(j) ? "N" : "N m", measured[j], predicted[j]);
    if (reference) {
      fit.baseline_rms = MeasureFit("", "", measured[j], reference_tau[j]).rms;
      fit.baseline = reference->description();
    }
    if (consistent_rms != nullptr && standard.size()) {
      consistent_rms[j] = MeasureFit("", "", measured[j], consistent[j]).rms;
    }
    fits.push_back(std::move(fit));
  }
}

// A warning when the consistent link inertials (the scene's overlay) predict the held-out torques (the training
// ones when nothing is held out) worse than the base parameters.
void AddConsistencyWarning(const MeasuredJoints& joints, const std::vector<double>& consistent_train,
                           const std::vector<double>& consistent_held_out, bool held_out_empty, FitResult& result) {
  const auto& fits = held_out_empty ? result.train : result.held_out;
  const auto& consistent = held_out_empty ? consistent_train : consistent_held_out;
  std::string worse;
  for (int j = 0; j < joints.size(); ++j) {
    if (consistent[j] > 1.05 * fits[j].rms + 1e-3) {
      worse +=
          (worse.empty() ? "" : ", ") + joints.name(j) + " " + Num(consistent[j], 3) + " vs " + Num(fits[j].rms, 3);
    }
  }
  if (!worse.empty()) {
    result.warnings.push_back(
        std::string("the physically consistent link inertials (the scene's overlay) predict the ") +
        (held_out_empty ? "training" : "held-out") + " torques worse than the base parameters (RMS " + worse +
        "): the fitted base parameters are not exactly those of a real mass distribution");
  }
}

}  // namespace

bool JointDynamicsOptions::IsValid(std::string* why) const { return IsValidByValidate(*this, why); }

void JointDynamicsOptions::Validate() const {
  const std::string owner = "JointDynamicsOptions";
  common.Validate(owner);
  const auto positive = [&](const char* field, double value, const char* what) {
    if (!(value > 0) || !std::isfinite(value)) {
      FailOption(owner, field, value, std::string("a finite ") + what + " > 0");
    }
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
  const MeasuredJoints joints{robot, sources.measured};
  const int m = joints.size();
  if (input.episodes.empty()) throw InputError(input.dataset_file, "episodes", "holds no episode");
  const MotorsOfJoint motors_of_joint = FindMotorsOfJoints(input, joints);
  // The reference model first: a bad file fails before the fit, not after.
  const Baseline baseline = LoadBaseline(options, joints);

  FitResult result;
  result.problem = Problem::kJointDynamics;
  const Eigen::VectorXd q_fixed = HeldPositions(robot, sources, result.warnings);
  std::vector<Part> train, held_out;
  for (std::size_t e = 0; e < input.episodes.size(); ++e) {
    EpisodeParts parts =
        ReadEpisodeParts(input, sources, q_fixed, static_cast<std::int64_t>(e), options, result.warnings);
    train.push_back(std::move(parts.train));
    if (parts.held_out) held_out.push_back(std::move(*parts.held_out));
  }

  // ---- The torque model: base parameters, friction, the thinned training samples ----
  const sim::RigidBodyDynamics dynamics(robot, model.sim.gravity_mps2);
  std::vector<std::string> armature_names;
  for (int j = 0; j < m; ++j) armature_names.push_back("robot." + joints.name(j) + ".armature");
  const BaseParameters base =
      FindBaseParameters(robot, dynamics, sources.measured, sources.moving, armature_names, q_fixed, options.base);
  const NominalStandard nominal = NominalStandardParameters(dynamics, base, joints);
  Layout layout = MakeLayout(base, nominal.values, 10 * dynamics.num_links(), joints, train, options);
  FitData data = ThinTrainingSamples(input, train, joints, dynamics, base, motors_of_joint, layout, options,
                                     result.train_samples);
  for (const Part& part : held_out) result.held_out_samples += part.frames();

  // ---- Fit ----
  Eigen::VectorXd p(static_cast<Eigen::Index>(layout.parameters.size()));
  for (std::size_t i = 0; i < layout.parameters.size(); ++i) p[i] = layout.parameters[i].nominal;
  LinearStartAndNoiseLevels(data, layout, p);
  int iterations = FitWithinPhysicalBounds(data, layout, p, options);
  const StageOutcome outcome = FitIdentified(data, layout, p, options, iterations);
  const ceres::Solver::Summary& summary = outcome.summary;
  result.termination = summary.message;
  result.converged = summary.termination_type == ceres::CONVERGENCE;
  result.iterations = iterations;
  if (!result.converged) {
    result.warnings.push_back("the fit did not converge: " + summary.message);
  }
  ReportParameters(layout, p, outcome, options, result);

  // ---- Standard parameters: the consistent link inertials closest to nominal ----
  Eigen::VectorXd standard;  // full standard vector (inertial + armature) of the consistent model
  if (options.standard_parameters) {
    const std::vector<int> links = ConsistentLinks(dynamics, base, nominal.values);
    standard = ConsistentStandardParameters(dynamics, base, links, nominal.values, p, data, options.common.quick,
                                            result.warnings);
    ReportLinkInertials(robot, links, standard, nominal.values, result);
    ReportDroppedInertias(robot, nominal.massless_with_inertia, result);
  }

  // ---- Predictions: training and held-out fit, the baseline, the series ----
  const Predictor predictor{dynamics, base, layout, robot.transmission, motors_of_joint, p};
  std::vector<double> consistent_train(m, kNaN), consistent_held_out(m, kNaN);
  PredictParts(train, false, joints, predictor, standard, baseline, result.train, consistent_train.data(),
               result.predictions);
  PredictParts(held_out, true, joints, predictor, standard, baseline, result.held_out, consistent_held_out.data(),
               result.predictions);
  if (standard.size()) AddConsistencyWarning(joints, consistent_train, consistent_held_out, held_out.empty(), result);
  AddHeldOutWarnings(result);
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace r2s::sysid

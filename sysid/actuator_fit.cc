// Problem 2: actuators from commands and measured positions, by simulation in the loop.
//
// How an episode runs: as `r2s replay` runs it (sim::ReplayEpisode): frame i at the episode's timestamp rounded
// to the physics step, the commands of frame i held until frame i + 1, the robot starting at the first measured
// positions (and velocities, when bound). The world is a copy of the scene's Model with the candidate actuator
// values and without free objects: where they were during the recording is unknown, and the scene's initial poses
// (a generation default) might put them in the arm's way. The static environment stays. A candidate's encoder
// offset o shifts the simulated joint: it starts at q_measured + o, is commanded to target + o, and is compared
// as q_simulated - o.
//
// The residual of joint j is its simulated minus measured position (rad or m) on every fitted frame after the first
// of every episode, with the whole robot simulated; joints are fitted one at a time (block coordinate descent), the
// others running with their current values. That keeps each search low-dimensional (the Halton stage needs it).
// Coupled joints end with one refinement of all together, whose analysis (cross-joint covariances included) is the
// one reported; a single joint reports its last analysis. Both are widened where the cost is flatter than its
// curvature (SimFitOptions::widen_to_flat_cost).
//
// What the data can tell apart, and what is done about what they cannot:
//   - passive damping and viscous friction are one torque, -(viscous_friction + damping) qd: damping is never
//     fitted (reported at its nominal value, not identified);
//   - with a zero velocity reference, kd (qd* - qd) is the same torque as viscous friction until the drive
//     saturates at its effort limit (kd acts inside the clip, viscous friction outside): the Jacobian analysis
//     (uncertainty.h) finds the pair in its null space when the data never saturate;
//   - a limit the data never reach, or a parameter the motion does not feel, has a zero Jacobian column.
// After each fit, parameters in the null space are held at their nominal values one at a time (kd first, see
// kHoldOrder) and the others refitted from where they were, until the rest are identified: the estimates then
// reproduce the data with the held values, which is what the scene will run with. Zero-sensitivity parameters
// need no refit. A limit the data never reach is held at the scene's value when that is at least where the fit
// left it (a higher limit that is never reached changes nothing), else where the fit left it: the data say only
// that the limit lies above what they reach.

#include "sysid/actuator_fit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/options_check.h"
#include "episode/input_error.h"
#include "sim/rigid_body_dynamics.h"
#include "sysid/actuator_simulator.h"
#include "sysid/sim_fit.h"

namespace r2s::sysid {
namespace {

using actuators::IsLimit;
using actuators::JointValues;
using actuators::Kind;
using actuators::KindName;
using actuators::KindUnit;
using actuators::kKinds;
using actuators::PreparedEpisode;
using actuators::Simulator;

constexpr int kLimitScanSamples = 12;
// A fitted limit must lower the cost by at least this fraction against the scene's value to stand (see the fit).
constexpr double kLimitSupport = 0.01;
// Another start that ends within this fraction of the best cost, at least kRivalDistance away (RMS in the unit cube
// of the bounds), makes the fit possibly not unique.
constexpr double kRivalCost = 0.05;
constexpr double kRivalDistance = 0.05;
// A fitted value within this fraction of its range (log range for log-scaled ones) from a bound is at the bound.
constexpr double kAtBound = 0.005;
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// Which of several parameters in the data's null space is held first: the drive's velocity gain before the passive
// friction it mimics, nuisance terms before the gains.
constexpr Kind kHoldOrder[] = {Kind::kKd,      Kind::kLatency,       Kind::kArmature,      Kind::kPositionOffset,
                               Kind::kCoulomb, Kind::kViscous,       Kind::kEffortLimit,   Kind::kVelocityLimit,
                               Kind::kKp,      Kind::kDamping};

std::string Format(double x, int precision = 4) { return FormatNumber(x, precision); }

// A parameter of one joint as the fit sees it.
struct JointParameter {
  Kind kind;
  std::string name;    // robot.<joint>.<kind>
  double nominal = 0;  // the scene's value (may be infinite for a limit)
  double start = 0;    // the nominal value clamped into the bounds: the prior the fit starts from and holds
  ParameterBounds bounds;
  bool log_scale = false;
  bool fit = false;  // asked for (options.parameters) and fittable
  std::string why_not_fitted;
};

// 0.5 |r|^2 at each candidate value of one parameter, on `threads` threads.
std::vector<double> Costs(const ResidualFunction& residual, const std::vector<double>& candidates,
                          std::int64_t residual_count, int threads) {
  std::vector<Eigen::VectorXd> points;
  for (double c : candidates) points.push_back(Eigen::VectorXd::Constant(1, c));
  return CostsAt(points, static_cast<int>(residual_count), residual, threads);
}

std::string Joined(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : separator) + s;
  return out;
}

// A measured channel's noise floor over the fitted frames: 1.4826 MAD of its third differences / sqrt(20) (white
// noise of std s gives third differences of std sqrt(20) s; a smooth motion's third difference is orders smaller at
// these rates). NaN when the episodes are too short.
double NoiseFloor(const std::vector<PreparedEpisode>& episodes, int dof) {
  std::vector<double> third;
  for (const auto& ep : episodes) {
    for (std::int64_t i = 0; i + 3 < ep.split; ++i) {
      third.push_back(
          std::abs(ep.q_meas(dof, i + 3) - 3 * ep.q_meas(dof, i + 2) + 3 * ep.q_meas(dof, i + 1) - ep.q_meas(dof, i)));
    }
  }
  if (third.empty()) return kNaN;
  std::nth_element(third.begin(), third.begin() + static_cast<std::ptrdiff_t>(third.size() / 2), third.end());
  return 1.4826 * third[third.size() / 2] / std::sqrt(20.0);
}

// The relative change of the fit's cost when the same values run with the scene's time step halved: a cost that
// moves says the values compensate for the integrator's error at this step, and would not carry over to another
// time_step_s.
double HalvedStepCostChange(const sim::Model& model, const Simulator& simulator, const std::vector<JointValues>& values,
                            const std::vector<PreparedEpisode>& episodes, const std::vector<int>& joints) {
  sim::Model fine_model = model;
  fine_model.sim.time_step_s = model.sim.time_step_s / 2;
  const Simulator fine(fine_model);
  double cost = 0, fine_cost = 0;
  for (const auto& ep : episodes) {
    PreparedEpisode halved = ep;
    for (std::int64_t i = 0; i < ep.frames; ++i) {
      halved.step_of[i] = std::llround(ep.time_s[i] / fine_model.sim.time_step_s);
    }
    const Eigen::MatrixXd q = simulator.Run(values, ep, ep.split), q_fine = fine.Run(values, halved, ep.split);
    for (int d : joints) {
      for (std::int64_t i = 1; i < ep.split; ++i) {
        cost += std::pow(q(d, i) - ep.q_meas(d, i), 2);
        fine_cost += std::pow(q_fine(d, i) - ep.q_meas(d, i), 2);
      }
    }
  }
  return cost > 0 ? fine_cost / cost - 1 : 0;
}

// ---- Before the fit: the robot, the joints, the options, the episodes, each joint's parameters ----

// The scene's robot; actuator identification fits a position-controlled one.
const sim::RobotModel& PositionControlledRobot(const ProblemInput& input) {
  const sim::Model& model = input.plan.model();
  if (!model.robot) {
    throw InputError(input.scene_file, "robot", "actuator identification needs a robot; the scene has none");
  }
  const sim::RobotModel& robot = *model.robot;
  if (robot.control_mode != sim::ControlMode::kPosition) {
    throw InputError(input.scene_file, "robot.control_mode",
                     "actuator identification fits a position-controlled robot (control_mode: position)");
  }
  return robot;
}

// The dofs fitted: those the dataset both commands and measures, or options.joints, each of which it must.
std::vector<int> ResolveJoints(const ProblemInput& input, const ActuatorFitOptions& options) {
  const sim::RobotModel& robot = *input.plan.model().robot;
  const int n = robot.num_dofs();
  const std::string& dataset = input.dataset_file;
  std::vector<bool> commanded(n, false), measured(n, false);
  for (const sim::JointBinding& b : input.plan.joint_bindings()) {
    for (int d : b.dofs) {
      if (b.signal == sim::JointSignal::kPositionTarget) commanded[d] = true;
      if (b.signal == sim::JointSignal::kPosition) measured[d] = true;
    }
  }
  std::vector<int> joints;
  if (options.joints.empty()) {
    for (int d = 0; d < n; ++d) {
      if (commanded[d] && measured[d]) joints.push_back(d);
    }
  } else {
    for (const std::string& name : options.joints) {
      const int d = robot.FindDof(name);
      if (d < 0) throw std::invalid_argument("ActuatorFitOptions::joints: '" + name + "' is no movable joint");
      if (!commanded[d] || !measured[d]) {
        std::vector<std::string> missing;
        if (!commanded[d]) missing.push_back("commanded positions (signal position_target)");
        if (!measured[d]) missing.push_back("measured positions (signal position)");
        throw InputError(dataset, "(features)",
                         "feeds no " + Joined(missing, " and no ") + " of joint '" + name + "' of scene " +
                             input.scene_file);
      }
      joints.push_back(d);
    }
  }
  if (joints.empty()) {
    std::vector<std::string> missing;
    if (std::none_of(commanded.begin(), commanded.end(), [](bool b) { return b; })) {
      missing.push_back("commanded positions (signal position_target)");
    }
    if (std::none_of(measured.begin(), measured.end(), [](bool b) { return b; })) {
      missing.push_back("measured positions (signal position)");
    }
    std::string problem =
        missing.empty() ? "commands and measures no joint in common, for scene " + input.scene_file
                        : "feeds no " + Joined(missing, " and no ") + " of any joint of scene " + input.scene_file;
    problem += "; actuator identification needs both for the same joints";
    if (!input.plan.inactive().empty()) problem += " (inactive bindings: " + Joined(input.plan.inactive(), "; ") + ")";
    throw InputError(dataset, "(features)", problem);
  }
  return joints;
}

// The kinds options.parameters asks for, and the position offset when fit_position_offset.
std::vector<Kind> AskedKinds(const ActuatorFitOptions& options) {
  std::vector<Kind> asked;
  for (const std::string& name : options.parameters) {
    const Kind* kind = std::find_if(std::begin(kKinds), std::end(kKinds), [&](Kind k) { return name == KindName(k); });
    if (kind == std::end(kKinds) || *kind == Kind::kPositionOffset) {
      throw std::invalid_argument("ActuatorFitOptions::parameters: '" + name +
                                  "' is not kp, kd, effort_limit, velocity_limit, latency_s, coulomb_friction, "
                                  "viscous_friction, damping or armature");
    }
    asked.push_back(*kind);
  }
  if (options.fit_position_offset) asked.push_back(Kind::kPositionOffset);
  return asked;
}

// The options other than the parameters' names; throws std::invalid_argument naming the field.
void CheckOptions(const ActuatorFitOptions& options, int dofs) {
  options.Validate();
  if (options.reference) {
    if (static_cast<int>(options.reference->actuators.size()) != dofs ||
        (options.reference->position_offset.size() != 0 && options.reference->position_offset.size() != dofs)) {
      throw std::invalid_argument("ActuatorFitOptions::reference: " +
                                  std::to_string(options.reference->actuators.size()) + " actuators and " +
                                  std::to_string(options.reference->position_offset.size()) + " offsets for " +
                                  std::to_string(dofs) + " dofs");
    }
  }
}

std::vector<PreparedEpisode> PrepareEpisodes(const ProblemInput& input, double held_out_fraction) {
  if (input.episodes.empty()) throw InputError(input.dataset_file, "(episodes)", "holds no episode");
  std::vector<PreparedEpisode> episodes;
  for (const episode::Episode& source : input.episodes) {
    episodes.push_back(actuators::PrepareEpisode(input, source, held_out_fraction));
  }
  return episodes;
}

// The scene's values of every dof: its actuators and encoder offsets.
std::vector<JointValues> NominalValues(const sim::RobotModel& robot) {
  const int n = robot.num_dofs();
  std::vector<JointValues> nominal(n);
  for (int d = 0; d < n; ++d) {
    nominal[d].actuator = robot.actuators[d];
    nominal[d].offset = robot.position_offset.size() == n ? robot.position_offset[d] : 0.0;
  }
  return nominal;
}

// What a joint's default bounds scale with (ActuatorFitOptions::bounds says how).
struct JointScales {
  double inertia = 0;         // the joint's effective inertia I at the first measured frame
  double critical = 0;        // the nominal loop's critical damping, 2 sqrt(kp0 I)
  double demand = 0;          // the nominal drive demand max |kp0 (command - q)| over the fitted frames
  double speed = 0;           // the fastest measured speed over the fitted frames
  double frame_period_s = 0;  // the episodes' median frame period
};

JointScales MeasureJointScales(const sim::ActuatorParams& a, int d, double inertia, double frame_period_s,
                               const std::vector<PreparedEpisode>& episodes) {
  JointScales s;
  s.inertia = inertia;
  s.critical = 2 * std::sqrt(a.kp * inertia);
  s.frame_period_s = frame_period_s;
  double demand = 0, speed = 0;
  for (const auto& ep : episodes) {
    for (std::int64_t i = 0; i < ep.split; ++i) {
      demand = std::max(demand, std::abs(a.kp * (ep.q_cmd(d, i) - ep.q_meas(d, i))));
    }
    for (std::int64_t i = 1; i + 1 < ep.split; ++i) {
      const double span = ep.time_s[i + 1] - ep.time_s[i - 1];
      if (span > 0) speed = std::max(speed, std::abs(ep.q_meas(d, i + 1) - ep.q_meas(d, i - 1)) / span);
    }
  }
  if (!(demand > 0)) demand = a.kp * 0.1;
  if (!(speed > 0)) speed = 1.0;
  s.demand = demand;
  s.speed = speed;
  return s;
}

// The default bounds of p (its nominal value set), and whether its search is log-scaled.
void SetDefaultBounds(JointParameter& p, double effort_limit, const JointScales& s) {
  const double x0 = p.nominal;
  switch (p.kind) {
    case Kind::kKp:
      p.bounds = {x0 / 10, 10 * x0};
      p.log_scale = true;
      break;
    case Kind::kKd:
    case Kind::kViscous:
    case Kind::kDamping:
      p.bounds = {0, std::max(10 * x0, 2 * s.critical)};
      break;
    case Kind::kCoulomb:
      p.bounds = {0, std::max(10 * x0, 0.5 * std::min(s.demand, effort_limit))};
      break;
    case Kind::kArmature:
      p.bounds = {0, std::max(10 * x0, 2 * s.inertia)};
      break;
    case Kind::kEffortLimit:
      p.bounds = std::isfinite(x0) ? ParameterBounds{x0 / 5, 5 * x0} : ParameterBounds{s.demand / 20, 2 * s.demand};
      p.log_scale = true;
      break;
    case Kind::kVelocityLimit:
      p.bounds = {s.speed / 2, std::isfinite(x0) ? std::max(2 * s.speed, x0) : 2 * s.speed};
      p.log_scale = true;
      break;
    case Kind::kLatency:
      p.bounds = {0, std::max(10 * s.frame_period_s, 2 * x0)};
      break;
    case Kind::kPositionOffset:
      p.bounds = {-0.1, 0.1};
      break;
  }
}

// Every kind of one joint (dof d) as the fit sees it: its bounds (the defaults, then options.bounds), its start,
// and whether it is fitted.
std::vector<JointParameter> JointParameters(const ProblemInput& input, int d, const JointValues& nominal,
                                            const JointScales& scales, const std::vector<Kind>& asked,
                                            const ActuatorFitOptions& options) {
  const std::string& joint = input.plan.model().robot->dof_link(d).joint_name;
  const double effort_limit = input.plan.model().robot->actuators[d].effort_limit;
  std::vector<JointParameter> params;
  for (Kind kind : kKinds) {
    JointParameter p;
    p.kind = kind;
    p.name = "robot." + joint + "." + KindName(kind);
    p.nominal = nominal.Get(kind);
    SetDefaultBounds(p, effort_limit, scales);
    for (const std::string& key : {std::string(KindName(kind)), p.name}) {
      if (auto it = options.bounds.find(key); it != options.bounds.end()) p.bounds = it->second;
    }
    if (p.log_scale && !(p.bounds.lower > 0)) p.log_scale = false;
    p.start = std::clamp(p.nominal, p.bounds.lower, p.bounds.upper);
    const bool wanted = std::find(asked.begin(), asked.end(), kind) != asked.end();
    if (kind == Kind::kDamping) {
      p.why_not_fitted = "the same torque as viscous_friction (-(viscous_friction + damping) qd): only their sum is "
                         "observable, and viscous_friction carries it";
    } else if (!wanted) {
      p.why_not_fitted = kind == Kind::kPositionOffset ? "not fitted (ActuatorFitOptions::fit_position_offset is off)"
                                                       : "not fitted (ActuatorFitOptions::parameters leaves it out)";
    } else {
      p.fit = true;
    }
    params.push_back(std::move(p));
  }
  return params;
}

// Every fitted joint's parameters, with default bounds from the model and the data: the effective inertia at the
// first measured frame, the drive's demand and speed, the frame period. Throws InputError for a nominal kp <= 0.
std::vector<std::vector<JointParameter>> MakeJointParameters(const ProblemInput& input, const std::vector<int>& joints,
                                                             const std::vector<JointValues>& nominal,
                                                             const std::vector<PreparedEpisode>& episodes,
                                                             const std::vector<Kind>& asked,
                                                             const ActuatorFitOptions& options) {
  const sim::Model& model = input.plan.model();
  const sim::RobotModel& robot = *model.robot;
  const int n = robot.num_dofs();
  Eigen::VectorXd q_first = robot.initial_q.size() ? robot.initial_q : Eigen::VectorXd::Zero(n);
  for (int d = 0; d < n; ++d) {
    if (!std::isnan(episodes[0].q_meas(d, 0))) q_first[d] = episodes[0].q_meas(d, 0);
  }
  const Eigen::MatrixXd mass_matrix = sim::RigidBodyDynamics(robot, model.sim.gravity_mps2).MassMatrix(q_first);
  std::vector<double> periods;
  for (const auto& ep : episodes) {
    for (std::int64_t i = 1; i < ep.frames; ++i) periods.push_back(ep.time_s[i] - ep.time_s[i - 1]);
  }
  std::nth_element(periods.begin(), periods.begin() + static_cast<std::ptrdiff_t>(periods.size() / 2), periods.end());
  const double frame_period_s = periods.empty() ? model.sim.time_step_s : periods[periods.size() / 2];

  std::vector<std::vector<JointParameter>> joint_parameters;
  for (int d : joints) {
    const sim::ActuatorParams& a = robot.actuators[d];
    if (!(a.kp > 0)) {
      throw InputError(input.scene_file, "robot.actuators." + robot.dof_link(d).joint_name + ".kp",
                       "is " + Format(a.kp) + "; actuator identification starts from a nominal kp > 0");
    }
    const JointScales scales = MeasureJointScales(a, d, mass_matrix(d, d), frame_period_s, episodes);
    joint_parameters.push_back(JointParameters(input, d, nominal[d], scales, asked, options));
  }
  return joint_parameters;
}

// ---- The fit ----

// What the fit of one joint leaves for the result.
struct JointOutcome {
  std::vector<int> analysed;  // indices into the joint's parameters of the parameters of the final analysis
  Uncertainty uncertainty;
  std::vector<std::string> held_why;  // per parameter: why it was held (empty when not held)
  bool kd_in_viscous = false;         // kd held because only kd + viscous_friction is observable
  std::string termination;
  bool converged = true;
  int iterations = 0;
};

// The joint refinement's analysis (coupled joints): its parameters as (joint, parameter index) and their uncertainty,
// cross-joint covariances included. Empty when there was no joint refinement.
struct TogetherOutcome {
  std::vector<std::pair<std::size_t, int>> analysed;
  Uncertainty uncertainty;
};

// Where one start of a joint's fit ended.
struct StartEnd {
  JointValues values;
  SimFitOutcome o;
  JointOutcome out;
};

// The fit proper: joint by joint (block coordinate descent), `passes` rounds; per joint a global search, from each
// of its diverse starts limit scans and Levenberg-Marquardt, then holding what the data cannot see; for coupled
// joints one refinement of all together at the end. `current` (every dof's values) moves as it goes.
class JointByJointFit {
 public:
  JointByJointFit(const sim::RobotModel& robot, const std::vector<int>& joints,
                  const std::vector<std::vector<JointParameter>>& joint_parameters,
                  const std::vector<PreparedEpisode>& episodes, const Simulator& simulator,
                  const ActuatorFitOptions& options, const std::vector<JointValues>& nominal, FitResult& result);

  // The rounds and the joint refinement; fills the result's starts, start costs, passes and their warnings.
  void Run();

  const std::vector<JointValues>& values() const { return current_; }
  const std::vector<JointOutcome>& outcomes() const { return outcomes_; }
  const TogetherOutcome& together() const { return together_; }

 private:
  // Every fitted value with the scale its change is measured against: the rounds' convergence test.
  std::vector<std::pair<double, double>> FittedValues() const;
  void FitJoint(std::size_t j, int pass);
  // The residual of joint j with its free parameters x, the others at their current values.
  ResidualFunction ResidualOf(std::size_t j, const std::vector<int>& free) const;
  // Parameter k of joint j for FitBySimulation, starting at its value in `values` (clamped to its bounds); with
  // kinks, a latency's kinks at whole physics steps (SimFitOptions::try_kinks).
  BoundedParameter BoundedOne(std::size_t j, int k, const JointValues& values, bool kinks) const;
  // Joint j's parameters `free` for FitBySimulation, starting at their current values.
  std::vector<BoundedParameter> BoundedOf(std::size_t j, const std::vector<int>& free, bool kinks = false) const;
  // global: the Halton search only (no refinement: a limit left above what the data demand is flat there, and
  // the limit scan must see the search's best point first); else Levenberg-Marquardt from `current`, and with
  // try_kinks the latency's whole steps that bracket its estimate (SimFitOptions::try_kinks).
  SimFitOutcome FitFree(std::size_t j, int pass, const std::vector<int>& free, bool global, JointOutcome& out,
                        bool try_kinks = false);
  std::vector<SimFitStart> StartPoints(std::size_t j, int pass, const std::vector<int>& free, JointOutcome& out);
  StartEnd RefineStart(std::size_t j, int pass, const std::vector<int>& free, const SimFitStart& start,
                       double best_so_far, JointOutcome& out);
  bool ScanLimits(std::size_t j, const std::vector<int>& free, double cost);
  void RecordStarts(std::size_t j, const std::vector<int>& free, const std::vector<StartEnd>& ends,
                    const StartEnd& best);
  void HoldBarelyReachedLimits(std::size_t j, int pass, std::vector<int>& free, SimFitOutcome& o,
                               JointOutcome& out);
  void HoldKdWhereOnlyTheSumIsSeen(std::size_t j, int pass, std::vector<int>& free, SimFitOutcome& o,
                                   JointOutcome& out);
  void HoldWhatTheDataCannotSee(std::size_t j, int pass, std::vector<int>& free, SimFitOutcome& o,
                                JointOutcome& out);
  void RefineJointsTogether();
  void Report(double units, const std::string& what);

  const sim::RobotModel& robot_;
  const std::vector<int>& joints_;
  const std::vector<std::vector<JointParameter>>& joint_parameters_;
  const std::vector<PreparedEpisode>& episodes_;
  const Simulator& simulator_;
  const ActuatorFitOptions& options_;
  FitResult& result_;
  std::vector<JointValues> current_;
  std::vector<bool> velocity_reference_;  // per joint: its commands carry a velocity reference
  std::vector<JointOutcome> outcomes_;
  TogetherOutcome together_;
  std::int64_t residual_count_ = 0;
  bool quick_ = false;
  int starts_ = 0;
  int max_passes_ = 0;
  double work_total_ = 0;
  double work_done_ = 0;
  double last_change_ = kInf;
};

JointByJointFit::JointByJointFit(const sim::RobotModel& robot, const std::vector<int>& joints,
                                 const std::vector<std::vector<JointParameter>>& joint_parameters,
                                 const std::vector<PreparedEpisode>& episodes, const Simulator& simulator,
                                 const ActuatorFitOptions& options, const std::vector<JointValues>& nominal,
                                 FitResult& result)
    : robot_(robot),
      joints_(joints),
      joint_parameters_(joint_parameters),
      episodes_(episodes),
      simulator_(simulator),
      options_(options),
      result_(result),
      current_(nominal),
      velocity_reference_(joints.size(), false),
      outcomes_(joints.size()) {
  // Whether a joint's commands carry a velocity reference (a bound velocity_target, not all zero).
  for (std::size_t j = 0; j < joints.size(); ++j) {
    for (const auto& ep : episodes) {
      for (std::int64_t i = 0; i < ep.split; ++i) {
        const double v = ep.qd_cmd(joints[j], i);
        if (!std::isnan(v) && v != 0) velocity_reference_[j] = true;
      }
    }
  }
  for (std::size_t j = 0; j < joints.size(); ++j) {
    for (const JointParameter& p : joint_parameters[j]) {
      if (p.fit) current_[joints[j]].Set(p.kind, p.start);
    }
  }
  for (const auto& ep : episodes) residual_count_ += ep.split - 1;
  quick_ = options.common.quick;
  starts_ = quick_ ? 1 : options.starts;
  max_passes_ = joints.size() > 1 ? options.passes : 1;
  // Progress: per joint, the first round's global search and each start; one unit per joint in later rounds.
  work_total_ = static_cast<double>(joints.size()) * (starts_ + 1 + (max_passes_ - 1));
}

void JointByJointFit::Report(double units, const std::string& what) {
  work_done_ += units;
  if (options_.progress) options_.progress(std::min(1.0, work_done_ / work_total_), what);
}

std::vector<std::pair<double, double>> JointByJointFit::FittedValues() const {
  std::vector<std::pair<double, double>> values;
  for (std::size_t j = 0; j < joints_.size(); ++j) {
    for (const JointParameter& p : joint_parameters_[j]) {
      if (!p.fit) continue;
      const double x = current_[joints_[j]].Get(p.kind);
      values.emplace_back(x, std::max(std::abs(x), 0.01 * (p.bounds.upper - p.bounds.lower)));
    }
  }
  return values;
}

void JointByJointFit::Run() {
  result_.starts = starts_;
  result_.passes_converged = false;
  for (int pass = 0; pass < max_passes_; ++pass) {
    const auto before = FittedValues();
    for (std::size_t j = 0; j < joints_.size(); ++j) FitJoint(j, pass);
    ++result_.passes;
    if (max_passes_ == 1) {
      result_.passes_converged = true;
      break;
    }
    const auto after = FittedValues();
    last_change_ = 0;
    for (std::size_t k = 0; k < after.size(); ++k) {
      if (std::isfinite(before[k].first) && std::isfinite(after[k].first)) {
        last_change_ = std::max(last_change_, std::abs(after[k].first - before[k].first) / before[k].second);
      }
    }
    if (pass > 0 && last_change_ <= options_.pass_tolerance) {
      result_.passes_converged = true;
      break;
    }
  }
  if (joints_.size() > 1) RefineJointsTogether();
  if (!result_.passes_converged) {
    result_.warnings.push_back("the joint-by-joint rounds had not settled after " + std::to_string(result_.passes) +
                               " passes (the last moved a value by " + Format(100 * last_change_, 2) +
                               " %): coupled joints' values may be off; allow more passes");
  }
  if (options_.progress) options_.progress(1.0, "done");
}

void JointByJointFit::FitJoint(std::size_t j, int pass) {
  const int d = joints_[j];
  const std::vector<JointParameter>& params = joint_parameters_[j];
  JointOutcome out;
  out.held_why.assign(params.size(), "");
  std::vector<int> free;
  for (std::size_t k = 0; k < params.size(); ++k) {
    if (params[k].fit) free.push_back(static_cast<int>(k));
  }
  if (free.empty()) {
    outcomes_[j] = std::move(out);
    return;
  }
  const std::string& joint_name = robot_.dof_link(d).joint_name;
  const std::vector<SimFitStart> from = StartPoints(j, pass, free, out);
  std::vector<StartEnd> ends;
  const JointValues before_starts = current_[d];
  for (std::size_t s = 0; s < from.size(); ++s) {
    current_[d] = before_starts;
    double best_so_far = kInf;
    for (const StartEnd& e : ends) best_so_far = std::min(best_so_far, e.o.cost);
    ends.push_back(RefineStart(j, pass, free, from[s], best_so_far, out));
    if (pass == 0) {
      Report(1, joint_name + ": start " + std::to_string(s + 1) + " of " + std::to_string(from.size()));
    }
  }
  const auto best_end = std::min_element(ends.begin(), ends.end(),
                                         [](const StartEnd& a, const StartEnd& b) { return a.o.cost < b.o.cost; });
  const int all_iterations = out.iterations;
  current_[d] = best_end->values;
  out = best_end->out;
  out.iterations = all_iterations;
  SimFitOutcome o = best_end->o;
  if (pass == 0) {
    RecordStarts(j, free, ends, *best_end);
  } else {
    Report(1, joint_name + ": pass " + std::to_string(pass + 1));
  }
  // A lone joint's latency: Levenberg-Marquardt's central differences straddle the kink at a whole physics step and
  // can stall beside it (the joint refinement does this for coupled joints). The kinks that bracket the estimate
  // are tried with the other parameters refined again; a lower cost wins.
  const bool latency_free = std::any_of(free.begin(), free.end(), [&](int k) {
    return params[static_cast<std::size_t>(k)].kind == Kind::kLatency;
  });
  if (joints_.size() == 1 && latency_free && !quick_ && options_.max_iterations > 0) {
    o = FitFree(j, pass, free, false, out, /*try_kinks=*/true);
  }
  HoldBarelyReachedLimits(j, pass, free, o, out);
  HoldKdWhereOnlyTheSumIsSeen(j, pass, free, o, out);
  HoldWhatTheDataCannotSee(j, pass, free, o, out);
  // A single joint's last analysis is the one reported (coupled joints report the joint refinement's): widened
  // where the cost is flatter than its curvature (SimFitOptions::widen_to_flat_cost).
  if (joints_.size() == 1 && !out.analysed.empty()) {
    WidenToTheFlatCost(BoundedOf(j, out.analysed), static_cast<int>(residual_count_), ResidualOf(j, out.analysed),
                       options_.common.threads, o);
    out.uncertainty = o.uncertainty;
  }
  outcomes_[j] = std::move(out);
}

BoundedParameter JointByJointFit::BoundedOne(std::size_t j, int k, const JointValues& values, bool kinks) const {
  const JointParameter& p = joint_parameters_[j][static_cast<std::size_t>(k)];
  const bool prismatic = robot_.dof_link(joints_[j]).joint_type == sim::JointType::kPrismatic;
  return {p.name,         KindUnit(p.kind, prismatic), std::clamp(values.Get(p.kind), p.bounds.lower, p.bounds.upper),
          p.bounds.lower, p.bounds.upper,              p.log_scale,
          kinks && p.kind == Kind::kLatency ? simulator_.time_step_s() : 0.0};
}

std::vector<BoundedParameter> JointByJointFit::BoundedOf(std::size_t j, const std::vector<int>& free,
                                                         bool kinks) const {
  std::vector<BoundedParameter> bounded;
  for (int k : free) bounded.push_back(BoundedOne(j, k, current_[joints_[j]], kinks));
  return bounded;
}

ResidualFunction JointByJointFit::ResidualOf(std::size_t j, const std::vector<int>& free) const {
  const int d = joints_[j];
  const std::vector<JointParameter>& params = joint_parameters_[j];
  return [this, &params, free, d](const Eigen::VectorXd& x, Eigen::VectorXd& r) {
    std::vector<JointValues> values = current_;
    for (std::size_t i = 0; i < free.size(); ++i) {
      values[d].Set(params[free[i]].kind, x[static_cast<Eigen::Index>(i)]);
    }
    Eigen::Index at = 0;
    for (const auto& ep : episodes_) {
      const Eigen::MatrixXd q = simulator_.Run(values, ep, ep.split);
      for (std::int64_t i = 1; i < ep.split; ++i) r[at++] = q(d, i) - ep.q_meas(d, i);
    }
  };
}

SimFitOutcome JointByJointFit::FitFree(std::size_t j, int pass, const std::vector<int>& free, bool global,
                                       JointOutcome& out, bool try_kinks) {
  const int d = joints_[j];
  const std::vector<JointParameter>& params = joint_parameters_[j];
  const std::vector<BoundedParameter> bounded = BoundedOf(j, free, try_kinks);
  SimFitOptions fit;
  fit.try_kinks = try_kinks;
  // Later rounds refine from where the last one left off: the global search has been done.
  fit.global_samples = global ? (quick_ ? std::min(options_.global_samples, 8) : options_.global_samples) : 0;
  fit.refine_starts = global ? starts_ : 1;
  fit.max_iterations = global ? 0 : quick_ ? std::min(options_.max_iterations, 4) : options_.max_iterations;
  fit.seed = options_.common.seed + static_cast<std::uint64_t>(j) + 1000u * static_cast<std::uint64_t>(pass);
  fit.threads = options_.common.threads;
  fit.uncertainty = options_.uncertainty;
  // One residual row per fitted frame after the first, clustered by episode (uncertainty.h).
  fit.uncertainty.residual_groups.clear();
  for (const auto& ep : episodes_) {
    auto& groups = fit.uncertainty.residual_groups;
    groups.insert(groups.end(), static_cast<std::size_t>(ep.split - 1), ep.index);
  }
  SimFitOutcome o = FitBySimulation(bounded, static_cast<int>(residual_count_), ResidualOf(j, free), fit);
  out.iterations += o.iterations;
  out.termination = o.termination;
  out.converged = o.converged;
  for (std::size_t i = 0; i < free.size(); ++i) {
    current_[d].Set(params[free[i]].kind, o.x[static_cast<Eigen::Index>(i)]);
  }
  out.analysed = free;
  out.uncertainty = o.uncertainty;
  return o;
}

// Where each start begins: the global search's diverse points in the first round, where the last round ended in
// later ones (the basin is chosen; the others' values have moved).
std::vector<SimFitStart> JointByJointFit::StartPoints(std::size_t j, int pass, const std::vector<int>& free,
                                                      JointOutcome& out) {
  const int d = joints_[j];
  std::vector<SimFitStart> from;
  if (pass == 0) {
    from = FitFree(j, pass, free, true, out).starts;
    Report(1, robot_.dof_link(d).joint_name + ": global search");
  } else {
    SimFitStart here;
    here.from.resize(static_cast<Eigen::Index>(free.size()));
    for (std::size_t i = 0; i < free.size(); ++i) {
      here.from[static_cast<Eigen::Index>(i)] = current_[d].Get(joint_parameters_[j][free[i]].kind);
    }
    Eigen::VectorXd r = Eigen::VectorXd::Zero(residual_count_);
    ResidualOf(j, free)(here.from, r);
    here.start_cost = std::isfinite(0.5 * r.squaredNorm()) ? 0.5 * r.squaredNorm() : kInf;
    from.push_back(std::move(here));
  }
  return from;
}

// A limit above everything the candidate demands is flat: no gradient leads back to where it bites. Scans each
// limit below its value (log-spaced down to its lower bound) and takes a value that bites and lowers `cost`;
// returns whether one moved.
bool JointByJointFit::ScanLimits(std::size_t j, const std::vector<int>& free, double cost) {
  const int d = joints_[j];
  const std::vector<JointParameter>& params = joint_parameters_[j];
  bool moved = false;
  for (std::size_t i = 0; i < free.size(); ++i) {
    const JointParameter& p = params[free[i]];
    if (!IsLimit(p.kind)) continue;
    const double at = current_[d].Get(p.kind);
    const int samples = quick_ ? 4 : kLimitScanSamples;
    std::vector<double> candidates;
    for (int m = 0; m < samples; ++m) {
      candidates.push_back(p.bounds.lower * std::pow(at / p.bounds.lower, static_cast<double>(m) / samples));
    }
    const std::vector<int> only = {free[i]};
    const ResidualFunction residual = ResidualOf(j, only);
    const std::vector<double> costs = Costs(residual, candidates, residual_count_, options_.common.threads);
    const auto best = std::min_element(costs.begin(), costs.end());
    if (*best < cost * (1 - 1e-9)) {
      current_[d].Set(p.kind, candidates[static_cast<std::size_t>(best - costs.begin())]);
      cost = *best;
      moved = true;
    }
  }
  return moved;
}

// One start: the limit scan, then refinement, and scan again where the refinement ended. Every start gets one scan
// and refinement; only one that ends that round near the best so far goes on to the later rounds (they polish,
// they do not change the basin).
StartEnd JointByJointFit::RefineStart(std::size_t j, int pass, const std::vector<int>& free, const SimFitStart& start,
                                      double best_so_far, JointOutcome& out) {
  const int d = joints_[j];
  for (std::size_t i = 0; i < free.size(); ++i) {
    current_[d].Set(joint_parameters_[j][free[i]].kind, start.from[static_cast<Eigen::Index>(i)]);
  }
  SimFitOutcome o;
  o.cost = start.start_cost;
  for (int round = 0; round < 3; ++round) {
    const bool moved = ScanLimits(j, free, o.cost);
    if (round > 0 && !moved) break;
    o = FitFree(j, pass, free, false, out);
    if (round == 0 && o.cost > best_so_far * (1 + kRivalCost)) break;
  }
  return {current_[d], std::move(o), out};
}

// The first round's start costs, and a warning when another start ends almost as low but elsewhere: the data may
// not single out one answer.
void JointByJointFit::RecordStarts(std::size_t j, const std::vector<int>& free, const std::vector<StartEnd>& ends,
                                   const StartEnd& best) {
  const std::vector<JointParameter>& params = joint_parameters_[j];
  const std::string& joint_name = robot_.dof_link(joints_[j]).joint_name;
  StartCosts costs;
  costs.block = joint_name;
  for (const StartEnd& e : ends) costs.final_costs.push_back(e.o.cost);
  std::sort(costs.final_costs.begin(), costs.final_costs.end());
  result_.start_costs.push_back(std::move(costs));
  std::vector<BoundedParameter> bounded;
  Eigen::VectorXd best_x(static_cast<Eigen::Index>(free.size()));
  for (std::size_t i = 0; i < free.size(); ++i) {
    bounded.push_back(BoundedOne(j, free[i], best.values, /*kinks=*/false));
    best_x[static_cast<Eigen::Index>(i)] = bounded.back().nominal;
  }
  int rivals = 0;
  std::string example;
  for (const StartEnd& e : ends) {
    if (&e == &best || !(e.o.cost <= best.o.cost * (1 + kRivalCost))) continue;
    Eigen::VectorXd x(best_x.size());
    for (std::size_t i = 0; i < free.size(); ++i) {
      x[static_cast<Eigen::Index>(i)] =
          std::clamp(e.values.Get(params[free[i]].kind), bounded[i].lower, bounded[i].upper);
    }
    // Limits are left out: one the data never reach may end anywhere above them (the hold below says so).
    Eigen::VectorXd a = x, b = best_x;
    for (std::size_t i = 0; i < free.size(); ++i) {
      if (IsLimit(params[free[i]].kind)) a[static_cast<Eigen::Index>(i)] = b[static_cast<Eigen::Index>(i)];
    }
    if (UnitDistance(bounded, a, b) < kRivalDistance) continue;
    x = a;
    if (rivals++ > 0) continue;
    // The parameters that differ most, in the unit cube of their bounds.
    const Eigen::VectorXd gap = (ToUnitCube(bounded, x) - ToUnitCube(bounded, best_x)).cwiseAbs();
    std::vector<int> by_gap(free.size());
    std::iota(by_gap.begin(), by_gap.end(), 0);
    std::sort(by_gap.begin(), by_gap.end(), [&](int a, int b) { return gap[a] > gap[b]; });
    for (std::size_t k = 0; k < std::min<std::size_t>(2, by_gap.size()); ++k) {
      const int i = by_gap[k];
      example += (k ? ", " : "") + std::string(KindName(params[free[i]].kind)) + " " + Format(x[i], 3) +
                 " against " + Format(best_x[i], 3);
    }
    example += ", cost " + Format(100 * (e.o.cost / best.o.cost - 1), 2) + " % higher";
  }
  if (rivals > 0) {
    result_.warnings.push_back(joint_name + ": " + std::to_string(rivals) + " of " + std::to_string(ends.size()) +
                               " starts end within " + Format(100 * kRivalCost) + " % of the best cost far from it (" +
                               example + "): the fit may not be unique");
  }
}

// A limit the fit lowered below the scene's value but that the fitted samples barely reach: lifting it back
// changes the cost by less than kLimitSupport. Left where the fit put it, it would cut every faster motion
// the data never showed (measured on BAM's kp400 log: a velocity limit of 7.1 rad/s, reached by the fitted
// 70 % at 7.4 rad/s, saved 0.1 % of the cost and tripled the held-out error where the motion reaches
// 13 rad/s). Such a limit is held at the scene's value and the others refitted.
void JointByJointFit::HoldBarelyReachedLimits(std::size_t j, int pass, std::vector<int>& free, SimFitOutcome& o,
                                              JointOutcome& out) {
  const int d = joints_[j];
  const std::vector<JointParameter>& params = joint_parameters_[j];
  for (std::size_t i = 0; i < free.size();) {
    const JointParameter& p = params[free[i]];
    const double at = current_[d].Get(p.kind);
    if (!IsLimit(p.kind) || !(at < p.start)) {
      ++i;
      continue;
    }
    const std::vector<int> only = {free[i]};
    const double lifted = Costs(ResidualOf(j, only), {p.start}, residual_count_, 1)[0];
    // Exactly unchanged: the samples never reach it, which the zero-sensitivity analysis below reports.
    if (!(lifted < o.cost * (1 + kLimitSupport)) || lifted == o.cost) {
      ++i;
      continue;
    }
    current_[d].Set(p.kind, p.start);
    std::ostringstream why;
    // The scene's value can even fit better: the local fit stopped short of it. Said so, not as a negative rise.
    const double change_percent = 100 * (lifted / o.cost - 1);
    why << "the fitted samples barely reach it: at the scene's value " << Format(p.start) << " instead of "
        << Format(at) << " the fit's cost "
        << (change_percent >= 0 ? "rises by " + Format(change_percent, 2) + " %, below " +
                                      Format(100 * kLimitSupport) + " %"
                                : "falls by " + Format(-change_percent, 2) + " % (the fit had stopped short of it)")
        << "; held at the scene's value, the others refitted";
    out.held_why[free[i]] = why.str();
    free.erase(free.begin() + static_cast<std::ptrdiff_t>(i));
    if (!free.empty()) o = FitFree(j, pass, free, false, out);
    i = 0;
  }
}

// kd without a velocity reference: kd (0 - qd) is viscous friction's torque, told apart only where the drive
// saturates (kd acts inside the effort limit's clip, viscous friction outside). When the fitted drive never
// saturates (the run with no effort limit is the same to the bit), hold kd and refit. The Jacobian cannot be
// relied on for this: its finite differences keep two such columns apart by ~1e-3 of their size, a margin
// that also separates genuinely weak but identified parameters (see the .h of uncertainty and the tests).
void JointByJointFit::HoldKdWhereOnlyTheSumIsSeen(std::size_t j, int pass, std::vector<int>& free, SimFitOutcome& o,
                                                  JointOutcome& out) {
  const int d = joints_[j];
  const std::vector<JointParameter>& params = joint_parameters_[j];
  const auto free_kind = [&](Kind kind) {
    return std::find_if(free.begin(), free.end(), [&](int k) { return params[k].kind == kind; });
  };
  if (velocity_reference_[j] || free_kind(Kind::kKd) == free.end() || free_kind(Kind::kViscous) == free.end()) {
    return;
  }
  std::vector<JointValues> unlimited = current_;
  unlimited[d].actuator.effort_limit = kInf;
  bool saturates = false;
  for (const auto& ep : episodes_) {
    saturates = saturates || simulator_.Run(current_, ep, ep.split) != simulator_.Run(unlimited, ep, ep.split);
  }
  if (saturates) return;
  const int k = *free_kind(Kind::kKd);
  current_[d].Set(Kind::kKd, params[k].start);
  out.kd_in_viscous = true;
  out.held_why[k] = "with no velocity reference and a drive that never saturates (the effort limit is never "
                    "reached), kd (0 - qd) is the same torque as viscous friction: only kd + viscous_friction "
                    "is observable, and viscous_friction carries it; held at its nominal value";
  free.erase(free_kind(Kind::kKd));
  o = FitFree(j, pass, free, false, out);
}

// Hold what the data cannot see: every zero-sensitivity parameter at once (no refit needed), and the first
// null-space parameter in kHoldOrder (then refit the rest), until the rest are identified.
void JointByJointFit::HoldWhatTheDataCannotSee(std::size_t j, int pass, std::vector<int>& free, SimFitOutcome& o,
                                               JointOutcome& out) {
  const int d = joints_[j];
  const std::vector<JointParameter>& params = joint_parameters_[j];
  while (!free.empty()) {
    std::vector<int> zero, null_space;
    for (std::size_t i = 0; i < free.size(); ++i) {
      if (o.uncertainty.identified.size() == free.size() && o.uncertainty.identified[i]) continue;
      const std::string why = i < o.uncertainty.why_not.size() ? o.uncertainty.why_not[i] : "not analysed";
      (why.rfind("the data do not depend on it", 0) == 0 ? zero : null_space).push_back(static_cast<int>(i));
    }
    if (zero.empty() && null_space.empty()) break;
    std::vector<int> hold = zero;
    const bool refit = !null_space.empty();
    if (refit) {
      const auto rank = [&](int i) {
        return std::find(std::begin(kHoldOrder), std::end(kHoldOrder), params[free[i]].kind) - std::begin(kHoldOrder);
      };
      hold.push_back(
          *std::min_element(null_space.begin(), null_space.end(), [&](int a, int b) { return rank(a) < rank(b); }));
    }
    for (int i : hold) {
      const JointParameter& p = params[free[i]];
      const double fitted = current_[d].Get(p.kind);
      std::string why = i < static_cast<int>(o.uncertainty.why_not.size()) ? o.uncertainty.why_not[i] : "";
      const bool zero_sensitivity = std::find(zero.begin(), zero.end(), i) != zero.end();
      if (IsLimit(p.kind) && zero_sensitivity) {
        // Never reached: a higher limit changes nothing, a lower one might.
        if (p.start >= fitted) {
          current_[d].Set(p.kind, p.start);
          why += "; the data never reach it: held at the scene's value";
        } else {
          why += "; the data never reach it, and reach beyond the scene's value " + Format(p.nominal) +
                 ": held at " + Format(fitted) + ", where the fit left it";
        }
      } else {
        current_[d].Set(p.kind, p.start);
        why += zero_sensitivity ? "; held at its nominal value" : "; held at its nominal value, the others refitted";
      }
      out.held_why[free[i]] = why;
    }
    std::vector<int> remaining;
    for (std::size_t i = 0; i < free.size(); ++i) {
      if (std::find(hold.begin(), hold.end(), static_cast<int>(i)) == hold.end()) remaining.push_back(free[i]);
    }
    // Zero columns leave the analysis of the others unchanged: it stands without a refit.
    if (!refit || remaining.empty()) break;
    free = remaining;
    o = FitFree(j, pass, free, false, out);
  }
}

// Coupled joints: the rounds reach each joint's best answer given the others (measured on a two-joint geared
// arm: within 0.2 % per round after 5 rounds, yet 2-4 % from the truth, because each round shrinks the coupling's
// error by little). One Levenberg-Marquardt refinement of every joint's identified parameters together, on every
// joint's residual, removes what the rounds leave (the same arm: within 1 %). Its Jacobian covers all the joints'
// parameters, so it stays small: no global search here. Its analysis is the one reported: a joint's own last round
// holds the other joints fixed, so its std leaves out the coupling (the same arm, seed 4: the elbow's kd 1.9 % off
// with a per-joint std of 0.56 %).
void JointByJointFit::RefineJointsTogether() {
  std::vector<std::pair<std::size_t, int>> together;  // (joint, parameter)
  std::vector<BoundedParameter> bounded;
  for (std::size_t j = 0; j < joints_.size(); ++j) {
    for (int k : outcomes_[j].analysed) {
      if (!outcomes_[j].held_why[static_cast<std::size_t>(k)].empty()) continue;
      together.emplace_back(j, k);
      bounded.push_back(BoundedOne(j, k, current_[joints_[j]], /*kinks=*/true));
    }
  }
  if (together.empty()) return;
  std::int64_t all_residuals = 0;
  for (const auto& ep : episodes_) all_residuals += (ep.split - 1) * static_cast<std::int64_t>(joints_.size());
  const auto kind_of = [&](std::size_t i) {
    const auto [j, k] = together[i];
    return joint_parameters_[j][static_cast<std::size_t>(k)].kind;
  };
  const ResidualFunction residual = [&](const Eigen::VectorXd& x, Eigen::VectorXd& r) {
    std::vector<JointValues> values = current_;
    for (std::size_t i = 0; i < together.size(); ++i) {
      values[joints_[together[i].first]].Set(kind_of(i), x[static_cast<Eigen::Index>(i)]);
    }
    // Frame by frame, the joints of a frame side by side: the layout the robust covariance's time lags count in.
    Eigen::Index at = 0;
    for (const auto& ep : episodes_) {
      const Eigen::MatrixXd q = simulator_.Run(values, ep, ep.split);
      for (std::int64_t i = 1; i < ep.split; ++i) {
        for (int d : joints_) r[at++] = q(d, i) - ep.q_meas(d, i);
      }
    }
  };
  SimFitOptions fit;
  fit.global_samples = 0;
  fit.refine_starts = 1;
  fit.max_iterations = quick_ ? std::min(options_.max_iterations, 4) : options_.max_iterations;
  fit.threads = options_.common.threads;
  fit.uncertainty = options_.uncertainty;
  fit.uncertainty.residual_groups.clear();
  for (const auto& ep : episodes_) {
    fit.uncertainty.residual_groups.insert(fit.uncertainty.residual_groups.end(),
                                           static_cast<std::size_t>(ep.split - 1) * joints_.size(), ep.index);
  }
  fit.uncertainty.rows_per_step = static_cast<int>(joints_.size());
  fit.try_kinks = true;
  fit.widen_to_flat_cost = true;
  if (options_.progress) options_.progress(0.99, "all joints together");
  const SimFitOutcome o = FitBySimulation(bounded, static_cast<int>(all_residuals), residual, fit);
  for (std::size_t i = 0; i < together.size(); ++i) {
    current_[joints_[together[i].first]].Set(kind_of(i), o.x[static_cast<Eigen::Index>(i)]);
  }
  result_.iterations += o.iterations;
  together_.analysed = std::move(together);
  together_.uncertainty = o.uncertainty;
}

// ---- After the fit: the result's parameters and covariance, the predictions, the warnings ----

// Where a parameter's final analysis placed it: the analysis (a joint's own last round, or the joint refinement
// of coupled joints) and its position there; no analysis when it was never analysed.
struct AnalysisPlace {
  const Uncertainty* uncertainty = nullptr;
  std::size_t position = 0;

  bool identified() const {
    return uncertainty != nullptr && position < uncertainty->identified.size() && uncertainty->identified[position];
  }
  // The row of an identified parameter in its analysis's covariance (which covers the identified ones only).
  Eigen::Index covariance_row() const {
    return static_cast<Eigen::Index>(std::count(uncertainty->identified.begin(),
                                                uncertainty->identified.begin() + static_cast<std::ptrdiff_t>(position),
                                                true));
  }
};

// Parameter k of joint j in the joint refinement's analysis if that covers it, else in the joint's own.
AnalysisPlace PlaceOf(std::size_t j, std::size_t k, const JointOutcome& out, const TogetherOutcome& together) {
  const std::pair<std::size_t, int> key(j, static_cast<int>(k));
  const auto t = std::find(together.analysed.begin(), together.analysed.end(), key);
  if (t != together.analysed.end()) {
    return {&together.uncertainty, static_cast<std::size_t>(t - together.analysed.begin())};
  }
  const auto at = std::find(out.analysed.begin(), out.analysed.end(), static_cast<int>(k));
  if (at == out.analysed.end()) return {};
  return {&out.uncertainty, static_cast<std::size_t>(at - out.analysed.begin())};
}

// The result's entry for a parameter of a joint (estimate: its fitted or held value; held_why: why it was held, or
// empty), or none for a limit the scene leaves infinite and the data never reach. `kept` says whether it stays
// identified (and so enters the covariance); what a user should know goes to `warnings`.
std::optional<FitParameter> ResultParameter(const JointParameter& p, const std::string& unit, double estimate,
                                            const AnalysisPlace& place, const std::string& held_why, bool& kept,
                                            std::vector<std::string>& warnings) {
  kept = false;
  FitParameter f;
  f.name = p.name;
  f.unit = unit;
  f.nominal = p.nominal;
  f.lower = p.bounds.lower;
  f.upper = p.bounds.upper;
  f.overlays_scene = true;  // position_offset too: params.yaml applies it (sim::RobotModel::position_offset)
  f.estimate = estimate;
  // Against (or within kAtBound of) a bound: the data push it there, so its value says only which side the
  // truth lies on; not reported as identified.
  const double u = ToUnit({p.name, "", f.estimate, f.lower, f.upper, p.log_scale}, f.estimate);
  const char* at_bound = u <= kAtBound ? "lower" : u >= 1 - kAtBound ? "upper" : nullptr;
  const bool fitted_free = place.identified() && held_why.empty();
  if (fitted_free && at_bound != nullptr) {
    f.identified = false;
    f.why_not_identified = std::string("at its ") + at_bound + " bound (" +
                           Format(at_bound[0] == 'l' ? f.lower : f.upper) +
                           "): the data push it against the bound; not confidently identified";
    f.std_dev = (f.upper - f.lower) / std::sqrt(12.0);
    warnings.push_back(f.name + " = " + Format(f.estimate) + " is at its " + at_bound +
                       " bound; not confidently identified (widen its bounds if the value is plausible)");
  } else if (fitted_free) {
    f.identified = true;
    f.std_dev = place.uncertainty->std_dev[static_cast<Eigen::Index>(place.position)];
    kept = true;
  } else {
    f.identified = false;
    const bool analysed = place.uncertainty != nullptr && place.position < place.uncertainty->why_not.size();
    f.why_not_identified = !held_why.empty()           ? held_why
                           : !p.why_not_fitted.empty() ? p.why_not_fitted
                           : analysed                  ? place.uncertainty->why_not[place.position]
                                                       : "not analysed";
    f.std_dev = (f.upper - f.lower) / std::sqrt(12.0);
    if (!std::isfinite(f.estimate)) {
      // A limit the scene leaves infinite and the data never reach: the scene keeps it; nothing to overlay.
      warnings.push_back(f.name + " is not fitted or not reached by the data; the scene's value (" +
                         Format(f.estimate) + ") stands");
      return std::nullopt;
    }
  }
  return f;
}

// The covariance of the identified parameters, in order: within one analysis, that analysis's; between two
// analyses (joints fitted only one at a time), zero.
Eigen::MatrixXd KeptCovariance(const std::vector<AnalysisPlace>& kept) {
  const auto n = static_cast<Eigen::Index>(kept.size());
  Eigen::MatrixXd covariance = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index a = 0; a < n; ++a) {
    for (Eigen::Index b = 0; b < n; ++b) {
      const AnalysisPlace& pa = kept[static_cast<std::size_t>(a)];
      const AnalysisPlace& pb = kept[static_cast<std::size_t>(b)];
      if (pa.uncertainty == pb.uncertainty) {
        covariance(a, b) = pa.uncertainty->covariance(pa.covariance_row(), pb.covariance_row());
      }
    }
  }
  return covariance;
}

// The result's parameters, their covariance (from the joint refinement where coupled joints had one, else one
// block per joint), and each joint's diagnostics.
void ReportParameters(const sim::RobotModel& robot, const std::vector<int>& joints,
                      const std::vector<std::vector<JointParameter>>& joint_parameters,
                      const std::vector<JointOutcome>& outcomes, const TogetherOutcome& together,
                      const std::vector<JointValues>& values, FitResult& result) {
  std::vector<AnalysisPlace> kept;
  for (std::size_t j = 0; j < joints.size(); ++j) {
    const int d = joints[j];
    const bool prismatic = robot.dof_link(d).joint_type == sim::JointType::kPrismatic;
    const JointOutcome& out = outcomes[j];
    const std::vector<JointParameter>& params = joint_parameters[j];
    for (std::size_t k = 0; k < params.size(); ++k) {
      const JointParameter& p = params[k];
      const AnalysisPlace place = PlaceOf(j, k, out, together);
      bool identified = false;
      std::optional<FitParameter> f = ResultParameter(p, KindUnit(p.kind, prismatic), values[d].Get(p.kind), place,
                                                      k < out.held_why.size() ? out.held_why[k] : "", identified,
                                                      result.warnings);
      if (identified) {
        kept.push_back(place);
        result.covariance_names.push_back(p.name);
      }
      if (f) result.parameters.push_back(std::move(*f));
    }
    if (together.analysed.empty()) {
      result.condition_number = std::max(result.condition_number, out.uncertainty.condition_number);
      result.rank += out.uncertainty.rank;
      for (const auto& w : out.uncertainty.warnings) result.warnings.push_back(w);
    }
    result.termination +=
        (result.termination.empty() ? "" : "; ") + robot.dof_link(d).joint_name + ": " + out.termination;
    result.converged = (j == 0 || result.converged) && out.converged;
    result.iterations += out.iterations;
    if (!out.converged) {
      result.warnings.push_back(robot.dof_link(d).joint_name + ": the fit stopped before converging: " +
                                out.termination);
    }
  }
  if (!together.analysed.empty()) {
    result.condition_number = together.uncertainty.condition_number;
    result.rank = together.uncertainty.rank;
    for (const auto& w : together.uncertainty.warnings) result.warnings.push_back(w);
  }
  result.covariance = KeptCovariance(kept);
  // kd held because only kd + viscous_friction is observable: the pair is reported and drawn by its sum.
  for (std::size_t j = 0; j < joints.size(); ++j) {
    if (!outcomes[j].kd_in_viscous) continue;
    std::string kd, viscous;
    for (const JointParameter& p : joint_parameters[j]) {
      if (p.kind == Kind::kKd) kd = p.name;
      if (p.kind == Kind::kViscous) viscous = p.name;
    }
    RecordIdentifiedSum(result, kd, viscous);
  }
}

// The model the predictions are compared with: options.reference, else the scene's nominal values.
struct Baseline {
  std::vector<JointValues> values;
  std::string name;
};

Baseline BaselineOf(const std::vector<JointValues>& nominal, const ActuatorFitOptions& options) {
  Baseline baseline{nominal, "the scene's nominal values"};
  if (options.reference) {
    baseline.name = options.reference->name;
    for (std::size_t d = 0; d < nominal.size(); ++d) {
      baseline.values[d].actuator = options.reference->actuators[d];
      baseline.values[d].offset =
          options.reference->position_offset.size() ? options.reference->position_offset[d] : 0.0;
    }
  }
  return baseline;
}

// Every episode from its start to its end, fitted and baseline: the training and held-out fit per joint and the
// held-out series.
void Predict(const sim::RobotModel& robot, const Simulator& simulator, const std::vector<int>& joints,
             const std::vector<PreparedEpisode>& episodes, const std::vector<JointValues>& fitted,
             const Baseline& baseline_model, FitResult& result) {
  std::vector<Eigen::MatrixXd> predicted(episodes.size()), baseline(episodes.size());
  for (std::size_t e = 0; e < episodes.size(); ++e) {
    predicted[e] = simulator.Run(fitted, episodes[e], episodes[e].frames);
    baseline[e] = simulator.Run(baseline_model.values, episodes[e], episodes[e].frames);
  }
  for (int d : joints) {
    const std::string channel = robot.dof_link(d).joint_name + " position";
    const std::string unit = robot.dof_link(d).joint_type == sim::JointType::kPrismatic ? "m" : "rad";
    std::vector<double> train_m, train_p, train_b, held_m, held_p, held_b;
    for (std::size_t e = 0; e < episodes.size(); ++e) {
      const PreparedEpisode& ep = episodes[e];
      HeldOutSeries series;
      series.channel = channel;
      series.unit = unit;
      series.episode = ep.index;
      for (std::int64_t i = 0; i < ep.frames; ++i) {
        const double m = ep.q_meas(d, i), p = predicted[e](d, i), b = baseline[e](d, i);
        if (i < ep.split) {
          train_m.push_back(m);
          train_p.push_back(p);
          train_b.push_back(b);
          continue;
        }
        held_m.push_back(m);
        held_p.push_back(p);
        held_b.push_back(b);
        series.time_s.push_back(ep.time_s[i]);
        series.measured.push_back(m);
        series.predicted.push_back(p);
        series.baseline.push_back(b);
      }
      result.predictions.push_back(std::move(series));
    }
    auto with_baseline = [&](ChannelFit fit, const ChannelFit& base) {
      fit.baseline_rms = base.rms;
      fit.baseline = baseline_model.name;
      return fit;
    };
    result.train.push_back(
        with_baseline(MeasureFit(channel, unit, train_m, train_p), MeasureFit(channel, unit, train_m, train_b)));
    result.held_out.push_back(
        with_baseline(MeasureFit(channel, unit, held_m, held_p), MeasureFit(channel, unit, held_m, held_b)));
    result.train_samples += static_cast<std::int64_t>(train_m.size());
    result.held_out_samples += static_cast<std::int64_t>(held_m.size());
  }
}

// Warnings a user should see: a prediction worse than having no fit, a model that misses what the data show,
// and fitted values that depend on the scene's time step.
void AddModelWarnings(const sim::Model& model, const Simulator& simulator, const std::vector<int>& joints,
                      const std::vector<PreparedEpisode>& episodes, const std::vector<JointValues>& fitted,
                      const ActuatorFitOptions& options, FitResult& result) {
  AddHeldOutWarnings(result);
  for (std::size_t c = 0; c < joints.size(); ++c) {
    const double floor = NoiseFloor(episodes, joints[c]);
    if (!std::isfinite(floor)) continue;
    result.noise_floor.push_back(floor);
    const ChannelFit& t = result.train[c];
    if (floor > 0 && t.rms > options.noise_floor_ratio * floor) {
      result.warnings.push_back(t.channel + ": fitting residual RMS " + Format(t.rms, 3) + " " + t.unit + " is " +
                                Format(t.rms / floor, 3) + " times the channel's noise floor (" + Format(floor, 2) +
                                " " + t.unit + "): the model misses something the data show");
    }
  }
  result.time_step_cost_change = HalvedStepCostChange(model, simulator, fitted, episodes, joints);
  if (std::abs(result.time_step_cost_change) > options.time_step_tolerance) {
    result.warnings.push_back("with time_step_s halved (" + Format(model.sim.time_step_s) + " -> " +
                              Format(model.sim.time_step_s / 2) + " s) the fit's cost changes by " +
                              Format(100 * result.time_step_cost_change, 3) +
                              " %: the fitted values depend on the scene's time step; run them at the same step");
  }
}

}  // namespace

void ActuatorFitOptions::Validate() const {
  const std::string owner = "ActuatorFitOptions";
  common.Validate(owner);
  for (const auto& [key, b] : bounds) {
    if (!(b.lower < b.upper) || !std::isfinite(b.lower) || !std::isfinite(b.upper)) {
      throw std::invalid_argument(owner + "::bounds['" + key + "'] = [" + Format(b.lower) + ", " + Format(b.upper) +
                                  "]: needs finite lower < upper");
    }
  }
  if (passes < 1) FailOption(owner, "passes", passes, "at least 1");
  if (starts < 1) FailOption(owner, "starts", starts, "at least 1");
  if (global_samples < 0) FailOption(owner, "global_samples", global_samples, "0 or more");
  if (max_iterations < 0) FailOption(owner, "max_iterations", max_iterations, "0 or more");
  if (!(pass_tolerance > 0)) FailOption(owner, "pass_tolerance", pass_tolerance, "> 0");
}

bool ActuatorFitOptions::IsValid(std::string* why) const { return IsValidByValidate(*this, why); }

FitResult FitActuators(const ProblemInput& input, const ActuatorFitOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  if (!input.model) throw std::invalid_argument("FitActuators: no model");
  const sim::Model& model = input.plan.model();
  const sim::RobotModel& robot = PositionControlledRobot(input);
  const std::vector<int> joints = ResolveJoints(input, options);
  const std::vector<Kind> asked = AskedKinds(options);
  CheckOptions(options, robot.num_dofs());
  const std::vector<PreparedEpisode> episodes = PrepareEpisodes(input, options.common.held_out_fraction);
  const std::vector<JointValues> nominal = NominalValues(robot);
  const std::vector<std::vector<JointParameter>> joint_parameters =
      MakeJointParameters(input, joints, nominal, episodes, asked, options);

  FitResult result;
  result.problem = Problem::kActuators;
  const Simulator simulator(model);
  JointByJointFit fit(robot, joints, joint_parameters, episodes, simulator, options, nominal, result);
  fit.Run();
  ReportParameters(robot, joints, joint_parameters, fit.outcomes(), fit.together(), fit.values(), result);
  Predict(robot, simulator, joints, episodes, fit.values(), BaselineOf(nominal, options), result);
  AddModelWarnings(model, simulator, joints, episodes, fit.values(), options, result);
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace r2s::sysid

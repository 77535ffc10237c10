#pragma once
// What one identification problem returns: estimates with their uncertainty, what the data could not identify,
// fit quality on held-out samples, and the held-out predictions themselves. Every problem (joint dynamics,
// actuators, objects) fills the same record, so params.yaml and the report treat them alike.

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

namespace r2s::sysid {

enum class Problem {
  kJointDynamics,  // rigid-body base parameters and joint friction, from measured q, qd and torque
  kActuators,      // PD gains, limits, friction, latency, from commands and measured positions (sim in the loop)
  kObjects,        // object friction, restitution, mass ratios, from tracked poses (sim in the loop)
};
const char* ProblemName(Problem problem);  // "joint_dynamics", "actuators", "objects"
std::optional<Problem> ProblemFromName(std::string_view name);  // nullopt for a name that is none of them

struct FitParameter {
  // A params.yaml name (robot.panda_joint1.coulomb_friction, objects.cube.restitution) when overlays_scene, else
  // a name of the problem's own (robot.base_parameter.3, robot.panda_joint1.torque_offset) that the report shows
  // but the scene cannot take.
  std::string name;
  std::string unit;
  double nominal = 0;   // the scene's value before the fit: the prior and the starting point
  double estimate = 0;  // equals nominal when not identified
  double std_dev = 0;   // from the covariance when identified; (upper - lower) / sqrt(12) otherwise
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
  bool identified = true;
  std::string why_not_identified;  // "joint barely moves (range 0.8 deg)", "in the null space: ..."
  bool overlays_scene = true;
  // Set on every part of a sum that only the sum of is identified (kd + viscous_friction with no velocity reference
  // and no saturation): the parts' names, the sum's estimate and std. The covariance then covers every part (see
  // RecordIdentifiedSum in uncertainty.h), so that joint draws keep the sum's distribution.
  std::vector<std::string> sum_of;
  double sum_estimate = std::numeric_limits<double>::quiet_NaN();
  double sum_std_dev = std::numeric_limits<double>::quiet_NaN();
};

// Fit quality of one measured channel ("panda_joint1 torque", "cube position").
struct ChannelFit {
  std::string channel;
  std::string unit;
  std::int64_t samples = 0;
  double rms = 0;  // of measured - predicted
  double r2 = 0;   // 1 - SSE / SST about the channel's mean over these samples
  // A reference model's RMS on the same samples, when the problem has one (the published Gaz et al. model).
  double baseline_rms = std::numeric_limits<double>::quiet_NaN();
  std::string baseline;  // what the baseline is
};

// One channel of one episode over its held-out samples: what predictions.csv and the plots show.
struct HeldOutSeries {
  std::string channel;
  std::string unit;
  std::int64_t episode = 0;
  std::vector<double> time_s;  // from the episode's first frame
  std::vector<double> measured;
  std::vector<double> predicted;
  std::vector<double> baseline;  // empty, or the baseline model's prediction at the same times
};

// Where a multi-start sim-in-the-loop fit's starts ended, for one fitted block (an actuator fit's joint).
struct StartCosts {
  std::string block;                // "pendulum"
  std::vector<double> final_costs;  // 0.5 |r|^2 where each start ended, lowest first
  // (highest - lowest) / lowest: 0 when every start reached the same minimum
  double relative_spread() const;
};

// Progress of a long fit, reported by the library as it goes (the caller draws it; no threads of its own):
// `fraction` of the whole problem's estimated work done, in [0, 1], and what it is doing ("pendulum, pass 1").
using FitProgress = std::function<void(double fraction, const std::string& what)>;

struct FitResult {
  Problem problem = Problem::kJointDynamics;
  std::vector<FitParameter> parameters;
  // Over the identified parameters only, in the order of covariance_names (a subset of parameters' names).
  std::vector<std::string> covariance_names;
  Eigen::MatrixXd covariance;
  double condition_number = 0;  // of the column-scaled Jacobian (or regressor) at the solution
  int rank = 0;                 // numerical rank of the same
  std::vector<std::string> warnings;  // strongly correlated pairs, a fit that stopped early, ...
  std::vector<ChannelFit> train;      // on the fitting samples
  std::vector<ChannelFit> held_out;   // on the held-out samples (the last held_out_fraction of each episode)
  std::vector<HeldOutSeries> predictions;
  std::string termination;  // Ceres's message, verbatim
  bool converged = false;
  int iterations = 0;
  double wall_s = 0;
  std::int64_t train_samples = 0;
  std::int64_t held_out_samples = 0;
  // Multi-start fits: starts refined per block (0: a fit without restarts) and where each ended.
  int starts = 0;
  std::vector<StartCosts> start_costs;
  // Fits that iterate block by block (an actuator fit's joints): rounds run, and whether the parameters settled
  // within the tolerance before the limit.
  int passes = 0;
  bool passes_converged = true;
  // Sim-in-the-loop fits: per fitted channel, the measurement noise floor estimated from the data (in the order of
  // train), and the relative change of the fit's cost when the scene's time step is halved (NaN: not evaluated).
  std::vector<double> noise_floor;
  double time_step_cost_change = std::numeric_limits<double>::quiet_NaN();
};

// x with `precision` significant digits, as every problem's messages write numbers.
std::string FormatNumber(double x, int precision);

// Adds the warnings a user must see about held-out prediction, whatever the problem: a channel whose held-out R^2
// is below 0 (worse than predicting the mean), or whose held-out RMS is worse than the baseline model's.
void AddHeldOutWarnings(FitResult& result);

// RMS and R^2 of measured vs predicted.
ChannelFit MeasureFit(std::string channel, std::string unit, const std::vector<double>& measured,
                      const std::vector<double>& predicted);

}  // namespace r2s::sysid

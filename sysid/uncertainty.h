#pragma once
// Uncertainty and identifiability of a least-squares fit at its solution, shared by every problem.
//
// Classical covariance: (J^T J)^-1 (ceres::Covariance, dense SVD, or the SVD of J) over the identified parameters,
// scaled by the residual variance s^2 = 2 cost / (m - n). It assumes independent residuals. Trajectory residuals
// are not: a simulation that drifts stays off for the rest of the episode, and model error differs from one episode
// to the next. Counting thousands of frames as independent evidence makes the classical std far too small (cube
// restitution: 0.0127 +- 0.0004 from 5 tosses, 0.198 +- 0.003 from all 100).
//
// Robust covariance, used when the caller gives the residual vector and UncertaintyOptions::residual_groups (the
// episode of each residual row); every problem does. Measured by tests/sysid_calibration_test.cc (95 % intervals
// over repeated ground-truth fits with AR(1) noise and per-episode model error):
//   - G >= 2 episodes: cluster-robust by episode, the leave-one-episode-out (linearized jackknife, CR3) form
//     (G-1)/G sum_g (d_g - mean d)(d_g - mean d)^T with d_g = (J^T J - J_g^T J_g)^+ J_g^T r_g. Episodes are the
//     independent units: this covers autocorrelation and per-episode model error alike, and unlike the plain CR1
//     sum of s_g s_g^T it accounts for an episode that carries most of the information. With few episodes the
//     estimate has few degrees of freedom, so each parameter's std is inflated by t_{0.975, dof} / 1.96, with dof
//     the effective episode count (sum w_g)^2 / sum w_g^2 minus one (w_g: episode g's share of the parameter's
//     variance; G - 1 when they share equally): mean +- 1.96 std, what `posterior` draws within, is the t interval.
//   - 1 episode: a HAC (Newey-West) estimate within it, Bartlett weights over a bandwidth from the residuals'
//     lag-1 autocorrelation (Andrews' AR(1) plug-in, in time steps of rows_per_step rows), inflated by a t quantile
//     with floor(steps / (2 bandwidth)) degrees of freedom (at least 1), plus a warning: one episode cannot show
//     how much the parameters vary between episodes (model error), so the interval is a lower bound.
//   - Never smaller than the classical estimate (nor, with G >= 2, than the HAC one): the result is the
//     Loewner-order maximum, C0^(1/2) max(I, C0^(-1/2) C C0^(-1/2)) C0^(1/2), applied in turn.
// Measured (tests/sysid_calibration_test.cc, 400 fits each of a driven oscillator with AR(1) noise, rho 0.97, and
// per-episode parameter error): 95 % intervals covered the truth 94.5-97 % with 8 episodes, 98-99 % with 3, 95 %
// with 1 (no model error); the classical ones 7-10 %, 8-10 % and 27-33 %. CR1 with t(G-1) covered 85-89 %. A block
// bootstrap was not used: a sim-in-the-loop refit per replicate costs a whole fit.
//
// Identifiability: the SVD of the Jacobian with
// columns scaled by each parameter's scale; a parameter is not identified when its column is (numerically) zero
// or when more than a quarter of its scaled direction (squared) lies in the near-null space (singular values below
// rcond * the largest). Unidentified parameters are held at their estimate in the covariance and get a flag and
// a reason instead of a small, false standard deviation.

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace ceres {
class Problem;
}

namespace r2s::sysid {

// chi2_1(0.95) = 1.96^2: a cost 1/2 of this times s^2 above the optimum bounds a parameter's 95 % interval (the
// classical threshold both the object fit's basin scan and SimFitOptions::widen_to_flat_cost use).
inline constexpr double kChiSquare1Dof95 = 3.8415;

struct UncertaintyOptions {
  double rcond = 1e-6;                // singular values below rcond * sigma_max span the null space
  double correlation_warning = 0.95;  // |rho| above this gets a warning
  // The episode (or any independent block) of each residual row, in row order, rows of one episode in time order;
  // empty: the classical covariance. Only read by the overloads that take the residuals.
  std::vector<std::int64_t> residual_groups;
  // Rows per time step within an episode (channels interleaved per frame: 6 per tracked object, one per joint), so
  // that autocorrelation lags count time steps. Must divide each episode's row count.
  int rows_per_step = 1;
};

struct Uncertainty {
  std::vector<bool> identified;           // per parameter
  std::vector<std::string> why_not;       // per parameter, empty when identified
  Eigen::MatrixXd covariance;             // over the identified parameters, in order
  Eigen::VectorXd std_dev;                // per parameter; NaN where not identified
  std::vector<std::string> warnings;      // "a and b are correlated (rho = 0.98)"
  double condition_number = 0;            // sigma_max / sigma_min of the scaled Jacobian (inf when rank deficient)
  int rank = 0;
  // How the covariance was estimated ("classical", "cluster-robust over 5 episodes, t(4)", "HAC within 1 episode,
  // bandwidth 40 steps, t(9)"), and the std's factor over the classical one, per parameter (NaN where not identified).
  std::string method = "classical";
  Eigen::VectorXd inflation;
};

// From a dense Jacobian (m x n, residuals in their own units) and the residual variance.
Uncertainty AnalyzeJacobian(const Eigen::MatrixXd& jacobian, double residual_variance,
                            const std::vector<std::string>& names, const Eigen::VectorXd& scale,
                            const UncertaintyOptions& options = {});

// The robust covariance (see the top): the Jacobian, the residuals at the solution (m each) and
// options.residual_groups (m entries, or empty for the classical estimate from the residuals' variance).
Uncertainty AnalyzeJacobian(const Eigen::MatrixXd& jacobian, const Eigen::VectorXd& residuals,
                            const std::vector<std::string>& names, const Eigen::VectorXd& scale,
                            const UncertaintyOptions& options);

// The same for a solved ceres::Problem with one parameter block `x` of names.size() values: the Jacobian comes
// from problem.Evaluate, the covariance from ceres::Covariance over the identified coordinates, made robust as
// above when options.residual_groups is set (one entry per residual row of the problem, in the order residual
// blocks were added, all blocks one-dimensional or rows_per_step set accordingly). Parameters that are constant in
// the problem (SubsetManifold or SetParameterBlockConstant) must not be passed.
Uncertainty AnalyzeProblem(ceres::Problem& problem, double* x, const std::vector<std::string>& names,
                           const Eigen::VectorXd& scale, const UncertaintyOptions& options = {});

struct FitResult;
struct FitParameter;

// Copies an analysis into a fit result, the parameters in the analysis's order: identified flags and reasons,
// standard deviations (an unidentified parameter with finite bounds gets the uniform width (upper - lower) /
// sqrt(12), i.e. the randomizer keeps the prior range; NaN with infinite bounds), covariance over the identified
// ones, warnings, rank and condition number. parameters[i].estimate must already be set.
void StoreUncertainty(const Uncertainty& uncertainty, std::vector<FitParameter>& parameters, FitResult& result);

// A pair the data identify only through its sum: `held` (not identified, at its nominal value) and `carrier`
// (identified, fitted while `held` was held, so it carries the sum). Puts `held` into result.covariance with variance
// w^2 and covariance -w^2 with `carrier`, whose variance grows by w^2: held + carrier keeps the fitted variance and
// its covariance with every other parameter, while each part spreads by w along the direction the data cannot see.
// w is held's prior width (upper - lower) / sqrt(12), narrowed to a third of the room both parts' bounds leave around
// the split, so that truncation at the bounds barely touches the sum (no spread when there is no room). Both get
// sum_of, sum_estimate, sum_std_dev, their std_dev (marginal) and the sum in why_not_identified / a warning:
// "robot.j.kd + robot.j.viscous_friction = 12.3 +- 0.4". Nothing happens when carrier is not in the covariance.
void RecordIdentifiedSum(FitResult& result, const std::string& held, const std::string& carrier);

}  // namespace r2s::sysid

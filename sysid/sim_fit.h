#pragma once
// Sim-in-the-loop least squares: fit parameters that a simulation takes to measured trajectories, when the
// residual comes from running a Bullet world and contact and friction make it non-smooth.
//
// Two stages (the and DESIGN.md's finding on this stack: finite-difference steps near 1e-6 fail, ~1e-2
// relative steps recover friction within 1 %):
//   1. a coarse global search: `global_samples` points of a scrambled Halton sequence over the bounds (log-spaced
//      for log_scale parameters), plus the nominal point; `refine_starts` of them go on, chosen diverse: in order
//      of cost, each at least `start_separation` (RMS, in the unit cube of the bounds) from those already taken,
//      so that the starts probe different basins instead of one basin's neighbours (a servo's cost has a second
//      basin where damping moves outside the effort clip; measured, one start lands there 4 times in 7);
//   2. Ceres Levenberg-Marquardt from each, with central differences of `relative_step` of each parameter's scale,
//      within the bounds; the lowest cost wins, and every start's end is kept (SimFitOutcome::starts) so that the
//      caller can say when another basin fits almost as well.
// Then the uncertainty at the solution (AnalyzeJacobian on the same finite-difference Jacobian).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "sysid/uncertainty.h"

namespace r2s::sysid {

struct BoundedParameter {
  std::string name;
  std::string unit;
  double nominal = 0;  // must lie within [lower, upper]
  double lower = 0;
  double upper = 1;
  bool log_scale = false;  // search log-uniformly (gains, friction spanning decades); needs lower > 0
  // > 0: the cost is smooth in this parameter only between whole multiples of kink_spacing, with kinks at them (a
  // latency: the delay line blends the two whole physics steps that bracket it, and the pair changes at each
  // step), and SimFitOptions::try_kinks tries those that bracket the estimate. 0: smooth.
  double kink_spacing = 0;
};

struct SimFitOptions {
  int global_samples = 64;
  int refine_starts = 4;
  // Minimum RMS distance between starts in the unit cube of the bounds (log-mapped for log_scale parameters);
  // when too few candidates are that far apart, the best remaining ones fill the starts.
  double start_separation = 0.2;
  double relative_step = 1e-2;  // finite-difference step, relative to each parameter's scale
  int max_iterations = 30;      // Levenberg-Marquardt iterations per start
  std::uint64_t seed = 0;       // of the Halton scrambling: the search is deterministic
  int threads = 1;              // evaluations of the global search run on this many threads (the caller's choice)
  // After the refinement, each parameter with a kink_spacing is held at the two kinks that bracket its estimate in
  // turn while the others (if any) are refined again; the lowest cost wins. Levenberg-Marquardt's finite differences
  // straddle a kink and can stall beside it: on noise-free data of a two-joint arm whose latencies lay on whole
  // steps it stopped with kd and viscous friction 1.6-1.9 % off, compensating a latency a fraction of a step off.
  bool try_kinks = false;
  // After the analysis, the cost is evaluated along each identified parameter's linearized profile (the parameter
  // moved, the others by their regression on it), both ways, at 1, 2, 4 and 8 times its 95 % half-width; where it
  // rises by less than the classical 95 % threshold (1/2 chi2_1(0.95) s^2, s^2 = 2 cost / (m - n)), that parameter's
  // interval widens to where it reaches it (never narrows; correlations kept). The Jacobian's curvature holds at
  // the scale of its finite-difference step; a cost that is flatter further out leaves the linearized interval too
  // narrow. Costs 8 simulations per identified parameter.
  bool widen_to_flat_cost = false;
  UncertaintyOptions uncertainty;
};

// Fills `residuals` (already sized to the residual count) for the parameters x (natural units, in the order of
// the BoundedParameters). Must be deterministic, and thread-safe when options.threads > 1 (give each call its own
// World). May throw; an exception aborts the fit.
using ResidualFunction = std::function<void(const Eigen::VectorXd& x, Eigen::VectorXd& residuals)>;

// One refined start: where it began and where Levenberg-Marquardt left it.
struct SimFitStart {
  Eigen::VectorXd from;
  Eigen::VectorXd x;
  double start_cost = 0;
  double cost = 0;
  bool converged = false;
};

struct SimFitOutcome {
  Eigen::VectorXd x;             // best estimate
  double cost = 0;               // 0.5 * |r|^2 at x
  double global_best_cost = 0;   // best cost of the global search, before refinement
  std::string termination;       // Ceres's message for the winning start
  bool converged = false;
  int iterations = 0;            // of the winning start
  int evaluations = 0;           // residual evaluations in all
  Uncertainty uncertainty;
  Eigen::VectorXd residuals;     // at x
  std::vector<SimFitStart> starts;  // every start, in the order taken (lowest global cost first)
};

// A value's place within its bounds, 0 at lower and 1 at upper (log-mapped for log_scale parameters), and back:
// the coordinates the global search samples in. ToUnitCube maps every coordinate of x; UnitDistance is the RMS
// distance of two points there: how far apart two solutions are, whatever the parameters' units.
double ToUnit(const BoundedParameter& p, double x);
double FromUnit(const BoundedParameter& p, double u);
Eigen::VectorXd ToUnitCube(const std::vector<BoundedParameter>& parameters, const Eigen::VectorXd& x);
double UnitDistance(const std::vector<BoundedParameter>& parameters, const Eigen::VectorXd& a, const Eigen::VectorXd& b);

// 0.5 |r|^2 at each point (natural units, as the ResidualFunction takes them), +inf where the residuals are not
// finite, evaluated on `threads` threads; the first exception is rethrown once every thread has stopped.
std::vector<double> CostsAt(const std::vector<Eigen::VectorXd>& points, int residual_count,
                            const ResidualFunction& residual, int threads);

SimFitOutcome FitBySimulation(const std::vector<BoundedParameter>& parameters, int residual_count,
                              const ResidualFunction& residual, const SimFitOptions& options = {});

// SimFitOptions::widen_to_flat_cost on its own, for a caller that analyses a fit's final point itself:
// outcome.x, .cost and .uncertainty (over the parameters, in order) as FitBySimulation leaves them; widens
// outcome.uncertainty in place (its method says so) and counts the simulations in outcome.evaluations.
void WidenToTheFlatCost(const std::vector<BoundedParameter>& parameters, int residual_count,
                        const ResidualFunction& residual, int threads, SimFitOutcome& outcome);

}  // namespace r2s::sysid

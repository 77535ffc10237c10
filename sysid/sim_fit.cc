#include "sysid/sim_fit.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

#include <ceres/ceres.h>

#include "common/parallel_for.h"
#include "sysid/fit_result.h"

namespace r2s::sysid {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double HalfSquaredNorm(const Eigen::VectorXd& r) {
  const double cost = 0.5 * r.squaredNorm();
  return std::isfinite(cost) ? cost : kInf;
}

// The i-th point of the Halton sequence in `base`, in [0, 1).
double RadicalInverse(std::uint64_t i, int base) {
  double inverse_base = 1.0 / base, fraction = inverse_base, value = 0;
  while (i > 0) {
    value += static_cast<double>(i % static_cast<std::uint64_t>(base)) * fraction;
    i /= static_cast<std::uint64_t>(base);
    fraction *= inverse_base;
  }
  return value;
}

int NthPrime(int n) {
  int found = 0;
  for (int candidate = 2;; ++candidate) {
    bool prime = true;
    for (int d = 2; d * d <= candidate; ++d) {
      if (candidate % d == 0) {
        prime = false;
        break;
      }
    }
    if (prime && found++ == n) return candidate;
  }
}

// The finite-difference scale of a parameter at x: its magnitude, floored at 1 % of its range so that a value near
// zero still gets a step the simulation can feel.
double StepScale(const BoundedParameter& p, double x) { return std::max(std::abs(x), 0.01 * (p.upper - p.lower)); }

class FiniteDifferenceCost : public ceres::CostFunction {
 public:
  FiniteDifferenceCost(const std::vector<BoundedParameter>& parameters, int residual_count,
                       const ResidualFunction& residual, const SimFitOptions& options, std::atomic<int>& evaluations)
      : parameters_(parameters), residual_(residual), options_(options), evaluations_(evaluations) {
    set_num_residuals(residual_count);
    mutable_parameter_block_sizes()->push_back(static_cast<int>(parameters.size()));
  }

  bool Evaluate(double const* const* values, double* residuals, double** jacobians) const override {
    const auto n = static_cast<Eigen::Index>(parameters_.size());
    const Eigen::VectorXd x = Eigen::Map<const Eigen::VectorXd>(values[0], n);
    Eigen::VectorXd r(num_residuals());
    Run(x, r);
    if (!r.allFinite()) return false;  // Ceres treats it as a failed step and shrinks the trust region
    Eigen::Map<Eigen::VectorXd>(residuals, num_residuals()) = r;
    if (jacobians != nullptr && jacobians[0] != nullptr) {
      Eigen::MatrixXd j;
      if (!Jacobian(x, j)) return false;
      Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(jacobians[0], num_residuals(),
                                                                                         n) = j;
    }
    return true;
  }

  // Central differences where both sides lie within the bounds, one-sided at a bound.
  bool Jacobian(const Eigen::VectorXd& x, Eigen::MatrixXd& jacobian) const {
    const auto n = static_cast<int>(parameters_.size());
    jacobian.resize(num_residuals(), n);
    std::vector<Eigen::VectorXd> plus(n), minus(n);
    std::vector<double> x_plus(n), x_minus(n);
    for (int i = 0; i < n; ++i) {
      const BoundedParameter& p = parameters_[i];
      const double h = options_.relative_step * StepScale(p, x(i));
      x_plus[i] = std::min(x(i) + h, p.upper);
      x_minus[i] = std::max(x(i) - h, p.lower);
    }
    ParallelFor(2 * n, options_.threads, 1, [&](std::int64_t k, int) {
      const int i = static_cast<int>(k / 2);
      Eigen::VectorXd xi = x;
      xi(i) = k % 2 == 0 ? x_plus[i] : x_minus[i];
      Eigen::VectorXd& r = k % 2 == 0 ? plus[i] : minus[i];
      r.resize(num_residuals());
      Run(xi, r);
    });
    for (int i = 0; i < n; ++i) {
      if (!plus[i].allFinite() || !minus[i].allFinite() || !(x_plus[i] > x_minus[i])) return false;
      jacobian.col(i) = (plus[i] - minus[i]) / (x_plus[i] - x_minus[i]);
    }
    return true;
  }

  void Run(const Eigen::VectorXd& x, Eigen::VectorXd& r) const {
    r.setZero();
    residual_(x, r);
    ++evaluations_;
  }

 private:
  const std::vector<BoundedParameter>& parameters_;
  const ResidualFunction& residual_;
  const SimFitOptions& options_;
  std::atomic<int>& evaluations_;
};

void CheckParameters(const std::vector<BoundedParameter>& parameters) {
  for (const auto& p : parameters) {
    if (!(p.lower < p.upper) || !std::isfinite(p.lower) || !std::isfinite(p.upper)) {
      throw std::invalid_argument("FitBySimulation: " + p.name + " needs finite bounds lower < upper");
    }
    if (!(p.nominal >= p.lower && p.nominal <= p.upper)) {
      throw std::invalid_argument("FitBySimulation: " + p.name + "'s nominal value " + std::to_string(p.nominal) +
                                  " lies outside [" + std::to_string(p.lower) + ", " + std::to_string(p.upper) + "]");
    }
    if (p.log_scale && !(p.lower > 0)) {
      throw std::invalid_argument("FitBySimulation: " + p.name + " is log-scaled and needs lower > 0");
    }
  }
}

}  // namespace

double ToUnit(const BoundedParameter& p, double x) {
  return p.log_scale && x > 0 ? (std::log(x) - std::log(p.lower)) / (std::log(p.upper) - std::log(p.lower))
                              : (x - p.lower) / (p.upper - p.lower);
}

double FromUnit(const BoundedParameter& p, double u) {
  if (p.log_scale) return std::exp(std::log(p.lower) + u * (std::log(p.upper) - std::log(p.lower)));
  return p.lower + u * (p.upper - p.lower);
}

Eigen::VectorXd ToUnitCube(const std::vector<BoundedParameter>& parameters, const Eigen::VectorXd& x) {
  Eigen::VectorXd u(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) u(i) = ToUnit(parameters[static_cast<std::size_t>(i)], x(i));
  return u;
}

namespace {

// The RMS distance of two points already in the unit cube.
double RmsDistance(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  return a.size() == 0 ? 0.0 : (a - b).norm() / std::sqrt(static_cast<double>(a.size()));
}

}  // namespace

double UnitDistance(const std::vector<BoundedParameter>& parameters, const Eigen::VectorXd& a,
                    const Eigen::VectorXd& b) {
  return RmsDistance(ToUnitCube(parameters, a), ToUnitCube(parameters, b));
}

std::vector<double> CostsAt(const std::vector<Eigen::VectorXd>& points, int residual_count,
                            const ResidualFunction& residual, int threads) {
  std::vector<double> costs(points.size(), kInf);
  ParallelFor(static_cast<std::int64_t>(points.size()), threads, 1, [&](std::int64_t k, int) {
    Eigen::VectorXd r = Eigen::VectorXd::Zero(residual_count);
    residual(points[static_cast<std::size_t>(k)], r);
    costs[static_cast<std::size_t>(k)] = HalfSquaredNorm(r);
  });
  return costs;
}

namespace {

// The global search's points: the nominal point and a randomly shifted Halton set over the bounds.
std::vector<Eigen::VectorXd> SearchPoints(const std::vector<BoundedParameter>& parameters,
                                          const SimFitOptions& options) {
  const auto n = static_cast<int>(parameters.size());
  std::vector<Eigen::VectorXd> candidates;
  Eigen::VectorXd nominal(n);
  for (int i = 0; i < n; ++i) nominal(i) = parameters[i].nominal;
  candidates.push_back(nominal);
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<double> shift(n);
  for (double& s : shift) s = unit(rng);
  for (int k = 0; k < options.global_samples; ++k) {
    Eigen::VectorXd x(n);
    for (int i = 0; i < n; ++i) {
      const double u = std::fmod(RadicalInverse(static_cast<std::uint64_t>(k) + 1, NthPrime(i)) + shift[i], 1.0);
      x(i) = FromUnit(parameters[i], u);
    }
    candidates.push_back(std::move(x));
  }
  return candidates;
}

// Diverse starts: in order of cost, each far enough from those taken; then the best of the rest.
std::vector<int> DiverseStarts(const std::vector<BoundedParameter>& parameters,
                               const std::vector<Eigen::VectorXd>& candidates, const std::vector<double>& costs,
                               const std::vector<int>& order, const SimFitOptions& options) {
  const int starts = std::clamp(options.refine_starts, 1, static_cast<int>(candidates.size()));
  std::vector<int> chosen;
  std::vector<Eigen::VectorXd> unit_of(candidates.size());
  for (std::size_t k = 0; k < candidates.size(); ++k) unit_of[k] = ToUnitCube(parameters, candidates[k]);
  for (int k : order) {
    if (static_cast<int>(chosen.size()) >= starts || !std::isfinite(costs[k])) break;
    const bool far = std::all_of(chosen.begin(), chosen.end(), [&](int c) {
      return RmsDistance(unit_of[k], unit_of[c]) >= options.start_separation;
    });
    if (far) chosen.push_back(k);
  }
  for (int k : order) {
    if (static_cast<int>(chosen.size()) >= starts || !std::isfinite(costs[k])) break;
    if (std::find(chosen.begin(), chosen.end(), k) == chosen.end()) chosen.push_back(k);
  }
  return chosen;
}

// One start refined by Ceres's Levenberg-Marquardt within the bounds (none with max_iterations 0): where it ended,
// its iterations and Ceres's message.
struct Refined {
  SimFitStart start;
  int iterations = 0;
  std::string message;
};

Refined Refine(FiniteDifferenceCost& cost_function, const std::vector<BoundedParameter>& parameters,
               const Eigen::VectorXd& from, double from_cost, const SimFitOptions& options) {
  const auto n = static_cast<int>(parameters.size());
  Refined refined;
  SimFitStart& start = refined.start;
  start.from = from;
  start.start_cost = from_cost;
  std::vector<double> x(from.data(), from.data() + n);
  refined.message = "no refinement (max_iterations 0): the global search's point";
  if (options.max_iterations > 0) {
    ceres::Problem::Options problem_options;
    problem_options.cost_function_ownership = ceres::DO_NOT_TAKE_OWNERSHIP;
    ceres::Problem problem(problem_options);
    problem.AddResidualBlock(&cost_function, nullptr, x.data());
    for (int i = 0; i < n; ++i) {
      problem.SetParameterLowerBound(x.data(), i, parameters[i].lower);
      problem.SetParameterUpperBound(x.data(), i, parameters[i].upper);
    }
    ceres::Solver::Options solver;
    solver.linear_solver_type = ceres::DENSE_QR;
    solver.max_num_iterations = options.max_iterations;
    solver.logging_type = ceres::SILENT;
    solver.function_tolerance = 1e-8;
    solver.parameter_tolerance = 1e-6;
    solver.num_threads = 1;  // the parallelism is in the finite differences
    ceres::Solver::Summary summary;
    ceres::Solve(solver, &problem, &summary);
    start.cost = summary.final_cost;
    start.converged = summary.termination_type == ceres::CONVERGENCE;
    refined.iterations = static_cast<int>(summary.iterations.size()) - 1;
    refined.message = summary.message;
  } else {
    start.cost = from_cost;
    start.converged = true;
  }
  start.x = Eigen::Map<const Eigen::VectorXd>(x.data(), n);
  // The start itself may beat its refinement (a non-smooth cost can stall LM at once).
  if (start.start_cost < start.cost) {
    start.x = start.from;
    start.cost = start.start_cost;
  }
  return refined;
}

// The residuals at the solution and the uncertainty from the finite-difference Jacobian there.
void AnalyzeSolution(const FiniteDifferenceCost& cost_function, const std::vector<BoundedParameter>& parameters,
                     int residual_count, const SimFitOptions& options, SimFitOutcome& best) {
  const auto n = static_cast<int>(parameters.size());
  best.residuals.resize(residual_count);
  cost_function.Run(best.x, best.residuals);
  Eigen::MatrixXd jacobian;
  Eigen::VectorXd scale(n);
  for (int i = 0; i < n; ++i) scale(i) = StepScale(parameters[i], best.x(i));
  std::vector<std::string> names;
  for (const auto& p : parameters) names.push_back(p.name);
  if (cost_function.Jacobian(best.x, jacobian)) {
    const double dof = static_cast<double>(residual_count - n);
    const double variance = dof > 0 ? 2.0 * best.cost / dof : std::numeric_limits<double>::quiet_NaN();
    // With the residuals' episodes given, the robust (episode-clustered) covariance; see uncertainty.h.
    best.uncertainty = options.uncertainty.residual_groups.empty()
                           ? AnalyzeJacobian(jacobian, variance, names, scale, options.uncertainty)
                           : AnalyzeJacobian(jacobian, best.residuals, names, scale, options.uncertainty);
  } else {
    best.uncertainty.identified.assign(n, false);
    best.uncertainty.why_not.assign(n, "the simulation failed near the solution; no Jacobian");
    best.uncertainty.std_dev = Eigen::VectorXd::Constant(n, std::numeric_limits<double>::quiet_NaN());
  }
}

// SimFitOptions::try_kinks: each kinked parameter held at the kinks that bracket best.x in turn (at most two; none
// when it sits on one already), the others refined from best.x (or, with no others, the kink's cost alone); a lower
// cost replaces best's point, cost and Ceres's message.
void TryKinks(const std::vector<BoundedParameter>& parameters, int residual_count, const ResidualFunction& residual,
              const SimFitOptions& options, SimFitOutcome& best) {
  const auto n = static_cast<int>(parameters.size());
  for (int i = 0; i < n; ++i) {
    const double spacing = parameters[i].kink_spacing;
    if (!(spacing > 0)) continue;
    const double steps = best.x(i) / spacing;
    if (std::abs(steps - std::round(steps)) < 1e-9) continue;
    std::vector<BoundedParameter> others;
    for (int k = 0; k < n; ++k) {
      if (k != i) others.push_back(parameters[k]);
    }
    for (const double kink : {std::floor(steps) * spacing, std::ceil(steps) * spacing}) {
      if (kink < parameters[i].lower || kink > parameters[i].upper) continue;
      const auto full = [&](const Eigen::VectorXd& y) {
        Eigen::VectorXd x(n);
        for (int k = 0, at = 0; k < n; ++k) x(k) = k == i ? kink : y(at++);
        return x;
      };
      const ResidualFunction held = [&](const Eigen::VectorXd& y, Eigen::VectorXd& r) { residual(full(y), r); };
      Eigen::VectorXd from(n - 1);
      for (int k = 0, at = 0; k < n; ++k) {
        if (k != i) from(at++) = std::clamp(best.x(k), parameters[k].lower, parameters[k].upper);
      }
      Eigen::VectorXd r = Eigen::VectorXd::Zero(residual_count);
      held(from, r);
      ++best.evaluations;
      Refined refined;
      refined.start.x = from;
      refined.start.cost = HalfSquaredNorm(r);
      refined.start.converged = true;
      refined.message = "the kink's cost: no other parameter to refine";
      if (!std::isfinite(refined.start.cost)) continue;
      if (!others.empty()) {
        std::atomic<int> evaluations{0};
        FiniteDifferenceCost held_cost(others, residual_count, held, options, evaluations);
        refined = Refine(held_cost, others, from, refined.start.cost, options);
        best.evaluations += evaluations.load();
      }
      if (refined.start.cost < best.cost) {
        best.x = full(refined.start.x);
        best.cost = refined.start.cost;
        best.termination = refined.message + " (" + parameters[i].name + " held at the whole step " +
                           std::to_string(kink) + ")";
        best.converged = refined.start.converged;
        best.iterations += refined.iterations;
      }
    }
  }
}

}  // namespace

// Along each identified parameter's linearized profile (C e_i / sqrt(C_ii): the direction in which the quadratic
// cost rises least for a move of that parameter), the distance at which the cost first rises by the threshold, the
// larger of both ways; the parameter's row and column of the covariance grow by that distance over its half-width
// where that exceeds 1 (correlations kept).
void WidenToTheFlatCost(const std::vector<BoundedParameter>& parameters, int residual_count,
                        const ResidualFunction& residual, int threads, SimFitOutcome& best) {
  Uncertainty& u = best.uncertainty;
  const auto n = static_cast<Eigen::Index>(parameters.size());
  std::vector<Eigen::Index> identified;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (static_cast<std::size_t>(i) < u.identified.size() && u.identified[static_cast<std::size_t>(i)]) {
      identified.push_back(i);
    }
  }
  const auto p = static_cast<Eigen::Index>(identified.size());
  if (p == 0 || u.covariance.rows() != p || residual_count <= n || !std::isfinite(best.cost)) return;
  const double s2 = 2 * best.cost / static_cast<double>(residual_count - n);
  const double threshold = 0.5 * kChiSquare1Dof95 * s2;
  constexpr double kZ = 1.96;  // a 95 % half-width in std (the cost rises by just over the threshold there)
  constexpr double kMultiples[] = {1, 2, 4, 8};
  // Each probe (parameter a, side, multiple: in that order) is simulated unless it lies beyond a bound (the
  // simulator may refuse it); such a probe counts as a rise past the threshold: no interval widens past a bound.
  std::vector<Eigen::VectorXd> evaluated;
  std::vector<int> slot;  // per probe: its index in `evaluated`, -1 beyond a bound
  for (Eigen::Index a = 0; a < p; ++a) {
    const double variance = u.covariance(a, a);
    const Eigen::VectorXd step =
        variance > 0 ? Eigen::VectorXd(kZ * u.covariance.col(a) / std::sqrt(variance)) : Eigen::VectorXd::Zero(p);
    for (const double side : {-1.0, 1.0}) {
      for (const double m : kMultiples) {
        Eigen::VectorXd x = best.x;
        bool within = true;
        for (Eigen::Index b = 0; b < p; ++b) {
          const Eigen::Index i = identified[static_cast<std::size_t>(b)];
          x(i) += side * m * step(b);
          within = within && x(i) >= parameters[static_cast<std::size_t>(i)].lower &&
                   x(i) <= parameters[static_cast<std::size_t>(i)].upper;
        }
        slot.push_back(within ? static_cast<int>(evaluated.size()) : -1);
        if (within) evaluated.push_back(std::move(x));
      }
    }
  }
  const std::vector<double> costs = CostsAt(evaluated, residual_count, residual, threads);
  best.evaluations += static_cast<int>(evaluated.size());
  Eigen::VectorXd factor = Eigen::VectorXd::Ones(p);
  std::size_t at = 0;
  for (Eigen::Index a = 0; a < p; ++a) {
    double reach = 0;  // in half-widths, the larger side's
    for (int side = 0; side < 2; ++side) {
      double before = 0, rise_before = 0;
      bool crossed = false;
      for (const double m : kMultiples) {
        const int k = slot[at++];
        const double rise = k < 0 ? kInf : costs[static_cast<std::size_t>(k)] - best.cost;
        if (crossed) continue;
        if (rise <= threshold) {
          before = m;
          rise_before = std::max(0.0, rise);
          continue;
        }
        // Crossed between `before` and m: where the rise, taken as linear in between, meets the threshold.
        crossed = true;
        before = std::isfinite(rise) ? before + (m - before) * (threshold - rise_before) / (rise - rise_before)
                                     : before;
      }
      reach = std::max(reach, before);
    }
    factor(a) = std::max(1.0, reach);
  }
  if (!(factor.maxCoeff() > 1)) return;
  u.covariance = factor.asDiagonal() * u.covariance * factor.asDiagonal();
  for (Eigen::Index a = 0; a < p; ++a) {
    const Eigen::Index i = identified[static_cast<std::size_t>(a)];
    u.std_dev(i) *= factor(a);
    if (u.inflation.size() == n && std::isfinite(u.inflation(i))) u.inflation(i) *= factor(a);
  }
  u.method += "; widened up to " + FormatNumber(factor.maxCoeff(), 3) +
              "x where the cost is flatter than its curvature along a parameter's profile";
}

SimFitOutcome FitBySimulation(const std::vector<BoundedParameter>& parameters, int residual_count,
                              const ResidualFunction& residual, const SimFitOptions& options) {
  CheckParameters(parameters);
  std::atomic<int> evaluations{0};
  FiniteDifferenceCost cost_function(parameters, residual_count, residual, options, evaluations);

  // 1. The global search.
  const std::vector<Eigen::VectorXd> candidates = SearchPoints(parameters, options);
  const std::vector<double> costs = CostsAt(
      candidates, residual_count, [&](const Eigen::VectorXd& x, Eigen::VectorXd& r) { cost_function.Run(x, r); },
      options.threads);
  std::vector<int> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return costs[a] < costs[b]; });
  if (!std::isfinite(costs[order[0]])) {
    throw std::runtime_error("FitBySimulation: the simulation gave non-finite residuals at every sampled point");
  }

  // 2. Levenberg-Marquardt from each diverse start; the lowest end wins.
  SimFitOutcome best;
  best.global_best_cost = costs[order[0]];
  best.cost = kInf;
  for (int k : DiverseStarts(parameters, candidates, costs, order, options)) {
    Refined refined = Refine(cost_function, parameters, candidates[k], costs[k], options);
    const SimFitStart& start = refined.start;
    if (start.cost < best.cost) {
      best.x = start.x;
      best.cost = start.cost;
      best.termination = refined.message;
      best.converged = start.converged;
      best.iterations = refined.iterations;
    }
    best.starts.push_back(std::move(refined.start));
  }
  // The global search's best point may beat every refinement (a non-smooth cost can stall LM at once).
  if (best.global_best_cost < best.cost) {
    best.x = candidates[order[0]];
    best.cost = best.global_best_cost;
  }

  // 3. The kinks that bracket the estimate.
  if (options.try_kinks && options.max_iterations > 0) TryKinks(parameters, residual_count, residual, options, best);

  // 4. The uncertainty at the solution.
  AnalyzeSolution(cost_function, parameters, residual_count, options, best);
  if (options.widen_to_flat_cost) WidenToTheFlatCost(parameters, residual_count, residual, options.threads, best);
  best.evaluations += evaluations.load();
  return best;
}

}  // namespace r2s::sysid

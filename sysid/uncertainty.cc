#include "sysid/uncertainty.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <Eigen/SVD>
#include <ceres/ceres.h>

#include "sysid/fit_result.h"

namespace r2s::sysid {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Format(double x, int precision = 3) { return FormatNumber(x, precision); }

// Which parameters the scaled Jacobian cannot see: a zero column, or a direction mostly in the near-null space.
void FindUnidentified(const Eigen::MatrixXd& scaled, const std::vector<std::string>& names,
                      const UncertaintyOptions& options, Uncertainty& out) {
  const Eigen::Index n = scaled.cols();
  out.identified.assign(n, true);
  out.why_not.assign(n, "");
  if (n == 0) return;
  const Eigen::JacobiSVD<Eigen::MatrixXd> svd(scaled, Eigen::ComputeFullV);
  const Eigen::VectorXd& sigma = svd.singularValues();  // descending; min(m, n) of them
  const double sigma_max = sigma.size() > 0 ? sigma(0) : 0.0;
  // Singular values beyond min(m, n) are zero: with fewer residuals than parameters the rest is null space.
  Eigen::VectorXd all_sigma = Eigen::VectorXd::Zero(n);
  all_sigma.head(sigma.size()) = sigma;
  out.rank = 0;
  for (Eigen::Index k = 0; k < n; ++k) {
    if (all_sigma(k) > options.rcond * sigma_max && sigma_max > 0) ++out.rank;
  }
  out.condition_number = out.rank == n ? sigma_max / all_sigma(n - 1) : std::numeric_limits<double>::infinity();
  const Eigen::MatrixXd& v = svd.matrixV();
  const double column_floor = 1e-12 * std::max(1.0, scaled.cwiseAbs().maxCoeff());
  for (Eigen::Index j = 0; j < n; ++j) {
    if (scaled.col(j).norm() <= column_floor) {
      out.identified[j] = false;
      out.why_not[j] = "the data do not depend on it (zero sensitivity)";
      continue;
    }
    double null_loading = 0;
    for (Eigen::Index k = out.rank; k < n; ++k) null_loading += v(j, k) * v(j, k);
    if (null_loading > 0.25) {
      out.identified[j] = false;
      // Name the parameters it trades off against: those sharing its null-space directions.
      std::string partners;
      for (Eigen::Index i = 0; i < n; ++i) {
        if (i == j) continue;
        double shared = 0;
        for (Eigen::Index k = out.rank; k < n; ++k) shared += std::abs(v(j, k) * v(i, k));
        if (shared > 0.1) partners += (partners.empty() ? "" : ", ") + names[i];
      }
      out.why_not[j] = "in the data's null space (" + Format(100 * null_loading, 2) + " % of its direction)" +
                       (partners.empty() ? std::string() : "; trades off against " + partners);
    }
  }
}

void AddCorrelationWarnings(const std::vector<std::string>& names, const std::vector<int>& index,
                            const Eigen::MatrixXd& covariance, const UncertaintyOptions& options,
                            Uncertainty& out) {
  for (Eigen::Index a = 0; a < covariance.rows(); ++a) {
    for (Eigen::Index b = a + 1; b < covariance.cols(); ++b) {
      const double denominator = std::sqrt(covariance(a, a) * covariance(b, b));
      if (!(denominator > 0)) continue;
      const double rho = covariance(a, b) / denominator;
      if (std::abs(rho) > options.correlation_warning) {
        out.warnings.push_back(names[index[a]] + " and " + names[index[b]] + " are strongly correlated (rho = " +
                               Format(rho) + "): the data constrain mainly their combination");
      }
    }
  }
}

Eigen::MatrixXd ScaleColumns(const Eigen::MatrixXd& jacobian, const Eigen::VectorXd& scale) {
  if (scale.size() != jacobian.cols()) {
    throw std::invalid_argument("uncertainty: " + std::to_string(scale.size()) + " scales for " +
                                std::to_string(jacobian.cols()) + " parameters");
  }
  return jacobian * scale.cwiseAbs().asDiagonal();
}


// The 0.975 quantile of Student's t with `dof` degrees of freedom: exact table to 30, the Cornish-Fisher expansion
// beyond (within 1e-4 at 30).
double TQuantile975(double dof) {
  static constexpr double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                      2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                      2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (!(dof >= 1)) return kTable[0];
  if (dof <= 30) return kTable[static_cast<int>(std::floor(dof)) - 1];
  const double z = 1.959964, z3 = z * z * z, z5 = z3 * z * z;
  return z + (z3 + z) / (4 * dof) + (5 * z5 + 16 * z3 + 3 * z) / (96 * dof * dof);
}

// Symmetric square root and inverse square root of a positive semi-definite matrix; eigenvalues below
// 1e-12 of the largest count as that floor.
void SqrtAndInverseSqrt(const Eigen::MatrixXd& a, Eigen::MatrixXd& root, Eigen::MatrixXd& inverse_root) {
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(0.5 * (a + a.transpose()));
  Eigen::VectorXd d = eigen.eigenvalues();
  const double floor = 1e-12 * std::max(d.maxCoeff(), 0.0);
  for (Eigen::Index i = 0; i < d.size(); ++i) d(i) = std::max(d(i), floor);
  const Eigen::MatrixXd& u = eigen.eigenvectors();
  root = u * d.cwiseSqrt().asDiagonal() * u.transpose();
  inverse_root = u * d.cwiseSqrt().cwiseInverse().asDiagonal() * u.transpose();
}

// The smallest covariance (in one canonical sense) at least as large as both a and b in the Loewner order:
// a^(1/2) max(I, a^(-1/2) b a^(-1/2)) a^(1/2). Every variance, and the variance of every combination, is then at
// least the larger of the two.
Eigen::MatrixXd LoewnerMax(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  if (a.size() == 0) return a;
  if (!(a.trace() > 0)) return 0.5 * (b + b.transpose());
  Eigen::MatrixXd root, inverse_root;
  SqrtAndInverseSqrt(a, root, inverse_root);
  const Eigen::MatrixXd m = inverse_root * (0.5 * (b + b.transpose())) * inverse_root;
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(0.5 * (m + m.transpose()));
  const Eigen::VectorXd lambda = eigen.eigenvalues().cwiseMax(1.0);
  const Eigen::MatrixXd inner = eigen.eigenvectors() * lambda.asDiagonal() * eigen.eigenvectors().transpose();
  const Eigen::MatrixXd out = root * inner * root;
  return 0.5 * (out + out.transpose());
}

// The rows of each group, groups in order of first appearance, rows in their order.
std::vector<std::vector<Eigen::Index>> GroupRows(const std::vector<std::int64_t>& groups) {
  std::vector<std::vector<Eigen::Index>> out;
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const auto it = std::find(ids.rbegin(), ids.rend(), groups[i]);  // usually the last one: contiguous groups
    std::size_t g;
    if (it == ids.rend()) {
      g = ids.size();
      ids.push_back(groups[i]);
      out.emplace_back();
    } else {
      g = static_cast<std::size_t>(std::distance(it, ids.rend()) - 1);
    }
    out[g].push_back(static_cast<Eigen::Index>(i));
  }
  return out;
}

// The robust covariance of the identified parameters (see the header): j holds their columns, bread is
// (J^T J)^+, classical the classical covariance.
Eigen::MatrixXd RobustCovariance(const Eigen::MatrixXd& j, const Eigen::VectorXd& r, const Eigen::MatrixXd& bread,
                                 const Eigen::MatrixXd& classical, const UncertaintyOptions& options,
                                 Uncertainty& out) {
  const Eigen::Index m = j.rows(), k = j.cols();
  if (static_cast<Eigen::Index>(options.residual_groups.size()) != m || r.size() != m) {
    throw std::invalid_argument("uncertainty: " + std::to_string(options.residual_groups.size()) +
                                " residual groups and " + std::to_string(r.size()) + " residuals for " +
                                std::to_string(m) + " Jacobian rows");
  }
  const int c = options.rows_per_step;
  if (c < 1) throw std::invalid_argument("uncertainty: rows_per_step must be >= 1, not " + std::to_string(c));
  const auto groups = GroupRows(options.residual_groups);
  const auto g_count = static_cast<Eigen::Index>(groups.size());
  for (const auto& rows : groups) {
    if (static_cast<int>(rows.size()) % c != 0) {
      throw std::invalid_argument("uncertainty: an episode has " + std::to_string(rows.size()) +
                                  " residual rows, not a multiple of rows_per_step " + std::to_string(c));
    }
  }
  // Scores per time step, per group.
  std::vector<Eigen::MatrixXd> steps(groups.size());  // k x T_g
  double rho_num = 0, rho_den = 0, mean_steps = 0;
  Eigen::Index max_steps = 0;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const auto& rows = groups[g];
    const auto t_count = static_cast<Eigen::Index>(rows.size()) / c;
    steps[g] = Eigen::MatrixXd::Zero(k, t_count);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      steps[g].col(static_cast<Eigen::Index>(i) / c) += j.row(rows[i]).transpose() * r(rows[i]);
      rho_den += r(rows[i]) * r(rows[i]);
      if (i + static_cast<std::size_t>(c) < rows.size()) rho_num += r(rows[i]) * r(rows[i + static_cast<std::size_t>(c)]);
    }
    mean_steps += static_cast<double>(t_count) / static_cast<double>(groups.size());
    max_steps = std::max(max_steps, t_count);
  }
  // Bandwidth: Andrews (1991) for Bartlett weights under AR(1) residuals with the pooled lag-1 autocorrelation.
  const double rho = rho_den > 0 ? std::clamp(rho_num / rho_den, 0.0, 0.999) : 0.0;
  const double alpha = 4 * rho * rho / ((1 - rho) * (1 - rho) * (1 + rho) * (1 + rho));
  const auto bandwidth = static_cast<Eigen::Index>(
      std::clamp(std::ceil(1.1447 * std::cbrt(alpha * mean_steps)), 1.0, static_cast<double>(std::max<Eigen::Index>(1, max_steps))));
  // HAC: Bartlett weights (1 - d / L) over step lags d < L, as (1 / L) times the sum of outer products of every
  // length-L window's score sum (windows running off either end included), via prefix sums.
  Eigen::MatrixXd hac_meat = Eigen::MatrixXd::Zero(k, k);
  for (const auto& s : steps) {
    const Eigen::Index t_count = s.cols();
    Eigen::MatrixXd prefix = Eigen::MatrixXd::Zero(k, t_count + 1);
    for (Eigen::Index t = 0; t < t_count; ++t) prefix.col(t + 1) = prefix.col(t) + s.col(t);
    for (Eigen::Index t = -(bandwidth - 1); t < t_count; ++t) {
      const Eigen::Index begin = std::max<Eigen::Index>(0, t), end = std::min(t_count, t + bandwidth);
      const Eigen::VectorXd w = prefix.col(end) - prefix.col(begin);
      hac_meat += w * w.transpose();
    }
  }
  hac_meat /= static_cast<double>(bandwidth);
  const double dof_correction = m > k ? static_cast<double>(m) / static_cast<double>(m - k) : 1.0;
  const Eigen::MatrixXd hac = dof_correction * bread * hac_meat * bread;

  std::ostringstream method;
  Eigen::MatrixXd result;
  if (g_count >= 2) {
    // Leave-one-episode-out (linearized jackknife, CR3): episode g's removal moves the estimate by
    // (J^T J - J_g^T J_g)^+ s_g. Unlike CR1's plain sum of s_g s_g^T, it accounts for an episode's leverage (an
    // episode that carries most of the information fits its own residuals best), which made CR1 cover 85-89 %.
    Eigen::MatrixXd information = Eigen::MatrixXd::Zero(k, k);
    std::vector<Eigen::MatrixXd> group_information(groups.size(), Eigen::MatrixXd::Zero(k, k));
    for (std::size_t g = 0; g < groups.size(); ++g) {
      for (Eigen::Index row : groups[g]) group_information[g] += j.row(row).transpose() * j.row(row);
      information += group_information[g];
    }
    std::vector<Eigen::VectorXd> shifts;
    Eigen::VectorXd mean_shift = Eigen::VectorXd::Zero(k);
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const Eigen::MatrixXd rest = information - group_information[g];
      const Eigen::VectorXd score = steps[g].rowwise().sum();
      shifts.push_back(rest.completeOrthogonalDecomposition().pseudoInverse() * score);
      mean_shift += shifts.back() / static_cast<double>(g_count);
    }
    Eigen::MatrixXd jackknife = Eigen::MatrixXd::Zero(k, k);
    for (const Eigen::VectorXd& d : shifts) jackknife += (d - mean_shift) * (d - mean_shift).transpose();
    const double g = static_cast<double>(g_count);
    // Degrees of freedom per parameter: G - 1 when the episodes inform it equally, fewer when a few dominate
    // (Satterthwaite on the episodes' shares w_g = [(J^T J)^+ J_g^T J_g (J^T J)^+]_jj of its variance: an effective
    // episode count (sum w)^2 / sum w^2, minus one). With equal shares the t(G - 1) intervals covered 90-91 % on
    // episodes of unequal information; with this, see the header.
    Eigen::VectorXd t_factor(k);
    double smallest_dof = g - 1;
    for (Eigen::Index p = 0; p < k; ++p) {
      double sum = 0, sum2 = 0;
      for (std::size_t gi = 0; gi < groups.size(); ++gi) {
        const double w = (bread.row(p) * group_information[gi] * bread.col(p))(0, 0);
        sum += w;
        sum2 += w * w;
      }
      const double dof = sum2 > 0 ? std::clamp(sum * sum / sum2 - 1, 1.0, g - 1) : g - 1;
      smallest_dof = std::min(smallest_dof, dof);
      t_factor(p) = TQuantile975(dof) / 1.959964;
    }
    const Eigen::MatrixXd cluster = (g - 1) / g * t_factor.asDiagonal() * jackknife * t_factor.asDiagonal();
    result = LoewnerMax(LoewnerMax(classical, hac), cluster);
    method << "cluster-robust (leave-one-episode-out) over " << g_count << " episodes, t(" << std::setprecision(2)
           << smallest_dof << ")";
    if (g_count <= k) {
      out.warnings.push_back("only " + std::to_string(g_count) + " episodes for " + std::to_string(k) +
                             " parameters: the between-episode spread of some combinations is unseen; their "
                             "uncertainty is the within-episode (HAC) one");
    }
  } else {
    // About one independent piece per two bandwidths (the Bartlett estimate is biased low when the residuals'
    // correlation time is a sizeable part of the episode; T / L - 1 covered 91 % in the calibration test).
    const double dof = std::max(1.0, std::floor(mean_steps / (2.0 * static_cast<double>(bandwidth))));
    const double t = TQuantile975(dof) / 1.959964;
    result = LoewnerMax(classical, t * t * hac);
    method << "HAC within 1 episode, bandwidth " << bandwidth << " steps, t(" << dof << ")";
    out.warnings.push_back("one episode: the uncertainty covers its noise and autocorrelation but not how the "
                           "parameters vary between episodes (model error); fit several episodes for an honest "
                           "interval");
  }
  out.method = method.str();
  return result;
}

// Per parameter (n of them), how much wider out.covariance (over `index`) makes its std than `classical` does.
void SetInflation(Eigen::Index n, const std::vector<int>& index, const Eigen::MatrixXd& classical, Uncertainty& out) {
  out.inflation = Eigen::VectorXd::Constant(n, kNaN);
  for (std::size_t k = 0; k < index.size(); ++k) {
    const auto kk = static_cast<Eigen::Index>(k);
    if (classical(kk, kk) > 0) out.inflation(index[k]) = std::sqrt(std::max(0.0, out.covariance(kk, kk)) / classical(kk, kk));
  }
}

// std_dev, inflation and correlation warnings from out.covariance (over `index`) and the classical covariance.
void Finish(const std::vector<std::string>& names, const std::vector<int>& index, const Eigen::MatrixXd& classical,
            const UncertaintyOptions& options, Uncertainty& out) {
  const auto n = static_cast<Eigen::Index>(names.size());
  out.std_dev = Eigen::VectorXd::Constant(n, kNaN);
  for (std::size_t k = 0; k < index.size(); ++k) {
    const double variance = out.covariance(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(k));
    out.std_dev(index[k]) = std::isnan(variance) ? kNaN : std::sqrt(std::max(0.0, variance));
  }
  SetInflation(n, index, classical, out);
  AddCorrelationWarnings(names, index, out.covariance, options, out);
}

// The identifiability analysis of a Jacobian (into out), the indexes of the identified parameters, their columns,
// and (J^T J)^+ over them, via the SVD so that a remaining near-degeneracy inflates the variance instead of failing.
struct IdentifiedColumns {
  std::vector<int> index;
  Eigen::MatrixXd jacobian;
  Eigen::MatrixXd bread;
};
IdentifiedColumns AnalyzeColumns(const Eigen::MatrixXd& jacobian, const std::vector<std::string>& names,
                                 const Eigen::VectorXd& scale, const UncertaintyOptions& options, Uncertainty& out) {
  if (static_cast<Eigen::Index>(names.size()) != jacobian.cols()) {
    throw std::invalid_argument("AnalyzeJacobian: names do not match the Jacobian's columns");
  }
  FindUnidentified(ScaleColumns(jacobian, scale), names, options, out);
  IdentifiedColumns id;
  for (int j = 0; j < static_cast<int>(names.size()); ++j) {
    if (out.identified[j]) id.index.push_back(j);
  }
  const auto k = static_cast<Eigen::Index>(id.index.size());
  id.jacobian.resize(jacobian.rows(), k);
  for (Eigen::Index c = 0; c < k; ++c) id.jacobian.col(c) = jacobian.col(id.index[static_cast<std::size_t>(c)]);
  id.bread = Eigen::MatrixXd::Zero(k, k);
  if (k > 0) {
    const Eigen::JacobiSVD<Eigen::MatrixXd> svd(id.jacobian, Eigen::ComputeThinV);
    const Eigen::VectorXd& s = svd.singularValues();
    Eigen::VectorXd inverse_s2 = Eigen::VectorXd::Zero(s.size());
    for (Eigen::Index i = 0; i < s.size(); ++i) {
      if (s(i) > 1e-14 * s(0)) inverse_s2(i) = 1.0 / (s(i) * s(i));
    }
    id.bread = svd.matrixV() * inverse_s2.asDiagonal() * svd.matrixV().transpose();
  }
  return id;
}

}  // namespace

Uncertainty AnalyzeJacobian(const Eigen::MatrixXd& jacobian, const Eigen::VectorXd& residuals,
                            const std::vector<std::string>& names, const Eigen::VectorXd& scale,
                            const UncertaintyOptions& options) {
  if (residuals.size() != jacobian.rows()) {
    throw std::invalid_argument("AnalyzeJacobian: " + std::to_string(residuals.size()) + " residuals for " +
                                std::to_string(jacobian.rows()) + " Jacobian rows");
  }
  Uncertainty out;
  const IdentifiedColumns id = AnalyzeColumns(jacobian, names, scale, options, out);
  const Eigen::Index dof = jacobian.rows() - id.jacobian.cols();
  const double variance = dof > 0 ? residuals.squaredNorm() / static_cast<double>(dof) : kNaN;
  const Eigen::MatrixXd classical = variance * id.bread;
  out.covariance = classical;
  if (!id.index.empty() && !options.residual_groups.empty() && std::isfinite(variance)) {
    out.covariance = RobustCovariance(id.jacobian, residuals, id.bread, classical, options, out);
  }
  Finish(names, id.index, classical, options, out);
  return out;
}

Uncertainty AnalyzeJacobian(const Eigen::MatrixXd& jacobian, double residual_variance,
                            const std::vector<std::string>& names, const Eigen::VectorXd& scale,
                            const UncertaintyOptions& options) {
  Uncertainty out;
  const IdentifiedColumns id = AnalyzeColumns(jacobian, names, scale, options, out);
  out.covariance = residual_variance * id.bread;
  Finish(names, id.index, out.covariance, options, out);
  return out;
}

Uncertainty AnalyzeProblem(ceres::Problem& problem, double* x, const std::vector<std::string>& names,
                           const Eigen::VectorXd& scale, const UncertaintyOptions& options) {
  const int n = static_cast<int>(names.size());
  if (problem.ParameterBlockSize(x) != n) {
    throw std::invalid_argument("AnalyzeProblem: the parameter block has " +
                                std::to_string(problem.ParameterBlockSize(x)) + " values for " +
                                std::to_string(n) + " names");
  }
  ceres::Problem::EvaluateOptions evaluate;
  evaluate.parameter_blocks = {x};
  double cost = 0;
  ceres::CRSMatrix crs;
  std::vector<double> residuals;
  problem.Evaluate(evaluate, &cost, &residuals, nullptr, &crs);
  Eigen::MatrixXd jacobian = Eigen::MatrixXd::Zero(crs.num_rows, crs.num_cols);
  for (int r = 0; r < crs.num_rows; ++r) {
    for (int k = crs.rows[r]; k < crs.rows[r + 1]; ++k) jacobian(r, crs.cols[k]) = crs.values[k];
  }

  Uncertainty out;
  FindUnidentified(ScaleColumns(jacobian, scale), names, options, out);
  std::vector<int> index, constant;
  for (int j = 0; j < n; ++j) (out.identified[j] ? index : constant).push_back(j);
  const auto dof = static_cast<double>(crs.num_rows) - static_cast<double>(index.size());
  const double residual_variance = dof > 0 ? 2.0 * cost / dof : kNaN;

  out.covariance = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(index.size()), static_cast<Eigen::Index>(index.size()));
  out.std_dev = Eigen::VectorXd::Constant(n, kNaN);
  if (!index.empty()) {
    // Unidentified parameters are held at their estimate: the covariance of the rest is conditional on them.
    const bool had_manifold = problem.HasManifold(x);
    if (!constant.empty() && !had_manifold) problem.SetManifold(x, new ceres::SubsetManifold(n, constant));
    ceres::Covariance::Options covariance_options;
    covariance_options.algorithm_type = ceres::DENSE_SVD;
    covariance_options.null_space_rank = -1;  // drop what is left of near-null directions rather than fail
    covariance_options.min_reciprocal_condition_number = 1e-14;
    ceres::Covariance covariance(covariance_options);
    std::vector<std::pair<const double*, const double*>> blocks = {{x, x}};
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> tangent(index.size(), index.size());
    const bool ok = covariance.Compute(blocks, &problem) &&
                    covariance.GetCovarianceBlockInTangentSpace(x, x, tangent.data());
    if (!constant.empty() && !had_manifold) problem.SetManifold(x, nullptr);
    if (ok) {
      // Ceres assumes unit-variance residuals; ours are in their own units.
      out.covariance = residual_variance * tangent;
      if (!options.residual_groups.empty() && std::isfinite(residual_variance)) {
        Eigen::MatrixXd j_identified(jacobian.rows(), static_cast<Eigen::Index>(index.size()));
        for (std::size_t k = 0; k < index.size(); ++k) j_identified.col(static_cast<Eigen::Index>(k)) = jacobian.col(index[k]);
        const Eigen::VectorXd r = Eigen::Map<const Eigen::VectorXd>(residuals.data(), static_cast<Eigen::Index>(residuals.size()));
        const Eigen::MatrixXd classical = out.covariance;
        out.covariance = RobustCovariance(j_identified, r, Eigen::MatrixXd(tangent), classical, options, out);
        SetInflation(n, index, classical, out);
      }
    } else {
      out.warnings.push_back("ceres::Covariance failed on the identified parameters; no covariance");
      out.covariance.setConstant(kNaN);
    }
    for (std::size_t k = 0; k < index.size(); ++k) {
      const double variance = out.covariance(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(k));
      out.std_dev(index[k]) = std::isnan(variance) ? kNaN : std::sqrt(std::max(0.0, variance));
    }
    AddCorrelationWarnings(names, index, out.covariance, options, out);
  }
  return out;
}

void StoreUncertainty(const Uncertainty& uncertainty, std::vector<FitParameter>& parameters, FitResult& result) {
  if (uncertainty.identified.size() != parameters.size()) {
    throw std::invalid_argument("StoreUncertainty: " + std::to_string(uncertainty.identified.size()) +
                                " analysed parameters for " + std::to_string(parameters.size()));
  }
  result.covariance_names.clear();
  for (std::size_t j = 0; j < parameters.size(); ++j) {
    FitParameter& p = parameters[j];
    p.identified = uncertainty.identified[j];
    p.why_not_identified = uncertainty.why_not[j];
    if (p.identified) {
      p.std_dev = uncertainty.std_dev(static_cast<Eigen::Index>(j));
      result.covariance_names.push_back(p.name);
    } else {
      p.std_dev = std::isfinite(p.upper - p.lower) ? (p.upper - p.lower) / std::sqrt(12.0) : kNaN;
    }
  }
  result.covariance = uncertainty.covariance;
  result.rank = uncertainty.rank;
  result.condition_number = uncertainty.condition_number;
  result.warnings.insert(result.warnings.end(), uncertainty.warnings.begin(), uncertainty.warnings.end());
}

void RecordIdentifiedSum(FitResult& result, const std::string& held, const std::string& carrier) {
  const auto find = [&](const std::string& name) {
    return std::find_if(result.parameters.begin(), result.parameters.end(),
                        [&](const FitParameter& p) { return p.name == name; });
  };
  const auto h = find(held), c = find(carrier);
  if (h == result.parameters.end() || c == result.parameters.end()) return;
  auto& names = result.covariance_names;
  const auto at = std::find(names.begin(), names.end(), carrier);
  if (at == names.end() || std::find(names.begin(), names.end(), held) != names.end()) return;
  const auto ci = static_cast<Eigen::Index>(at - names.begin());
  const double sum_variance = result.covariance(ci, ci);
  const double sum = h->estimate + c->estimate;
  // Moving by +d along held and -d along carrier stays within both bounds for d in [low, high].
  const double low = std::max(h->lower - h->estimate, c->estimate - c->upper);
  const double high = std::min(h->upper - h->estimate, c->estimate - c->lower);
  const double room = std::max(0.0, std::min(-low, high));
  const double prior = std::isfinite(h->upper - h->lower) ? (h->upper - h->lower) / std::sqrt(12.0) : room / 3;
  const double w = std::min(prior, room / 3);
  const std::string text = held + " + " + carrier + " = " + Format(sum, 6) + " +- " + Format(std::sqrt(sum_variance));
  for (FitParameter* p : {&*h, &*c}) {
    p->sum_of = {held, carrier};
    p->sum_estimate = sum;
    p->sum_std_dev = std::sqrt(sum_variance);
  }
  h->why_not_identified += (h->why_not_identified.empty() ? "" : "; ") + std::string("identified as a sum: ") + text;
  result.warnings.push_back("only a sum is identified: " + text + " (drawn jointly: the sum keeps its spread)");
  if (!(w > 0)) return;
  const Eigen::Index n = result.covariance.rows();
  Eigen::MatrixXd grown = Eigen::MatrixXd::Zero(n + 1, n + 1);
  grown.topLeftCorner(n, n) = result.covariance;
  grown(n, n) = w * w;
  grown(n, ci) = grown(ci, n) = -w * w;
  grown(ci, ci) += w * w;
  result.covariance = grown;
  names.push_back(held);
  h->std_dev = w;
  c->std_dev = std::sqrt(grown(ci, ci));
}

}  // namespace r2s::sysid

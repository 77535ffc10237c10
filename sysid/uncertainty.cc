#include "sysid/uncertainty.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <Eigen/SVD>
#include <ceres/ceres.h>

#include "sysid/fit_result.h"

namespace r2s::sysid {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Format(double x, int precision = 3) {
  std::ostringstream s;
  s.precision(precision);
  s << x;
  return s.str();
}

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

}  // namespace

Uncertainty AnalyzeJacobian(const Eigen::MatrixXd& jacobian, double residual_variance,
                            const std::vector<std::string>& names, const Eigen::VectorXd& scale,
                            const UncertaintyOptions& options) {
  if (static_cast<Eigen::Index>(names.size()) != jacobian.cols()) {
    throw std::invalid_argument("AnalyzeJacobian: names do not match the Jacobian's columns");
  }
  Uncertainty out;
  FindUnidentified(ScaleColumns(jacobian, scale), names, options, out);
  std::vector<int> index;
  for (int j = 0; j < static_cast<int>(names.size()); ++j) {
    if (out.identified[j]) index.push_back(j);
  }
  Eigen::MatrixXd j_identified(jacobian.rows(), static_cast<Eigen::Index>(index.size()));
  for (std::size_t k = 0; k < index.size(); ++k) j_identified.col(static_cast<Eigen::Index>(k)) = jacobian.col(index[k]);
  // (J^T J)^+ via the SVD, so a remaining near-degeneracy inflates the variance instead of failing.
  out.covariance = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(index.size()), static_cast<Eigen::Index>(index.size()));
  if (!index.empty()) {
    const Eigen::JacobiSVD<Eigen::MatrixXd> svd(j_identified, Eigen::ComputeThinV);
    const Eigen::VectorXd& s = svd.singularValues();
    Eigen::VectorXd inverse_s2 = Eigen::VectorXd::Zero(s.size());
    for (Eigen::Index k = 0; k < s.size(); ++k) {
      if (s(k) > 1e-14 * s(0)) inverse_s2(k) = 1.0 / (s(k) * s(k));
    }
    out.covariance = residual_variance * svd.matrixV() * inverse_s2.asDiagonal() * svd.matrixV().transpose();
  }
  out.std_dev = Eigen::VectorXd::Constant(static_cast<Eigen::Index>(names.size()), kNaN);
  for (std::size_t k = 0; k < index.size(); ++k) {
    out.std_dev(index[k]) = std::sqrt(std::max(0.0, out.covariance(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(k))));
  }
  AddCorrelationWarnings(names, index, out.covariance, options, out);
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

}  // namespace r2s::sysid

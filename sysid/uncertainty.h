#pragma once
// Uncertainty and identifiability of a least-squares fit at its solution, shared by every problem.
//
// Covariance: ceres::Covariance (dense SVD) over the identified parameters, scaled by the residual variance
// s^2 = 2 cost / (m - n) since the residuals are not whitened. Identifiability: the SVD of the Jacobian with
// columns scaled by each parameter's scale; a parameter is not identified when its column is (numerically) zero
// or when more than a quarter of its scaled direction (squared) lies in the near-null space (singular values below
// rcond * the largest). Unidentified parameters are held at their estimate in the covariance and get a flag and
// a reason instead of a small, false standard deviation.

#include <string>
#include <vector>

#include <Eigen/Core>

namespace ceres {
class Problem;
}

namespace r2s::sysid {

struct UncertaintyOptions {
  double rcond = 1e-6;                // singular values below rcond * sigma_max span the null space
  double correlation_warning = 0.95;  // |rho| above this gets a warning
};

struct Uncertainty {
  std::vector<bool> identified;           // per parameter
  std::vector<std::string> why_not;       // per parameter, empty when identified
  Eigen::MatrixXd covariance;             // over the identified parameters, in order
  Eigen::VectorXd std_dev;                // per parameter; NaN where not identified
  std::vector<std::string> warnings;      // "a and b are correlated (rho = 0.98)"
  double condition_number = 0;            // sigma_max / sigma_min of the scaled Jacobian (inf when rank deficient)
  int rank = 0;
};

// From a dense Jacobian (m x n, residuals in their own units) and the residual variance.
Uncertainty AnalyzeJacobian(const Eigen::MatrixXd& jacobian, double residual_variance,
                            const std::vector<std::string>& names, const Eigen::VectorXd& scale,
                            const UncertaintyOptions& options = {});

// The same for a solved ceres::Problem with one parameter block `x` of names.size() values: the Jacobian comes
// from problem.Evaluate, the covariance from ceres::Covariance over the identified coordinates. Parameters that
// are constant in the problem (SubsetManifold or SetParameterBlockConstant) must not be passed.
Uncertainty AnalyzeProblem(ceres::Problem& problem, double* x, const std::vector<std::string>& names,
                           const Eigen::VectorXd& scale, const UncertaintyOptions& options = {});

struct FitResult;
struct FitParameter;

// Copies an analysis into a fit result, the parameters in the analysis's order: identified flags and reasons,
// standard deviations (an unidentified parameter with finite bounds gets the uniform width (upper - lower) /
// sqrt(12), i.e. the randomizer keeps the prior range; NaN with infinite bounds), covariance over the identified
// ones, warnings, rank and condition number. parameters[i].estimate must already be set.
void StoreUncertainty(const Uncertainty& uncertainty, std::vector<FitParameter>& parameters, FitResult& result);

}  // namespace r2s::sysid

#include "sysid/physical_consistency.h"

#include <algorithm>
#include <cmath>

#include <ceres/ceres.h>
#include <Eigen/Cholesky>

namespace r2s::sysid::joint_dynamics {
namespace {

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

}  // namespace

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

double PriorSpread(int k, double nominal_mass_kg) {
  return k == 0 ? std::max(nominal_mass_kg, 0.5) : k < 4 ? 0.05 : 0.05;
}

void FitConsistentInertials(const Eigen::MatrixXd& combination, const Eigen::MatrixXd& gram,
                            const Eigen::VectorXd& beta, const std::vector<int>& links,
                            const Eigen::VectorXd& standard_nominal, int max_iterations, Eigen::VectorXd& standard,
                            std::vector<std::string>& warnings) {
  const auto nl = static_cast<int>(links.size());
  const auto r = static_cast<int>(combination.rows());
  ConsistencyResidual residual;
  residual.links = nl;
  residual.combination.resize(r, 10 * nl);
  residual.nominal.resize(10 * nl);
  residual.scale.resize(10 * nl);
  Eigen::VectorXd fixed_share = standard;
  for (int a = 0; a < nl; ++a) {
    const int l = links[a];
    residual.combination.middleCols(10 * a, 10) = combination.middleCols(10 * l, 10);
    SceneFromStandard(standard_nominal.data() + 10 * l, residual.nominal.data() + 10 * a);
    for (int k = 0; k < 10; ++k) residual.scale[10 * a + k] = PriorSpread(k, standard_nominal[10 * l]);
    fixed_share.segment(10 * l, 10).setZero();
  }
  residual.offset = combination * fixed_share - beta;
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
  cost->SetNumResiduals(r + 10 * nl);
  problem.AddResidualBlock(cost, nullptr, theta.data());
  ceres::Solver::Options solver;
  solver.linear_solver_type = ceres::DENSE_QR;
  solver.max_num_iterations = max_iterations;
  solver.logging_type = ceres::SILENT;
  ceres::Solver::Summary consistent_summary;
  ceres::Solve(solver, &problem, &consistent_summary);
  if (!consistent_summary.IsSolutionUsable()) {
    warnings.push_back("consistent link inertials: " + consistent_summary.message);
  }
  for (int a = 0; a < nl; ++a) {
    StandardFromLogCholesky(theta.data() + 10 * a, standard.data() + 10 * links[a]);
  }
}

}  // namespace r2s::sysid::joint_dynamics

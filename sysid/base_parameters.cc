#include "sysid/base_parameters.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>
#include <stdexcept>

#include <Eigen/QR>

namespace r2s::sysid {
namespace {

// Uniform in [lo, hi] from the generator's raw bits (std::uniform_real_distribution is not the same everywhere).
double Uniform(std::mt19937_64& rng, double lo, double hi) {
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  return lo + (hi - lo) * u;
}

}  // namespace

Eigen::MatrixXd MeasuredRegressor(const sim::RigidBodyDynamics& dynamics, const std::vector<int>& measured_dofs,
                                  const Eigen::VectorXd& q, const Eigen::VectorXd& qd, const Eigen::VectorXd& qdd,
                                  const Eigen::MatrixXd& transmission) {
  const Eigen::MatrixXd y = dynamics.Regressor(q, qd, qdd);
  const auto m = static_cast<Eigen::Index>(measured_dofs.size());
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(m, y.cols() + m);
  for (Eigen::Index i = 0; i < m; ++i) {
    out.row(i).head(y.cols()) = y.row(measured_dofs[i]);
    if (transmission.size() == 0) out(i, y.cols() + i) = qdd[measured_dofs[i]];
  }
  if (transmission.size() != 0) {
    for (Eigen::Index k = 0; k < m; ++k) {
      const double motor_acceleration = transmission.row(measured_dofs[k]).dot(qdd);
      for (Eigen::Index j = 0; j < m; ++j) {
        out(j, y.cols() + k) = transmission(measured_dofs[k], measured_dofs[j]) * motor_acceleration;
      }
    }
  }
  return out;
}

std::string BaseParameters::Describe(int k) const {
  std::string text;
  for (Eigen::Index i = 0; i < combination.cols(); ++i) {
    const double c = combination(k, i);
    if (c == 0) continue;
    char buffer[64];
    if (text.empty()) {
      if (c == 1)
        buffer[0] = '\0';
      else
        std::snprintf(buffer, sizeof(buffer), "%.4g ", c);
    } else if (std::abs(c) == 1) {
      std::snprintf(buffer, sizeof(buffer), " %c ", c > 0 ? '+' : '-');
    } else {
      std::snprintf(buffer, sizeof(buffer), " %c %.4g ", c > 0 ? '+' : '-', std::abs(c));
    }
    text += buffer + standard_names[i];
  }
  return text;
}

Eigen::MatrixXd BaseParameters::Reduce(const Eigen::MatrixXd& full) const {
  if (full.cols() != static_cast<Eigen::Index>(standard_names.size())) {
    throw std::invalid_argument("BaseParameters::Reduce: regressor has " + std::to_string(full.cols()) +
                                " columns, the standard parameters are " + std::to_string(standard_names.size()));
  }
  Eigen::MatrixXd out(full.rows(), size());
  for (int k = 0; k < size(); ++k) out.col(k) = full.col(independent[k]);
  return out;
}

bool BaseParameters::Alone(int standard_index) const {
  for (int k = 0; k < size(); ++k) {
    if (independent[k] != standard_index) continue;
    return (combination.row(k).array() != 0).count() == 1;
  }
  return false;
}

BaseParameters FindBaseParameters(const sim::RobotModel& robot, const sim::RigidBodyDynamics& dynamics,
                                  const std::vector<int>& measured_dofs, const std::vector<int>& moving_dofs,
                                  const std::vector<std::string>& armature_names, const Eigen::VectorXd& q_fixed,
                                  const BaseParameterOptions& options) {
  const int dofs = dynamics.num_dofs();
  if (measured_dofs.empty() || armature_names.size() != measured_dofs.size() || q_fixed.size() != dofs ||
      options.samples < 1) {
    throw std::invalid_argument("FindBaseParameters: " + std::to_string(measured_dofs.size()) + " measured dofs, " +
                                std::to_string(armature_names.size()) + " armature names, q_fixed of " +
                                std::to_string(q_fixed.size()) + " for " + std::to_string(dofs) + " dofs, " +
                                std::to_string(options.samples) + " samples");
  }
  for (int d : measured_dofs) {
    if (d < 0 || d >= dofs || std::find(moving_dofs.begin(), moving_dofs.end(), d) == moving_dofs.end()) {
      throw std::invalid_argument("FindBaseParameters: measured dof " + std::to_string(d) +
                                  " out of range or not moving");
    }
  }
  for (int d : moving_dofs) {
    if (d < 0 || d >= dofs)
      throw std::invalid_argument("FindBaseParameters: dof " + std::to_string(d) + " out of range");
  }
  const auto m = static_cast<Eigen::Index>(measured_dofs.size());
  const Eigen::Index inertial = 10 * static_cast<Eigen::Index>(dynamics.num_links());
  const Eigen::Index n = inertial + m;

  std::mt19937_64 rng(options.seed);
  Eigen::MatrixXd stacked(options.samples * m, n);
  for (int s = 0; s < options.samples; ++s) {
    Eigen::VectorXd q = q_fixed, qd = Eigen::VectorXd::Zero(dofs), qdd = Eigen::VectorXd::Zero(dofs);
    for (int d : moving_dofs) {
      const sim::Link& link = robot.dof_link(d);
      const double lo = std::isfinite(link.lower_limit) ? link.lower_limit : -std::numbers::pi;
      const double hi = std::isfinite(link.upper_limit) ? link.upper_limit : std::numbers::pi;
      q[d] = Uniform(rng, lo, hi);
      qd[d] = Uniform(rng, -options.max_speed, options.max_speed);
      qdd[d] = Uniform(rng, -options.max_acceleration, options.max_acceleration);
    }
    stacked.middleRows(s * m, m) = MeasuredRegressor(dynamics, measured_dofs, q, qd, qdd, robot.transmission);
  }

  // Greedy in a preferred order, each column kept when what the kept ones cannot explain of it is more than
  // round-off (structural dependencies leave ~1e-14 of the column). The order names the base parameters the
  // classical way (Gautier & Khalil): links from the base out, and within a link the parameters that survive
  // regrouping (Izz, Ixx, products, first moments) before those that merge into them (Iyy, m); then armatures.
  static constexpr int kPreferred[10] = {9, 4, 5, 6, 8, 1, 2, 3, 7, 0};
  std::vector<int> order;
  for (Eigen::Index l = 0; l < inertial / 10; ++l) {
    for (int k : kPreferred) order.push_back(static_cast<int>(10 * l + k));
  }
  for (Eigen::Index e = 0; e < m; ++e) order.push_back(static_cast<int>(inertial + e));
  // A column of round-off (a parameter that cannot reach a measured joint, computed through cancelling terms) is
  // zero, or its normalised noise would pass for a new direction.
  const double zero_norm = 1e-10 * stacked.colwise().norm().maxCoeff();
  std::vector<int> chosen;
  Eigen::MatrixXd basis(stacked.rows(), std::min(stacked.rows(), n));  // orthonormal columns
  Eigen::Index rank = 0;
  for (int c : order) {
    const double norm = stacked.col(c).norm();
    if (norm <= zero_norm || rank == basis.cols()) continue;
    Eigen::VectorXd v = stacked.col(c) / norm;
    for (int pass = 0; pass < 2; ++pass) v -= basis.leftCols(rank) * (basis.leftCols(rank).transpose() * v);
    if (v.norm() <= options.rank_tolerance) continue;
    basis.col(rank++) = v.normalized();
    chosen.push_back(c);
  }
  std::sort(chosen.begin(), chosen.end());

  BaseParameters base;
  base.standard_names = dynamics.InertialParameterNames();
  base.standard_names.insert(base.standard_names.end(), armature_names.begin(), armature_names.end());
  base.measured_dofs = measured_dofs;
  base.independent = chosen;
  const auto r = static_cast<Eigen::Index>(chosen.size());
  Eigen::MatrixXd y_b(stacked.rows(), r);
  for (Eigen::Index k = 0; k < r; ++k) y_b.col(k) = stacked.col(chosen[k]);
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr_b(y_b);
  base.combination = Eigen::MatrixXd::Zero(r, n);
  for (Eigen::Index k = 0; k < r; ++k) base.combination(k, chosen[k]) = 1;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (std::find(chosen.begin(), chosen.end(), i) != chosen.end()) continue;
    if (stacked.col(i).norm() <= zero_norm) continue;  // reaches no measured joint
    Eigen::VectorXd k = qr_b.solve(stacked.col(i));
    // The combinations are products of link lengths and signs; what is left below 1e-9 is round-off.
    for (Eigen::Index j = 0; j < r; ++j) {
      if (std::abs(k[j]) < 1e-9) k[j] = 0;
      if (std::abs(k[j] - std::round(k[j])) < 1e-9) k[j] = std::round(k[j]);
    }
    base.combination.col(i) = k;
  }
  return base;
}

}  // namespace r2s::sysid

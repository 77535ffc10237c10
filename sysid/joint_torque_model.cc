#include "sysid/joint_torque_model.h"

#include <algorithm>
#include <cmath>

#include <Eigen/QR>

namespace r2s::sysid::joint_dynamics {

FreeMap MakeFreeMap(const Layout& layout, const Eigen::VectorXd& p) {
  FreeMap m;
  m.fixed = p;
  for (std::size_t i = 0; i < layout.parameters.size(); ++i) {
    if (layout.parameters[i].free) {
      m.free_index.push_back(static_cast<int>(m.full_index.size()));
      m.full_index.push_back(static_cast<int>(i));
    } else {
      m.free_index.push_back(-1);
    }
  }
  return m;
}

bool TorqueResidual::Evaluate(double const* const* parameters, double* residuals, double** jacobians) const {
  const double* x = parameters[0];
  const auto value = [&](int full) {
    const int f = map_.free_index[full];
    return f >= 0 ? x[f] : map_.fixed[full];
  };
  const auto row = data_.y.row(sample_ * data_.joints + joint_);
  double predicted = 0;
  for (int k = 0; k < layout_.base; ++k) predicted += row[k] * value(k);
  const auto& motors = data_.motors_of_joint[joint_];
  std::array<Friction, kMaxCoupledMotors> frictions;
  for (std::size_t m = 0; m < motors.size(); ++m) {
    std::array<double, kFrictionFields> f{};
    for (int k = 0; k < kFrictionFields; ++k) f[k] = value(layout_.friction(motors[m].first, FrictionField(k)));
    frictions[m] = EvaluateFriction(f.data(), data_.qd(sample_, motors[m].first), layout_.stribeck);
    predicted += motors[m].second * frictions[m].value;
  }
  const double inverse_sigma = 1.0 / data_.sigma[joint_];
  residuals[0] = (data_.tau(sample_, joint_) - predicted) * inverse_sigma;
  if (jacobians != nullptr && jacobians[0] != nullptr) {
    double* j = jacobians[0];
    std::fill(j, j + map_.full_index.size(), 0.0);
    for (int k = 0; k < layout_.base; ++k) {
      if (const int i = map_.free_index[k]; i >= 0) j[i] = -row[k] * inverse_sigma;
    }
    for (std::size_t m = 0; m < motors.size(); ++m) {
      for (int k = 0; k < kFrictionFields; ++k) {
        if (const int i = map_.free_index[layout_.friction(motors[m].first, FrictionField(k))]; i >= 0) {
          j[i] += -(motors[m].second * frictions[m].d[k]) * inverse_sigma;
        }
      }
    }
  }
  return true;
}

Eigen::MatrixXd LinearStart(const FitData& data, const Layout& layout, Eigen::VectorXd& p) {
  const int m = data.joints;
  std::vector<int> columns;  // full indices of the linear, free parameters
  for (int k = 0; k < layout.base; ++k) {
    if (layout.parameters[k].free) columns.push_back(k);
  }
  for (int j = 0; j < m; ++j) {
    for (FrictionField f : {kCoulomb, kViscous, kOffset, kStribeck}) {
      const int i = layout.friction(j, f);
      if (layout.parameters[i].free) columns.push_back(i);
    }
  }
  const Eigen::Index rows = data.samples() * m;
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(rows, static_cast<Eigen::Index>(columns.size()));
  Eigen::VectorXd b(rows);
  std::vector<int> column_of(layout.parameters.size(), -1);
  for (std::size_t c = 0; c < columns.size(); ++c) column_of[columns[c]] = static_cast<int>(c);
  for (Eigen::Index s = 0; s < data.samples(); ++s) {
    for (int j = 0; j < m; ++j) {
      const Eigen::Index r = s * m + j;
      double fixed = 0;
      for (int k = 0; k < layout.base; ++k) {
        if (column_of[k] >= 0)
          a(r, column_of[k]) = data.y(r, k);
        else
          fixed += data.y(r, k) * p[k];
      }
      for (const auto& [motor, weight] : data.motors_of_joint[j]) {
        const Friction f =
            EvaluateFriction(p.data() + layout.friction(motor, kCoulomb), data.qd(s, motor), layout.stribeck);
        for (FrictionField field : {kCoulomb, kViscous, kOffset, kStribeck}) {
          const int i = layout.friction(motor, field);
          if (column_of[i] >= 0)
            a(r, column_of[i]) += weight * f.d[field];
          else
            fixed += weight * f.d[field] * p[i];
        }
      }
      b[r] = data.tau(s, j) - fixed;
    }
  }
  Eigen::VectorXd norms = a.colwise().norm();
  for (Eigen::Index c = 0; c < norms.size(); ++c) {
    if (norms[c] == 0) norms[c] = 1;
  }
  const Eigen::MatrixXd scaled = a * norms.cwiseInverse().asDiagonal();
  const Eigen::VectorXd solution = scaled.colPivHouseholderQr().solve(b).cwiseQuotient(norms);
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const Parameter& par = layout.parameters[columns[c]];
    p[columns[c]] = std::clamp(solution[static_cast<Eigen::Index>(c)], par.lower, par.upper);
  }
  Eigen::MatrixXd residual(data.samples(), m);
  for (Eigen::Index s = 0; s < data.samples(); ++s) {
    for (int j = 0; j < m; ++j) {
      const Eigen::Index r = s * m + j;
      double friction = 0;
      for (const auto& [motor, weight] : data.motors_of_joint[j]) {
        friction += weight * EvaluateFriction(p.data() + layout.friction(motor, kCoulomb), data.qd(s, motor),
                                              layout.stribeck).value;
      }
      residual(s, j) = data.tau(s, j) - data.y.row(r).head(layout.base).dot(p.head(layout.base)) - friction;
    }
  }
  return residual;
}

}  // namespace r2s::sysid::joint_dynamics

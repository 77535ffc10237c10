#include "sysid/signal_filter.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <stdexcept>
#include <string>

#include <Eigen/QR>

namespace r2s::sysid {
namespace {

// Runs the cascade over one signal in place (transposed direct form II), from the section states z (2 each).
void RunCascade(const std::vector<SecondOrderSection>& sections, std::vector<double>& z, double* x, Eigen::Index n,
                Eigen::Index stride) {
  for (Eigen::Index i = 0; i < n; ++i) {
    double v = x[i * stride];
    for (std::size_t k = 0; k < sections.size(); ++k) {
      const SecondOrderSection& s = sections[k];
      double& z1 = z[2 * k];
      double& z2 = z[2 * k + 1];
      const double y = s.b0 * v + z1;
      z1 = s.b1 * v - s.a1 * y + z2;
      z2 = s.b2 * v - s.a2 * y;
      v = y;
    }
    x[i * stride] = v;
  }
}

// The section states in which a constant input c passes unchanged through the cascade (unit DC gain sections).
std::vector<double> SteadyState(const std::vector<SecondOrderSection>& sections, double c) {
  std::vector<double> z(2 * sections.size());
  for (std::size_t k = 0; k < sections.size(); ++k) {
    const SecondOrderSection& s = sections[k];
    const double gain = (s.b0 + s.b1 + s.b2) / (1 + s.a1 + s.a2);
    const double y = gain * c;
    z[2 * k + 1] = s.b2 * c - s.a2 * y;
    z[2 * k] = s.b1 * c - s.a1 * y + z[2 * k + 1];
    c = y;
  }
  return z;
}

// Linear interpolation of the columns of x (at times t, increasing) at times `at`; clamped outside [t0, tn].
Eigen::MatrixXd Interpolate(const Eigen::VectorXd& t, const Eigen::MatrixXd& x, const Eigen::VectorXd& at) {
  Eigen::MatrixXd out(at.size(), x.cols());
  const Eigen::Index n = t.size();
  Eigen::Index k = 0;
  for (Eigen::Index i = 0; i < at.size(); ++i) {
    const double ti = at[i];
    if (ti <= t[0]) {
      out.row(i) = x.row(0);
      continue;
    }
    if (ti >= t[n - 1]) {
      out.row(i) = x.row(n - 1);
      continue;
    }
    if (ti < t[k]) k = 0;  // `at` need not be sorted, though it usually is
    while (t[k + 1] < ti) ++k;
    const double w = (ti - t[k]) / (t[k + 1] - t[k]);
    out.row(i) = (1 - w) * x.row(k) + w * x.row(k + 1);
  }
  return out;
}

// Central differences on a uniform grid, second-order one-sided at the ends (rows >= 4).
Eigen::MatrixXd FirstDerivative(const Eigen::MatrixXd& y, double h) {
  const Eigen::Index n = y.rows();
  Eigen::MatrixXd d(n, y.cols());
  d.middleRows(1, n - 2) = (y.bottomRows(n - 2) - y.topRows(n - 2)) / (2 * h);
  d.row(0) = (-3 * y.row(0) + 4 * y.row(1) - y.row(2)) / (2 * h);
  d.row(n - 1) = (3 * y.row(n - 1) - 4 * y.row(n - 2) + y.row(n - 3)) / (2 * h);
  return d;
}

Eigen::MatrixXd SecondDerivative(const Eigen::MatrixXd& y, double h) {
  const Eigen::Index n = y.rows();
  Eigen::MatrixXd d(n, y.cols());
  d.middleRows(1, n - 2) = (y.bottomRows(n - 2) - 2 * y.middleRows(1, n - 2) + y.topRows(n - 2)) / (h * h);
  d.row(0) = (2 * y.row(0) - 5 * y.row(1) + 4 * y.row(2) - y.row(3)) / (h * h);
  d.row(n - 1) = (2 * y.row(n - 1) - 5 * y.row(n - 2) + 4 * y.row(n - 3) - y.row(n - 4)) / (h * h);
  return d;
}

}  // namespace

std::vector<SecondOrderSection> ButterworthLowPass(int order, double cutoff_hz, double sample_rate_hz) {
  if (order < 1) throw std::invalid_argument("ButterworthLowPass: order " + std::to_string(order) + " < 1");
  if (!(sample_rate_hz > 0) || !(cutoff_hz > 0) || !(cutoff_hz < sample_rate_hz / 2)) {
    throw std::invalid_argument("ButterworthLowPass: cutoff " + std::to_string(cutoff_hz) + " Hz must lie in (0, " +
                                std::to_string(sample_rate_hz / 2) + ") Hz");
  }
  const double fs2 = 2 * sample_rate_hz;
  const double warped = fs2 * std::tan(std::numbers::pi * cutoff_hz / sample_rate_hz);  // rad/s
  std::vector<SecondOrderSection> sections;
  // Poles of the analog prototype in the left half plane, one of each conjugate pair (upper half) first.
  for (int k = 0; k < order / 2; ++k) {
    const double angle = std::numbers::pi * (2.0 * k + order + 1) / (2.0 * order);
    const std::complex<double> s = warped * std::polar(1.0, angle);
    const std::complex<double> z = (fs2 + s) / (fs2 - s);
    SecondOrderSection section;
    section.a1 = -2 * z.real();
    section.a2 = std::norm(z);
    const double gain = (1 + section.a1 + section.a2) / 4;  // zeros at z = -1 twice; unit gain at DC
    section.b0 = gain;
    section.b1 = 2 * gain;
    section.b2 = gain;
    sections.push_back(section);
  }
  if (order % 2 == 1) {
    const double z = (fs2 - warped) / (fs2 + warped);  // the real pole at s = -warped
    SecondOrderSection section;
    section.a1 = -z;
    const double gain = (1 - z) / 2;
    section.b0 = gain;
    section.b1 = gain;
    sections.push_back(section);
  }
  return sections;
}

Eigen::MatrixXd FilterForward(const std::vector<SecondOrderSection>& sections, const Eigen::MatrixXd& x) {
  Eigen::MatrixXd y = x;
  for (Eigen::Index c = 0; c < y.cols(); ++c) {
    std::vector<double> z(2 * sections.size(), 0.0);
    RunCascade(sections, z, y.col(c).data(), y.rows(), 1);
  }
  return y;
}

Eigen::MatrixXd FiltFilt(const std::vector<SecondOrderSection>& sections, const Eigen::MatrixXd& x, Eigen::Index pad) {
  const Eigen::Index n = x.rows();
  if (n == 0) return x;
  pad = std::clamp<Eigen::Index>(pad, 0, n - 1);
  const Eigen::Index m = n + 2 * pad;
  Eigen::MatrixXd out(n, x.cols());
  std::vector<double> buffer(m);
  // The extension continues a cubic fitted to the last `pad` samples at each end, plus the odd reflection of what
  // the cubic leaves (scipy reflects the signal itself, which keeps value and slope but bends the curvature to
  // zero at the ends: derivatives there would be off over a filter time constant; on a 1 Hz motion filtered at
  // 10 Hz the cubic cuts the rate's error at the ends about three times).
  const Eigen::Index fit = std::clamp<Eigen::Index>(pad, 4, n);
  const Eigen::VectorXd s = Eigen::VectorXd::LinSpaced(fit, 0, 1);
  Eigen::MatrixXd basis(fit, 4);
  basis << Eigen::VectorXd::Ones(fit), s, s.cwiseAbs2(), s.array().cube().matrix();
  const auto least_squares = basis.colPivHouseholderQr();
  const double unit = 1.0 / static_cast<double>(std::max<Eigen::Index>(fit - 1, 1));  // samples -> s above
  for (Eigen::Index c = 0; c < x.cols(); ++c) {
    const auto col = x.col(c);
    // Quadratics in the distance from each end, pointing inwards.
    // Cubics in the distance from each end, pointing inwards.
    const Eigen::Vector4d head = least_squares.solve(col.head(fit));
    const Eigen::Vector4d tail = least_squares.solve(Eigen::VectorXd(col.tail(fit).reverse()));
    const auto cubic = [unit](const Eigen::Vector4d& k, double samples) {
      const double d = samples * unit;
      return k[0] + d * (k[1] + d * (k[2] + d * k[3]));
    };
    const double head_edge = col[0] - head[0], tail_edge = col[n - 1] - tail[0];
    for (Eigen::Index i = 1; i <= pad; ++i) {
      const auto d = static_cast<double>(i);
      buffer[pad - i] = cubic(head, -d) + 2 * head_edge - (col[i] - cubic(head, d));
      buffer[pad + n - 1 + i] = cubic(tail, -d) + 2 * tail_edge - (col[n - 1 - i] - cubic(tail, d));
    }
    for (Eigen::Index i = 0; i < n; ++i) buffer[pad + i] = col[i];
    std::vector<double> z = SteadyState(sections, buffer[0]);
    RunCascade(sections, z, buffer.data(), m, 1);
    z = SteadyState(sections, buffer[m - 1]);
    RunCascade(sections, z, buffer.data() + (m - 1), m, -1);
    for (Eigen::Index i = 0; i < n; ++i) out(i, c) = buffer[pad + i];
  }
  return out;
}

SmoothedSignals SmoothAndDifferentiate(const Eigen::VectorXd& t_s, const Eigen::MatrixXd& x,
                                       const SmoothingOptions& options) {
  const Eigen::Index n = t_s.size();
  if (x.rows() != n) {
    throw std::invalid_argument("SmoothAndDifferentiate: " + std::to_string(n) + " times for " +
                                std::to_string(x.rows()) + " samples");
  }
  if (n < 3) throw std::invalid_argument("SmoothAndDifferentiate: needs at least 3 samples, got " + std::to_string(n));
  std::vector<double> periods(n - 1);
  for (Eigen::Index i = 0; i + 1 < n; ++i) {
    periods[i] = t_s[i + 1] - t_s[i];
    if (!(periods[i] > 0) || !std::isfinite(periods[i])) {
      throw std::invalid_argument("SmoothAndDifferentiate: times do not increase at sample " + std::to_string(i + 1));
    }
  }
  double h = options.grid_period_s;
  if (h <= 0) {
    std::nth_element(periods.begin(), periods.begin() + periods.size() / 2, periods.end());
    h = periods[periods.size() / 2];
  }
  const double duration = t_s[n - 1] - t_s[0];
  const auto grid_size = std::max<Eigen::Index>(4, static_cast<Eigen::Index>(std::ceil(duration / h - 1e-9)) + 1);
  const Eigen::VectorXd grid = t_s[0] + h * Eigen::VectorXd::LinSpaced(grid_size, 0, double(grid_size - 1)).array();
  const auto sections = ButterworthLowPass(options.order, options.cutoff_hz, 1.0 / h);
  // Three time constants of the cutoff: long enough for the passes to forget the extension's kink.
  const auto pad = static_cast<Eigen::Index>(std::ceil(3.0 / (options.cutoff_hz * h)));
  const Eigen::MatrixXd smooth = FiltFilt(sections, Interpolate(t_s, x, grid), pad);
  SmoothedSignals out;
  out.value = Interpolate(grid, smooth, t_s);
  out.rate = Interpolate(grid, FirstDerivative(smooth, h), t_s);
  out.acceleration = Interpolate(grid, SecondDerivative(smooth, h), t_s);
  return out;
}

}  // namespace r2s::sysid

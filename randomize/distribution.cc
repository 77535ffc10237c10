#include "randomize/distribution.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <boost/math/special_functions/erf.hpp>

namespace r2s::randomize {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kSqrt2 = 1.4142135623730950488;
constexpr int kBoxProbabilityPoints = 1024;

std::string Num(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

std::string Vec(const Eigen::VectorXd& v) {
  std::string s = "[";
  for (Eigen::Index i = 0; i < v.size(); ++i) s += (i ? ", " : "") + Num(v[i]);
  return s + "]";
}

[[noreturn]] void Invalid(const std::string& what) { throw std::invalid_argument(what); }

// Probability of [a, b] under the standard normal, computed in the lower tail where Phi keeps its precision.
double StandardMass(double a, double b) {
  if (a > 0) return NormalCdf(-a) - NormalCdf(-b);
  return NormalCdf(b) - NormalCdf(a);
}

double Clamp(double x, double lo, double hi) { return std::min(std::max(x, lo), hi); }

void CheckUnit(std::span<const double> u, int dimension) {
  if (static_cast<int>(u.size()) != dimension) {
    Invalid("FromUnit: expected " + std::to_string(dimension) + " unit coordinates, got " + std::to_string(u.size()));
  }
}

}  // namespace

double NormalCdf(double x) { return 0.5 * std::erfc(-x / kSqrt2); }

double NormalQuantile(double p) {
  if (std::isnan(p)) return p;
  if (p <= 0) return -kInf;
  if (p >= 1) return kInf;
  // erfc_inv of the smaller tail probability: 1 - p is exact for p >= 0.5.
  if (p < 0.5) return -kSqrt2 * boost::math::erfc_inv(2 * p);
  return kSqrt2 * boost::math::erfc_inv(2 * (1 - p));
}

double TruncatedNormalQuantile(double u, double a, double b) {
  if (a > 0) return -TruncatedNormalQuantile(1 - u, -b, -a);  // work in the lower tail
  const double pa = NormalCdf(a);
  const double pb = NormalCdf(b);
  if (!(pb > pa)) return b;  // no mass in double precision (both bounds far below): the edge nearest the mode
  return Clamp(NormalQuantile(pa + u * (pb - pa)), a, b);
}

Distribution::Distribution() : mean_(Eigen::VectorXd::Zero(1)) {}

Distribution Distribution::Constant(Eigen::VectorXd value) {
  if (value.size() == 0) Invalid("constant: no value");
  if (!value.allFinite()) Invalid("constant: value " + Vec(value) + " is not finite");
  Distribution d;
  d.kind_ = Kind::kConstant;
  d.mean_ = std::move(value);
  return d;
}

Distribution Distribution::Constant(double value) { return Constant(Eigen::VectorXd::Constant(1, value)); }

Distribution Distribution::Uniform(Eigen::VectorXd lo, Eigen::VectorXd hi) {
  if (lo.size() == 0 || lo.size() != hi.size()) {
    Invalid("uniform: min has " + std::to_string(lo.size()) + " values and max " + std::to_string(hi.size()));
  }
  if (!lo.allFinite() || !hi.allFinite()) Invalid("uniform: bounds " + Vec(lo) + ", " + Vec(hi) + " are not finite");
  for (Eigen::Index i = 0; i < lo.size(); ++i) {
    if (lo[i] > hi[i]) {
      Invalid("uniform: min " + Num(lo[i]) + " is greater than max " + Num(hi[i]) +
              (lo.size() > 1 ? " (coordinate " + std::to_string(i) + ")" : ""));
    }
  }
  Distribution d;
  d.kind_ = Kind::kUniform;
  d.lo_ = std::move(lo);
  d.hi_ = std::move(hi);
  return d;
}

Distribution Distribution::Uniform(double lo, double hi) {
  return Uniform(Eigen::VectorXd::Constant(1, lo), Eigen::VectorXd::Constant(1, hi));
}

Distribution Distribution::LogUniform(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi))
    Invalid("log_uniform: bounds " + Num(lo) + ", " + Num(hi) + " are not finite");
  if (!(lo > 0)) Invalid("log_uniform: min " + Num(lo) + " must be > 0");
  if (lo > hi) Invalid("log_uniform: min " + Num(lo) + " is greater than max " + Num(hi));
  Distribution d;
  d.kind_ = Kind::kLogUniform;
  d.lo_ = Eigen::VectorXd::Constant(1, lo);
  d.hi_ = Eigen::VectorXd::Constant(1, hi);
  return d;
}

Distribution Distribution::Normal(double mean, double std) {
  if (!std::isfinite(mean) || !std::isfinite(std))
    Invalid("normal: mean " + Num(mean) + ", std " + Num(std) + " must be finite");
  if (std < 0) Invalid("normal: std " + Num(std) + " must be >= 0");
  Distribution d;
  d.kind_ = Kind::kNormal;
  d.mean_ = Eigen::VectorXd::Constant(1, mean);
  d.std_ = std;
  return d;
}

Distribution Distribution::TruncatedNormal(double mean, double std, double lo, double hi) {
  if (!std::isfinite(mean) || !std::isfinite(std)) {
    Invalid("truncated_normal: mean " + Num(mean) + ", std " + Num(std) + " must be finite");
  }
  if (std < 0) Invalid("truncated_normal: std " + Num(std) + " must be >= 0");
  if (std::isnan(lo) || std::isnan(hi)) Invalid("truncated_normal: bounds " + Num(lo) + ", " + Num(hi) + " are NaN");
  if (!(lo < hi)) Invalid("truncated_normal: min " + Num(lo) + " must be less than max " + Num(hi));
  if (std > 0 && !(StandardMass((lo - mean) / std, (hi - mean) / std) > 0)) {
    Invalid("truncated_normal: [" + Num(lo) + ", " + Num(hi) + "] holds no probability of normal(mean " + Num(mean) +
            ", std " + Num(std) + ")");
  }
  Distribution d;
  d.kind_ = Kind::kTruncatedNormal;
  d.mean_ = Eigen::VectorXd::Constant(1, mean);
  d.std_ = std;
  d.lo_ = Eigen::VectorXd::Constant(1, lo);
  d.hi_ = Eigen::VectorXd::Constant(1, hi);
  return d;
}

Distribution Distribution::Categorical(std::vector<std::string> labels, std::vector<double> weights) {
  if (labels.empty()) Invalid("categorical: no labels");
  if (labels.size() != weights.size()) {
    Invalid("categorical: " + std::to_string(labels.size()) + " labels but " + std::to_string(weights.size()) +
            " weights");
  }
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (!(weights[i] > 0) || !std::isfinite(weights[i])) {
      Invalid("categorical: weight of '" + labels[i] + "' is " + Num(weights[i]) + ", must be a positive number");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (labels[j] == labels[i]) Invalid("categorical: label '" + labels[i] + "' appears twice");
    }
  }
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  Distribution d;
  d.kind_ = Kind::kCategorical;
  d.labels_ = std::move(labels);
  double sum = 0;
  for (double w : weights) {
    d.weights_.push_back(w / total);
    sum += w;
    d.cumulative_.push_back(sum / total);
  }
  d.cumulative_.back() = 1;
  return d;
}

Distribution Distribution::TruncatedMultivariateNormal(Eigen::VectorXd mean, Eigen::MatrixXd covariance,
                                                       Eigen::VectorXd lo, Eigen::VectorXd hi) {
  const Eigen::Index n = mean.size();
  if (n == 0) Invalid("multivariate_normal: empty mean");
  if (covariance.rows() != n || covariance.cols() != n) {
    Invalid("multivariate_normal: covariance is " + std::to_string(covariance.rows()) + "x" +
            std::to_string(covariance.cols()) + ", expected " + std::to_string(n) + "x" + std::to_string(n));
  }
  if (lo.size() != n || hi.size() != n) {
    Invalid("multivariate_normal: min has " + std::to_string(lo.size()) + " values and max " +
            std::to_string(hi.size()) + ", expected " + std::to_string(n));
  }
  if (!mean.allFinite()) Invalid("multivariate_normal: mean " + Vec(mean) + " is not finite");
  if (!covariance.allFinite()) Invalid("multivariate_normal: covariance is not finite");
  const double scale = covariance.cwiseAbs().maxCoeff();
  for (Eigen::Index i = 0; i < n; ++i) {
    if (std::isnan(lo[i]) || std::isnan(hi[i])) Invalid("multivariate_normal: bounds are NaN");
    if (!(lo[i] < hi[i])) {
      Invalid("multivariate_normal: min " + Num(lo[i]) + " must be less than max " + Num(hi[i]) + " (coordinate " +
              std::to_string(i) + ")");
    }
    for (Eigen::Index j = 0; j < i; ++j) {
      if (std::abs(covariance(i, j) - covariance(j, i)) > 1e-9 * scale) {
        Invalid("multivariate_normal: covariance is not symmetric: [" + std::to_string(i) + "][" + std::to_string(j) +
                "] = " + Num(covariance(i, j)) + " but [" + std::to_string(j) + "][" + std::to_string(i) +
                "] = " + Num(covariance(j, i)));
      }
    }
  }
  covariance = 0.5 * (covariance + covariance.transpose()).eval();
  Eigen::LLT<Eigen::MatrixXd> llt(covariance);
  Eigen::MatrixXd chol = llt.matrixL();
  if (llt.info() != Eigen::Success || !(chol.diagonal().minCoeff() > 1e-12 * std::sqrt(scale))) {
    Invalid("multivariate_normal: covariance is not positive definite (eigenvalues " +
            Vec(Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(covariance).eigenvalues()) + ")");
  }
  Distribution d;
  d.kind_ = Kind::kTruncatedMultivariateNormal;
  d.mean_ = std::move(mean);
  d.covariance_ = std::move(covariance);
  d.chol_ = std::move(chol);
  d.lo_ = std::move(lo);
  d.hi_ = std::move(hi);
  // The GHK weight is an unbiased estimate of the box's mass; fixed points make the choice of sampler (and so
  // every draw) a function of the parameters alone.
  Stream points(StreamKey{0, 0, 0, StreamId("truncated_multivariate_normal/box_probability")});
  std::vector<double> u(static_cast<std::size_t>(n));
  double total = 0;
  for (int k = 0; k < kBoxProbabilityPoints; ++k) {
    for (double& x : u) x = points.Uniform01();
    double weight = 0;
    d.Ghk(u, &weight, nullptr);
    total += weight;
  }
  d.box_probability_ = total / kBoxProbabilityPoints;
  if (!(d.box_probability_ > 0)) {
    Invalid("multivariate_normal: the box min " + Vec(d.lo_) + ", max " + Vec(d.hi_) +
            " holds no probability of the normal with mean " + Vec(d.mean_));
  }
  return d;
}

Distribution Distribution::Scale(Distribution factor) {
  if (factor.needs_nominal()) Invalid("scale: the factor cannot itself be a scale or offset");
  Distribution d;
  d.kind_ = Kind::kScale;
  d.inner_ = std::make_shared<const Distribution>(std::move(factor));
  return d;
}

Distribution Distribution::Offset(Distribution delta) {
  if (delta.needs_nominal()) Invalid("offset: the delta cannot itself be a scale or offset");
  Distribution d;
  d.kind_ = Kind::kOffset;
  d.inner_ = std::make_shared<const Distribution>(std::move(delta));
  return d;
}

int Distribution::dimension() const {
  switch (kind_) {
    case Kind::kConstant:
    case Kind::kTruncatedMultivariateNormal:
      return static_cast<int>(mean_.size());
    case Kind::kUniform:
      return static_cast<int>(lo_.size());
    case Kind::kScale:
    case Kind::kOffset:
      return inner_->dimension();
    default:
      return 1;
  }
}

const std::vector<std::string>& Distribution::labels() const { return labels_; }

Eigen::VectorXd Distribution::Apply(const Eigen::VectorXd& drawn, const Eigen::VectorXd& nominal) const {
  const char* form = kind_ == Kind::kScale ? "scale" : "offset";
  if (nominal.size() == 0) Invalid(std::string(form) + ": needs the nominal value it applies to");
  if (drawn.size() != 1 && drawn.size() != nominal.size()) {
    Invalid(std::string(form) + ": draws " + std::to_string(drawn.size()) + " values for a nominal of " +
            std::to_string(nominal.size()));
  }
  const Eigen::VectorXd d = drawn.size() == 1 ? Eigen::VectorXd::Constant(nominal.size(), drawn[0]) : drawn;
  return kind_ == Kind::kScale ? Eigen::VectorXd(nominal.cwiseProduct(d)) : Eigen::VectorXd(nominal + d);
}

Eigen::VectorXd Distribution::Ghk(std::span<const double> u, double* weight, Eigen::VectorXd* z_out) const {
  const Eigen::Index n = mean_.size();
  Eigen::VectorXd z(n), x(n);
  double w = 1;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double mu = mean_[i] + chol_.row(i).head(i).dot(z.head(i));
    const double l = chol_(i, i);
    const double a = (lo_[i] - mu) / l;
    const double b = (hi_[i] - mu) / l;
    w *= StandardMass(a, b);
    z[i] = TruncatedNormalQuantile(u[static_cast<std::size_t>(i)], a, b);
    x[i] = Clamp(mu + l * z[i], lo_[i], hi_[i]);
  }
  if (weight) *weight = w;
  if (z_out) *z_out = z;
  return x;
}

Eigen::VectorXd Distribution::SampleTruncatedMvn(Stream& stream) const {
  const Eigen::Index n = mean_.size();
  if (box_probability_ >= kMinRejectionAcceptance) {
    // Exact: proposals from the untruncated normal, kept when inside the box. The cap is ~50 expected
    // acceptances' worth of proposals, so it is essentially never reached; past it, Gibbs below.
    const double max_tries = std::ceil(50 / box_probability_);
    Eigen::VectorXd z(n);
    for (double t = 0; t < max_tries; ++t) {
      for (Eigen::Index i = 0; i < n; ++i) z[i] = stream.Normal();
      const Eigen::VectorXd x = mean_ + chol_ * z;
      if ((x.array() >= lo_.array()).all() && (x.array() <= hi_.array()).all()) return x;
    }
  }
  // Gibbs on the whitened coordinates z (x = mean + L z): each z_i given the others is a standard normal
  // truncated to the interval where every x_k stays in its bounds. Starting from a GHK point, already in the box
  // and close to the target law, a fixed number of sweeps keeps the stream's use deterministic.
  std::vector<double> u(static_cast<std::size_t>(n));
  for (double& v : u) v = stream.Uniform01();
  Eigen::VectorXd z;
  Ghk(u, nullptr, &z);
  Eigen::VectorXd x = mean_ + chol_ * z;
  for (int sweep = 0; sweep < kGibbsSweeps; ++sweep) {
    for (Eigen::Index i = 0; i < n; ++i) {
      double t_lo = -kInf, t_hi = kInf;
      for (Eigen::Index k = i; k < n; ++k) {
        const double l = chol_(k, i);
        if (l == 0) continue;
        const double rest = x[k] - l * z[i];
        double p = (lo_[k] - rest) / l, q = (hi_[k] - rest) / l;
        if (l < 0) std::swap(p, q);
        t_lo = std::max(t_lo, p);
        t_hi = std::min(t_hi, q);
      }
      const double uniform = stream.Uniform01();
      if (!(t_lo < t_hi)) continue;  // rounding closed the interval: keep z_i
      const double zi = TruncatedNormalQuantile(uniform, t_lo, t_hi);
      x.tail(n - i) += chol_.col(i).tail(n - i) * (zi - z[i]);
      z[i] = zi;
    }
  }
  for (Eigen::Index i = 0; i < n; ++i) x[i] = Clamp(x[i], lo_[i], hi_[i]);
  return x;
}

Eigen::VectorXd Distribution::FromUnit(std::span<const double> u, const Eigen::VectorXd& nominal) const {
  CheckUnit(u, dimension());
  switch (kind_) {
    case Kind::kConstant:
      return mean_;
    case Kind::kUniform: {
      Eigen::VectorXd x(lo_.size());
      for (Eigen::Index i = 0; i < x.size(); ++i) {
        x[i] = Clamp(lo_[i] + u[static_cast<std::size_t>(i)] * (hi_[i] - lo_[i]), lo_[i], hi_[i]);
      }
      return x;
    }
    case Kind::kLogUniform: {
      const double a = std::log(lo_[0]), b = std::log(hi_[0]);
      return Eigen::VectorXd::Constant(1, Clamp(std::exp(a + u[0] * (b - a)), lo_[0], hi_[0]));
    }
    case Kind::kNormal:
      return Eigen::VectorXd::Constant(1, std_ == 0 ? mean_[0] : mean_[0] + std_ * NormalQuantile(u[0]));
    case Kind::kTruncatedNormal: {
      if (std_ == 0) return Eigen::VectorXd::Constant(1, Clamp(mean_[0], lo_[0], hi_[0]));
      const double z = TruncatedNormalQuantile(u[0], (lo_[0] - mean_[0]) / std_, (hi_[0] - mean_[0]) / std_);
      return Eigen::VectorXd::Constant(1, Clamp(mean_[0] + std_ * z, lo_[0], hi_[0]));
    }
    case Kind::kCategorical: {
      const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u[0]);
      const auto index =
          std::min<std::ptrdiff_t>(it - cumulative_.begin(), static_cast<std::ptrdiff_t>(cumulative_.size()) - 1);
      return Eigen::VectorXd::Constant(1, static_cast<double>(index));
    }
    case Kind::kTruncatedMultivariateNormal:
      return Ghk(u, nullptr, nullptr);
    case Kind::kScale:
    case Kind::kOffset:
      return Apply(inner_->FromUnit(u), nominal);
  }
  throw std::logic_error("Distribution::FromUnit: unknown kind");
}

Eigen::VectorXd Distribution::Sample(Stream& stream, const Eigen::VectorXd& nominal) const {
  switch (kind_) {
    case Kind::kConstant:
      return mean_;
    case Kind::kTruncatedMultivariateNormal:
      return SampleTruncatedMvn(stream);
    case Kind::kScale:
    case Kind::kOffset:
      return Apply(inner_->Sample(stream), nominal);
    default: {
      // Inversion of independent coordinates is exact, so an i.i.d. draw is FromUnit at i.i.d. uniforms.
      std::vector<double> u(static_cast<std::size_t>(dimension()));
      for (double& v : u) v = stream.Uniform01();
      return FromUnit(u, nominal);
    }
  }
}

std::string Distribution::Describe() const {
  switch (kind_) {
    case Kind::kConstant:
      return "constant " + (mean_.size() == 1 ? Num(mean_[0]) : Vec(mean_));
    case Kind::kUniform:
      if (lo_.size() == 1) return "uniform [" + Num(lo_[0]) + ", " + Num(hi_[0]) + "]";
      return "uniform min " + Vec(lo_) + " max " + Vec(hi_);
    case Kind::kLogUniform:
      return "log_uniform [" + Num(lo_[0]) + ", " + Num(hi_[0]) + "]";
    case Kind::kNormal:
      return "normal mean " + Num(mean_[0]) + " std " + Num(std_);
    case Kind::kTruncatedNormal:
      return "truncated_normal mean " + Num(mean_[0]) + " std " + Num(std_) + " on [" + Num(lo_[0]) + ", " +
             Num(hi_[0]) + "]";
    case Kind::kCategorical: {
      std::string s = "categorical {";
      for (std::size_t i = 0; i < labels_.size(); ++i) s += (i ? ", " : "") + labels_[i] + ": " + Num(weights_[i]);
      return s + "}";
    }
    case Kind::kTruncatedMultivariateNormal: {
      std::string s = "multivariate_normal mean " + Vec(mean_) + " std " + Vec(covariance_.diagonal().cwiseSqrt());
      return s + " on min " + Vec(lo_) + " max " + Vec(hi_);
    }
    case Kind::kScale:
      return "scale by " + inner_->Describe();
    case Kind::kOffset:
      return "offset by " + inner_->Describe();
  }
  return "?";
}

}  // namespace r2s::randomize

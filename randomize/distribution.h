#pragma once
// What one randomized quantity (or a jointly drawn group of them) is drawn from: constant, uniform, log-uniform,
// normal, truncated normal, categorical, a multivariate normal truncated to a box (how a sysid posterior is
// sampled), and the scale/offset forms applied to a nominal value. A small immutable value type, cheap to copy
// and safe to share between threads; the randomness comes from the caller's Stream.
//
// Two ways to draw:
//  - FromUnit(u): a deterministic map from a point of the open unit cube (one coordinate per dimension()) to a
//    value, by inverse CDF per coordinate. Stratified and Sobol samplers call it. For the truncated multivariate
//    normal it is the GHK construction (Cholesky factor, each coordinate's truncated conditional in turn), which is
//    smooth and monotone in each coordinate, so low-discrepancy points stay well spread -- but its law is not the
//    truncated normal's unless each point is weighted by its GHK weight.
//  - Sample(stream): an i.i.d. draw of the exact law. For the truncated multivariate normal: rejection from the
//    untruncated normal when the box holds at least kMinRejectionAcceptance of the mass (exact); otherwise Gibbs
//    sampling in the whitened coordinates with kGibbsSweeps sweeps from a GHK starting point (a close
//    approximation; a box holding < 0.1 % of the mass would cost > 1000 proposals per draw by rejection).
//
// Invalid parameters (lo > hi, negative std, ...) throw std::invalid_argument with the values in the message;
// the YAML reader turns that into an InputError naming the file and line.

#include <memory>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "randomize/stream.h"

namespace r2s::randomize {

// Phi(x) and its inverse for the standard normal; accurate to a few ulp in both tails (NormalCdf(-37) ~ 6e-300).
double NormalCdf(double x);
double NormalQuantile(double p);  // p in (0, 1); 0 -> -inf, 1 -> +inf
// The quantile of a standard normal truncated to [a, b] at u in [0, 1]; computed in the lower tail, where Phi is
// accurate, so that bounds far out in either tail work.
double TruncatedNormalQuantile(double u, double a, double b);

class Distribution {
 public:
  enum class Kind {
    kConstant,
    kUniform,
    kLogUniform,
    kNormal,
    kTruncatedNormal,
    kCategorical,
    kTruncatedMultivariateNormal,
    kScale,
    kOffset
  };

  // With rejection acceptance below this, Sample uses Gibbs (see above).
  static constexpr double kMinRejectionAcceptance = 1e-3;
  static constexpr int kGibbsSweeps = 50;

  Distribution();  // constant 0
  static Distribution Constant(Eigen::VectorXd value);
  static Distribution Constant(double value);
  // Per coordinate, independent; lo <= hi (equal is a constant).
  static Distribution Uniform(Eigen::VectorXd lo, Eigen::VectorXd hi);
  static Distribution Uniform(double lo, double hi);
  static Distribution LogUniform(double lo, double hi);  // 0 < lo <= hi
  static Distribution Normal(double mean, double std);   // std >= 0
  // lo < hi (either may be infinite); std >= 0 (0: the mean clamped to the bounds).
  static Distribution TruncatedNormal(double mean, double std, double lo, double hi);
  // value = the label's index (as a double); weights > 0, normalized here.
  static Distribution Categorical(std::vector<std::string> labels, std::vector<double> weights);
  // covariance symmetric positive definite; lo < hi per coordinate (infinite allowed); the box must hold mass.
  static Distribution TruncatedMultivariateNormal(Eigen::VectorXd mean, Eigen::MatrixXd covariance, Eigen::VectorXd lo,
                                                  Eigen::VectorXd hi);
  // value = nominal .* factor, and nominal + delta; a one-dimensional factor or delta applies to every coordinate
  // of the nominal, otherwise the sizes must match.
  static Distribution Scale(Distribution factor);
  static Distribution Offset(Distribution delta);

  Kind kind() const { return kind_; }
  // Unit-cube coordinates FromUnit takes, which is also the number of values drawn (the output has the nominal's
  // size for the scale/offset forms). A constant takes (and ignores) one coordinate per value.
  int dimension() const;

  // u: dimension() coordinates in (0, 1). `nominal` is needed by the scale/offset forms and ignored otherwise.
  Eigen::VectorXd FromUnit(std::span<const double> u, const Eigen::VectorXd& nominal = {}) const;
  Eigen::VectorXd Sample(Stream& stream, const Eigen::VectorXd& nominal = {}) const;

  std::string Describe() const;                    // "uniform [0.4, 0.9]"
  const std::vector<std::string>& labels() const;  // categorical labels, empty otherwise
  bool needs_nominal() const { return kind_ == Kind::kScale || kind_ == Kind::kOffset; }

  // The truncated multivariate normal's share of the untruncated mass inside the box (a GHK estimate from 1024
  // fixed points; 1 for other kinds): decides rejection vs Gibbs.
  double box_probability() const { return box_probability_; }

  // Parameters, for reports and tests (meaning depends on kind: lo/hi are bounds, mean/covariance the normal's).
  const Eigen::VectorXd& lo() const { return lo_; }
  const Eigen::VectorXd& hi() const { return hi_; }
  const Eigen::VectorXd& mean() const { return mean_; }
  const Eigen::MatrixXd& covariance() const { return covariance_; }
  const std::vector<double>& weights() const { return weights_; }  // normalized
  const Distribution* inner() const { return inner_.get(); }

 private:
  Eigen::VectorXd Apply(const Eigen::VectorXd& drawn, const Eigen::VectorXd& nominal) const;
  Eigen::VectorXd Ghk(std::span<const double> u, double* weight, Eigen::VectorXd* z) const;
  Eigen::VectorXd SampleTruncatedMvn(Stream& stream) const;

  Kind kind_ = Kind::kConstant;
  Eigen::VectorXd lo_, hi_, mean_;  // constant: mean_; normal: mean_ (1), std in std_
  double std_ = 0;
  Eigen::MatrixXd covariance_, chol_;  // chol_: lower Cholesky factor of covariance_
  std::vector<std::string> labels_;
  std::vector<double> weights_, cumulative_;
  std::shared_ptr<const Distribution> inner_;
  double box_probability_ = 1;
};

}  // namespace r2s::randomize

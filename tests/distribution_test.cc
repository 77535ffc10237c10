// Distributions: i.i.d. draws against exact CDFs (Kolmogorov-Smirnov on 10^5 draws, alpha = 1e-3, fixed seeds so
// the outcome is deterministic), categorical counts by chi-square, the unit-cube map's monotonicity and medians,
// and the truncated multivariate normal's bounds and moments against independent references.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/LU>

#include "randomize/distribution.h"
#include "randomize/stream.h"

namespace r2s::randomize {
namespace {

constexpr int kDraws = 100000;
constexpr double kInf = std::numeric_limits<double>::infinity();

double Phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double UpperTail(double x) { return 0.5 * std::erfc(x / std::sqrt(2.0)); }
double phi(double x) { return std::isinf(x) ? 0.0 : std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }

// Kolmogorov's asymptotic critical value: P(sqrt(n) D > c) = alpha for c = sqrt(-ln(alpha / 2) / 2).
double KsCritical(int n, double alpha = 1e-3) { return std::sqrt(-0.5 * std::log(alpha / 2)) / std::sqrt(n); }

double KsStatistic(std::vector<double> x, const std::function<double(double)>& cdf) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  double d = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double f = cdf(x[i]);
    d = std::max({d, f - i / n, (i + 1) / n - f});
  }
  return d;
}

std::vector<double> Draw(const Distribution& dist, std::uint32_t variant, int n = kDraws,
                         const Eigen::VectorXd& nominal = {}) {
  Stream stream(2024, 1, variant, "distribution_test");
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(dist.Sample(stream, nominal)[0]);
  return out;
}

void ExpectKsPasses(const Distribution& dist, const std::function<double(double)>& cdf, std::uint32_t variant,
                    const Eigen::VectorXd& nominal = {}) {
  const double d = KsStatistic(Draw(dist, variant, kDraws, nominal), cdf);
  EXPECT_LT(d, KsCritical(kDraws)) << dist.Describe();
}

TEST(DistributionKsTest, Uniform) {
  ExpectKsPasses(
      Distribution::Uniform(0.4, 0.9), [](double x) { return std::clamp((x - 0.4) / 0.5, 0.0, 1.0); }, 1);
}

TEST(DistributionKsTest, LogUniform) {
  const double a = std::log(1e-3), b = std::log(1e-1);
  ExpectKsPasses(
      Distribution::LogUniform(1e-3, 1e-1), [&](double x) { return std::clamp((std::log(x) - a) / (b - a), 0.0, 1.0); },
      2);
}

TEST(DistributionKsTest, Normal) {
  ExpectKsPasses(
      Distribution::Normal(2, 0.5), [](double x) { return Phi((x - 2) / 0.5); }, 3);
}

TEST(DistributionKsTest, TruncatedNormalAgainstTheExactTruncatedCdf) {
  const double mean = 1, sd = 2, lo = 0, hi = 4;
  const double a = (lo - mean) / sd, b = (hi - mean) / sd;
  ExpectKsPasses(
      Distribution::TruncatedNormal(mean, sd, lo, hi),
      [&](double x) { return (Phi((x - mean) / sd) - Phi(a)) / (Phi(b) - Phi(a)); }, 4);
}

TEST(DistributionKsTest, TruncatedNormalFarInTheUpperTail) {
  // [8, inf) std from the mean: Phi(8) rounds to 1, so this only works if the quantile is taken in the tail.
  const Distribution d = Distribution::TruncatedNormal(0, 1, 8, kInf);
  const auto draws = Draw(d, 5);
  EXPECT_GE(*std::min_element(draws.begin(), draws.end()), 8.0);
  EXPECT_LT(KsStatistic(draws, [](double x) { return 1 - UpperTail(x) / UpperTail(8); }), KsCritical(kDraws));
}

TEST(DistributionKsTest, ScaleAndOffsetOfANominal) {
  ExpectKsPasses(
      Distribution::Scale(Distribution::Uniform(0.9, 1.1)),
      [](double x) { return std::clamp((x - 1.8) / 0.4, 0.0, 1.0); }, 6, Eigen::VectorXd::Constant(1, 2));
  ExpectKsPasses(
      Distribution::Offset(Distribution::Normal(0, 0.1)), [](double x) { return Phi((x - 3) / 0.1); }, 7,
      Eigen::VectorXd::Constant(1, 3));
}

TEST(DistributionKsTest, NegativeControlsAWrongCdfIsRejected) {
  // The same test, fed a CDF a little off, must reject: it can tell a wrong sampler from a right one.
  const auto normal = Draw(Distribution::Normal(2, 0.5), 3);
  EXPECT_GT(KsStatistic(normal, [](double x) { return Phi((x - 2.025) / 0.5); }), KsCritical(kDraws));
  EXPECT_GT(KsStatistic(normal, [](double x) { return Phi((x - 2) / 0.52); }), KsCritical(kDraws));
  // A truncated normal judged by the untruncated CDF (the classic "clamp instead of truncate" mistake).
  const auto truncated = Draw(Distribution::TruncatedNormal(1, 2, 0, 4), 4);
  EXPECT_GT(KsStatistic(truncated, [](double x) { return Phi((x - 1) / 2); }), KsCritical(kDraws));
}

TEST(DistributionTest, CategoricalCountsPassChiSquare) {
  const Distribution d = Distribution::Categorical({"wood", "laminate", "steel"}, {5, 3, 2});
  EXPECT_EQ(d.labels().size(), 3u);
  const auto draws = Draw(d, 8);
  std::vector<double> counts(3, 0);
  for (double x : draws) {
    ASSERT_TRUE(x == 0 || x == 1 || x == 2) << x;
    counts[static_cast<std::size_t>(x)] += 1;
  }
  const auto chi2 = [&](const std::vector<double>& p) {
    double s = 0;
    for (int i = 0; i < 3; ++i) s += std::pow(counts[i] - kDraws * p[i], 2) / (kDraws * p[i]);
    return s;
  };
  constexpr double kChi2Critical2Dof = 13.816;  // alpha = 1e-3
  EXPECT_LT(chi2({0.5, 0.3, 0.2}), kChi2Critical2Dof);
  EXPECT_GT(chi2({0.48, 0.32, 0.2}), kChi2Critical2Dof);  // negative control
}

TEST(DistributionTest, FromUnitIsMonotoneAndMapsMidpointsToMedians) {
  struct Case {
    Distribution dist;
    double median;
  };
  const double a = (0 - 1) / 2.0, b = (4 - 1) / 2.0;
  const std::vector<Case> cases = {
      {Distribution::Uniform(0.4, 0.9), 0.65},
      {Distribution::LogUniform(1e-3, 1e-1), 1e-2},
      {Distribution::Normal(2, 0.5), 2},
      {Distribution::TruncatedNormal(1, 2, 0, 4),
       1 + 2 * std::sqrt(2.0) * -std::erfc(0) * 0 + 0},  // replaced below by the exact value
      {Distribution::TruncatedNormal(0, 1, 8, kInf), 0},
  };
  // Exact medians of the truncated cases: Phi^-1((Phi(a) + Phi(b)) / 2), found by bisection on Phi.
  const auto invert = [](double p, double lo, double hi, const std::function<double(double)>& f) {
    for (int i = 0; i < 200; ++i) {
      const double mid = 0.5 * (lo + hi);
      (f(mid) < p ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
  };
  const double median_tn = 1 + 2 * invert(0.5 * (Phi(a) + Phi(b)), a, b, Phi);
  const double median_tail = invert(0.5, 8, 20, [](double x) { return 1 - UpperTail(x) / UpperTail(8); });
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const Distribution& d = cases[c].dist;
    const double expected = c == 3 ? median_tn : c == 4 ? median_tail : cases[c].median;
    const double half = 0.5;
    EXPECT_NEAR(d.FromUnit({&half, 1})[0], expected, 1e-9 * std::max(1.0, std::abs(expected))) << d.Describe();
    double previous = -kInf;
    for (int i = 0; i <= 10000; ++i) {
      const double u = std::clamp(i / 10000.0, 1e-12, 1 - 1e-12);
      const double x = d.FromUnit({&u, 1})[0];
      ASSERT_GE(x, previous) << d.Describe() << " at u = " << u;
      previous = x;
    }
  }
  // Categorical: 0.5 falls in the first label's half.
  const Distribution cat = Distribution::Categorical({"a", "b"}, {1, 1});
  for (double u : {0.25, 0.4999}) EXPECT_EQ(cat.FromUnit({&u, 1})[0], 0);
  for (double u : {0.5001, 0.75}) EXPECT_EQ(cat.FromUnit({&u, 1})[0], 1);
}

// ---- truncated multivariate normal ----

struct Moments {
  Eigen::VectorXd mean;
  Eigen::MatrixXd cov;
};

// Reference moments of a 2-D truncated normal by midpoint quadrature over the box (clipped to 9 std).
Moments Quadrature2d(const Eigen::Vector2d& mean, const Eigen::Matrix2d& cov, const Eigen::Vector2d& lo,
                     const Eigen::Vector2d& hi) {
  const int n = 1600;
  Eigen::Vector2d from, to;
  for (int i = 0; i < 2; ++i) {
    const double s = std::sqrt(cov(i, i));
    from[i] = std::max(lo[i], mean[i] - 9 * s);
    to[i] = std::min(hi[i], mean[i] + 9 * s);
  }
  const Eigen::Matrix2d inv = cov.inverse();
  double z = 0;
  Eigen::Vector2d m1 = Eigen::Vector2d::Zero();
  Eigen::Matrix2d m2 = Eigen::Matrix2d::Zero();
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const Eigen::Vector2d x(from[0] + (i + 0.5) * (to[0] - from[0]) / n, from[1] + (j + 0.5) * (to[1] - from[1]) / n);
      const Eigen::Vector2d d = x - mean;
      const double w = std::exp(-0.5 * d.dot(inv * d));
      z += w;
      m1 += w * x;
      m2 += w * x * x.transpose();
    }
  }
  m1 /= z;
  return {m1, m2 / z - m1 * m1.transpose()};
}

// Reference by brute-force rejection from an independent generator (std::mt19937_64, Eigen's LLT).
Moments BruteForce(const Eigen::VectorXd& mean, const Eigen::MatrixXd& cov, const Eigen::VectorXd& lo,
                   const Eigen::VectorXd& hi, int proposals, int* accepted) {
  std::mt19937_64 rng(12345);
  std::normal_distribution<double> normal;
  const Eigen::MatrixXd l = Eigen::LLT<Eigen::MatrixXd>(cov).matrixL();
  const auto n = mean.size();
  Eigen::VectorXd s1 = Eigen::VectorXd::Zero(n);
  Eigen::MatrixXd s2 = Eigen::MatrixXd::Zero(n, n);
  *accepted = 0;
  Eigen::VectorXd z(n);
  for (int t = 0; t < proposals; ++t) {
    for (Eigen::Index i = 0; i < n; ++i) z[i] = normal(rng);
    const Eigen::VectorXd x = mean + l * z;
    if ((x.array() < lo.array()).any() || (x.array() > hi.array()).any()) continue;
    ++*accepted;
    s1 += x;
    s2 += x * x.transpose();
  }
  const Eigen::VectorXd m = s1 / *accepted;
  return {m, s2 / *accepted - m * m.transpose()};
}

// Compares the sample's mean and covariance with the reference within 5 standard errors (the reference's own
// error added when it is itself a sample of size ref_n); returns the failures, empty when it matches.
std::string CompareMoments(const std::vector<Eigen::VectorXd>& xs, const Moments& ref, double ref_n = kInf) {
  const auto n = ref.mean.size();
  const double count = static_cast<double>(xs.size());
  Eigen::VectorXd m = Eigen::VectorXd::Zero(n);
  for (const auto& x : xs) m += x;
  m /= count;
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(n, n), c2 = Eigen::MatrixXd::Zero(n, n);
  for (const auto& x : xs) {
    const Eigen::VectorXd d = x - m;
    const Eigen::MatrixXd p = d * d.transpose();
    c += p;
    c2 += p.cwiseProduct(p);
  }
  c /= count;
  c2 /= count;
  std::ostringstream failures;
  const double factor = std::sqrt(1 / count + 1 / ref_n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double se = std::sqrt(c(i, i)) * factor;
    if (std::abs(m[i] - ref.mean[i]) > 5 * se) {
      failures << "mean[" << i << "] " << m[i] << " vs " << ref.mean[i] << " (se " << se << "); ";
    }
    for (Eigen::Index j = 0; j <= i; ++j) {
      const double se_c = std::sqrt(std::max(c2(i, j) - c(i, j) * c(i, j), 0.0)) * factor;
      if (std::abs(c(i, j) - ref.cov(i, j)) > 5 * se_c) {
        failures << "cov[" << i << "][" << j << "] " << c(i, j) << " vs " << ref.cov(i, j) << " (se " << se_c << "); ";
      }
    }
  }
  return failures.str();
}

std::vector<Eigen::VectorXd> SampleAll(const Distribution& d, int n, std::uint32_t variant) {
  Stream stream(77, 0, variant, "truncated_mvn");
  std::vector<Eigen::VectorXd> xs;
  for (int i = 0; i < n; ++i) {
    xs.push_back(d.Sample(stream));
    const Eigen::VectorXd& x = xs.back();
    EXPECT_TRUE((x.array() >= d.lo().array()).all() && (x.array() <= d.hi().array()).all())
        << "draw " << i << " out of bounds: " << x.transpose();
    if (::testing::Test::HasFailure()) break;
  }
  return xs;
}

TEST(TruncatedMvnTest, TwoDimensionalCorrelatedMatchesQuadrature) {
  const Eigen::Vector2d mean(0.2, -0.1);
  Eigen::Matrix2d cov;
  cov << 1.0, 1.4, 1.4, 4.0;  // std 1 and 2, correlation 0.7
  const Eigen::Vector2d lo(-0.5, -kInf), hi(1.5, 1.0);
  const Distribution d = Distribution::TruncatedMultivariateNormal(mean, cov, lo, hi);
  EXPECT_GT(d.box_probability(), 0.2);
  EXPECT_LT(d.box_probability(), 0.7);  // the bounds cut a good part of the mass
  const Moments ref = Quadrature2d(mean, cov, lo, hi);
  const auto xs = SampleAll(d, kDraws, 1);
  EXPECT_EQ(CompareMoments(xs, ref), "");

  // Negative control: the GHK map fed i.i.d. uniforms is not the truncated law (it needs weights), and the same
  // moment check must see that.
  Stream stream(77, 0, 2, "ghk");
  std::vector<Eigen::VectorXd> ghk;
  for (int i = 0; i < kDraws; ++i) {
    const double u[2] = {stream.Uniform01(), stream.Uniform01()};
    ghk.push_back(d.FromUnit(u));
  }
  EXPECT_NE(CompareMoments(ghk, ref), "");
}

TEST(TruncatedMvnTest, FourDimensionalCorrelatedMatchesBruteForceRejection) {
  Eigen::VectorXd mean(4), sd(4);
  mean << 1, -1, 0, 2;
  sd << 1, 0.5, 2, 1;
  Eigen::MatrixXd cov(4, 4);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) cov(i, j) = sd[i] * sd[j] * std::pow(-0.6, std::abs(i - j));
  }
  Eigen::VectorXd lo(4), hi(4);
  lo << 0.5, -kInf, -1, 1.5;
  hi << 3, -0.8, kInf, 4;
  const Distribution d = Distribution::TruncatedMultivariateNormal(mean, cov, lo, hi);
  EXPECT_LT(d.box_probability(), 0.5);
  EXPECT_GT(d.box_probability(), Distribution::kMinRejectionAcceptance);
  int accepted = 0;
  const Moments ref = BruteForce(mean, cov, lo, hi, 2000000, &accepted);
  EXPECT_NEAR(accepted / 2e6, d.box_probability(), 0.02);  // the GHK estimate of the box's mass
  const auto xs = SampleAll(d, kDraws, 3);
  EXPECT_EQ(CompareMoments(xs, ref, accepted), "");
}

TEST(TruncatedMvnTest, UncorrelatedMarginalsMatchAnalyticTruncatedMoments) {
  Eigen::VectorXd mean(3), sd(3), lo(3), hi(3);
  mean << 0, 5, -2;
  sd << 1, 0.1, 3;
  lo << -1, 5.05, -kInf;
  hi << 0.5, kInf, -4;
  const Distribution d =
      Distribution::TruncatedMultivariateNormal(mean, sd.cwiseAbs2().asDiagonal().toDenseMatrix(), lo, hi);
  Moments ref{Eigen::VectorXd(3), Eigen::MatrixXd::Zero(3, 3)};
  for (int i = 0; i < 3; ++i) {
    const double a = (lo[i] - mean[i]) / sd[i], b = (hi[i] - mean[i]) / sd[i];
    const double z = Phi(b) - Phi(a);
    const double r = (phi(a) - phi(b)) / z;
    const double aphi = std::isinf(a) ? 0 : a * phi(a), bphi = std::isinf(b) ? 0 : b * phi(b);
    ref.mean[i] = mean[i] + sd[i] * r;
    ref.cov(i, i) = sd[i] * sd[i] * (1 + (aphi - bphi) / z - r * r);
  }
  EXPECT_EQ(CompareMoments(SampleAll(d, kDraws, 4), ref), "");
}

TEST(TruncatedMvnTest, LowAcceptanceUsesGibbsAndStillMatchesQuadrature) {
  const Eigen::Vector2d mean(0, 0), lo(2.5, 2.5), hi(kInf, kInf);
  Eigen::Matrix2d cov;
  cov << 1, 0.5, 0.5, 1;
  const Distribution d = Distribution::TruncatedMultivariateNormal(mean, cov, lo, hi);
  ASSERT_LT(d.box_probability(), Distribution::kMinRejectionAcceptance);  // the Gibbs branch
  const auto xs = SampleAll(d, 20000, 5);
  EXPECT_EQ(CompareMoments(xs, Quadrature2d(mean, cov, lo, hi)), "");
}

TEST(TruncatedMvnTest, GhkIsMonotoneInEachCoordinateAndDrawsAreReproducible) {
  const Eigen::Vector2d mean(0, 0), lo(-1, -0.5), hi(2, 0.5);
  Eigen::Matrix2d cov;
  cov << 1, 0.8, 0.8, 1;
  const Distribution d = Distribution::TruncatedMultivariateNormal(mean, cov, lo, hi);
  for (double other : {0.1, 0.5, 0.9}) {
    for (int coord = 0; coord < 2; ++coord) {
      double previous = -kInf;
      for (int i = 1; i < 1000; ++i) {
        double u[2] = {other, other};
        u[coord] = i / 1000.0;
        const Eigen::VectorXd x = d.FromUnit(u);
        ASSERT_GE(x[coord], previous);
        ASSERT_TRUE((x.array() >= lo.array()).all() && (x.array() <= hi.array()).all());
        previous = x[coord];
      }
    }
  }
  Stream a(1, 2, 3, "x"), b(1, 2, 3, "x");
  for (int i = 0; i < 100; ++i) ASSERT_EQ(d.Sample(a), d.Sample(b));
  EXPECT_EQ(a.draws(), b.draws());
}

TEST(DistributionTest, InvalidParametersThrowWithTheValues) {
  const auto message = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(no exception)";
  };
  EXPECT_NE(message([] { Distribution::Uniform(0.9, 0.4); }).find("0.9"), std::string::npos);
  EXPECT_NE(message([] { Distribution::Normal(0, -1); }).find("-1"), std::string::npos);
  EXPECT_NE(message([] { Distribution::LogUniform(0, 1); }).find("> 0"), std::string::npos);
  EXPECT_NE(message([] { Distribution::Categorical({"a"}, {0}); }).find("'a'"), std::string::npos);
  EXPECT_NE(message([] { Distribution::TruncatedNormal(0, 1, 50, 60); }).find("no probability"), std::string::npos);
  Eigen::Matrix2d not_pd;
  not_pd << 1, 2, 2, 1;
  EXPECT_NE(message([&] {
              Distribution::TruncatedMultivariateNormal(Eigen::Vector2d::Zero(), not_pd, Eigen::Vector2d(-1, -1),
                                                        Eigen::Vector2d(1, 1));
            }).find("positive definite"),
            std::string::npos);
  // Scale broadcasts a 1-D factor; a mismatched size is refused.
  const Distribution scale = Distribution::Scale(Distribution::Constant(2.0));
  Stream s(0, 0, 0, "x");
  EXPECT_EQ(scale.Sample(s, Eigen::Vector3d(1, 2, 3)), Eigen::VectorXd(Eigen::Vector3d(2, 4, 6)));
  const Distribution scale2 = Distribution::Scale(Distribution::Uniform(Eigen::Vector2d(1, 1), Eigen::Vector2d(2, 2)));
  EXPECT_NE(message([&] { scale2.Sample(s, Eigen::Vector3d(1, 2, 3)); }).find("nominal"), std::string::npos);
  EXPECT_NE(message([&] { scale2.Sample(s); }).find("nominal"), std::string::npos);
}

TEST(DistributionTest, DescribeReadsLikeTheSceneFile) {
  EXPECT_EQ(Distribution::Uniform(0.4, 0.9).Describe(), "uniform [0.4, 0.9]");
  EXPECT_EQ(Distribution::LogUniform(0.001, 0.1).Describe(), "log_uniform [0.001, 0.1]");
  EXPECT_EQ(Distribution::Categorical({"wood", "steel"}, {3, 1}).Describe(), "categorical {wood: 0.75, steel: 0.25}");
  EXPECT_EQ(Distribution::Scale(Distribution::Uniform(0.9, 1.1)).Describe(), "scale by uniform [0.9, 1.1]");
}

}  // namespace
}  // namespace r2s::randomize

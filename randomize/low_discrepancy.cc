#include "randomize/low_discrepancy.h"

#include <boost/random/sobol.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace r2s::randomize {
namespace {

constexpr int kBits = 32;

std::uint32_t ReverseBits(std::uint32_t x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
  x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
  return (x >> 16) | (x << 16);
}

// A Laine-Karras style hash: output bit i depends only on input bits 0..i, which is what makes it, applied to the
// bit-reversed coordinate, a nested uniform (Owen) scramble. The constants are Vegdahl's 2021 improvement of
// Burley's hash (better mixing of the high bits); any such hash keeps the net property.
std::uint32_t LaineKarrasHash(std::uint32_t x, std::uint32_t seed) {
  x ^= x * 0x3d20adeau;
  x += seed;
  x *= (seed >> 16) | 1u;
  x ^= x * 0x05526c56u;
  x ^= x * 0x53a22864u;
  return x;
}

std::uint32_t NestedUniformScramble(std::uint32_t x, std::uint32_t seed) {
  return ReverseBits(LaineKarrasHash(ReverseBits(x), seed));
}

// Stream ids of the per-dimension scramble seeds and of the Latin hypercube's permutations and jitter, so that the
// same StreamKey drives independent numbers in each use.
constexpr std::uint32_t kScrambleTag = 0x5c7a3b1eu;
constexpr std::uint32_t kPermutationTag = 0x9e3779b9u;
constexpr std::uint32_t kJitterTag = 0x7f4a7c15u;

}  // namespace

ScrambledSobol::ScrambledSobol(int dimension) : dimension_(dimension) {
  if (dimension < 1 || dimension > kMaxDimension) {
    throw std::invalid_argument("ScrambledSobol: dimension " + std::to_string(dimension) + " outside [1, " +
                                std::to_string(kMaxDimension) + "]");
  }
  // Boost's lattice holds, for bit k of the index and dimension j, the direction number at [dimension * k + j],
  // already shifted to the top of the 32-bit word.
  const boost::random::qrng_detail::sobol_lattice<std::uint32_t, kBits, boost::random::default_sobol_table> lattice(
      static_cast<std::size_t>(dimension));
  directions_.resize(static_cast<std::size_t>(dimension) * kBits);
  for (int j = 0; j < dimension; ++j) {
    for (int k = 0; k < kBits; ++k) {
      directions_[static_cast<std::size_t>(j) * kBits + k] =
          *lattice.iter_at(static_cast<std::size_t>(dimension) * k + j);
    }
  }
}

ScrambledSobol::ScrambledSobol(int dimension, const StreamKey& key) : ScrambledSobol(dimension) {
  StreamKey scramble_key = key;
  scramble_key.stream ^= kScrambleTag;
  const PhiloxKey philox_key = DeriveKey(scramble_key);
  scramble_seeds_.resize(static_cast<std::size_t>(dimension));
  for (int j = 0; j < dimension; ++j) {
    scramble_seeds_[static_cast<std::size_t>(j)] = Philox(philox_key, static_cast<std::uint32_t>(j), 0, 0, 0).w[0];
  }
}

ScrambledSobol ScrambledSobol::Unscrambled(int dimension) { return ScrambledSobol(dimension); }

std::uint32_t ScrambledSobol::Bits(std::uint32_t index, int dim) const {
  if (dim < 0 || dim >= dimension_) throw std::out_of_range("ScrambledSobol: dimension index out of range");
  const std::uint32_t* v = directions_.data() + static_cast<std::size_t>(dim) * kBits;
  std::uint32_t x = 0;
  for (int k = 0; index != 0; ++k, index >>= 1) {
    if (index & 1u) x ^= v[k];
  }
  return scramble_seeds_.empty() ? x : NestedUniformScramble(x, scramble_seeds_[static_cast<std::size_t>(dim)]);
}

void ScrambledSobol::Point(std::uint32_t index, std::span<double> out) const {
  if (static_cast<int>(out.size()) != dimension_) throw std::invalid_argument("ScrambledSobol: output size mismatch");
  for (int j = 0; j < dimension_; ++j) out[static_cast<std::size_t>(j)] = U01(Bits(index, j));
}

std::vector<double> ScrambledSobol::Point(std::uint32_t index) const {
  std::vector<double> out(static_cast<std::size_t>(dimension_));
  Point(index, out);
  return out;
}

std::uint32_t KeyedPermutation(std::uint32_t index, std::uint32_t n, PhiloxKey key, std::uint32_t tweak) {
  if (n == 0) throw std::invalid_argument("KeyedPermutation: empty domain");
  if (index >= n) throw std::out_of_range("KeyedPermutation: index outside [0, n)");
  if (n == 1) return 0;
  int bits = 0;
  while (bits < 32 && (std::uint64_t{1} << bits) < n) ++bits;
  const int half = (bits + 1) / 2;
  const std::uint64_t half_mask = (std::uint64_t{1} << half) - 1;
  std::uint64_t x = index;
  // A Feistel network is a bijection on [0, 2^(2 half)) whatever its round function; walking the cycle until the
  // value falls back into [0, n) restricts it to a bijection of [0, n). The domain is under 4n, so a few steps do.
  do {
    std::uint64_t left = x >> half;
    std::uint64_t right = x & half_mask;
    for (std::uint32_t round = 0; round < 4; ++round) {
      const std::uint64_t f =
          Philox(key, static_cast<std::uint32_t>(right), round, tweak, kPermutationTag).w[0] & half_mask;
      const std::uint64_t next_right = left ^ f;
      left = right;
      right = next_right;
    }
    x = (left << half) | right;
  } while (x >= n);
  return static_cast<std::uint32_t>(x);
}

LatinHypercube::LatinHypercube(int dimension, std::uint32_t count, const StreamKey& key)
    : dimension_(dimension), count_(count), key_(DeriveKey(key)) {
  if (dimension < 1) throw std::invalid_argument("LatinHypercube: dimension must be at least 1");
  if (count < 1) throw std::invalid_argument("LatinHypercube: count must be at least 1");
}

void LatinHypercube::Point(std::uint32_t index, std::span<double> out) const {
  if (index >= count_) {
    throw std::out_of_range("LatinHypercube: index " + std::to_string(index) + " outside [0, " +
                            std::to_string(count_) + ")");
  }
  if (static_cast<int>(out.size()) != dimension_) throw std::invalid_argument("LatinHypercube: output size mismatch");
  for (int j = 0; j < dimension_; ++j) {
    const std::uint32_t stratum = KeyedPermutation(index, count_, key_, static_cast<std::uint32_t>(j));
    const PhiloxBlock b = Philox(key_, index, static_cast<std::uint32_t>(j), 0, kJitterTag);
    const double jitter = U01(b.w[0], b.w[1]);
    out[static_cast<std::size_t>(j)] = (static_cast<double>(stratum) + jitter) / static_cast<double>(count_);
  }
}

std::vector<double> LatinHypercube::Point(std::uint32_t index) const {
  std::vector<double> out(static_cast<std::size_t>(dimension_));
  Point(index, out);
  return out;
}

std::vector<std::vector<double>> StratifiedSample(int dimension, std::uint32_t count, const StreamKey& key) {
  const LatinHypercube lhs(dimension, count, key);
  std::vector<std::vector<double>> points;
  points.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) points.push_back(lhs.Point(i));
  return points;
}

double CenteredL2Discrepancy(const std::vector<std::vector<double>>& points) {
  if (points.empty()) throw std::invalid_argument("CenteredL2Discrepancy: no points");
  const std::size_t d = points.front().size();
  for (const auto& p : points) {
    if (p.size() != d) throw std::invalid_argument("CenteredL2Discrepancy: points of different dimensions");
  }
  const double n = static_cast<double>(points.size());
  // Hickernell (1998), eq. for CD_2^2:
  //   (13/12)^d - 2/n sum_i prod_k (1 + |x_ik - 1/2|/2 - |x_ik - 1/2|^2/2)
  //   + 1/n^2 sum_i sum_j prod_k (1 + |x_ik - 1/2|/2 + |x_jk - 1/2|/2 - |x_ik - x_jk|/2)
  double single = 0;
  for (const auto& p : points) {
    double prod = 1;
    for (std::size_t k = 0; k < d; ++k) {
      const double a = std::abs(p[k] - 0.5);
      prod *= 1 + 0.5 * a - 0.5 * a * a;
    }
    single += prod;
  }
  double pairs = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    for (std::size_t j = 0; j < points.size(); ++j) {
      double prod = 1;
      for (std::size_t k = 0; k < d; ++k) {
        const double xi = points[i][k];
        const double xj = points[j][k];
        prod *= 1 + 0.5 * std::abs(xi - 0.5) + 0.5 * std::abs(xj - 0.5) - 0.5 * std::abs(xi - xj);
      }
      pairs += prod;
    }
  }
  const double squared = std::pow(13.0 / 12.0, static_cast<double>(d)) - 2.0 / n * single + pairs / (n * n);
  return std::sqrt(std::max(squared, 0.0));
}

}  // namespace r2s::randomize

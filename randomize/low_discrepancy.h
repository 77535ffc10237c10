#pragma once
// Low-discrepancy point sets on the unit cube, for covering condition axes more evenly than i.i.d. draws:
// a scrambled Sobol sequence, a Latin hypercube, and the centered L2 discrepancy that measures either.
//
// Every point is a pure function of (key, index) -- and, for the Latin hypercube, of the point count -- so shards
// and threads compute their own points and agree with a single-process run.

#include <cstdint>
#include <span>
#include <vector>

#include "randomize/philox.h"

namespace r2s::randomize {

// Points of a d-dimensional Sobol sequence (Joe-Kuo direction numbers, taken from Boost.Random's table) in natural
// (not Gray-code) order, each coordinate Owen-scrambled with the hash-based nested uniform scramble of Burley 2020
// ("Practical Hash-based Owen Scrambling", JCGT 9(4)) under a per-dimension seed drawn from Philox.
//
// Owen scrambling keeps the net structure: for every m, points [j 2^m, (j+1) 2^m) hold exactly one point in each
// 1/2^m interval of every coordinate, while each key gives a different, independently randomized point set.
// There is no index shuffle, so every prefix [0, 2^m) is such a net.
class ScrambledSobol {
 public:
  // Boost.Random's table holds direction numbers for this many dimensions.
  static constexpr int kMaxDimension = 3667;

  // Throws std::invalid_argument unless 1 <= dimension <= kMaxDimension.
  ScrambledSobol(int dimension, const StreamKey& key);

  // The plain Sobol sequence (no scrambling): for tests and for comparison with published points.
  static ScrambledSobol Unscrambled(int dimension);

  int dimension() const { return dimension_; }

  // Point `index` in the open cube (0, 1)^d.
  std::vector<double> Point(std::uint32_t index) const;
  void Point(std::uint32_t index, std::span<double> out) const;

  // The 32-bit integer coordinate behind Point(index)[dim]: the point is (bits + 0.5) / 2^32.
  std::uint32_t Bits(std::uint32_t index, int dim) const;

 private:
  explicit ScrambledSobol(int dimension);

  int dimension_ = 0;
  std::vector<std::uint32_t> directions_;      // [dim * 32 + bit]: the direction number for bit `bit` of the index
  std::vector<std::uint32_t> scramble_seeds_;  // one per dimension; empty when unscrambled
};

// A Latin hypercube of `count` points: in every coordinate each of the `count` strata [k/count, (k+1)/count) holds
// exactly one point. Point i's stratum in coordinate j is a keyed pseudo-random permutation of i (one per
// coordinate), jittered uniformly within the stratum; both come from Philox under the key.
class LatinHypercube {
 public:
  // Throws std::invalid_argument unless dimension >= 1 and count >= 1.
  LatinHypercube(int dimension, std::uint32_t count, const StreamKey& key);

  int dimension() const { return dimension_; }
  std::uint32_t count() const { return count_; }

  // Point `index` (< count, else std::out_of_range) in the open cube (0, 1)^d.
  std::vector<double> Point(std::uint32_t index) const;
  void Point(std::uint32_t index, std::span<double> out) const;

 private:
  int dimension_ = 0;
  std::uint32_t count_ = 0;
  PhiloxKey key_;
};

// All `count` points of a Latin hypercube under `key`.
std::vector<std::vector<double>> StratifiedSample(int dimension, std::uint32_t count, const StreamKey& key);

// A keyed bijection of [0, n): a four-round Feistel network on the smallest even number of bits that holds n,
// cycle-walked into [0, n); the round function is Philox under `key` with `tweak` in the counter.
// Throws std::invalid_argument for n == 0 and std::out_of_range for index >= n.
std::uint32_t KeyedPermutation(std::uint32_t index, std::uint32_t n, PhiloxKey key, std::uint32_t tweak);

// Hickernell's centered L2 discrepancy (1998, closed form) of points in [0, 1]^d: lower is more uniform. For i.i.d.
// points it falls as 1/sqrt(n), for a good low-discrepancy set nearly as 1/n. Costs O(n^2 d).
// Throws std::invalid_argument for no points or points of different dimensions.
double CenteredL2Discrepancy(const std::vector<std::vector<double>>& points);

}  // namespace r2s::randomize

// Philox streams: Random123's published answers, determinism across threads, independence of keys, U01's range.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "randomize/philox.h"
#include "randomize/stream.h"

namespace r2s::randomize {
namespace {

// Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter (4 words), key (2 words), result (4 words).
struct Kat {
  std::array<std::uint32_t, 4> ctr;
  std::array<std::uint32_t, 2> key;
  std::array<std::uint32_t, 4> expected;
};
constexpr Kat kKats[] = {
    {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

TEST(PhiloxTest, MatchesRandom123KnownAnswers) {
  for (const Kat& kat : kKats) {
    const PhiloxBlock b = Philox(PhiloxKey{kat.key[0], kat.key[1]}, kat.ctr[0], kat.ctr[1], kat.ctr[2], kat.ctr[3]);
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(b.w[i], kat.expected[i]) << "word " << i << " of ctr " << std::hex << kat.ctr[0];
  }
}

TEST(StreamTest, WordsAreConsecutivePhiloxBlocksUnderTheDerivedKey) {
  const StreamKey key{0x0123456789abcdefULL, 7, 42, StreamId("physics")};
  const PhiloxKey k = DeriveKey(key);
  Stream stream(key);
  for (std::uint32_t block = 0; block < 5; ++block) {
    const PhiloxBlock b = Philox(k, block, 0, 0, 0);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(stream.NextU32(), b.w[i]) << "block " << block << " word " << i;
  }
  EXPECT_EQ(stream.draws(), 20u);
  // Uniform01 uses the next two words, the first as the high bits.
  const PhiloxBlock b = Philox(k, 5, 0, 0, 0);
  EXPECT_EQ(stream.Uniform01(), U01(b.w[0], b.w[1]));
  EXPECT_EQ(stream.draws(), 22u);
  // The name constructor is StreamId(name).
  Stream named(0x0123456789abcdefULL, 7, 42, "physics");
  EXPECT_EQ(named.NextU32(), Philox(k, 0, 0, 0, 0).w[0]);
}

std::vector<double> Sequence(const StreamKey& key, int n) {
  Stream s(key);
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(i % 3 == 2 ? s.Normal() : s.Uniform01());
  return out;
}

TEST(StreamTest, SameKeyGivesSameValuesFromEightThreadsInAnyOrder) {
  constexpr int kKeys = 64;
  constexpr int kDraws = 2000;
  std::vector<StreamKey> keys;
  for (int i = 0; i < kKeys; ++i) {
    keys.push_back(StreamKey{99, static_cast<std::uint32_t>(i % 8), static_cast<std::uint32_t>(i / 8), StreamId("x")});
  }
  std::vector<std::vector<double>> reference;
  for (const StreamKey& key : keys) reference.push_back(Sequence(key, kDraws));

  // Each thread walks every key in its own shuffled order; results land in per-thread tables.
  constexpr int kThreads = 8;
  std::vector<std::vector<std::vector<double>>> results(kThreads, std::vector<std::vector<double>>(kKeys));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<int> order(kKeys);
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), std::mt19937(static_cast<unsigned>(t)));
      for (int i : order) results[t][i] = Sequence(keys[i], kDraws);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kKeys; ++i) ASSERT_EQ(results[t][i], reference[i]) << "thread " << t << " key " << i;
  }
}

TEST(StreamTest, DifferentEpisodeVariantStreamOrSeedGiveDifferentSequences) {
  const StreamKey base{5, 10, 20, StreamId("physics")};
  std::vector<StreamKey> keys = {base};
  keys.push_back({6, 10, 20, StreamId("physics")});
  keys.push_back({5, 11, 20, StreamId("physics")});
  keys.push_back({5, 10, 21, StreamId("physics")});
  keys.push_back({5, 10, 20, StreamId("conditions")});
  keys.push_back({5ULL | (1ULL << 40), 10, 20, StreamId("physics")});  // seed's high word matters too
  keys.push_back({5, 20, 10, StreamId("physics")});                    // episode and variant are not interchangeable
  std::set<std::vector<std::uint32_t>> sequences;
  for (const StreamKey& key : keys) {
    Stream s(key);
    std::vector<std::uint32_t> words;
    for (int i = 0; i < 16; ++i) words.push_back(s.NextU32());
    sequences.insert(words);
  }
  EXPECT_EQ(sequences.size(), keys.size());
  // Neighbouring keys are not shifted copies of each other: no shared words at all in the first 4096.
  Stream a(keys[0]), b(keys[2]);
  std::set<std::uint32_t> wa;
  for (int i = 0; i < 4096; ++i) wa.insert(a.NextU32());
  int shared = 0;
  for (int i = 0; i < 4096; ++i) shared += wa.count(b.NextU32()) ? 1 : 0;
  EXPECT_LE(shared, 2);  // ~4096^2 / 2^32 = 0.004 expected by chance
}

TEST(StreamTest, StreamIdIsStableFnv1a) {
  // FNV-1a 32 of "" and "a" (published test values).
  static_assert(StreamId("") == 0x811c9dc5u);
  static_assert(StreamId("a") == 0xe40c292cu);
  EXPECT_NE(StreamId("physics"), StreamId("conditions"));
}

TEST(StreamTest, U01AndUniform01NeverReturnZeroOrOne) {
  for (std::uint32_t x : {0u, 1u, 0x7fffffffu, 0xfffffffeu, 0xffffffffu}) {
    EXPECT_GT(U01(x), 0.0);
    EXPECT_LT(U01(x), 1.0);
  }
  Stream s(StreamKey{3, 0, 0, 0});
  double lo = 1, hi = 0;
  for (int i = 0; i < 200000; ++i) {
    const double u = s.Uniform01();
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  EXPECT_LT(lo, 1e-4);
  EXPECT_GT(hi, 1 - 1e-4);
}

// The two-word form at its extremes: with all 64 bits set, the draw must still be below 1 (else the normal
// quantile of it is +inf).
TEST(StreamTest, TwoWordU01NeverReturnsZeroOrOne) {
  for (std::uint32_t hi : {0u, 0xffffffffu}) {
    for (std::uint32_t lo : {0u, 0xffffffffu}) {
      EXPECT_GT(U01(hi, lo), 0.0) << std::hex << hi << " " << lo;
      EXPECT_LT(U01(hi, lo), 1.0) << std::hex << hi << " " << lo;
    }
  }
}

TEST(StreamTest, NormalIsTheQuantileOfTheNextUniform) {
  Stream a(StreamKey{8, 1, 2, 3}), b(StreamKey{8, 1, 2, 3});
  double sum = 0, sum2 = 0;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i) {
    const double z = a.Normal();
    const double u = b.Uniform01();
    // Phi(z) == u up to rounding of the quantile.
    ASSERT_NEAR(0.5 * std::erfc(-z / std::sqrt(2.0)), u, 1e-12 * std::max(1.0, 1 / u)) << i;
    sum += z;
    sum2 += z * z;
  }
  EXPECT_EQ(a.draws(), 2u * kN);
  EXPECT_NEAR(sum / kN, 0, 0.015);        // 5 standard errors
  EXPECT_NEAR(sum2 / kN, 1, 5 * 0.0045);  // sd of the sample variance: sqrt(2 / n)
}

}  // namespace
}  // namespace r2s::randomize

#pragma once
// Counter-based random numbers: Philox4x32-10 (Random123), usable from host and CUDA code alike, so a draw is a
// pure function of (key, counter) -- never of thread count, order, shard or device.
//
// Keying: a run seed (64 bits) and a stream (source episode, variant, named stream: 3 x 32 bits) give a
// 64-bit Philox key, derived by one Philox call on the seed; the 128-bit counter then indexes draws within the
// stream (for per-pixel noise: pixel, frame, ...). Each call yields four 32-bit words.

#include <cstdint>
#include <string_view>

#include <Random123/philox.h>

#if defined(__CUDACC__)
#define R2S_HOST_DEVICE __host__ __device__
#else
#define R2S_HOST_DEVICE
#endif

namespace r2s::randomize {

struct PhiloxKey {
  std::uint32_t k0 = 0;
  std::uint32_t k1 = 0;
};

struct PhiloxBlock {
  std::uint32_t w[4];
};

// One Philox4x32-10 evaluation.
R2S_HOST_DEVICE inline PhiloxBlock Philox(PhiloxKey key, std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                                          std::uint32_t c3) {
  r123::Philox4x32 rng;
  r123::Philox4x32::ctr_type ctr = {{c0, c1, c2, c3}};
  r123::Philox4x32::key_type k = {{key.k0, key.k1}};
  const r123::Philox4x32::ctr_type out = rng(ctr, k);
  return PhiloxBlock{{out.v[0], out.v[1], out.v[2], out.v[3]}};
}

// Where a stream of draws lives: the run's seed, the source episode, the variant and a named stream
// (StreamId("physics"), StreamId("noise/front"), ...).
struct StreamKey {
  std::uint64_t seed = 0;
  std::uint32_t episode = 0;
  std::uint32_t variant = 0;
  std::uint32_t stream = 0;
};

// The stream's own Philox key: Philox under the seed, at a counter no draw uses (the last word all ones).
R2S_HOST_DEVICE inline PhiloxKey DeriveKey(const StreamKey& s) {
  const PhiloxKey seed_key{static_cast<std::uint32_t>(s.seed), static_cast<std::uint32_t>(s.seed >> 32)};
  const PhiloxBlock b = Philox(seed_key, s.episode, s.variant, s.stream, 0xFFFFFFFFu);
  return PhiloxKey{b.w[0], b.w[1]};
}

// A uniform double in the open interval (0, 1) from 32 bits: (x + 0.5) / 2^32, exact in double on any device.
R2S_HOST_DEVICE inline double U01(std::uint32_t x) { return (static_cast<double>(x) + 0.5) * (1.0 / 4294967296.0); }

// A uniform double in (0, 1) from two words (52 bits): for inverse-CDF draws deep in the tails. 52, not 53:
// with 53 bits the largest value, (2^53 - 0.5) / 2^53, rounds to exactly 1.0.
R2S_HOST_DEVICE inline double U01(std::uint32_t hi, std::uint32_t lo) {
  const std::uint64_t bits = (static_cast<std::uint64_t>(hi) << 20) | (lo >> 12);  // 52 bits
  return (static_cast<double>(bits) + 0.5) * (1.0 / 4503599627370496.0);
}

// FNV-1a, 32 bits: a stable id for a stream name, the same on every platform and run.
constexpr std::uint32_t StreamId(std::string_view name) {
  std::uint32_t h = 2166136261u;
  for (char c : name) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

}  // namespace r2s::randomize

#include "randomize/stream.h"

#include "randomize/distribution.h"

namespace r2s::randomize {

Stream::Stream(const StreamKey& key) : key_(key), philox_key_(DeriveKey(key)) {}

Stream::Stream(std::uint64_t seed, std::uint32_t episode, std::uint32_t variant, std::string_view name)
    : Stream(StreamKey{seed, episode, variant, StreamId(name)}) {}

std::uint32_t Stream::NextU32() {
  const unsigned lane = static_cast<unsigned>(words_ & 3u);
  if (lane == 0) {
    const std::uint64_t block = words_ >> 2;
    block_ = Philox(philox_key_, static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32), 0, 0);
  }
  ++words_;
  return block_.w[lane];
}

double Stream::Uniform01() {
  const std::uint32_t hi = NextU32();
  const std::uint32_t lo = NextU32();
  return U01(hi, lo);
}

double Stream::Normal() { return NormalQuantile(Uniform01()); }

}  // namespace r2s::randomize

#pragma once
// A sequential view of one Philox stream: block i of the stream is Philox(DeriveKey(key), i_lo, i_hi, 0, 0)
// (randomize/philox.h), four 32-bit words per block, consumed in order. A draw is therefore a pure function of
// the key and of how many words came before it -- never of the thread, the order streams are used in, or the
// device. The counter's last two words stay 0, so kernels that index their own draws (pixel, frame) with those
// words never collide with a Stream's blocks under the same key. Not thread-safe: one Stream per worker.

#include <cstdint>
#include <string_view>

#include "randomize/philox.h"

namespace r2s::randomize {

class Stream {
 public:
  explicit Stream(const StreamKey& key);
  // The stream named `name` (StreamId(name)) of (seed, episode, variant).
  Stream(std::uint64_t seed, std::uint32_t episode, std::uint32_t variant, std::string_view name);

  std::uint32_t NextU32();
  // Uniform in the open interval (0, 1) from two words, first word high: U01(hi, lo) of philox.h.
  double Uniform01();
  // Standard normal by inversion: NormalQuantile(Uniform01()), two words per draw. Inversion (rather than
  // Box-Muller) keeps every draw a function of its own two words, so no value is cached between calls and a
  // draw's position in the stream is all that decides it.
  double Normal();

  // Words consumed so far.
  std::uint64_t draws() const { return words_; }
  const StreamKey& key() const { return key_; }

 private:
  StreamKey key_;
  PhiloxKey philox_key_;
  std::uint64_t words_ = 0;  // next word's index in the stream
  PhiloxBlock block_{};      // the block holding word (words_ - 1), valid when words_ % 4 != 0
};

}  // namespace r2s::randomize

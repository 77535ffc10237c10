#include "episode/frame_deflate.h"

#include <libdeflate.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace r2s::episode {

FrameStorage FrameStorageFor(const FeatureSpec& spec) {
  // Per-pixel maps (depth in metres, segmentation ids: [H, W] frames) are stored like images, losslessly
  // compressed, their bytes shuffled where that deflates smaller: raw they were most of a rendered dataset's size.
  // [H, W, 1] is the robomimic layout's shape for them (robosuite's, what its depth processing expects).
  const bool pixel_map = !spec.IsImage() &&
                         (spec.shape.size() == 2 || (spec.shape.size() == 3 && spec.shape[2] == 1)) &&
                         spec.shape[0] >= 16 && spec.shape[1] >= 16;
  return {spec.IsImage() || pixel_map, pixel_map && DTypeSize(spec.dtype) > 1};
}

// libdeflate compresses 2-3x faster than zlib at the same level, in the zlib format HDF5's deflate filter reads.
struct FrameDeflater::Compressor {
  libdeflate_compressor* get = nullptr;
  ~Compressor() { libdeflate_free_compressor(get); }
};

FrameDeflater::FrameDeflater(std::size_t frame_bytes, std::size_t element_bytes, int level, bool shuffle)
    : frame_bytes_(frame_bytes),
      element_bytes_(element_bytes),
      shuffle_(shuffle && element_bytes > 1),
      compressor_(std::make_unique<Compressor>()) {
  if (level < 1 || level > 9) throw std::invalid_argument("FrameDeflater: level " + std::to_string(level));
  compressor_->get = libdeflate_alloc_compressor(level);
  if (!compressor_->get) throw std::runtime_error("libdeflate: cannot allocate a compressor");
  out_.resize(libdeflate_zlib_compress_bound(compressor_->get, frame_bytes));
  if (shuffle_) shuffled_.resize(frame_bytes);
}

FrameDeflater::~FrameDeflater() = default;

std::span<const std::byte> FrameDeflater::Deflate(const std::byte* frame) {
  if (shuffle_) {  // H5Z's shuffle: every element's first byte, then every second byte, ...
    const std::size_t n = frame_bytes_ / element_bytes_;
    for (std::size_t b = 0; b < element_bytes_; ++b) {
      for (std::size_t i = 0; i < n; ++i) shuffled_[b * n + i] = frame[i * element_bytes_ + b];
    }
    frame = shuffled_.data();
  }
  const std::size_t size = libdeflate_zlib_compress(compressor_->get, frame, frame_bytes_, out_.data(), out_.size());
  if (size == 0) throw std::runtime_error("libdeflate: a frame did not fit its compression bound");
  return {out_.data(), size};
}

bool ShuffleDeflatesSmaller(const Array& frames, int level) {
  if (DTypeSize(frames.dtype) < 2 || frames.shape.empty() || frames.shape[0] == 0 || frames.bytes.empty()) {
    return false;
  }
  const std::size_t count = static_cast<std::size_t>(frames.shape[0]);
  const std::size_t frame_bytes = frames.bytes.size() / count;
  const std::byte* middle = frames.bytes.data() + count / 2 * frame_bytes;
  const std::size_t shuffled = FrameDeflater(frame_bytes, DTypeSize(frames.dtype), level, true).Deflate(middle).size();
  const std::size_t plain = FrameDeflater(frame_bytes, DTypeSize(frames.dtype), level, false).Deflate(middle).size();
  return shuffled <= plain;
}

bool ShuffleFor(const FrameStorage& storage, const Array& frames, int level) {
  return storage.may_shuffle && ShuffleDeflatesSmaller(frames, level);
}

DeflatedFrames DeflateFrames(const Array& frames, int level, bool shuffle) {
  DeflatedFrames out;
  out.level = level;
  out.shuffle = shuffle && DTypeSize(frames.dtype) > 1;  // as FrameDeflater applies it
  if (frames.shape.empty() || frames.shape[0] == 0 || frames.bytes.empty()) return out;
  const std::size_t count = static_cast<std::size_t>(frames.shape[0]);
  const std::size_t frame_bytes = frames.bytes.size() / count;
  FrameDeflater deflater(frame_bytes, DTypeSize(frames.dtype), level, shuffle);
  out.chunks.reserve(count);
  for (std::size_t t = 0; t < count; ++t) {
    const std::span<const std::byte> chunk = deflater.Deflate(frames.bytes.data() + t * frame_bytes);
    out.chunks.emplace_back(chunk.begin(), chunk.end());
  }
  return out;
}

void DeflateFrameColumns(Episode& episode, const DatasetInfo& info, int level) {
  for (auto& [name, column] : episode.columns) {
    const auto spec = info.features.find(name);
    if (spec == info.features.end()) continue;
    const FrameStorage storage = FrameStorageFor(spec->second);
    if (!storage.per_frame || column.data.shape.size() < 3) continue;
    column.deflated = std::make_shared<const DeflatedFrames>(
        DeflateFrames(column.data, level, ShuffleFor(storage, column.data, level)));
  }
}

}  // namespace r2s::episode

#include "episode/frame_deflate.h"

#include <libdeflate.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace r2s::episode {

FrameStorage FrameStorageFor(const FeatureSpec& spec) {
  // Per-pixel maps (depth in metres, segmentation ids: [H, W] frames) are stored like images, losslessly
  // compressed, with their bytes shuffled: raw they were most of a rendered dataset's size.
  // [H, W, 1] is the robomimic layout's shape for them (robosuite's, what its depth processing expects).
  const bool pixel_map = !spec.IsImage() &&
                         (spec.shape.size() == 2 || (spec.shape.size() == 3 && spec.shape[2] == 1)) &&
                         spec.shape[0] >= 16 && spec.shape[1] >= 16;
  return {spec.IsImage() || pixel_map, pixel_map && DTypeSize(spec.dtype) > 1};
}

// libdeflate compresses 2-3x faster than zlib at the same level, in the zlib format HDF5's deflate filter reads.
DeflatedFrames DeflateFrames(const Array& frames, int level, bool shuffle) {
  if (level < 1 || level > 9) throw std::invalid_argument("DeflateFrames: level " + std::to_string(level));
  DeflatedFrames out;
  out.level = level;
  out.shuffle = shuffle;
  if (frames.shape.empty() || frames.shape[0] == 0 || frames.bytes.empty()) return out;
  const std::size_t count = static_cast<std::size_t>(frames.shape[0]);
  const std::size_t frame_bytes = frames.bytes.size() / count;
  const std::size_t element = DTypeSize(frames.dtype);
  std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)> compressor(
      libdeflate_alloc_compressor(level), &libdeflate_free_compressor);
  if (!compressor) throw std::runtime_error("libdeflate: cannot allocate a compressor");
  std::vector<std::byte> bound(libdeflate_zlib_compress_bound(compressor.get(), frame_bytes));
  std::vector<std::byte> shuffled(shuffle ? frame_bytes : 0);
  out.chunks.reserve(count);
  for (std::size_t t = 0; t < count; ++t) {
    const std::byte* frame = frames.bytes.data() + t * frame_bytes;
    if (shuffle) {  // H5Z's shuffle: every element's first byte, then every second byte, ...
      const std::size_t n = frame_bytes / element;
      for (std::size_t b = 0; b < element; ++b) {
        for (std::size_t i = 0; i < n; ++i) shuffled[b * n + i] = frame[i * element + b];
      }
      frame = shuffled.data();
    }
    const std::size_t size = libdeflate_zlib_compress(compressor.get(), frame, frame_bytes, bound.data(), bound.size());
    if (size == 0) throw std::runtime_error("libdeflate: a frame did not fit its compression bound");
    out.chunks.emplace_back(bound.begin(), bound.begin() + static_cast<std::ptrdiff_t>(size));
  }
  return out;
}

void DeflateFrameColumns(Episode& episode, const DatasetInfo& info, int level) {
  for (auto& [name, column] : episode.columns) {
    const auto spec = info.features.find(name);
    if (spec == info.features.end()) continue;
    const FrameStorage storage = FrameStorageFor(spec->second);
    if (!storage.per_frame || column.data.shape.size() < 3) continue;
    column.deflated = std::make_shared<const DeflatedFrames>(DeflateFrames(column.data, level, storage.shuffle));
  }
}

}  // namespace r2s::episode

#pragma once
// Image-like columns deflated frame by frame exactly as the HDF5 writer stores them (one frame per chunk; HDF5's
// byte shuffle for multi-byte per-pixel maps; deflate in zlib format), so that the work can be done where a core is
// free (a generator's worker, right after making the episode) and the thread that writes the file only hands the
// chunks to HDF5. The bytes are the same wherever they are made. No HDF5 here: safe on any thread.

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "episode/array.h"
#include "episode/dataset_info.h"
#include "episode/episode.h"

namespace r2s::episode {

struct DeflatedFrames {
  int level = 0;         // deflate level 1..9
  bool shuffle = false;  // the frames' bytes were shuffled first
  std::vector<std::vector<std::byte>> chunks;  // one zlib stream per frame
};

// How the HDF5 writer stores a feature's frames: images (uint8 [H, W, C]) and per-pixel maps ([H, W] or [H, W, 1] of
// at least 16x16: depth, segmentation) one frame per compressed chunk, the maps' multi-byte values shuffled.
struct FrameStorage {
  bool per_frame = false;
  bool shuffle = false;
};
FrameStorage FrameStorageFor(const FeatureSpec& spec);

// Deflates one frame at a time, reusing its compressor and buffers: for a writer that streams frames to the file
// without holding a column's compressed chunks. Not thread-safe; one per thread.
class FrameDeflater {
 public:
  // Frames of `frame_bytes` bytes of `element_bytes`-byte values, at `level` (1..9), shuffled first when `shuffle`.
  FrameDeflater(std::size_t frame_bytes, std::size_t element_bytes, int level, bool shuffle);
  ~FrameDeflater();
  FrameDeflater(const FrameDeflater&) = delete;
  FrameDeflater& operator=(const FrameDeflater&) = delete;

  // The zlib stream of one frame; valid until the next call.
  std::span<const std::byte> Deflate(const std::byte* frame);

 private:
  struct Compressor;
  std::size_t frame_bytes_, element_bytes_;
  bool shuffle_;
  std::unique_ptr<Compressor> compressor_;
  std::vector<std::byte> shuffled_, out_;
};

// `frames` ({T, ...}) deflated at `level` (1..9), one chunk per frame, shuffled first when `shuffle`.
DeflatedFrames DeflateFrames(const Array& frames, int level, bool shuffle);

// Sets Column::deflated for every column of `episode` that `info` stores per frame, at `level`; leaves the rest.
void DeflateFrameColumns(Episode& episode, const DatasetInfo& info, int level);

}  // namespace r2s::episode

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
// at least 16x16: depth, segmentation) one frame per compressed chunk; the maps' multi-byte values may be shuffled
// (ShuffleFor decides, column by column).
struct FrameStorage {
  bool per_frame = false;
  bool may_shuffle = false;
};
FrameStorage FrameStorageFor(const FeatureSpec& spec);

// Whether `frames` ({T, ...}, multi-byte values) deflate smaller at `level` with their bytes shuffled (HDF5's
// shuffle filter), tried both ways on the middle frame. Shuffling groups the bytes by significance, which suits
// values that vary smoothly (a rendered depth map: each pixel's float differs only in its low bytes); values that
// repeat exactly (a depth sensor's disparity steps, a few thousand distinct floats) deflate smaller unshuffled,
// where whole values match earlier ones: on the tabletop's 640x480 noisy depth 250 kB against 456 kB a frame, and
// in 70 % of the time. Deterministic: the bytes decide. False for one-byte values and for no frames.
bool ShuffleDeflatesSmaller(const Array& frames, int level);

// The shuffle a column of `frames` is stored with: when storage.may_shuffle, ShuffleDeflatesSmaller.
bool ShuffleFor(const FrameStorage& storage, const Array& frames, int level);

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

#pragma once
// Writes episodes in an HDF5 layout; a dataset read by DatasetReader is written back in the layout it was read
// from, and read -> write -> read gives identical names, dtypes, shapes, values and attributes.
//
// Nothing half-written: every file is written under a temporary name in its destination folder and renamed
// when complete (ALOHA: each episode file as it is appended; robomimic: the one file on Commit). A writer
// destroyed without Commit removes its temporary file.

#include <filesystem>
#include <memory>

#include "episode/dataset_info.h"
#include "episode/episode.h"

namespace r2s::episode {

struct WriteOptions {
  // Images (uint8 [H, W, C] features) are chunked one frame per chunk and deflate-compressed at this level
  // (1 fastest .. 9 smallest). 1 by default: on camera-like 640x480 frames level 4 (h5py's gzip default) made
  // files only 3.6% smaller but writes 24% slower, at the same read speed (bench/run_episode_io.sh).
  int image_deflate_level = 1;
  bool overwrite = false;  // replace existing output files instead of refusing
};

class DatasetWriter {
 public:
  // robomimic: `path` is the output file. ALOHA: `path` is a folder; episode i goes to episode_<index>.hdf5.
  static DatasetWriter Create(const std::filesystem::path& path, const DatasetInfo& info, WriteOptions options = {});

  DatasetWriter(DatasetWriter&&) noexcept;
  DatasetWriter& operator=(DatasetWriter&&) noexcept;
  ~DatasetWriter();

  // Validates the episode against info.features (throws InputError listing every mismatch) and writes it.
  void Append(const Episode& episode);
  // robomimic: copies episode `source_index` (its group data/demo_<source_index>, of `frames` frames) of another
  // robomimic file this writer's schema wrote, as episode `index`, without decoding it: HDF5 copies the stored,
  // compressed chunks as they are. For assembling one dataset from others; InputError naming the source when the
  // file or its episode cannot be read. Not for ALOHA, whose episodes are whole files.
  void AppendCopy(const std::filesystem::path& source, std::int64_t source_index, std::int64_t index,
                  std::int64_t frames);
  // Finishes the dataset (robomimic: data.total, then the rename). Further Appends throw.
  void Commit();

  class Impl;

 private:
  explicit DatasetWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace r2s::episode

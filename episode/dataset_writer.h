#pragma once
// Writes episodes in an HDF5 layout or as a LeRobot dataset (v2.1 or v3.0); a dataset read by DatasetReader is
// written back in the layout (and LeRobot version) it was read from, and read -> write -> read gives identical
// names, dtypes, shapes and values (LeRobot video frames: within the encoder's loss, docs/data.md).
//
// Nothing half-written: every file is written under a temporary name in its destination folder and renamed
// when complete (ALOHA: each episode file as it is appended; robomimic: the one file on Commit). A writer
// destroyed without Commit removes its temporary file.

#include <filesystem>
#include <memory>
#include <string>

#include "episode/dataset_info.h"
#include "episode/episode.h"
#include "episode/video/encode_options.h"

namespace r2s::episode {

struct WriteOptions {
  // Images (uint8 [H, W, C] features) and per-pixel maps ([H, W] features such as depth and segmentation; their
  // bytes shuffled first) are chunked one frame per chunk and deflate-compressed at this level (1 fastest .. 9
  // smallest). 1 by default: on camera-like 640x480 frames level 4 (h5py's gzip default) made
  // files only 3.6% smaller but writes 24% slower, at the same read speed (bench/run_episode_io.sh).
  int image_deflate_level = 1;
  bool overwrite = false;  // replace existing output files instead of refusing
  // LeRobot: how image features are encoded as video (LeRobot's defaults: AV1 through SVT-AV1, yuv420p, crf 30,
  // keyframe every 2 frames).
  video::EncodeOptions video;
  // LeRobot: optional streams LeRobot has no feature type for (float32 depth in metres, uint16 segmentation ids)
  // are written as lossless side videos (docs/data.md); false drops them from the output.
  bool lerobot_side_streams = true;
  // LeRobot AppendCopy: hard-link the source episode's encoded video and side-stream files instead of copying them
  // (a copy where the file system cannot link), so that a dataset assembled from parts that are deleted afterwards
  // writes its video once. The source and the new dataset then share those files: not for a source someone may
  // edit in place.
  bool link_copied_videos = false;

  // Throws std::invalid_argument naming the field and value.
  void Validate() const;
  // Whether Validate() passes; else *why (when given) names the field and value. Validate() throws that as
  // std::invalid_argument.
  bool IsValid(std::string* why = nullptr) const;
};

class DatasetWriter {
 public:
  // robomimic: `path` is the output file. ALOHA: `path` is a folder; episode i goes to episode_<index>.hdf5.
  // LeRobot: `path` is the dataset folder (meta/, data/, videos/), written in info.lerobot's version.
  static DatasetWriter Create(const std::filesystem::path& path, const DatasetInfo& info, WriteOptions options = {});

  DatasetWriter(DatasetWriter&&) noexcept;
  DatasetWriter& operator=(DatasetWriter&&) noexcept;
  ~DatasetWriter();

  // Validates the episode against info.features (throws InputError listing every mismatch) and writes it.
  void Append(const Episode& episode);
  // robomimic: copies episode `source_index` (its group data/demo_<source_index>, of `frames` frames) of another
  // robomimic file this writer's schema wrote, as episode `index`, without decoding it: HDF5 copies the stored,
  // compressed chunks as they are. For assembling one dataset from others; InputError naming the source when the
  // file or its episode cannot be read. Not for ALOHA, whose episodes are whole files. LeRobot: `source` is a
  // LeRobot dataset folder this writer's schema wrote; its episode's table rows are renumbered and its videos
  // copied as encoded (never re-encoded).
  void AppendCopy(const std::filesystem::path& source, std::int64_t source_index, std::int64_t index,
                  std::int64_t frames);
  // Finishes the dataset (robomimic: data.total, then the rename). Further Appends throw.
  void Commit();

  class Impl;

 private:
  explicit DatasetWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::filesystem::path path_;
  Features features_;
  bool committed_ = false;
};

}  // namespace r2s::episode

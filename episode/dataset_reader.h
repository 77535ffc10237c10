#pragma once
// Reads the HDF5 layouts robot teams record in. The layout is detected from the files:
//   - robomimic / MimicGen / Isaac Lab Mimic: one file with data/demo_N groups;
//   - ALOHA/ACT: one file per episode (episode_N.hdf5), given as that file or as the folder holding them.
// Episodes are read one at a time, so a dataset larger than memory can be streamed.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "episode/dataset_info.h"
#include "episode/episode.h"

namespace r2s::episode {

class DatasetReader {
 public:
  // Opens and checks the dataset's structure: layout, episode list, features (from the first episode), and that
  // every dataset of every episode has the episode's frame count. Throws InputError (file, dataset path,
  // value) on a missing file, a file that is not HDF5 or is truncated, an unknown layout, a length mismatch
  // or an unsupported dtype.
  static DatasetReader Open(const std::filesystem::path& path);

  DatasetReader(DatasetReader&&) noexcept;
  DatasetReader& operator=(DatasetReader&&) noexcept;
  ~DatasetReader();

  const DatasetInfo& info() const;
  const std::filesystem::path& path() const;
  std::int64_t num_episodes() const;
  // Frames of episode i, known without reading its data.
  std::int64_t episode_length(std::int64_t i) const;
  // The file episode i lives in (the dataset's one file for robomimic).
  const std::filesystem::path& episode_file(std::int64_t i) const;

  // Reads episode i (0-based position, not its stored index) with all its columns. Safe to call from several
  // threads: reads of one reader take turns (HDF5 and the video decoders serialize them anyway).
  Episode ReadEpisode(std::int64_t i) const;
  // Episode i with only the named features' columns (names the dataset lacks are skipped; the reader may add the
  // columns it checks rows with, such as LeRobot's timestamp and episode_index), reading no more than they need:
  // no video or image is decoded unless named, and no preserved storage node is copied (storage.nodes stays
  // empty). For checks of every episode before any work starts.
  Episode ReadEpisodeFeatures(std::int64_t i, const std::set<std::string>& features) const;

  class Impl;

 private:
  explicit DatasetReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<std::mutex> reading_;  // one read at a time (a pointer: the reader moves)
};

}  // namespace r2s::episode

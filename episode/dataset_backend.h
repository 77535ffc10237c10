#pragma once
// Not installed: the storage backends behind DatasetReader and DatasetWriter. Each format (HDF5 layouts in
// episode/hdf5/, LeRobot in episode/lerobot/) implements these two interfaces; dataset_reader.cc and
// dataset_writer.cc pick one from the path (reading) or the layout (writing).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "episode/dataset_reader.h"
#include "episode/dataset_writer.h"

namespace r2s::episode {

class DatasetReader::Impl {
 public:
  virtual ~Impl() = default;
  virtual const DatasetInfo& Info() const = 0;
  virtual const std::filesystem::path& Path() const = 0;
  virtual std::int64_t NumEpisodes() const = 0;
  virtual std::int64_t EpisodeLength(std::int64_t i) const = 0;  // i checked by the caller
  virtual const std::filesystem::path& EpisodeFile(std::int64_t i) const = 0;
  virtual Episode ReadEpisode(std::int64_t i) const = 0;  // i checked by the caller
  // Only `features` (DatasetReader::ReadEpisodeFeatures); i checked by the caller.
  virtual Episode ReadEpisodeFeatures(std::int64_t i, const std::set<std::string>& features) const = 0;
};

class DatasetWriter::Impl {
 public:
  virtual ~Impl() = default;
  virtual void Append(const Episode& episode) = 0;  // validated against the features by the caller
  virtual void AppendCopy(const std::filesystem::path& source, std::int64_t source_index, std::int64_t index,
                          std::int64_t frames) = 0;
  virtual void Commit() = 0;
};

// robomimic file, ALOHA episode file, or a folder of ALOHA episode files.
std::unique_ptr<DatasetReader::Impl> OpenHdf5Dataset(const std::filesystem::path& path);
std::unique_ptr<DatasetWriter::Impl> CreateHdf5Dataset(const std::filesystem::path& path, const DatasetInfo& info,
                                                       const WriteOptions& options);

// A folder holding meta/info.json: a LeRobot dataset (v2.1 or v3.0).
bool IsLeRobotDataset(const std::filesystem::path& path);
std::unique_ptr<DatasetReader::Impl> OpenLeRobotDataset(const std::filesystem::path& path);
std::unique_ptr<DatasetWriter::Impl> CreateLeRobotDataset(const std::filesystem::path& path, const DatasetInfo& info,
                                                          const WriteOptions& options);

}  // namespace r2s::episode

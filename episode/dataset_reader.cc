#include "episode/dataset_reader.h"

#include <stdexcept>
#include <string>

#include "episode/dataset_backend.h"

namespace r2s::episode {
namespace fs = std::filesystem;

DatasetReader DatasetReader::Open(const fs::path& path) {
  if (IsLeRobotDataset(path)) return DatasetReader(OpenLeRobotDataset(path));
  return DatasetReader(OpenHdf5Dataset(path));
}

DatasetReader::DatasetReader(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)), reading_(std::make_unique<std::mutex>()) {}
DatasetReader::DatasetReader(DatasetReader&&) noexcept = default;
DatasetReader& DatasetReader::operator=(DatasetReader&&) noexcept = default;
DatasetReader::~DatasetReader() = default;

const DatasetInfo& DatasetReader::info() const { return impl_->Info(); }
const fs::path& DatasetReader::path() const { return impl_->Path(); }
std::int64_t DatasetReader::num_episodes() const { return impl_->NumEpisodes(); }

namespace {
void CheckEpisode(const char* what, std::int64_t i, std::int64_t n) {
  if (i < 0 || i >= n) {
    throw std::out_of_range(std::string("DatasetReader::") + what + ": episode " + std::to_string(i) + " of " +
                            std::to_string(n));
  }
}
}  // namespace

std::int64_t DatasetReader::episode_length(std::int64_t i) const {
  CheckEpisode("episode_length", i, num_episodes());
  return impl_->EpisodeLength(i);
}
const fs::path& DatasetReader::episode_file(std::int64_t i) const {
  CheckEpisode("episode_file", i, num_episodes());
  return impl_->EpisodeFile(i);
}
Episode DatasetReader::ReadEpisodeFeatures(std::int64_t i, const std::set<std::string>& features) const {
  CheckEpisode("ReadEpisodeFeatures", i, num_episodes());
  std::lock_guard lock(*reading_);
  return impl_->ReadEpisodeFeatures(i, features);
}

Episode DatasetReader::ReadEpisode(std::int64_t i) const {
  CheckEpisode("ReadEpisode", i, num_episodes());
  std::lock_guard lock(*reading_);
  return impl_->ReadEpisode(i);
}

}  // namespace r2s::episode

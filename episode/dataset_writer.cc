#include "episode/dataset_writer.h"

#include <stdexcept>
#include <string>

#include "common/options_check.h"
#include "episode/dataset_backend.h"
#include "episode/input_error.h"
#include "episode/validate.h"

namespace r2s::episode {
namespace fs = std::filesystem;

bool WriteOptions::IsValid(std::string* why) const { return IsValidByValidate(*this, why); }

void WriteOptions::Validate() const {
  if (image_deflate_level < 0 || image_deflate_level > 9) {
    throw std::invalid_argument("WriteOptions::image_deflate_level = " + std::to_string(image_deflate_level) +
                                ", expected 0..9");
  }
  video.Validate();
}

DatasetWriter DatasetWriter::Create(const fs::path& path, const DatasetInfo& info, WriteOptions options) {
  options.Validate();
  DatasetWriter writer(info.layout == StorageLayout::kLeRobot ? CreateLeRobotDataset(path, info, options)
                                                              : CreateHdf5Dataset(path, info, options));
  writer.path_ = path;
  writer.features_ = info.features;
  return writer;
}

DatasetWriter::DatasetWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DatasetWriter::DatasetWriter(DatasetWriter&&) noexcept = default;
DatasetWriter& DatasetWriter::operator=(DatasetWriter&&) noexcept = default;
DatasetWriter::~DatasetWriter() = default;

void DatasetWriter::Append(const Episode& episode) {
  if (committed_) throw std::logic_error("DatasetWriter::Append after Commit");
  const ValidationReport report = ValidateEpisode(episode, features_);
  if (!report.ok()) {
    std::string problems;
    for (const auto& m : report.mismatches) problems += (problems.empty() ? "" : "; ") + m.ToString();
    throw InputError(path_.string(), "episode " + std::to_string(episode.metadata.index),
                     "does not match the dataset's features: " + problems);
  }
  impl_->Append(episode);
}

void DatasetWriter::AppendCopy(const fs::path& source, std::int64_t source_index, std::int64_t index,
                               std::int64_t frames) {
  if (committed_) throw std::logic_error("DatasetWriter::AppendCopy after Commit");
  impl_->AppendCopy(source, source_index, index, frames);
}

void DatasetWriter::Commit() {
  if (committed_) return;
  impl_->Commit();
  committed_ = true;
}

}  // namespace r2s::episode

// Placeholder until episode/lerobot/ lands: LeRobot folders are recognised and refused clearly.
#include <stdexcept>

#include "episode/dataset_backend.h"
#include "episode/input_error.h"

namespace r2s::episode {
namespace fs = std::filesystem;

bool IsLeRobotDataset(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::exists(path / "meta" / "info.json", ec);
}

std::unique_ptr<DatasetReader::Impl> OpenLeRobotDataset(const fs::path& path) {
  throw InputError(path.string(), "meta/info.json", "is a LeRobot dataset, which this build cannot read yet");
}

}  // namespace r2s::episode

// Placeholder until episode/lerobot/ lands: LeRobot folders are recognised and refused clearly.
#include <stdexcept>

#include "episode/dataset_backend.h"
#include "episode/input_error.h"

namespace r2s::episode {
namespace fs = std::filesystem;

std::unique_ptr<DatasetWriter::Impl> CreateLeRobotDataset(const fs::path& path, const DatasetInfo&,
                                                          const WriteOptions&) {
  throw InputError(path.string(), "", "LeRobot output is not supported by this build yet");
}

}  // namespace r2s::episode

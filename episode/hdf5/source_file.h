#pragma once
// An HDF5 file opened for reading, shared by the episodes read from it so that their preserved nodes can be
// copied into a new file later.

#include <filesystem>
#include <memory>
#include <string>

#include "episode/hdf5/handle.h"
#include "episode/storage_extras.h"

namespace r2s::episode {

class SourceFile {
 public:
  hdf5::Handle file;
  std::filesystem::path path;

  // Opens read-only; throws InputError for a missing file, a file that is not HDF5, or a truncated one.
  static std::shared_ptr<const SourceFile> Open(const std::filesystem::path& path);
};

}  // namespace r2s::episode

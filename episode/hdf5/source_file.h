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

  // Opens read-only; throws InputError for a missing file, one that is not a regular file (a named pipe would
  // block the read forever), a file that is not HDF5, a truncated one, or one whose metadata crash, hang or
  // exhaust memory in libhdf5 (read first in a child process: hdf5/isolated_check.h).
  static std::shared_ptr<const SourceFile> Open(const std::filesystem::path& path);
  // Opens a file that Open has checked already in this process (a reader reopening an episode's file).
  static std::shared_ptr<const SourceFile> Reopen(const std::filesystem::path& path);
};

}  // namespace r2s::episode

#pragma once
// An advisory lock on an output folder, so that two writers (two `r2s generate` into one --out, or a merge into a
// folder a generate is writing) never mix their work: the second is refused, with a message naming the holder.
// flock(2) on DIR/.r2s.lock: the OS releases it when the holding process exits or is killed, so a crashed run
// never leaves the folder locked. The lock file itself stays (removing it would let two processes lock two
// different files of one name).

#include <filesystem>
#include <memory>
#include <string>

namespace r2s::amplify {

class FolderLock {
 public:
  // Takes the lock on `dir` (created if missing) without waiting. InputError(dir, `field`, "is being written by
  // <holder>") when another process holds it; `field` names the option that chose the folder ("--out").
  static std::shared_ptr<const FolderLock> Acquire(const std::filesystem::path& dir, const std::string& field);

  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  explicit FolderLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace r2s::amplify

#pragma once
// Nothing half-written: files are written under a hidden temporary name beside their destination, flushed to
// disk and renamed into place, so a reader (or a job resumed after a crash) sees the old file or the whole new
// one, never a part.

#include <filesystem>
#include <string_view>

namespace r2s::episode {

// A hidden sibling of `final_path`, unique per process and call (pid and 64 random bits; no shared counter).
std::filesystem::path TemporaryPathFor(const std::filesystem::path& final_path);

// Flushes the finished file `temp` to disk, then renames it to `final_path`. Throws std::system_error naming the
// file.
void PublishFile(const std::filesystem::path& temp, const std::filesystem::path& final_path);

// Removes every temporary file or folder TemporaryPathFor named directly in `dir` (".<name>.tmp-<pid>-<n>"): what a
// killed writer left. Only for a folder the caller holds exclusively (a locked run folder), where no other writer
// can be midway. Returns how many it removed.
int RemoveStaleTemporaries(const std::filesystem::path& dir);

// Writes `bytes` to `final_path` through TemporaryPathFor and PublishFile; on failure the temporary file is
// removed and std::system_error names the file.
void WriteFileAtomically(const std::filesystem::path& final_path, std::string_view bytes);

}  // namespace r2s::episode

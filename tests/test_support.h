#pragma once
// Shared by the test suites: temporary folders, running Debian's python3 (h5py, numpy) and the r2s binary.

#include <filesystem>
#include <string>
#include <vector>

namespace r2s::testing {

// A fresh folder under the system temp dir, removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs argv (no shell) and captures its output.
CommandResult RunCommand(const std::vector<std::string>& argv);

// Runs `python3 -c code args...` with Debian's python3, which has h5py and numpy.
CommandResult RunPython(const std::string& code, const std::vector<std::string>& args = {});

// Runs the built r2s binary.
CommandResult RunR2s(const std::vector<std::string>& args);

std::filesystem::path SourceDir();
// The bundled real Panda log (scenes/panda_gaz2019/episode_0.hdf5).
std::filesystem::path BundledPandaEpisode();

// Writes `text` to `path`, creating its folders; throws std::runtime_error when it cannot.
void WriteTextFile(const std::filesystem::path& path, const std::string& text);

// Names of every file under dir (recursively), relative to dir, sorted.
std::vector<std::string> ListFiles(const std::filesystem::path& dir);

}  // namespace r2s::testing

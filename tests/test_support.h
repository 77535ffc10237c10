#pragma once
// Shared by the test suites: temporary folders, running Debian's python3 (h5py, numpy) and the r2s binary.

#include <filesystem>
#include <string>
#include <vector>

#include "sysid/problem_input.h"

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

// LeRobot's own loaders, for the `clients` tests: `python -c code args...` in the cached environment that
// scripts/setup_python_env.sh clients makes (lerobot 0.4.4, PyTorch, PyAV; created on first use, which takes
// minutes once per machine). `lerobot_v21` puts lerobot 0.3.3 (the last release that reads v2.1) first on the
// path. HF_HUB_OFFLINE=1: nothing is fetched.
CommandResult RunLeRobotPython(const std::string& code, const std::vector<std::string>& args = {},
                               bool lerobot_v21 = false);

// The real LeRobot dataset bundled for tests (tests/data/g1_pick_bottle_lerobot/<version>): "v2.1" or "v3.0".
std::filesystem::path BundledLeRobotDataset(const std::string& version);

// Runs the built r2s binary.
CommandResult RunR2s(const std::vector<std::string>& args);

// Starts the built r2s binary without waiting (stdout and stderr to /dev/null); returns its pid, or -1.
int SpawnR2s(const std::vector<std::string>& args);

// The unit records (parts/unit_<u>.json) a generate run has finished in `parts`.
int UnitRecords(const std::filesystem::path& parts);

std::filesystem::path SourceDir();
// The bundled real Panda log (scenes/panda_gaz2019/episode_0.hdf5).
std::filesystem::path BundledPandaEpisode();

// Writes `text` to `path`, creating its folders; throws std::runtime_error when it cannot.
void WriteTextFile(const std::filesystem::path& path, const std::string& text);

// Names of every file under dir (recursively), relative to dir, sorted.
std::vector<std::string> ListFiles(const std::filesystem::path& dir);

// A sysid problem as r2s sysid builds it: the scene folder compiled, and episodes [first, first + count) of the
// dataset (fewer when it has fewer).
sysid::ProblemInput LoadProblemInput(const std::filesystem::path& scene, const std::filesystem::path& dataset,
                                     int first, int count);

// A synthetic copy of scenes/xl330_pendulum for ground-truth fits: the bundled pendulum URDF, 1 ms steps, the
// actuator prior given as a YAML flow map ("{kp: 1.0, kd: 0.0, ...}"), commanded positions in action[0:1] and
// measured ones in observation.state[0:1]; with velocity_reference, action_velocity[0:1] is the velocity reference
// (kd then acts apart from viscous friction). Returns `dir`.
std::filesystem::path WritePendulumGroundTruthScene(const std::filesystem::path& dir, bool velocity_reference,
                                                   const std::string& actuator_prior);

}  // namespace r2s::testing

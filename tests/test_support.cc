#include "tests/test_support.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "episode/dataset_reader.h"
#include "sim/replay.h"
#include "sim/scene_compiler.h"

extern char** environ;

namespace r2s::testing {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path candidate = fs::temp_directory_path() / ("r2s-test-" + std::to_string(rd()));
    if (fs::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("TempDir: could not create a temporary folder");
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

namespace {

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv) {
  TempDir capture;
  const std::string out_path = (capture / "out").string();
  const std::string err_path = (capture / "err").string();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = 0;
  const int spawn_error = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  CommandResult result;
  if (spawn_error != 0) {
    result.err = "posix_spawn failed for " + argv[0];
    return result;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = Slurp(out_path);
  result.err = Slurp(err_path);
  return result;
}

CommandResult RunPython(const std::string& code, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {R2S_PYTHON, "-c", code};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

CommandResult RunLeRobotPython(const std::string& code, const std::vector<std::string>& args, bool lerobot_v21) {
  // The environment's path, from the set-up script (which creates it when missing).
  const CommandResult env = RunCommand({"/bin/bash", (SourceDir() / "scripts" / "setup_python_env.sh").string(), "clients"});
  if (env.exit_code != 0) return env;
  std::string dir = env.out;
  while (!dir.empty() && (dir.back() == '\n' || dir.back() == ' ')) dir.pop_back();
  std::string prelude = "import os, sys\nos.environ['HF_HUB_OFFLINE'] = '1'\n";
  if (lerobot_v21) prelude += "sys.path.insert(0, " + ("'" + dir + "/overlay-v21'") + ")\n";
  std::vector<std::string> argv = {"/usr/bin/env", "HF_HUB_OFFLINE=1", "HF_HOME=" + (fs::temp_directory_path() / "r2s-hf-home").string(),
                                   dir + "/bin/python", "-c", prelude + code};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

fs::path BundledLeRobotDataset(const std::string& version) {
  return SourceDir() / "tests" / "data" / "g1_pick_bottle_lerobot" / version;
}

CommandResult RunR2s(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {R2S_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

int SpawnR2s(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {R2S_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (auto& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int error = posix_spawn(&pid, raw[0], &actions, nullptr, raw.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return error == 0 ? pid : -1;
}

int UnitRecords(const fs::path& parts) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(parts, ec)) n += e.path().extension() == ".json" ? 1 : 0;
  return n;
}

fs::path SourceDir() { return R2S_SOURCE_DIR; }

fs::path BundledPandaEpisode() { return SourceDir() / "scenes" / "panda_gaz2019" / "episode_0.hdf5"; }

std::vector<std::string> ListFiles(const fs::path& dir) {
  std::vector<std::string> names;
  if (!fs::exists(dir)) return names;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) names.push_back(fs::relative(entry.path(), dir).string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void WriteTextFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out.good()) throw std::runtime_error("cannot write " + path.string());
}

sysid::ProblemInput LoadProblemInput(const std::filesystem::path& scene, const std::filesystem::path& dataset,
                                     int first, int count) {
  sysid::ProblemInput input;
  input.model = sim::LoadScene(scene);
  const episode::DatasetReader reader = episode::DatasetReader::Open(dataset);
  input.plan = sim::ReplayPlan::Make(input.model, reader.info(), dataset.string());
  for (int i = first; i < first + count && i < reader.num_episodes(); ++i) input.episodes.push_back(reader.ReadEpisode(i));
  input.dataset_file = dataset.string();
  input.scene_file = scene.string();
  return input;
}

std::filesystem::path WritePendulumGroundTruthScene(const std::filesystem::path& dir, bool velocity_reference,
                                                   const std::string& actuator_prior) {
  std::filesystem::create_directories(dir / "robot");
  std::filesystem::copy_file(SourceDir() / "scenes/xl330_pendulum/robot/pendulum.urdf", dir / "robot/pendulum.urdf");
  std::string yaml = R"(name: synthetic_pendulum_ground_truth
simulation: {time_step_s: 0.001, solver_iterations: 10, gravity_mps2: [0, 0, -9.80665]}
robot:
  urdf: robot/pendulum.urdf
  base_pose: {position_m: [0, 0, 0.3]}
  control_mode: position
  actuators:
    pendulum: )" + actuator_prior + R"(
  bindings:
    - {feature: "action[0:1]", signal: position_target, joints: [pendulum]}
    - {feature: "observation.state[0:1]", signal: position, joints: [pendulum]}
)";
  if (velocity_reference) yaml += "    - {feature: \"action_velocity[0:1]\", signal: velocity_target, joints: [pendulum]}\n";
  WriteTextFile(dir / "scene.yaml", yaml);
  return dir;
}

}  // namespace r2s::testing

// Physics steps per second of the bundled tabletop scene (a Panda with hand, 4 free objects, table, pedestal,
// floor; dt and solver iterations from the scene) while its arm tracks the real Panda log's positions, one
// physics step per log sample: the same protocol as bench/pybullet_tabletop.py, so the two run side by side
// (bench/run_sim_replay.sh). One world per thread; "all cores" runs one world per hardware thread at once.
// --armature=X puts X kg m^2 (kg on the prismatic fingers) of armature on every joint: the difference from a run
// without it is the per-step cost of the armature treatment (sim/world.h).
//
//   sim_replay_bench [--source_dir=DIR] [--armature=X] [google benchmark flags]
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "episode/dataset_reader.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"

namespace {

struct Workload {
  std::shared_ptr<const r2s::sim::Model> model;
  std::vector<Eigen::VectorXd> targets;  // one per step, every dof of the robot
};

std::string g_source_dir = R2S_SOURCE_DIR;
double g_armature = 0;

const Workload& GetWorkload() {
  static const Workload workload = [] {
    Workload w;
    auto model = std::make_shared<r2s::sim::Model>(*r2s::sim::LoadScene(g_source_dir + "/scenes/tabletop"));
    for (auto& actuator : model->robot->actuators) actuator.armature = g_armature;
    w.model = model;
    const auto reader = r2s::episode::DatasetReader::Open(g_source_dir + "/scenes/panda_gaz2019/episode_0.hdf5");
    const auto episode = reader.ReadEpisode(0);
    const auto q = episode.At("observation.state").data.values<double>();
    const auto& robot = *w.model->robot;
    for (std::size_t i = 0; i + 7 <= q.size(); i += 7) {
      Eigen::VectorXd target = robot.initial_q;
      for (int j = 0; j < 7; ++j) target[j] = q[i + j];
      w.targets.push_back(target);
    }
    return w;
  }();
  return workload;
}

void BM_TabletopTracking(benchmark::State& state) {
  const Workload& w = GetWorkload();
  r2s::sim::World world(w.model);
  const int n = w.model->robot->num_dofs();
  r2s::sim::RobotCommand command;
  command.velocity = Eigen::VectorXd::Zero(n);
  std::int64_t steps = 0;
  for (auto _ : state) {
    world.Reset();
    world.SetJointState(w.targets.front(), Eigen::VectorXd::Zero(n));
    for (const Eigen::VectorXd& target : w.targets) {
      command.position = target;
      world.SetCommand(command);
      world.Step();
    }
    steps += static_cast<std::int64_t>(w.targets.size());
    benchmark::DoNotOptimize(world.joint_positions());
  }
  state.counters["steps_per_s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--source_dir=", 13) == 0) {
      g_source_dir = argv[i] + 13;
    } else if (std::strncmp(argv[i], "--armature=", 11) == 0) {
      g_armature = std::strtod(argv[i] + 11, nullptr);
    } else {
      args.push_back(argv[i]);
    }
  }
  int count = static_cast<int>(args.size());
  GetWorkload();  // load outside the timed region
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto* bench = benchmark::RegisterBenchmark("TabletopTracking", BM_TabletopTracking);
  bench->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1)->Threads(1);
  if (cores > 1) bench->Threads(cores);
  benchmark::Initialize(&count, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// Time to construct a sim::World of the SO-101 arm (../shared/data/robot_models/so101_therobotstudio: 13 STL
// collision meshes of 1k to 54k triangles), as system identification does once per simulated episode.
//
//   world_build_bench [--so101_dir=DIR] [google benchmark flags]
//
// The bench copies the URDF and its meshes into a temporary scene folder (a scene is self-contained) with a floor,
// and compiles it once. WorldConstruction/compiled_model is a World of the compiled model, whose collision geometry
// the compiler built once; WorldConstruction/own_geometry is a World of a copy without it, which builds its
// shapes itself: the cost every World paid before the geometry was shared. CollisionGeometryBuild is that one-off
// cost. Results: bench/README.md.
#include <unistd.h>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "sim/scene_compiler.h"
#include "sim/world.h"

namespace {

namespace fs = std::filesystem;

std::string g_so101_dir = R2S_SOURCE_DIR "/../shared/data/robot_models/so101_therobotstudio";

// The scene folder, removed at exit.
struct TemporaryScene {
  fs::path dir;
  TemporaryScene() {
    dir = fs::temp_directory_path() / ("r2s_world_build_bench_" + std::to_string(::getpid()));
    fs::create_directories(dir / "robot");
    fs::copy_file(fs::path(g_so101_dir) / "so101_new_calib.urdf", dir / "robot/so101_new_calib.urdf");
    fs::copy(fs::path(g_so101_dir) / "assets", dir / "robot/assets", fs::copy_options::recursive);
    std::ofstream(dir / "scene.yaml") << "name: so101_world_build_bench\n"
                                         "robot:\n"
                                         "  urdf: robot/so101_new_calib.urdf\n"
                                         "  actuators:\n"
                                         "    default: {kp: 20, kd: 0.5, armature: 0.01}\n"
                                         "environment:\n"
                                         "  - {name: floor, shape: {plane: [0, 0, 1]}}\n";
  }
  ~TemporaryScene() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
};

std::shared_ptr<const r2s::sim::Model> g_model;

void BM_WorldConstruction(benchmark::State& state, bool shared_geometry) {
  std::shared_ptr<const r2s::sim::Model> model = g_model;
  if (!shared_geometry) {
    auto copy = std::make_shared<r2s::sim::Model>(*g_model);
    copy->collision_geometry.reset();
    model = copy;
  }
  for (auto _ : state) {
    r2s::sim::World world(model);
    benchmark::DoNotOptimize(world.time_s());
  }
}

void BM_CollisionGeometryBuild(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(r2s::sim::BuildCollisionGeometry(*g_model));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--so101_dir=", 12) == 0) {
      g_so101_dir = argv[i] + 12;
    } else {
      args.push_back(argv[i]);
    }
  }
  int count = static_cast<int>(args.size());
  const TemporaryScene scene;
  g_model = r2s::sim::LoadScene(scene.dir);
  benchmark::RegisterBenchmark("WorldConstruction/compiled_model", BM_WorldConstruction, true)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("WorldConstruction/own_geometry", BM_WorldConstruction, false)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("CollisionGeometryBuild", BM_CollisionGeometryBuild)->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&count, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

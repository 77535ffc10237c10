// Camera frames per second (RGB + metric depth + segmentation, read back to host memory) of the bundled tabletop
// scene, B views per batch, each view a different world state: the Panda at B samples of the real Panda log
// (scenes/panda_gaz2019), seen by the scene's front camera (fov_y 55 degrees) at the benchmark's resolution, with
// the scene's two lights and the key light's shadow map. bench/mujoco_render.py renders the same protocol with
// MuJoCo; bench/run_render.sh runs both (bench/README.md).
//
//   render_bench [--source_dir=DIR] [--device=NAME] [--shadow_casters=visual|collision] [--shadow_map_px=N]
//                [--no_shadows] [--collision_shadows] [--write_png=DIR] [--batches=1,16,64]
//                [google benchmark flags]
//
// The shadow options start from the scene's rendering: section (its defaults: docs/scenes.md) and the flags
// override them as r2s render's --shadow-casters, --shadow-map-px and --shadows do (--collision_shadows is
// --shadow_casters=collision). --write_png=DIR writes each benchmark's frames (after the warm-up) as
// DIR/<width>x<height>_view<i>.png, to compare the images the options draw.
//
// --batches lists the views per batch (default 1,16,64; a GPU run adds 256). Batches up to 16 go in one
// submission; larger ones run twice, 16 views per submission and the whole batch in one.
//
// Benchmarks are named Render/<width>/<height>/<views per batch>/<views per submission>.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "episode/dataset_reader.h"
#include "render/image_io.h"
#include "render/renderer.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"

namespace {

std::string g_source_dir = R2S_SOURCE_DIR;
std::string g_device;
r2s::render::RenderingOverrides g_rendering;
std::string g_write_png;
std::vector<int> g_batches = {1, 16, 64};
int g_max_views = 64;  // the largest batch: that many arm poses are prepared

double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Workload {
  std::shared_ptr<const r2s::sim::Model> model;
  std::vector<r2s::render::SceneState> states;  // g_max_views arm poses spread over the log
};

const Workload& GetWorkload() {
  static const Workload workload = [] {
    Workload w;
    w.model = r2s::sim::LoadScene(g_source_dir + "/scenes/tabletop");
    const auto reader = r2s::episode::DatasetReader::Open(g_source_dir + "/scenes/panda_gaz2019/episode_0.hdf5");
    const auto q = reader.ReadEpisode(0).At("observation.state").data.values<double>();
    const std::size_t samples = q.size() / 7;
    r2s::sim::World world(w.model);
    const int n = w.model->robot->num_dofs();
    for (int v = 0; v < g_max_views; ++v) {
      Eigen::VectorXd pose = w.model->robot->initial_q;
      const std::size_t sample = (samples - 1) * v / std::max(1, g_max_views - 1);
      for (int j = 0; j < 7; ++j) pose[j] = q[7 * sample + j];
      world.SetJointState(pose, Eigen::VectorXd::Zero(n));
      w.states.push_back(r2s::render::CaptureState(world));
    }
    return w;
  }();
  return workload;
}

void BM_Render(benchmark::State& state) {
  const Workload& w = GetWorkload();
  const int width = static_cast<int>(state.range(0)), height = static_cast<int>(state.range(1));
  const int views_per_batch = static_cast<int>(state.range(2));
  r2s::render::RendererOptions options;
  options.validation = false;
  options.device = g_device;
  options.views_per_submission = static_cast<int>(state.range(3));
  r2s::render::ApplyRendering(w.model->rendering, g_rendering, &options);
  r2s::render::Renderer renderer(options);
  renderer.LoadModel(w.model);

  // The front camera's field of view at this resolution.
  const r2s::sim::CameraModel& front = w.model->cameras[0];
  const double fy = front.fy_px * height / front.height_px;
  r2s::render::CameraIntrinsics k{width, height, fy, fy, 0.5 * width, 0.5 * height, front.near_m, front.far_m};
  std::vector<r2s::render::ViewRequest> views(views_per_batch);
  for (int v = 0; v < views_per_batch; ++v) {
    views[v].state = v;
    views[v].camera = 0;
    views[v].params.intrinsics = k;
  }
  const std::span<const r2s::render::SceneState> states(w.states.data(), views_per_batch);
  std::vector<r2s::render::Frame> frames;
  renderer.Render(states, views, &frames);  // warm-up: shader compilation, target allocation
  if (!g_write_png.empty()) {
    std::filesystem::create_directories(g_write_png);
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const r2s::render::Frame& f = frames[i];
      r2s::render::WritePngRgb8(std::filesystem::path(g_write_png) / (std::to_string(width) + "x" +
                                                                       std::to_string(height) + "_view" +
                                                                       std::to_string(i) + ".png"),
                                f.width_px, f.height_px, f.rgb.data());
    }
  }

  std::int64_t rendered = 0;
  // The whole process's CPU time, the driver's worker threads included: on lavapipe the device is the CPU.
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    renderer.Render(states, views, &frames);
    rendered += views_per_batch;
    benchmark::DoNotOptimize(frames.data());
  }
  const double cpu_s = ProcessCpuSeconds() - cpu_start;
  state.counters["frames_per_s"] = benchmark::Counter(static_cast<double>(rendered), benchmark::Counter::kIsRate);
  state.counters["cpu_ms_per_frame"] = 1e3 * cpu_s / static_cast<double>(rendered);
  state.SetLabel(renderer.device_name() + "; shadows " +
                 (!options.shadows ? std::string("off")
                                   : std::string(options.collision_shapes_cast_shadows ? "collision" : "visual") +
                                         " " + std::to_string(options.shadow_map_px) + " px"));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--source_dir=", 13) == 0) {
      g_source_dir = argv[i] + 13;
    } else if (std::strncmp(argv[i], "--device=", 9) == 0) {
      g_device = argv[i] + 9;
    } else if (std::strcmp(argv[i], "--collision_shadows") == 0) {
      g_rendering.shadow_casters = "collision";
    } else if (std::strncmp(argv[i], "--shadow_casters=", 17) == 0) {
      g_rendering.shadow_casters = argv[i] + 17;
    } else if (std::strncmp(argv[i], "--write_png=", 12) == 0) {
      g_write_png = argv[i] + 12;
    } else if (std::strcmp(argv[i], "--no_shadows") == 0) {
      g_rendering.shadows = "off";
    } else if (std::strncmp(argv[i], "--batches=", 10) == 0) {
      g_batches.clear();
      for (const char* c = argv[i] + 10; *c != '\0';) {
        char* end = nullptr;
        const long b = std::strtol(c, &end, 10);
        if (end == c || b < 1) {
          std::fprintf(stderr, "render_bench: --batches wants positive counts separated by commas, got '%s'\n",
                       argv[i] + 10);
          return 2;
        }
        g_batches.push_back(static_cast<int>(b));
        c = *end == ',' ? end + 1 : end;
      }
      g_max_views = *std::max_element(g_batches.begin(), g_batches.end());
    } else if (std::strncmp(argv[i], "--shadow_map_px=", 16) == 0) {
      g_rendering.shadow_map_px = std::atoi(argv[i] + 16);
    } else {
      args.push_back(argv[i]);
    }
  }
  int count = static_cast<int>(args.size());
  GetWorkload();  // load outside the timed region
  auto* bench = benchmark::RegisterBenchmark("Render", BM_Render);
  for (const auto& [w, h] : {std::pair{128, 128}, std::pair{640, 480}}) {
    for (int b : g_batches) {
      bench->Args({w, h, b, std::min(b, 16)});
      if (b > 16) bench->Args({w, h, b, b});  // the whole batch in one submission
    }
  }
  bench->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
  benchmark::Initialize(&count, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

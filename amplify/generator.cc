#include "amplify/generator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <numbers>
#include <set>
#include <thread>

#include "amplify/variant_pipeline.h"
#include "common/cpu_budget.h"
#include "episode/dataset_reader.h"
#include "episode/input_error.h"
#include "randomize/distribution_yaml.h"
#include "sim/params_overlay.h"
#include "sim/replay.h"
#include "sim/scene_compiler.h"

namespace r2s::amplify {
namespace {

namespace fs = std::filesystem;
using episode::DType;

std::string Shape(const episode::FeatureSpec& spec) {
  std::string out = std::string(episode::DTypeName(spec.dtype)) + " [";
  for (std::size_t i = 0; i < spec.shape.size(); ++i) out += (i ? ", " : "") + std::to_string(spec.shape[i]);
  return out + "]";
}

// The cameras the output records: those the source has image, depth or segmentation features for, and the
// opt-in ones.
std::vector<CameraStream> CameraStreams(const sim::Model& model, const episode::DatasetInfo& source,
                                        const std::string& dataset, const GeneratorOptions& options) {
  for (const std::string& name : options.cameras) {
    if (std::none_of(model.cameras.begin(), model.cameras.end(), [&](const auto& c) { return c.name == name; })) {
      std::string known;
      for (const auto& c : model.cameras) known += (known.empty() ? "" : ", ") + c.name;
      throw InputError(kGeneratorOptionsSource, "cameras",
                       "'" + name + "' is not a camera of scene " + model.scene_file.string() + " (cameras: " +
                           (known.empty() ? "none" : known) + ")");
    }
  }
  const auto wants = [&](const std::string& camera, const char* stream) {
    return std::count(options.cameras.begin(), options.cameras.end(), camera) > 0 &&
           std::count(options.streams.begin(), options.streams.end(), stream) > 0;
  };
  std::vector<CameraStream> streams;
  for (std::size_t c = 0; c < model.cameras.size(); ++c) {
    const sim::CameraModel& camera = model.cameras[c];
    CameraStream s;
    s.camera = static_cast<int>(c);
    s.width_px = camera.width_px;
    s.height_px = camera.height_px;
    bool sized_by_source = false;
    const auto take = [&](const std::string& feature, DType dtype, int channels, const char* stream,
                          std::string* slot) {
      auto it = source.features.find(feature);
      if (it == source.features.end()) {
        if (wants(camera.name, stream)) *slot = feature;
        return;
      }
      const episode::FeatureSpec& spec = it->second;
      // A per-pixel map (channels 0) is [H, W], or [H, W, 1] as robomimic/robosuite store depth.
      const bool fits = spec.dtype == dtype && (channels == 0 ? spec.shape.size() == 2 ||
                                                                    (spec.shape.size() == 3 && spec.shape[2] == 1)
                                                              : spec.shape.size() == 3 && spec.shape[2] == channels);
      if (!fits) {
        throw InputError(dataset, feature,
                         "is " + Shape(spec) + "; camera '" + camera.name + "' renders it as " +
                             std::string(episode::DTypeName(dtype)) +
                             (channels ? " [height, width, 3]" : " [height, width] or [height, width, 1]"));
      }
      const int h = static_cast<int>(spec.shape[0]), w = static_cast<int>(spec.shape[1]);
      if (sized_by_source && (h != s.height_px || w != s.width_px)) {
        throw InputError(dataset, feature,
                         "is " + std::to_string(h) + " x " + std::to_string(w) + ", but another feature of camera '" +
                             camera.name + "' is " + std::to_string(s.height_px) + " x " + std::to_string(s.width_px));
      }
      s.height_px = h;
      s.width_px = w;
      sized_by_source = true;
      *slot = feature;
    };
    take("observation.images." + camera.name, DType::kUInt8, 3, "rgb", &s.rgb_feature);
    take("observation.depth." + camera.name, DType::kFloat32, 0, "depth", &s.depth_feature);
    take("observation.segmentation." + camera.name, DType::kUInt16, 0, "segmentation", &s.segmentation_feature);
    if (!s.rgb_feature.empty() || !s.depth_feature.empty() || !s.segmentation_feature.empty()) streams.push_back(s);
  }
  return streams;
}

// What drives the world of every source episode this run will replay (bound joint signals and poses, timestamps),
// read without images or video and checked as a variant's replay would (sim::MakeFrameClock): a NaN or a clock
// jump in episode 80 is bad input found before the run folder is written, not after hours of work.
void CheckSourceData(const episode::DatasetReader& reader, const sim::ReplayPlan& plan, std::uint64_t first,
                     std::uint64_t last) {
  std::set<std::string> features = {"timestamp"};
  for (const sim::JointBinding& b : plan.joint_bindings()) features.insert(b.feature);
  for (const auto& [object, b] : plan.pose_bindings()) features.insert(b.feature);
  for (std::uint64_t e = first; e <= last; ++e) {
    const episode::Episode source = reader.ReadEpisodeFeatures(static_cast<std::int64_t>(e), features);
    sim::MakeFrameClock(plan, source, reader.path().string());
  }
}

}  // namespace

struct Generator::Impl {
  GeneratorOptions options;
  std::optional<fs::path> params;
  fs::path dataset;
  std::optional<episode::DatasetReader> reader;
  PipelineConfig config;
  render::RendererOptions renderer;
  std::int64_t source_episodes = 0;
  std::uint64_t begin = 0, end = 0;
  int threads = 1;
  std::vector<std::string> notes;
};

namespace {

// The first option that does not hold on its own: its field name and what is wrong, the value included.
bool CheckOptions(const GeneratorOptions& options, std::string* field, std::string* problem) {
  const auto fail = [&](const std::string& name, const std::string& what) {
    *field = name;
    *problem = what;
    return false;
  };
  if (options.variants < 1) return fail("variants", "must be at least 1, found 0");
  if (options.threads < 0) return fail("threads", "must be >= 0, found " + std::to_string(options.threads));
  if (options.max_source_episodes && *options.max_source_episodes < 1) {
    return fail("max_source_episodes", "must be at least 1, found " + std::to_string(*options.max_source_episodes));
  }
  for (const std::string& s : options.streams) {
    if (s != "rgb" && s != "depth" && s != "segmentation") {
      return fail("streams", "'" + s + "' is not rgb, depth or segmentation");
    }
  }
  if (options.shard.count < 1 || options.shard.index >= options.shard.count) {
    return fail("shard", "index " + std::to_string(options.shard.index) + " of " +
                             std::to_string(options.shard.count) + " shards, expected an index below a count >= 1");
  }
  try {  // the overrides' values hold whatever the scene says; the scene's own section is checked when it loads
    render::RendererOptions ignored;
    render::ApplyRendering(sim::RenderSettings{}, options.rendering, &ignored);
  } catch (const InputError& e) {
    return fail("rendering." + e.field(), e.problem());
  }
  return true;
}

}  // namespace

bool GeneratorOptions::IsValid(std::string* why) const {
  std::string field, problem;
  if (CheckOptions(*this, &field, &problem)) return true;
  if (why) *why = "GeneratorOptions::" + field + ": " + problem;
  return false;
}

Generator Generator::Open(const fs::path& scene, const std::optional<fs::path>& params, const fs::path& dataset,
                          const GeneratorOptions& options) {
  {
    std::string field, problem;
    if (!CheckOptions(options, &field, &problem)) throw InputError(kGeneratorOptionsSource, field, problem);
  }
  if (options.device == cuda::Device::kCuda && !cuda::CudaAvailable()) {
    throw InputError(kGeneratorOptionsSource, "device",
                     cuda::BuiltWithCuda() ? "cuda: no CUDA device is present"
                                           : "cuda: real2sim was built without CUDA (R2S_CUDA=OFF or no nvcc)");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->params = params;
  impl->dataset = dataset;
  const std::shared_ptr<const sim::Model> model = sim::LoadScene(scene, params);
  render::ApplyRendering(model->rendering, options.rendering, &impl->renderer);  // overrides checked above
  const fs::path scene_file = model->scene_file;
  std::optional<sim::ParamsFile> params_file;
  if (params) params_file = sim::ReadParams(*params);

  DrawSources& draw = impl->config.draw;
  draw.physics = randomize::ParsePhysicsRandomization(scene_file, params_file ? &*params_file : nullptr,
                                                      params.value_or(fs::path()));
  if (params_file) {
    std::vector<std::string> replaced;
    draw.physics = randomize::WithPosterior(draw.physics, *params_file, *params, &replaced);
    if (!draw.physics.entries.empty() && draw.physics.entries.front().source.starts_with(params->string())) {
      std::string names;
      for (const auto& n : draw.physics.entries.front().parameters) names += (names.empty() ? "" : ", ") + n;
      impl->notes.push_back("physics from the posterior of " + params->string() + ": " + names);
    }
    for (const std::string& source : replaced) impl->notes.push_back("  replaces the scene's range at " + source);
  }
  draw.conditions = randomize::ParseConditionSpace(scene_file);
  draw.spec = ParseGenerationSpec(scene_file, *model, draw.conditions);
  draw.model = PrepareModel(*model, draw.spec);
  draw.seed = options.seed;
  draw.variants_per_episode = options.variants;
  impl->config.retarget = ParseRetargetSpec(scene_file, *model);
  // An arm with fewer than 6 joints cannot take every orientation: Retarget's IK reaches the position first and
  // leaves the orientation off by what the arm cannot do, which a grasp from above tolerates up to ~20 degrees.
  // Once the object is held, the carry's orientation is not checked at all: carried to a place the variant moved
  // or turned, such an arm cannot turn its tilted hand with the place about the vertical (an SO-101 misses it by
  // 20-70 degrees), and where the object goes is what counts; the simulation shows whether it still lands.
  if (impl->config.retarget && impl->config.retarget->arm_dofs.size() < 6) {
    impl->config.reach.max_ik_error_rad = 0.35;
    impl->config.reach.carry_max_ik_error_rad = std::numbers::pi;
  }
  if (options.object_poses) {
    if (!impl->config.retarget) {
      throw InputError(kGeneratorOptionsSource, "object_poses",
                       options.object_poses->string() + ": the scene has no retarget section, so no object pose is "
                                                        "inferred for the annotations to override");
    }
    impl->config.annotations = ReadObjectPoseAnnotations(*options.object_poses, *model);
  }

  impl->reader.emplace(episode::DatasetReader::Open(dataset));
  impl->config.dataset = dataset.string();
  impl->config.source_info = impl->reader->info();
  // Checked once here, before anything runs: the dataset feeds the scene's bindings (each variant makes its own plan
  // of its own model).
  const sim::ReplayPlan plan = sim::ReplayPlan::Make(draw.model, impl->config.source_info, impl->config.dataset);
  // And the draws: one variant drawn here finds what only a draw can (a physics parameter naming an object the
  // scene lacks, a value its distribution puts out of range) before a run folder is written. Draws are pure, so
  // this changes nothing the run draws.
  DrawVariant(draw, 0, 0);
  impl->config.cameras = CameraStreams(*draw.model, impl->config.source_info, impl->config.dataset, options);
  impl->config.output_info = OutputInfo(impl->config.source_info, impl->config.cameras);
  impl->config.sensor = cuda::SensorOptions{options.device, 1};

  impl->source_episodes = impl->reader->num_episodes();
  if (options.max_source_episodes) impl->source_episodes = std::min(impl->source_episodes, *options.max_source_episodes);
  if (impl->source_episodes == 0) throw InputError(dataset.string(), "(episodes)", "holds no episode");
  const auto [begin, end] = ShardUnits(options.shard, static_cast<std::uint64_t>(impl->source_episodes) * options.variants);
  impl->begin = begin;
  impl->end = end;
  if (begin < end) CheckSourceData(*impl->reader, plan, begin / options.variants, (end - 1) / options.variants);
  impl->threads = ThreadsOrAvailable(options.threads);
  impl->renderer.device = options.render_device;
  impl->renderer.validation = options.render_validation;
  return Generator(std::move(impl));
}

Generator::Generator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Generator::Generator(Generator&&) noexcept = default;
Generator& Generator::operator=(Generator&&) noexcept = default;
Generator::~Generator() = default;

const episode::DatasetInfo& Generator::source_info() const { return impl_->config.source_info; }
const episode::DatasetInfo& Generator::output_info() const { return impl_->config.output_info; }
const GeneratorOptions& Generator::options() const { return impl_->options; }
const std::filesystem::path& Generator::scene_file() const { return impl_->config.draw.model->scene_file; }
const randomize::ConditionSpace& Generator::conditions() const { return impl_->config.draw.conditions; }
const std::optional<fs::path>& Generator::params_file() const { return impl_->params; }
const fs::path& Generator::dataset_path() const { return impl_->dataset; }
std::int64_t Generator::source_episodes() const { return impl_->source_episodes; }
std::uint64_t Generator::total_units() const {
  return static_cast<std::uint64_t>(impl_->source_episodes) * impl_->options.variants;
}
std::uint64_t Generator::shard_begin() const { return impl_->begin; }
std::uint64_t Generator::shard_end() const { return impl_->end; }
int Generator::threads() const { return impl_->threads; }
bool Generator::renders() const { return !impl_->config.cameras.empty(); }
const std::vector<std::string>& Generator::notes() const { return impl_->notes; }

void Generator::Generate(std::uint64_t begin, std::uint64_t end, const Consumer& consume,
                         const std::vector<std::uint64_t>& skip, const Consumer& finish,
                         const Waiting& waiting) {
  end = std::min(end, total_units());
  const std::set<std::uint64_t> skipped(skip.begin(), skip.end());
  std::vector<std::uint64_t> units;
  for (std::uint64_t u = begin; u < end; ++u) {
    if (!skipped.count(u)) units.push_back(u);
  }
  if (units.empty()) return;
  const std::uint32_t K = impl_->options.variants;
  const int threads = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(impl_->threads), units.size()));
  // In flight: one episode per worker, and one more so a worker never waits for the writer.
  const std::size_t window = static_cast<std::size_t>(threads) + 1;

  struct Task {
    std::uint64_t unit;
    std::shared_ptr<const episode::Episode> source;
  };
  struct Result {
    std::optional<GeneratedEpisode> episode;
    std::exception_ptr error;
    // Released on the calling thread: the last reference to a source episode may own an open HDF5 file (its
    // preserved nodes), and closing it on a worker would race the calling thread's HDF5 calls.
    std::shared_ptr<const episode::Episode> source;
  };
  std::mutex mutex;
  std::condition_variable work_ready, result_ready;
  std::deque<Task> tasks;
  std::map<std::uint64_t, Result> results;
  std::exception_ptr fatal;  // a worker that could not start
  bool closing = false;
  // How far each worker is through making its episode (0 when idle; reset with the result's hand-over, under the
  // mutex). `finish` is not metered: it counts as the rest of an episode, about what encoding the SO-101's two
  // cameras' video costs of it (14 % of the episode's wall time on a CPU).
  std::vector<std::atomic<double>> done(static_cast<std::size_t>(threads));
  for (auto& d : done) d.store(0, std::memory_order_relaxed);
  const double making_share = finish ? 0.85 : 1.0;

  auto work = [&](int index) {
    std::atomic<double>& my_done = done[static_cast<std::size_t>(index)];
    std::optional<VariantWorker> worker;
    try {
      worker.emplace(impl_->config, impl_->renderer);
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!fatal) fatal = std::current_exception();
      result_ready.notify_all();
      return;
    }
    for (;;) {
      Task task;
      {
        std::unique_lock lock(mutex);
        work_ready.wait(lock, [&] { return closing || !tasks.empty(); });
        if (tasks.empty()) return;
        task = std::move(tasks.front());
        tasks.pop_front();
      }
      Result result;
      try {
        result.episode = worker->Run(*task.source, static_cast<std::uint32_t>(task.unit / K),
                                     static_cast<std::uint32_t>(task.unit % K), &my_done);
        if (finish) finish(*result.episode);
      } catch (...) {
        result.error = std::current_exception();
      }
      result.source = std::move(task.source);
      std::lock_guard lock(mutex);
      results.emplace(task.unit, std::move(result));
      my_done.store(0, std::memory_order_relaxed);
      result_ready.notify_all();
    }
  };

  std::vector<std::jthread> pool;
  auto stop = [&] {
    {
      std::lock_guard lock(mutex);
      closing = true;
      tasks.clear();
    }
    work_ready.notify_all();
    pool.clear();  // joins
  };
  for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);

  // Sources are read here, on the calling thread, and shared by the variants of one source episode.
  std::map<std::uint32_t, std::shared_ptr<const episode::Episode>> sources;
  std::size_t dispatched = 0;
  try {
    for (std::size_t consumed = 0; consumed < units.size(); ++consumed) {
      while (dispatched < units.size() && dispatched < consumed + window) {
        const auto position = static_cast<std::uint32_t>(units[dispatched] / K);
        auto& source = sources[position];
        if (!source) source = std::make_shared<const episode::Episode>(impl_->reader->ReadEpisode(position));
        {
          std::lock_guard lock(mutex);
          tasks.push_back({units[dispatched], source});
        }
        work_ready.notify_one();
        ++dispatched;
      }
      Result result;
      {
        std::unique_lock lock(mutex);
        const auto ready = [&] { return fatal || results.count(units[consumed]) > 0; };
        while (!result_ready.wait_for(lock, std::chrono::seconds(1), ready)) {
          if (!waiting) continue;
          double under_way = static_cast<double>(results.size());
          for (const auto& d : done) under_way += making_share * d.load(std::memory_order_relaxed);
          lock.unlock();
          waiting(under_way);
          lock.lock();
        }
        if (fatal) std::rethrow_exception(fatal);
        auto node = results.extract(units[consumed]);
        result = std::move(node.mapped());
      }
      if (result.error) std::rethrow_exception(result.error);
      consume(*result.episode);
      // A source no later unit needs is released.
      const auto position = static_cast<std::uint32_t>(units[consumed] / K);
      for (auto it = sources.begin(); it != sources.end() && it->first < position;) it = sources.erase(it);
    }
  } catch (...) {
    stop();
    throw;
  }
  stop();
}

}  // namespace r2s::amplify

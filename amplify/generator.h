#pragma once
// The generator's C++ API, for batch jobs (r2s generate) and training harnesses that want synthetic episodes as a
// stream without touching the disk:
//
//   #include "amplify/generator.h"
//   r2s::amplify::GeneratorOptions options;
//   options.variants = 8;
//   options.threads = 4;
//   auto generator = r2s::amplify::Generator::Open("scenes/tabletop", "params.yaml", "demos.hdf5", options);
//   generator.Generate(generator.shard_begin(), generator.shard_end(), [&](r2s::amplify::GeneratedEpisode& g) {
//     if (g.success) train_on(g.episode);                 // same features, dtypes and shapes as the source
//   });
//
// Each unit u (source episode u / K, variant u % K) is a pure function of the scene, params, dataset, options and
// u: episodes come out in unit order, identical for any thread count and any shard split. Generate runs its
// workers (one Bullet world and, when cameras are recorded, one renderer each) on options.threads threads that
// live only during the call; the source is read and `consume` is called on the calling thread (HDF5 is not
// thread-safe), and at most threads + 1 episodes are in memory at once.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "amplify/generated_episode.h"
#include "amplify/shard.h"
#include "cuda/sensor.h"
#include "episode/dataset_info.h"
#include "randomize/condition_space.h"
#include "render/rendering_overrides.h"

namespace r2s::amplify {

struct GeneratorOptions {
  std::uint32_t variants = 1;  // K: synthetic episodes per source episode
  std::uint64_t seed = 0;
  Shard shard;
  int threads = 0;  // 0: every CPU the process may use (its affinity mask and cgroup quota)
  cuda::Device device = cuda::Device::kAuto;  // the sensor models
  std::string render_device;                  // part of a Vulkan device name; empty: a GPU, else lavapipe
  bool render_validation = false;             // run the renderer under the Vulkan validation layer
  // Over the scene's rendering: section (shadows, shadow casters, shadow map size); unset keeps the scene's.
  render::RenderingOverrides rendering;
  // Cameras to record beyond the ones the source already has image features for (observation.images.<camera>),
  // and what of them: "rgb" (observation.images.<camera>), "depth" (observation.depth.<camera>), "segmentation"
  // (observation.segmentation.<camera>). Opt-in: they add features the source does not have.
  std::vector<std::string> cameras;
  std::vector<std::string> streams = {"rgb"};
  std::optional<std::int64_t> max_source_episodes;  // the dataset's first N episodes only
  // Where the retarget object lay in each source episode (grasp_inference.h's annotation file), over what is
  // inferred from the demonstration's grasp; for datasets that do not record the object's pose.
  std::optional<std::filesystem::path> object_poses;

  // Whether the options hold on their own (the scene is not needed): variants at least 1, threads not negative,
  // max_source_episodes at least 1, streams of rgb, depth and segmentation, the shard's index below its count,
  // rendering overrides it can take (fields rendering.shadows, rendering.shadow_casters, rendering.shadow_map_px).
  // False with `why` (when given) naming the field and its value: "GeneratorOptions::variants: must be at least
  // 1, found 0".
  bool IsValid(std::string* why = nullptr) const;
};

// The file name an InputError from the options carries (Generator::Open): its field is the option's field name
// ("variants", "cameras", ...), so a caller that reads options from elsewhere (a command line) can say where.
inline constexpr const char* kGeneratorOptionsSource = "GeneratorOptions";

class Generator {
 public:
  // Loads and checks everything before anything runs: the scene (with the params overlay), its randomization and
  // generation sections, the dataset and how it binds to the scene, the options. Throws InputError naming the
  // file, field and value; for the options the file is kGeneratorOptionsSource and the field the option's name.
  static Generator Open(const std::filesystem::path& scene, const std::optional<std::filesystem::path>& params,
                        const std::filesystem::path& dataset, const GeneratorOptions& options);
  Generator(Generator&&) noexcept;
  Generator& operator=(Generator&&) noexcept;
  ~Generator();

  const episode::DatasetInfo& source_info() const;
  const episode::DatasetInfo& output_info() const;  // the generated episodes' schema
  const GeneratorOptions& options() const;
  const std::filesystem::path& scene_file() const;  // the scene.yaml it loaded
  const std::optional<std::filesystem::path>& params_file() const;  // as given to Open
  const std::filesystem::path& dataset_path() const;                // as given to Open
  // The scene's deployment map (randomization.conditions): empty when it declares none.
  const randomize::ConditionSpace& conditions() const;
  std::int64_t source_episodes() const;
  std::uint64_t total_units() const;  // source episodes x variants
  std::uint64_t shard_begin() const;  // this shard's units [shard_begin, shard_end)
  std::uint64_t shard_end() const;
  int threads() const;  // options.threads resolved
  bool renders() const;  // the output records camera streams: each worker opens a renderer
  // What a user should know about where the draws come from ("physics from the posterior of params.yaml: ...").
  const std::vector<std::string>& notes() const;

  // Generates units [begin, end) except those in `skip` and calls consume(episode) on the calling thread for each,
  // in unit order. An exception in a worker or in `consume` stops the run (the workers finish their current
  // episode and are joined) and is rethrown.
  // `finish`, when given, runs on the worker thread that made the episode, right after it (any order across
  // units): for work that should not queue on the calling thread, such as encoding a unit's video. It must be
  // safe to run concurrently for different units and must not call HDF5.
  // `waiting`, when given, is called on the calling thread about once a second while it waits for the next
  // episode: an episode with cameras takes minutes on a CPU, and a caller's progress should say it is still working.
  // Its argument is the work under way, in units: the units finished but not yet consumed (a later unit can finish
  // before the one consumed next) plus the fractions done of those being made (VariantWorker::Run's `done`).
  using Consumer = std::function<void(GeneratedEpisode&)>;
  using Waiting = std::function<void(double units_under_way)>;
  void Generate(std::uint64_t begin, std::uint64_t end, const Consumer& consume,
                const std::vector<std::uint64_t>& skip = {}, const Consumer& finish = {},
                const Waiting& waiting = {});

 private:
  struct Impl;
  explicit Generator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace r2s::amplify

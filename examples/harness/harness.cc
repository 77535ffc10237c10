// A stand-in for a training harness: streams synthetic episodes from the generator's C++ API (amplify/generator.h)
// straight into the "training loop" (here: batch statistics), with nothing written to disk.
//
//   harness SCENE DATASET [VARIANTS] [EPISODES]
//
// VARIANTS (default 2) synthetic episodes per source episode, from the dataset's first EPISODES source episodes
// (default: all). Per batch of 4 episodes it prints the number of episodes, the success rate, the frames and the
// mean and std per dimension of one state feature; then a final line "episodes=<n> successes=<k> frames=<f>". The
// generator is deterministic for a seed (any thread count), so the output is too. Exit status: 0 done, 2 bad input
// (the message names the file, field and value), 1 internal error.
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "amplify/generator.h"
#include "episode/dtype.h"
#include "episode/input_error.h"

namespace {

constexpr int kExitBadInput = 2;
constexpr int kExitInternal = 1;
constexpr std::int64_t kBatchEpisodes = 4;

std::int64_t PositiveArgument(std::string_view text, const char* name) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 1) {
    throw r2s::InputError("command line", name, "'" + std::string(text) + "' is not a positive integer");
  }
  return value;
}

// The feature to report statistics of: observation.state or observation.object_pose when the schema has one, else
// its first floating-point feature with one axis per frame (map order: by name); "" when it has none.
std::string StatisticsFeature(const r2s::episode::Features& features) {
  const auto fits = [](const r2s::episode::FeatureSpec& spec) {
    return r2s::episode::IsFloating(spec.dtype) && spec.shape.size() == 1;
  };
  for (const char* preferred : {"observation.state", "observation.object_pose"}) {
    const auto it = features.find(preferred);
    if (it != features.end() && fits(it->second)) return it->first;
  }
  for (const auto& [name, spec] : features) {
    if (fits(spec)) return name;
  }
  return "";
}

// Running statistics of one batch: episode and success counts, frames, and per dimension of the feature the mean
// and variance (Welford, in unit order, so the numbers do not depend on anything but the episodes).
class Batch {
 public:
  explicit Batch(std::int64_t dims) : mean_(dims, 0.0), m2_(dims, 0.0) {}

  void Add(const r2s::amplify::GeneratedEpisode& generated, const std::string& feature) {
    ++episodes_;
    successes_ += generated.success ? 1 : 0;
    frames_ += generated.frames;
    if (feature.empty()) return;
    const r2s::episode::Column* column = generated.episode.Find(feature);
    if (column == nullptr) return;
    if (column->data.dtype == r2s::episode::DType::kFloat32) {
      AddValues(column->data.values<float>());
    } else {
      AddValues(column->data.values<double>());
    }
  }

  // "episodes=4 success_rate=0.500 frames=412 mean=[...] std=[...]"
  void Print(std::int64_t index) const {
    std::printf("batch %lld episodes=%lld success_rate=%.3f frames=%lld", static_cast<long long>(index),
                static_cast<long long>(episodes_), static_cast<double>(successes_) / static_cast<double>(episodes_),
                static_cast<long long>(frames_));
    if (!mean_.empty()) {
      std::printf(" mean=[");
      for (std::size_t d = 0; d < mean_.size(); ++d) std::printf("%s%.6g", d ? " " : "", mean_[d]);
      std::printf("] std=[");
      for (std::size_t d = 0; d < m2_.size(); ++d) {
        std::printf("%s%.6g", d ? " " : "", samples_ > 0 ? std::sqrt(m2_[d] / static_cast<double>(samples_)) : 0.0);
      }
      std::printf("]");
    }
    std::printf("\n");
  }

  std::int64_t episodes() const { return episodes_; }
  std::int64_t successes() const { return successes_; }
  std::int64_t frames() const { return frames_; }

 private:
  template <class T>
  void AddValues(std::span<const T> values) {
    const std::size_t dims = mean_.size();
    for (std::size_t frame = 0; frame + dims <= values.size(); frame += dims) {
      ++samples_;
      for (std::size_t d = 0; d < dims; ++d) {
        const double x = static_cast<double>(values[frame + d]);
        const double delta = x - mean_[d];
        mean_[d] += delta / static_cast<double>(samples_);
        m2_[d] += delta * (x - mean_[d]);
      }
    }
  }

  std::int64_t episodes_ = 0, successes_ = 0, frames_ = 0, samples_ = 0;
  std::vector<double> mean_, m2_;
};

int Run(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: %s SCENE DATASET [VARIANTS] [EPISODES]\n", argv[0]);
    return kExitBadInput;
  }
  r2s::amplify::GeneratorOptions options;
  options.threads = 2;
  options.variants = argc > 3 ? static_cast<std::uint32_t>(PositiveArgument(argv[3], "VARIANTS")) : 2;
  if (argc > 4) options.max_source_episodes = PositiveArgument(argv[4], "EPISODES");

  // Open checks the scene, its generation sections, the dataset and the options before anything runs.
  auto generator = r2s::amplify::Generator::Open(argv[1], std::nullopt, argv[2], options);
  const std::string feature = StatisticsFeature(generator.output_info().features);
  const std::int64_t dims = feature.empty() ? 0 : generator.output_info().features.at(feature).FrameSize();
  std::printf("harness: %lld source episodes x %u variants = %llu episodes on %d threads; statistics of %s\n",
              static_cast<long long>(generator.source_episodes()), options.variants,
              static_cast<unsigned long long>(generator.total_units()), generator.threads(),
              feature.empty() ? "(no floating-point feature)" : feature.c_str());

  std::int64_t episodes = 0, successes = 0, frames = 0, batches = 0;
  Batch batch(dims);
  const auto flush = [&] {
    if (batch.episodes() == 0) return;
    batch.Print(batches++);
    episodes += batch.episodes();
    successes += batch.successes();
    frames += batch.frames();
    batch = Batch(dims);
  };
  // The consumer runs on this thread, in unit order: a training loop would move g.episode into its replay buffer.
  generator.Generate(generator.shard_begin(), generator.shard_end(), [&](r2s::amplify::GeneratedEpisode& g) {
    batch.Add(g, feature);
    if (batch.episodes() == kBatchEpisodes) flush();
  });
  flush();
  std::printf("episodes=%lld successes=%lld frames=%lld\n", static_cast<long long>(episodes),
              static_cast<long long>(successes), static_cast<long long>(frames));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const r2s::InputError& e) {
    std::fprintf(stderr, "harness: error: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "harness: internal error: %s\n", e.what());
    return kExitInternal;
  }
}

#include "cli/generate_command.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>

#include "amplify/generate_run.h"
#include "amplify/generator.h"
#include "amplify/run_folder.h"
#include "cli/progress.h"
#include "common/cpu_budget.h"
#include "episode/dataset_writer.h"
#include "episode/input_error.h"
#include "render/cpu_raster_threads.h"

namespace r2s::cli {
namespace {

namespace fs = std::filesystem;

cuda::Device ParseDevice(const std::string& text) {
  if (auto device = cuda::DeviceFromName(text)) return *device;
  throw InputError("command line", "--device", "'" + text + "' is not auto, cpu or cuda");
}

amplify::Keep ParseKeep(const std::string& text) {
  if (auto keep = amplify::KeepFromName(text)) return *keep;
  throw InputError("command line", "--keep", "'" + text + "' is not success or all");
}

// Why episodes failed, most frequent first, each with its first example; a warning when none was kept, since a
// run that keeps nothing usually has one wrong assumption (a reach, a grasp offset, a region) the reasons name.
void PrintReasons(std::ostream& log, const amplify::RunTotals& totals) {
  const bool none_kept = totals.kept == 0 && totals.attempted > 0;
  if (totals.rejected.empty()) {
    if (none_kept) log << "generate: warning: kept 0 of " << totals.attempted << " episodes\n";
    return;
  }
  std::vector<std::pair<std::string, amplify::ReasonTally>> order(totals.rejected.begin(), totals.rejected.end());
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
  if (none_kept) {
    log << "generate: warning: kept 0 of " << totals.attempted << " episodes; why they failed:\n";
  } else {
    log << "generate: why episodes failed:\n";
  }
  for (const auto& [code, tally] : order) {
    log << "generate:   " << code << " " << tally.count << " (first: unit " << tally.example_unit << ", "
        << tally.example << ")\n";
  }
}

}  // namespace

void RunGenerate(const GenerateOptions& options, std::ostream& out, std::ostream& log) {
  if (options.variants < 1) {
    throw InputError("command line", "--variants", "must be at least 1, found " + std::to_string(options.variants));
  }
  amplify::GeneratorOptions g;
  g.variants = static_cast<std::uint32_t>(options.variants);
  g.seed = options.seed;
  if (options.shard) {
    g.shard = amplify::ParseShard(*options.shard);
  } else if (auto from_environment = amplify::ShardFromEnvironment([](const char* name) { return std::getenv(name); })) {
    g.shard = *from_environment;
  }
  g.threads = options.threads;
  g.device = ParseDevice(options.device);
  g.render_device = options.render_device;
  g.rendering = options.rendering;
  g.cameras = options.cameras;
  g.streams = options.streams;
  g.max_source_episodes = options.max_episodes;
  g.object_poses = options.object_poses;
  amplify::RunOptions run;
  run.out = options.out;
  run.keep = ParseKeep(options.keep);
  run.overwrite = options.overwrite;
  run.write.video.codec = options.video_codec;
  run.write.video.crf = options.video_crf;
  run.write.video.preset = options.video_preset;
  run.write.video.keyframe_interval = options.video_keyframe_interval;
  run.write.lerobot_side_streams = !options.no_side_streams;
  try {
    run.write.Validate();
  } catch (const std::invalid_argument& e) {
    throw InputError("command line", "--video-*", e.what());
  }

  // Before loading anything: real data is what a user cannot get back.
  amplify::RefuseOutOverSource(options.out, options.episodes, "RunOptions.out");
  amplify::Generator generator = amplify::Generator::Open(options.scene, options.params, options.episodes, g);
  // Before any worker opens a renderer (and before any thread starts): the CPU renderer's own threads share the
  // CPUs with the workers.
  std::string rasterizer_note;
  if (generator.renders()) rasterizer_note = render::ShareCpuRasterizer(AvailableCpus(), generator.threads());
  const bool has_conditions = !generator.conditions().empty();
  const std::uint64_t begin = generator.shard_begin(), end = generator.shard_end();
  std::optional<Progress> progress;
  amplify::RunObserver observer;
  observer.on_start = [&](const fs::path& dir, std::uint64_t resumed_units) {
    if (options.quiet) return;
    log << "generate: " << generator.source_episodes() << " source episodes x " << g.variants << " variants = "
        << generator.total_units() << " episodes; shard " << g.shard.index << "/" << g.shard.count << " ("
        << g.shard.source << "): units " << begin << ".." << end << ", " << generator.threads() << " threads -> "
        << dir.string() << "\n";
    for (const std::string& note : generator.notes()) log << "generate: " << note << "\n";
    if (!rasterizer_note.empty()) log << "generate: " << rasterizer_note << "\n";
    if (!has_conditions) {
      log << "generate: the scene has no deployment map (randomization.conditions): no coverage report\n";
    }
    progress.emplace(log, isatty(STDERR_FILENO) != 0, end - begin, resumed_units);
  };
  // A source episode's inferred object pose is said once, with the first of its units this shard makes.
  const auto first_of_source = [&](const amplify::GeneratedEpisode& episode) {
    return std::max<std::uint64_t>(begin, static_cast<std::uint64_t>(episode.source_position) * g.variants);
  };
  observer.on_episode = [&](const amplify::GeneratedEpisode& episode, bool kept) {
    if (options.quiet) return;
    if (!episode.object_pose_note.empty() && episode.unit == first_of_source(episode)) {
      log << (isatty(STDERR_FILENO) ? "\r" : "") << "generate: source episode " << episode.source_position << ": "
          << episode.object_pose_note << "\n";
    }
    progress->Add(kept, std::string(amplify::ReasonCode(episode.rejection.reason)));
  };
  observer.waiting = [&](double under_way) {
    if (progress) progress->Tick(under_way);
  };
  const amplify::RunResult result = amplify::GenerateRun(generator, run, observer);
  if (result.was_complete) {
    log << "generate: " << result.dir.string() << " is complete already (--overwrite to generate it again)\n";
    out << result.summary_json;
    return;
  }
  if (progress) progress->Finish();
  out << result.summary_json;
  if (!options.quiet) {
    log << "generate: kept " << result.totals.kept << " of " << result.totals.attempted << " episodes ("
        << result.totals.succeeded << " succeeded) -> " << result.dataset.string() << "\n";
    PrintReasons(log, result.totals);
    if (has_conditions) log << "generate: condition coverage -> " << (result.dir / "coverage.html").string() << "\n";
  }
}

void RunMerge(const MergeOptions& options, std::ostream& out) {
  const amplify::MergeResult result = amplify::MergeShards(options.shards, options.out, options.overwrite);
  std::ifstream summary(options.out / "summary.json");
  out << summary.rdbuf();
}

}  // namespace r2s::cli

#include "cli/generate_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <cstdlib>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "amplify/generator.h"
#include "amplify/run_folder.h"
#include "cli/progress.h"
#include "episode/dataset_writer.h"
#include "episode/input_error.h"

namespace r2s::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

double PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports kilobytes
}

cuda::Device ParseDevice(const std::string& text) {
  if (text == "auto") return cuda::Device::kAuto;
  if (text == "cpu") return cuda::Device::kCpu;
  if (text == "cuda") return cuda::Device::kCuda;
  throw InputError("command line", "--device", "'" + text + "' is not auto, cpu or cuda");
}

amplify::Keep ParseKeep(const std::string& text) {
  if (text == "success") return amplify::Keep::kSuccess;
  if (text == "all") return amplify::Keep::kAll;
  throw InputError("command line", "--keep", "'" + text + "' is not success or all");
}

json SecondsJson(const amplify::StageSeconds& t) {
  return json{{"draw_s", t.draw_s}, {"sim_s", t.sim_s}, {"render_s", t.render_s}, {"sensor_s", t.sensor_s},
              {"write_s", t.write_s}};
}

// This process's CPU seconds, every thread (the renderer's driver threads included).
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

json ReasonCountsJson(const std::map<std::string, amplify::ReasonTally>& rejected) {
  json counts = json::object();
  for (const auto& [code, tally] : rejected) counts[code] = tally.count;
  return counts;
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

// The library names its options by field; the user gave them as flags.
amplify::Generator OpenGenerator(const GenerateOptions& options, const amplify::GeneratorOptions& g) {
  try {
    return amplify::Generator::Open(options.scene, options.params, options.episodes, g);
  } catch (const InputError& e) {
    if (e.file() != amplify::kGeneratorOptionsSource) throw;
    static const std::map<std::string, std::string> kFlags = {
        {"variants", "--variants"},         {"threads", "--threads"}, {"max_source_episodes", "--max-episodes"},
        {"cameras", "--cameras"},           {"streams", "--streams"}, {"device", "--device"},
        {"object_poses", "--object-poses"}, {"shard", "--shard"}};
    const auto flag = kFlags.find(e.field());
    throw InputError("command line", flag != kFlags.end() ? flag->second : e.field(), e.problem());
  }
}

}  // namespace

void RunGenerate(const GenerateOptions& options, std::ostream& out, std::ostream& log) {
  const auto started = std::chrono::steady_clock::now();
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
  const amplify::Keep keep = ParseKeep(options.keep);

  amplify::RefuseOutOverSource(options.out, options.episodes);
  amplify::Generator generator = OpenGenerator(options, g);
  // Shards of one run write beside each other, for `r2s merge OUT/shard-*`.
  const fs::path dir = g.shard.count > 1 ? options.out / ("shard-" + std::to_string(g.shard.index) + "-of-" +
                                                          std::to_string(g.shard.count))
                                         : options.out;
  amplify::RunIdentity identity =
      amplify::IdentityOf(generator.scene_file(), options.params, options.episodes, g, keep);
  episode::WriteOptions write_options;
  write_options.video.codec = options.video_codec;
  write_options.video.crf = options.video_crf;
  write_options.video.preset = options.video_preset;
  write_options.video.keyframe_interval = options.video_keyframe_interval;
  write_options.lerobot_side_streams = !options.no_side_streams;
  try {
    write_options.Validate();
  } catch (const std::invalid_argument& e) {
    throw InputError("command line", "--video-*", e.what());
  }
  if (generator.output_info().layout == episode::StorageLayout::kLeRobot) {
    const episode::video::EncodeOptions& v = write_options.video;
    identity.video_encoding = v.codec + " " + v.pix_fmt + " crf=" + std::to_string(v.crf) +
                              " preset=" + (v.codec == "libx264" ? v.x264_preset : std::to_string(v.preset)) +
                              " g=" + std::to_string(v.keyframe_interval) +
                              (write_options.lerobot_side_streams ? "" : " no-side-streams");
  }
  amplify::RunFolder folder = amplify::RunFolder::Open(dir, identity, generator.output_info(), options.overwrite);
  folder.set_write_options(write_options);
  // The coverage report of the deployment map (coverage.json, draws.csv, coverage.html), written by Finish.
  const bool has_conditions = !generator.conditions().empty();
  if (has_conditions) folder.set_conditions(generator.conditions());
  if (folder.complete()) {
    std::ifstream summary(dir / "summary.json");
    log << "generate: " << dir.string() << " is complete already (--overwrite to generate it again)\n";
    out << summary.rdbuf();
    return;
  }

  const std::uint64_t begin = generator.shard_begin(), end = generator.shard_end();
  std::vector<std::uint64_t> done;
  for (std::uint64_t u : folder.done_units()) {
    if (u >= begin && u < end) done.push_back(u);
  }
  if (!options.quiet) {
    log << "generate: " << generator.source_episodes() << " source episodes x " << g.variants << " variants = "
        << generator.total_units() << " episodes; shard " << g.shard.index << "/" << g.shard.count << " ("
        << g.shard.source << "): units " << begin << ".." << end << ", " << generator.threads() << " threads -> "
        << dir.string() << "\n";
    for (const std::string& note : generator.notes()) log << "generate: " << note << "\n";
    if (!has_conditions) {
      log << "generate: the scene has no deployment map (randomization.conditions): no coverage report\n";
    }
  }
  Progress progress(log, isatty(STDERR_FILENO) != 0, end - begin, done.size());
  amplify::StageTimes this_run;
  std::uint64_t attempted = 0, kept = 0;
  // A variant refused before simulating has nothing to keep, even with --keep all.
  const auto keeps = [&](const amplify::GeneratedEpisode& episode) {
    return episode.success || (keep == amplify::Keep::kAll && episode.simulated);
  };
  amplify::RunTotals this_run_reasons;
  // A source episode's inferred object pose is said once, with the first of its units this shard makes.
  const auto first_of_source = [&](const amplify::GeneratedEpisode& episode) {
    return std::max<std::uint64_t>(begin, static_cast<std::uint64_t>(episode.source_position) * g.variants);
  };
  // Where the output format allows (LeRobot), each worker writes (encodes) its own unit's part, so the calling
  // thread only records units in order and is never the ceiling; the episode's frames are released there.
  const bool parts_on_workers = folder.parts_thread_safe();
  amplify::Generator::Consumer finish;
  if (parts_on_workers) {
    finish = [&](amplify::GeneratedEpisode& episode) {
      folder.WritePart(episode, keeps(episode));
      episode.episode.columns.clear();
    };
  }
  generator.Generate(
      begin, end,
      [&](amplify::GeneratedEpisode& episode) {
        const bool keep_it = keeps(episode);
        folder.Store(episode, keep_it, parts_on_workers);
        this_run += episode.times;
        ++attempted;
        kept += keep_it ? 1 : 0;
        if (!options.quiet && !episode.object_pose_note.empty() && episode.unit == first_of_source(episode)) {
          log << (isatty(STDERR_FILENO) ? "\r" : "") << "generate: source episode " << episode.source_position
              << ": " << episode.object_pose_note << "\n";
        }
        const std::string reason(amplify::ReasonCode(episode.rejection.reason));
        if (!reason.empty()) this_run_reasons.AddReason(reason, episode.unit, episode.rejection.detail);
        if (!options.quiet) progress.Add(keep_it, reason);
      },
      done, finish, [&] {
        if (!options.quiet) progress.Tick();
      });
  if (!options.quiet) progress.Finish();
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  json fields{{"wall_s", wall_s},
              {"this_run", {{"attempted", attempted},
                            {"kept", kept},
                            {"rejected", ReasonCountsJson(this_run_reasons.rejected)},
                            {"resumed_from", done.size()},
                            {"episodes_per_s", wall_s > 0 ? static_cast<double>(attempted) / wall_s : 0.0},
                            {"stage_wall_s", SecondsJson(this_run.wall)},
                            {"stage_thread_cpu_s", SecondsJson(this_run.cpu)},
                            {"process_cpu_s", ProcessCpuSeconds()}}},
              {"threads", generator.threads()},
              {"sensor_device", cuda::DeviceName(g.device)},
              {"peak_rss_mb", PeakRssMb()},
              {"keep", options.keep}};
  const amplify::RunTotals totals = folder.Finish(begin, end, fields.dump());
  std::ifstream summary(dir / "summary.json");
  out << summary.rdbuf();
  if (!options.quiet) {
    log << "generate: kept " << totals.kept << " of " << totals.attempted << " episodes (" << totals.succeeded
        << " succeeded) -> " << folder.dataset_path().string() << "\n";
    PrintReasons(log, totals);
    if (has_conditions) log << "generate: condition coverage -> " << (dir / "coverage.html").string() << "\n";
  }
}

void RunMerge(const MergeOptions& options, std::ostream& out) {
  const amplify::MergeResult result = amplify::MergeShards(options.shards, options.out, options.overwrite);
  std::ifstream summary(options.out / "summary.json");
  out << summary.rdbuf();
}

}  // namespace r2s::cli

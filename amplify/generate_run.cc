#include "amplify/generate_run.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "amplify/run_folder.h"
#include "amplify/summary_json.h"
#include "common/options_check.h"
#include "cuda/sensor.h"

namespace r2s::amplify {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

double PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports kilobytes
}

// This process's CPU seconds, every thread (the renderer's driver threads included).
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

json ReasonCountsJson(const std::map<std::string, ReasonTally>& rejected) {
  json counts = json::object();
  for (const auto& [code, tally] : rejected) counts[code] = tally.count;
  return counts;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// How the output's video is encoded, part of the run's identity where the output has video (LeRobot).
std::string VideoEncoding(const episode::WriteOptions& write) {
  const episode::video::EncodeOptions& v = write.video;
  return v.codec + " " + v.pix_fmt + " crf=" + std::to_string(v.crf) +
         " preset=" + (v.codec == "libx264" ? v.x264_preset : std::to_string(v.preset)) +
         " g=" + std::to_string(v.keyframe_interval) + (write.lerobot_side_streams ? "" : " no-side-streams");
}

}  // namespace

std::optional<Keep> KeepFromName(std::string_view name) {
  if (name == "success") return Keep::kSuccess;
  if (name == "all") return Keep::kAll;
  return std::nullopt;
}

const char* KeepName(Keep keep) { return keep == Keep::kAll ? "all" : "success"; }

void RunTotals::AddReason(const std::string& code, std::uint64_t unit, const std::string& detail) {
  ReasonTally& tally = rejected[code];
  if (tally.count == 0) {
    tally.example_unit = unit;
    tally.example = detail;
  }
  ++tally.count;
}

void RunOptions::Validate() const {
  if (out.empty()) throw std::invalid_argument("RunOptions::out is empty, expected the run folder's path");
  try {
    write.Validate();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("RunOptions::write: ") + e.what());
  }
}

bool RunOptions::IsValid(std::string* why) const { return IsValidByValidate(*this, why); }

RunResult GenerateRun(Generator& generator, const RunOptions& options, const RunObserver& observer) {
  options.Validate();
  const auto started = std::chrono::steady_clock::now();
  const GeneratorOptions& g = generator.options();
  RefuseOutOverSource(options.out, generator.dataset_path(), "RunOptions.out");
  // Shards of one run write beside each other, for MergeShards (r2s merge OUT/shard-*).
  RunResult result;
  result.dir = g.shard.count > 1 ? options.out / ("shard-" + std::to_string(g.shard.index) + "-of-" +
                                                 std::to_string(g.shard.count))
                                 : options.out;
  RunIdentity identity =
      IdentityOf(generator.scene_file(), generator.params_file(), generator.dataset_path(), g, options.keep);
  if (generator.output_info().layout == episode::StorageLayout::kLeRobot) {
    identity.video_encoding = VideoEncoding(options.write);
  }
  RunFolder folder = RunFolder::Open(result.dir, identity, generator.output_info(), options.overwrite);
  folder.set_write_options(options.write);
  // The coverage report of the deployment map (coverage.json, draws.csv, coverage.html), written by Finish.
  if (!generator.conditions().empty()) folder.set_conditions(generator.conditions());
  result.dataset = folder.dataset_path();
  if (folder.complete()) {
    result.was_complete = true;
    result.summary_json = ReadFile(result.dir / "summary.json");
    return result;
  }

  const std::uint64_t begin = generator.shard_begin(), end = generator.shard_end();
  std::vector<std::uint64_t> done;
  for (std::uint64_t u : folder.done_units()) {
    if (u >= begin && u < end) done.push_back(u);
  }
  result.resumed_units = done.size();
  if (observer.on_start) observer.on_start(result.dir, result.resumed_units);

  // A variant refused before simulating has nothing to keep, even with Keep::kAll.
  const auto keeps = [&](const GeneratedEpisode& episode) {
    return episode.success || (options.keep == Keep::kAll && episode.simulated);
  };
  // Where the output format allows (LeRobot), each worker writes (encodes) its own unit's part, so the calling
  // thread only records units in order and is never the ceiling; the episode's frames are released there. Where
  // it does not (HDF5 is not thread-safe), the workers deflate the images and the calling thread only writes them
  // (about 2 ms of its CPU per 640x480 RGB + depth + segmentation frame instead of 14), unless there is only one
  // worker: then the calling thread deflating beside it is the parallelism (tabletop camera run: 14.6 s against
  // 18.3 s on one worker; bench/README.md).
  const bool parts_on_workers = folder.parts_thread_safe();
  const bool deflate_on_workers = !parts_on_workers && generator.threads() >= 2;
  Generator::Consumer finish;
  if (parts_on_workers) {
    finish = [&](GeneratedEpisode& episode) {
      folder.WritePart(episode, keeps(episode));
      episode.episode.columns.clear();
    };
  } else if (deflate_on_workers) {
    finish = [&](GeneratedEpisode& episode) { folder.PreparePart(episode, keeps(episode)); };
  }
  StageTimes this_run;
  RunTotals this_run_reasons;
  generator.Generate(
      begin, end,
      [&](GeneratedEpisode& episode) {
        const bool keep_it = keeps(episode);
        folder.Store(episode, keep_it, parts_on_workers);
        this_run += episode.times;
        ++result.attempted;
        result.kept += keep_it ? 1 : 0;
        const std::string reason(ReasonCode(episode.rejection.reason));
        if (!reason.empty()) this_run_reasons.AddReason(reason, episode.unit, episode.rejection.detail);
        if (observer.on_episode) observer.on_episode(episode, keep_it);
      },
      done, finish, observer.waiting);

  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const json fields{
      {"wall_s", wall_s},
      {"this_run",
       {{"attempted", result.attempted},
        {"kept", result.kept},
        {"rejected", ReasonCountsJson(this_run_reasons.rejected)},
        {"resumed_from", result.resumed_units},
        {"episodes_per_s", wall_s > 0 ? static_cast<double>(result.attempted) / wall_s : 0.0},
        {"stage_wall_s", SecondsJson(this_run.wall)},
        {"stage_thread_cpu_s", SecondsJson(this_run.cpu)},
        {"process_cpu_s", ProcessCpuSeconds()}}},
      {"threads", generator.threads()},
      {"sensor_device", cuda::DeviceName(g.device)},
      {"peak_rss_mb", PeakRssMb()},
      {"keep", KeepName(options.keep)}};
  result.totals = folder.Finish(begin, end, fields.dump(), &result.summary_json);
  return result;
}

}  // namespace r2s::amplify

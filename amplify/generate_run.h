#pragma once
// A generate run into a folder, resumable, as `r2s generate` does it, for API users too:
//
//   auto generator = r2s::amplify::Generator::Open(scene, params, dataset, options);
//   r2s::amplify::RunOptions run;
//   run.out = "out";                                 // a shard of several writes out/shard-<i>-of-<n>
//   r2s::amplify::RunResult result = r2s::amplify::GenerateRun(generator, run);
//
// The folder (run_folder's layout: run.json, one record per finished unit, then the dataset in the source's layout
// and summary.json) takes one unit at a time, so a run killed at any point and started again with the same scene,
// params, dataset and options does only the units without a record and ends with the same bytes as an
// uninterrupted run; a complete folder is reported as it is. Another run's folder is refused (InputError naming
// the field that differs) unless `overwrite`.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "amplify/generated_episode.h"
#include "amplify/generator.h"
#include "amplify/stage_times.h"
#include "episode/dataset_writer.h"

namespace r2s::amplify {

enum class Keep { kSuccess, kAll };  // kAll also keeps simulated failures, their reason in provenance
std::optional<Keep> KeepFromName(std::string_view name);  // "success" or "all"; nullopt otherwise
const char* KeepName(Keep keep);

// How many units failed for one reason, and the first of them (in unit order) as the example a user reads.
struct ReasonTally {
  std::uint64_t count = 0;
  std::uint64_t example_unit = 0;
  std::string example;  // its reason_detail
};

struct RunTotals {
  std::uint64_t attempted = 0, kept = 0, succeeded = 0;
  std::int64_t frames = 0, camera_frames = 0, physics_steps = 0;
  StageTimes times;  // summed over the units: wall and thread-CPU seconds per stage
  std::map<std::string, ReasonTally> rejected;  // reason code -> the units that failed for it
  void AddReason(const std::string& code, std::uint64_t unit, const std::string& detail);
};

struct RunOptions {
  std::filesystem::path out;
  Keep keep = Keep::kSuccess;
  bool overwrite = false;            // replace what another run wrote into the folder
  episode::WriteOptions write;       // compression; LeRobot's video encoding and side streams

  // Throws std::invalid_argument naming the field and value ("RunOptions::out is empty, expected a folder").
  void Validate() const;
  // Whether Validate() passes; else *why (when given) names the field and value. Validate() throws that as
  // std::invalid_argument.
  bool IsValid(std::string* why = nullptr) const;
};

// What the caller hears while the run goes, all on the calling thread; each may be empty.
struct RunObserver {
  // The folder is open and holds `resumed_units` finished units of the shard; generating starts. Not called for
  // a folder that was complete.
  std::function<void(const std::filesystem::path& dir, std::uint64_t resumed_units)> on_start;
  // A unit finished and was recorded (kept or not), in unit order.
  std::function<void(const GeneratedEpisode& episode, bool kept)> on_episode;
  // About once a second while no unit finishes (an episode with cameras takes minutes on a CPU), with the work
  // under way in units (Generator::Generate's `waiting`).
  std::function<void(double units_under_way)> waiting;
};

struct RunResult {
  std::filesystem::path dir;      // the run folder (out, or out/shard-<i>-of-<n>)
  std::filesystem::path dataset;  // the assembled dataset in it
  bool was_complete = false;      // the folder held this run, complete: nothing was generated
  std::uint64_t resumed_units = 0;  // units of the shard a killed run had finished, not generated again
  std::uint64_t attempted = 0, kept = 0;  // by this call
  RunTotals totals;               // of the whole shard, resumed units included
  std::string summary_json;       // summary.json as written
};

// Throws InputError for a folder that holds another run or lies in the source (out is checked before anything is
// written), OutputError when the disk cannot take it (a rerun resumes), and what Generate throws.
RunResult GenerateRun(Generator& generator, const RunOptions& options, const RunObserver& observer = {});

}  // namespace r2s::amplify

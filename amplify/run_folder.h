#pragma once
// The folder one `r2s generate` run (or one shard of it) writes, built so a killed run resumes without duplicates
// or gaps and a finished one is complete or absent, never partial:
//
//   run.json             the run's identity: the scene, params and dataset (paths and content hashes), variants,
//                        seed, shard, keep policy, cameras, streams, episode limit, real2sim's version
//   parts/unit_<u>.json  one record per finished unit u (kept or not, success, failed conditions, the reason it
//                        failed, frames, times)
//   parts/unit_<u>.hdf5  its episode when kept (robomimic: a file of one demo; ALOHA: parts/episode_<u>.hdf5;
//                        LeRobot: parts/unit_<u>/, a dataset of one episode with its encoded videos)
//   the dataset          once every unit of the shard is done, in the source's layout: robomimic
//                        <dir>/<source file name>, ALOHA <dir>/episode_<i>.hdf5, LeRobot <dir>/<source folder
//                        name>/ in the source's version; kept episodes numbered from 0 in unit order
//   coverage.json, draws.csv, coverage.html
//                        the condition-coverage report of the shard's units (run_coverage.h), when the scene has
//                        a deployment map (randomization.conditions) and set_conditions gave it; written after
//                        the dataset, before summary.json
//   summary.json         the totals, written last: its presence means the run is complete
//
// Every file goes to a temporary name and is renamed into place, so a unit is done exactly when its record exists
// and a rerun redoes every unit without one. A folder holding another run's work is refused (InputError naming the
// field that differs) unless overwrite clears what a run writes there (nothing else). The folder is locked while a
// RunFolder is open (folder_lock.h): a second writer is refused, naming the first.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "amplify/folder_lock.h"
#include "amplify/generate_run.h"
#include "amplify/generator.h"
#include "amplify/shard.h"
#include "amplify/variant_pipeline.h"
#include "episode/dataset_info.h"
#include "episode/dataset_writer.h"
#include "randomize/condition_space.h"

namespace r2s::amplify {

struct RunIdentity {
  std::filesystem::path scene_file, params_file, dataset;
  // FNV-1a 64 of the contents (the dataset: every file of it; a file over 64 MiB by its size, modification time
  // and first and last MiB, so a rerun over a huge dataset does not read it all).
  std::string scene_hash, params_hash, dataset_hash;
  std::filesystem::path object_poses_file;  // --object-poses: the annotations of where the objects lay; empty: none
  std::string object_poses_hash;
  std::uint32_t variants = 1;
  std::uint64_t seed = 0;
  Shard shard;
  Keep keep = Keep::kSuccess;
  std::vector<std::string> cameras, streams;
  std::int64_t max_source_episodes = 0;  // 0: all
  // How video is encoded where the output has any (LeRobot): the bytes depend on it. Empty otherwise.
  std::string video_encoding;
  std::string software_version;
};

// The identity of a run: hashes the scene file, the params file and the dataset's files.
RunIdentity IdentityOf(const std::filesystem::path& scene_file, const std::optional<std::filesystem::path>& params,
                       const std::filesystem::path& dataset, const GeneratorOptions& options, Keep keep);

struct UnitRecord {
  std::uint64_t unit = 0;
  std::int64_t source_episode = 0;  // the source's stored index
  std::uint32_t variant = 0;
  bool kept = false;
  bool success = false;
  std::vector<std::string> failed;
  std::string reason, reason_detail;  // why it failed (rejection.h's code and its line); empty for a success
  std::string edge_case;
  std::int64_t frames = 0, camera_frames = 0, physics_steps = 0;
  StageTimes times;
};

class RunFolder {
 public:
  // Creates `dir` or reopens it for the same run.
  static RunFolder Open(const std::filesystem::path& dir, const RunIdentity& identity,
                        const episode::DatasetInfo& output_info, bool overwrite);

  const std::filesystem::path& dir() const { return dir_; }
  bool complete() const;                       // summary.json exists
  std::vector<std::uint64_t> done_units() const;  // units with a record, ascending

  // The deployment map the run's units draw their conditions from: Finish writes its coverage report (an empty
  // one, a scene without randomization.conditions: none).
  void set_conditions(randomize::ConditionSpace conditions) { conditions_ = std::move(conditions); }

  // How parts are written (LeRobot: the video encoder's settings).
  void set_write_options(const episode::WriteOptions& options) { write_options_ = options; }

  // Whether WritePart may run on worker threads, concurrently for different units: true where the output format
  // does not go through HDF5 (LeRobot), so that encoding video never queues on the calling thread.
  bool parts_thread_safe() const;
  // Where parts are HDF5 (WritePart must stay on the calling thread): deflates the kept episode's image-like
  // columns as the part's writer would (episode/frame_deflate.h), so that the calling thread only writes them.
  // Thread-safe, no HDF5: for the workers, right after they make the episode. Adds the time to write_s.
  void PreparePart(GeneratedEpisode& episode, bool keep) const;
  // Writes the unit's episode as its part when keep; adds the time to episode.times' write_s.
  void WritePart(GeneratedEpisode& episode, bool keep) const;
  // Writes the unit's record, after its part (written here unless `part_written`: WritePart already did).
  void Store(GeneratedEpisode& episode, bool keep, bool part_written = false);

  // Assembles the dataset from the kept parts of units [begin, end) (every one must have a record), writes the
  // coverage report (set_conditions), then summary.json (`summary` plus the totals from the records) and removes
  // the parts. Returns the totals and, in `summary_json`, the summary as written.
  RunTotals Finish(std::uint64_t begin, std::uint64_t end, const std::string& summary_json_fields,
                   std::string* summary_json);

  // Where the assembled dataset is: the file (robomimic) or this folder (ALOHA).
  std::filesystem::path dataset_path() const;

 private:
  RunFolder() = default;
  std::filesystem::path dir_;
  RunIdentity identity_;
  episode::DatasetInfo output_info_;
  episode::WriteOptions write_options_;
  std::optional<randomize::ConditionSpace> conditions_;
  std::shared_ptr<const FolderLock> lock_;  // held while the folder is open: one writer at a time
};

// Where a run folder keeps its dataset, for a source dataset at `dataset` in `layout`.
std::filesystem::path DatasetPathIn(const std::filesystem::path& dir, const episode::DatasetInfo& info,
                                    const std::filesystem::path& source_dataset);

// Real data is what a user cannot get back: InputError(out, field) when `out` is the source dataset, lies inside
// it or holds it, checked before anything is written (generate: RunOptions.out, which holds any shard folders;
// merge: MergeShards.out against the run's source). `field` names the option that gave `out`.
void RefuseOutOverSource(const std::filesystem::path& out, const std::filesystem::path& source,
                         const std::string& field);

struct MergeResult {
  std::filesystem::path dataset;
  RunTotals totals;
  std::uint32_t shards = 0;
};

// Merges the complete shard folders of one run into `out`: their run.json must agree but for the shard index,
// and cover indices 0..N-1 exactly once; the datasets are assembled in shard order (so unit order), kept episodes
// renumbered from 0, giving what the unsharded run gives; the shards' coverage reports are merged the same way
// (run_coverage.h). InputError names the folder and field at fault.
MergeResult MergeShards(const std::vector<std::filesystem::path>& shards, const std::filesystem::path& out,
                        bool overwrite);

}  // namespace r2s::amplify

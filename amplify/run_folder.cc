#include "amplify/run_folder.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "amplify/folder_lock.h"
#include "amplify/run_coverage.h"
#include "amplify/summary_json.h"
#include "episode/atomic_file.h"
#include "episode/dataset_reader.h"
#include "episode/dataset_writer.h"
#include "episode/frame_deflate.h"
#include "episode/input_error.h"
#include "episode/output_error.h"
#include "real2sim/build_config.h"

namespace r2s::amplify {
namespace {

// The options that name the folders, as an error names them (the command line maps them to its flags).
constexpr const char* kOut = "RunOptions.out";
constexpr const char* kMergeOut = "MergeShards.out";

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormat = "real2sim.run/1";

void HashBytes(std::uint64_t& h, const char* data, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
}

// Files up to this size are hashed whole; a larger one by its size, modification time and first and last MiB, so
// that reopening a run over a 100 GB dataset does not read it all (every shard does this at start).
constexpr std::uintmax_t kWholeHashBytes = 64ull << 20;

void HashFile(std::uint64_t& h, const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), "", "cannot be read");
  std::vector<char> buffer(1 << 20);
  const std::uintmax_t size = fs::file_size(file);
  if (size > kWholeHashBytes) {
    const auto mtime = fs::last_write_time(file).time_since_epoch().count();
    HashBytes(h, reinterpret_cast<const char*>(&size), sizeof(size));
    HashBytes(h, reinterpret_cast<const char*>(&mtime), sizeof(mtime));
    for (const std::streamoff at : {std::streamoff(0), static_cast<std::streamoff>(size - buffer.size())}) {
      in.seekg(at);
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      HashBytes(h, buffer.data(), static_cast<std::size_t>(in.gcount()));
    }
    return;
  }
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    HashBytes(h, buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
}

std::string Hex(std::uint64_t h) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(h));
  return text;
}

// FNV-1a 64 of a file, or of a folder's .hdf5 files (names and contents, in name order).
std::string ContentHash(const fs::path& path) {
  std::uint64_t h = 14695981039346656037ull;
  if (fs::is_directory(path)) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.is_regular_file() && entry.path().extension() == ".hdf5") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      const std::string name = f.filename().string();
      HashBytes(h, name.data(), name.size());
      HashFile(h, f);
    }
  } else {
    HashFile(h, path);
  }
  return Hex(h);
}

json IdentityJson(const RunIdentity& id) {
  return json{{"format", kFormat},
              {"scene", id.scene_file.string()},
              {"scene_hash", id.scene_hash},
              {"params", id.params_file.string()},
              {"params_hash", id.params_hash},
              {"dataset", id.dataset.string()},
              {"dataset_hash", id.dataset_hash},
              {"object_poses", id.object_poses_file.string()},
              {"object_poses_hash", id.object_poses_hash},
              {"variants", id.variants},
              {"seed", id.seed},
              {"shard", std::to_string(id.shard.index) + "/" + std::to_string(id.shard.count)},
              {"keep", KeepName(id.keep)},
              {"cameras", id.cameras},
              {"streams", id.streams},
              {"max_episodes", id.max_source_episodes},
              {"video_encoding", id.video_encoding},
              {"software_version", id.software_version}};
}

json ReadJson(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw InputError(file.string(), "", "cannot be read");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw InputError(file.string(), "", std::string("is not valid JSON: ") + e.what());
  }
}

// The first field (but `ignored`) where two run identities differ, or "".
std::string FirstDifference(const json& a, const json& b, const std::string& ignored = "") {
  for (const auto& [key, value] : a.items()) {
    if (key == ignored) continue;
    if (!b.contains(key)) return key;
    if (b.at(key) != value) return key;
  }
  for (const auto& [key, value] : b.items()) {
    if (key != ignored && !a.contains(key)) return key;
  }
  return "";
}

json TimesJson(const StageTimes& t) { return json{{"wall", SecondsJson(t.wall)}, {"cpu", SecondsJson(t.cpu)}}; }

StageTimes TimesFrom(const json& j) {
  StageTimes t;
  t.wall = SecondsFrom(j.value("wall", json::object()));
  t.cpu = SecondsFrom(j.value("cpu", json::object()));
  return t;
}

json RecordJson(const UnitRecord& r) {
  return json{{"unit", r.unit},
              {"source_episode", r.source_episode},
              {"variant", r.variant},
              {"kept", r.kept},
              {"success", r.success},
              {"failed", r.failed},
              {"reason", r.reason},
              {"reason_detail", r.reason_detail},
              {"edge_case", r.edge_case},
              {"frames", r.frames},
              {"camera_frames", r.camera_frames},
              {"physics_steps", r.physics_steps},
              {"times", TimesJson(r.times)}};
}

UnitRecord RecordFrom(const json& j) {
  UnitRecord r;
  r.unit = j.at("unit").get<std::uint64_t>();
  r.source_episode = j.at("source_episode").get<std::int64_t>();
  r.variant = j.at("variant").get<std::uint32_t>();
  r.kept = j.at("kept").get<bool>();
  r.success = j.at("success").get<bool>();
  r.failed = j.at("failed").get<std::vector<std::string>>();
  r.reason = j.value("reason", "");
  r.reason_detail = j.value("reason_detail", "");
  r.edge_case = j.at("edge_case").get<std::string>();
  r.frames = j.at("frames").get<std::int64_t>();
  r.camera_frames = j.at("camera_frames").get<std::int64_t>();
  r.physics_steps = j.at("physics_steps").get<std::int64_t>();
  r.times = TimesFrom(j.at("times"));
  return r;
}

json TotalsJson(const RunTotals& t) {
  json rejected = json::object();
  for (const auto& [code, tally] : t.rejected) {
    rejected[code] = {{"count", tally.count}, {"example_unit", tally.example_unit}, {"example", tally.example}};
  }
  return json{{"attempted", t.attempted},         {"kept", t.kept},
              {"succeeded", t.succeeded},         {"rejected", rejected},
              {"frames", t.frames},               {"camera_frames", t.camera_frames},
              {"physics_steps", t.physics_steps}, {"stage_thread_cpu_s", SecondsJson(t.times.cpu)},
              {"stage_wall_s", SecondsJson(t.times.wall)}};
}

RunTotals TotalsFrom(const json& j) {
  RunTotals t;
  t.attempted = j.at("attempted").get<std::uint64_t>();
  t.kept = j.at("kept").get<std::uint64_t>();
  t.succeeded = j.at("succeeded").get<std::uint64_t>();
  t.frames = j.at("frames").get<std::int64_t>();
  t.camera_frames = j.at("camera_frames").get<std::int64_t>();
  t.physics_steps = j.at("physics_steps").get<std::int64_t>();
  t.times.cpu = SecondsFrom(j.at("stage_thread_cpu_s"));
  t.times.wall = SecondsFrom(j.value("stage_wall_s", json::object()));
  const json rejected = j.value("rejected", json::object());  // named: items() would outlive a temporary
  for (const auto& [code, tally] : rejected.items()) {
    t.rejected[code] = {tally.at("count").get<std::uint64_t>(), tally.at("example_unit").get<std::uint64_t>(),
                        tally.at("example").get<std::string>()};
  }
  return t;
}

fs::path RecordPath(const fs::path& dir, std::uint64_t unit) {
  return dir / "parts" / ("unit_" + std::to_string(unit) + ".json");
}

fs::path PartPath(const fs::path& dir, const episode::DatasetInfo& info, std::uint64_t unit) {
  switch (info.layout) {
    case episode::StorageLayout::kRobomimic:
      return dir / "parts" / ("unit_" + std::to_string(unit) + ".hdf5");
    case episode::StorageLayout::kAloha:
      return dir / "parts" / ("episode_" + std::to_string(unit) + ".hdf5");
    case episode::StorageLayout::kLeRobot:
      break;
  }
  return dir / "parts" / ("unit_" + std::to_string(unit));  // a one-episode LeRobot dataset
}

// Removes what a run writes into `dir`: run.json, summary.json, parts/ and the dataset.
void Clear(const fs::path& dir, const episode::DatasetInfo& info, const fs::path& dataset) {
  std::error_code ec;
  fs::remove(dir / "run.json", ec);
  fs::remove(dir / "summary.json", ec);
  RemoveRunCoverage(dir);
  fs::remove_all(dir / "parts", ec);
  if (info.layout == episode::StorageLayout::kRobomimic) {
    fs::remove(dataset, ec);
  } else if (info.layout == episode::StorageLayout::kLeRobot) {
    // The dataset folder a run wrote (never the run folder itself).
    if (!dataset.empty() && dataset != dir && fs::exists(dataset / "meta" / "info.json", ec)) fs::remove_all(dataset, ec);
  } else {
    const std::regex episode_file("episode_[0-9]+\\.hdf5");
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (std::regex_match(entry.path().filename().string(), episode_file)) fs::remove(entry.path(), ec);
    }
  }
}

// Bytes of a file, or of every file under a folder (an ALOHA or LeRobot dataset).
std::uintmax_t BytesUnder(const fs::path& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return fs::file_size(path, ec);
  std::uintmax_t bytes = 0;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) bytes += it->file_size(ec);
  }
  return bytes;
}

// Puts `part` at `final_path` without copying its bytes where the file system allows (a hard link), else a copy.
void PlaceFile(const fs::path& part, const fs::path& final_path) {
  std::error_code ec;
  fs::remove(final_path, ec);
  fs::create_hard_link(part, final_path, ec);
  if (ec) {
    const fs::path temp = episode::TemporaryPathFor(final_path);
    fs::copy_file(part, temp, fs::copy_options::overwrite_existing);
    episode::PublishFile(temp, final_path);
  }
}

// Where an episode to assemble is: its file, its stored index there (robomimic) and its length.
struct StoredEpisode {
  fs::path file;
  std::int64_t index = 0;
  std::int64_t frames = 0;
};

// Writes `episodes` as one dataset at `dataset`, numbered from 0 in order, without decoding them: ALOHA episode
// files are placed as they are, robomimic episode groups and LeRobot episodes (table rows and encoded videos)
// copied (DatasetWriter::AppendCopy).
void Assemble(const std::vector<StoredEpisode>& episodes, const episode::DatasetInfo& info, const fs::path& dataset) {
  if (info.layout == episode::StorageLayout::kAloha) {
    fs::create_directories(dataset);
    std::int64_t index = 0;
    for (const StoredEpisode& e : episodes) PlaceFile(e.file, dataset / ("episode_" + std::to_string(index++) + ".hdf5"));
    return;
  }
  // libhdf5 1.10.8 crashes (SIGSEGV in H5T_close_real under H5Ocopy) when the disk fills during an object copy,
  // so the room the copies need (about the size of the files they come from) is checked before the first.
  std::set<fs::path> sources;
  if (info.layout == episode::StorageLayout::kRobomimic) {
    for (const StoredEpisode& e : episodes) sources.insert(e.file);
  }
  std::uintmax_t needed = std::uintmax_t{1} << 20;  // the new file's own metadata
  for (const fs::path& file : sources) needed += fs::file_size(file);
  std::error_code ec;
  const fs::space_info space = fs::space(dataset.parent_path(), ec);
  if (!sources.empty() && !ec && space.available < needed) {
    throw OutputError(dataset.string(), "No space left on device (assembling " + std::to_string(episodes.size()) +
                                            " episodes needs about " + std::to_string(needed >> 20) + " MiB; " +
                                            std::to_string(space.available >> 20) + " MiB are free)");
  }
  episode::WriteOptions options;
  options.overwrite = true;
  // Encoded video is written once: the parts are deleted when the run is complete, and a merge's shards are
  // finished runs (ALOHA's episode files are linked alike, PlaceFile).
  options.link_copied_videos = true;
  episode::DatasetWriter writer = episode::DatasetWriter::Create(dataset, info, options);
  std::int64_t index = 0;
  for (const StoredEpisode& e : episodes) writer.AppendCopy(e.file, e.index, index++, e.frames);
  writer.Commit();
}

// The run's identity as the coverage report shows it: what says which run the draws belong to. The same for an
// unsharded run and the merge of its shards (both "shard": "0/1", units [0, U)).
std::vector<std::pair<std::string, std::string>> CoverageRunFields(const json& run, std::uint64_t begin,
                                                                   std::uint64_t end) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (const char* key : {"scene", "scene_hash", "params", "params_hash", "dataset", "dataset_hash", "variants", "seed",
                          "keep", "max_episodes", "shard", "software_version"}) {
    if (!run.contains(key)) continue;
    const json& value = run.at(key);
    const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    if (text.empty() || (std::string(key) == "max_episodes" && text == "0")) continue;
    fields.emplace_back(key, text);
  }
  fields.emplace_back("units", "[" + std::to_string(begin) + ", " + std::to_string(end) + ")");
  return fields;
}

}  // namespace

RunIdentity IdentityOf(const fs::path& scene_file, const std::optional<fs::path>& params, const fs::path& dataset,
                       const GeneratorOptions& options, Keep keep) {
  RunIdentity id;
  id.scene_file = fs::absolute(scene_file).lexically_normal();
  id.scene_hash = ContentHash(id.scene_file);
  if (params) {
    id.params_file = fs::absolute(*params).lexically_normal();
    id.params_hash = ContentHash(id.params_file);
  }
  id.dataset = fs::absolute(dataset).lexically_normal();
  id.dataset_hash = ContentHash(id.dataset);
  if (options.object_poses) {
    id.object_poses_file = fs::absolute(*options.object_poses).lexically_normal();
    id.object_poses_hash = ContentHash(id.object_poses_file);
  }
  id.variants = options.variants;
  id.seed = options.seed;
  id.shard = options.shard;
  id.keep = keep;
  id.cameras = options.cameras;
  id.streams = options.cameras.empty() ? std::vector<std::string>{} : options.streams;
  id.max_source_episodes = options.max_source_episodes.value_or(0);
  id.software_version = R2S_VERSION;
  return id;
}

void RefuseOutOverSource(const fs::path& out, const fs::path& source, const std::string& field) {
  std::error_code ec;
  const fs::path o = fs::weakly_canonical(fs::absolute(out), ec);
  const fs::path s = fs::weakly_canonical(fs::absolute(source), ec);
  const auto within = [](const fs::path& inner, const fs::path& outer) {
    auto i = inner.begin();
    for (auto p = outer.begin(); p != outer.end(); ++p, ++i) {
      if (p->empty()) continue;  // a trailing separator
      if (i == inner.end() || *i != *p) return false;
    }
    return true;
  };
  if (within(o, s) || within(s, o)) {
    throw InputError(out.string(), field,
                     "'" + out.string() + "' " + (within(o, s) ? "is or lies inside" : "holds") + " the source dataset '" +
                         source.string() + "': generated output would mix with (or replace) the real data; give "
                         "another folder");
  }
}


fs::path DatasetPathIn(const fs::path& dir, const episode::DatasetInfo& info, const fs::path& source_dataset) {
  if (info.layout == episode::StorageLayout::kAloha) return dir;
  // A folder given as "demos/" names itself by its last component.
  const fs::path source = source_dataset.filename().empty() ? source_dataset.parent_path() : source_dataset;
  return dir / source.filename();
}

RunFolder RunFolder::Open(const fs::path& dir, const RunIdentity& identity, const episode::DatasetInfo& output_info,
                          bool overwrite) {
  RunFolder folder;
  folder.dir_ = dir;
  if (fs::exists(dir) && !fs::is_directory(dir)) throw InputError(dir.string(), kOut, "exists and is not a folder");
  folder.lock_ = FolderLock::Acquire(dir, kOut);
  folder.identity_ = identity;
  folder.output_info_ = output_info;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(dir.string(), kOut, "cannot be created: " + ec.message());
  const json mine = IdentityJson(identity);
  const fs::path run_file = dir / "run.json";
  if (fs::exists(run_file)) {
    const json theirs = ReadJson(run_file);
    const std::string differs = FirstDifference(mine, theirs);
    if (!differs.empty()) {
      if (!overwrite) {
        throw InputError(run_file.string(), differs,
                         "the folder holds another run's work (" + differs + ": " + theirs.value(differs, json()).dump() +
                             ", this run: " + mine.value(differs, json()).dump() +
                             "); give another RunOptions.out, or RunOptions.overwrite to replace it");
      }
      Clear(dir, output_info, folder.dataset_path());
    }
  } else if (overwrite) {
    Clear(dir, output_info, folder.dataset_path());
  }
  episode::WriteFileAtomically(run_file, mine.dump(2) + "\n");
  // The folder is locked: temporary files here are what a killed run left behind (a part, the dataset being
  // assembled, the report, the summary), not anybody's work in progress.
  episode::RemoveStaleTemporaries(dir);
  if (folder.complete()) {
    // A run killed while removing its parts after summary.json: the rest of them are of no use.
    fs::remove_all(dir / "parts", ec);
  } else {
    fs::create_directories(dir / "parts", ec);
    if (ec) throw InputError((dir / "parts").string(), kOut, "cannot be created: " + ec.message());
    for (const auto& entry : fs::directory_iterator(dir / "parts")) {
      if (entry.path().filename().string().starts_with(".")) fs::remove_all(entry.path(), ec);
    }
  }
  return folder;
}

fs::path RunFolder::dataset_path() const { return DatasetPathIn(dir_, output_info_, identity_.dataset); }

bool RunFolder::complete() const { return fs::exists(dir_ / "summary.json"); }

std::vector<std::uint64_t> RunFolder::done_units() const {
  std::vector<std::uint64_t> units;
  const std::regex record("unit_([0-9]+)\\.json");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_ / "parts", ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, record)) units.push_back(std::stoull(m[1].str()));
  }
  std::sort(units.begin(), units.end());
  return units;
}

bool RunFolder::parts_thread_safe() const { return output_info_.layout == episode::StorageLayout::kLeRobot; }

void RunFolder::PreparePart(GeneratedEpisode& g, bool keep) const {
  if (!keep || output_info_.layout == episode::StorageLayout::kLeRobot) return;
  if (write_options_.image_deflate_level < 1) return;  // stored uncompressed: nothing to prepare
  const StageTimer timer;
  episode::DeflateFrameColumns(g.episode, output_info_, write_options_.image_deflate_level);
  timer.Stop(g.times, &StageSeconds::write_s);
}

void RunFolder::WritePart(GeneratedEpisode& g, bool keep) const {
  if (!keep) return;
  const StageTimer timer;
  const fs::path part = PartPath(dir_, output_info_, g.unit);
  episode::WriteOptions options = write_options_;
  options.overwrite = true;  // a part of a killed run, written again
  // A part is a dataset of its own: LeRobot numbers its one episode 0 (its episodes run 0, 1, ... in write order);
  // the HDF5 layouts keep the unit, which names the part's group or file.
  g.episode.metadata.index =
      output_info_.layout == episode::StorageLayout::kLeRobot ? 0 : static_cast<std::int64_t>(g.unit);
  episode::DatasetWriter writer = episode::DatasetWriter::Create(
      output_info_.layout == episode::StorageLayout::kAloha ? part.parent_path() : part, output_info_, options);
  writer.Append(g.episode);
  writer.Commit();
  timer.Stop(g.times, &StageSeconds::write_s);
}

void RunFolder::Store(GeneratedEpisode& g, bool keep, bool part_written) {
  UnitRecord r;
  r.unit = g.unit;
  r.source_episode = g.episode.provenance ? g.episode.provenance->source_episode : g.source_position;
  r.variant = g.variant;
  r.kept = keep;
  r.success = g.success;
  r.failed = g.failed;
  r.reason = ReasonCode(g.rejection.reason);
  r.reason_detail = g.rejection.detail;
  r.edge_case = g.edge_case;
  r.frames = g.frames;
  r.camera_frames = g.camera_frames;
  r.physics_steps = g.physics_steps;
  if (!part_written) WritePart(g, keep);
  r.times = g.times;
  episode::WriteFileAtomically(RecordPath(dir_, g.unit), RecordJson(r).dump() + "\n");
}

RunTotals RunFolder::Finish(std::uint64_t begin, std::uint64_t end, const std::string& summary_json_fields,
                            std::string* summary_json) {
  RunTotals totals;
  std::vector<StoredEpisode> kept;
  std::vector<UnitRecord> records;
  for (std::uint64_t u = begin; u < end; ++u) {
    const fs::path record_file = RecordPath(dir_, u);
    if (!fs::exists(record_file)) {
      throw std::logic_error("RunFolder::Finish: unit " + std::to_string(u) + " has no record");
    }
    const UnitRecord& r = records.emplace_back(RecordFrom(ReadJson(record_file)));
    ++totals.attempted;
    totals.kept += r.kept ? 1 : 0;
    totals.succeeded += r.success ? 1 : 0;
    if (!r.reason.empty()) totals.AddReason(r.reason, u, r.reason_detail);
    totals.frames += r.frames;
    totals.camera_frames += r.camera_frames;
    totals.physics_steps += r.physics_steps;
    totals.times += r.times;
    if (r.kept) {
      const std::int64_t index_in_part =
          output_info_.layout == episode::StorageLayout::kLeRobot ? 0 : static_cast<std::int64_t>(u);
      kept.push_back({PartPath(dir_, output_info_, u), index_in_part, r.frames});
    }
  }
  Assemble(kept, output_info_, dataset_path());
  if (conditions_ && !conditions_->empty()) {
    // The conditions every attempted unit drew, and whether it was kept.
    std::vector<randomize::CoverageDraw> draws =
        RunConditionDraws(*conditions_, identity_.seed, identity_.variants, begin, end);
    for (std::size_t k = 0; k < draws.size(); ++k) {
      if (draws[k].edge_case != records[k].edge_case) {
        throw std::logic_error("RunFolder::Finish: unit " + std::to_string(draws[k].unit) + " recorded edge case '" +
                               records[k].edge_case + "' but draws '" + draws[k].edge_case + "'");
      }
      draws[k].kept = records[k].kept;
    }
    randomize::CoverageSummary layout = randomize::CoverageLayout(*conditions_);
    layout.run = CoverageRunFields(IdentityJson(identity_), begin, end);
    WriteRunCoverage(dir_, layout, draws);
  }
  json summary = summary_json_fields.empty() ? json::object() : json::parse(summary_json_fields);
  summary["totals"] = TotalsJson(totals);
  summary["dataset"] = dataset_path().string();
  // What the output costs on disk, and per rendered camera frame where there are any (video vs raw images).
  const std::uintmax_t bytes = BytesUnder(dataset_path());
  summary["dataset_bytes"] = bytes;
  if (totals.camera_frames > 0) {
    summary["bytes_per_camera_frame"] = static_cast<double>(bytes) / static_cast<double>(totals.camera_frames);
  }
  summary["shard"] = std::to_string(identity_.shard.index) + "/" + std::to_string(identity_.shard.count);
  summary["units"] = {begin, end};
  *summary_json = summary.dump(2) + "\n";
  episode::WriteFileAtomically(dir_ / "summary.json", *summary_json);
  std::error_code ec;
  fs::remove_all(dir_ / "parts", ec);
  return totals;
}

// Where a finished shard folder keeps its dataset. summary.json records the path as generate was given it
// (relative to where it ran); merge may run elsewhere, so the dataset is found in the folder merge was given.
fs::path ShardDataset(const fs::path& shard_dir, const json& summary) {
  const fs::path recorded = summary.at("dataset").get<std::string>();
  const fs::path name = (recorded.filename().empty() ? recorded.parent_path() : recorded).filename();
  // robomimic and LeRobot: one entry in the folder, named as recorded; ALOHA: the folder itself.
  if (fs::exists(shard_dir / name)) return shard_dir / name;
  return shard_dir;
}

MergeResult MergeShards(const std::vector<fs::path>& shards, const fs::path& out, bool overwrite) {
  if (shards.empty()) throw InputError("command line", "SHARD_DIR", "no shard folders given");
  MergeResult result;
  std::vector<json> runs;
  std::map<std::uint32_t, fs::path> by_index;
  std::uint32_t count = 0;
  for (const fs::path& dir : shards) {
    const fs::path run_file = dir / "run.json";
    if (!fs::exists(run_file)) throw InputError(dir.string(), "run.json", "is missing: not a folder r2s generate wrote");
    json run = ReadJson(run_file);
    if (run.value("format", "") != kFormat) {
      throw InputError(run_file.string(), "format", "is " + run.value("format", json()).dump() + ", expected " + kFormat);
    }
    if (!fs::exists(dir / "summary.json")) {
      throw InputError(dir.string(), "summary.json",
                       "is missing: the shard has not finished (rerun its r2s generate to resume it)");
    }
    const Shard shard = ParseShard(run.at("shard").get<std::string>());
    if (!runs.empty()) {
      const std::string differs = FirstDifference(runs.front(), run, "shard");
      if (!differs.empty()) {
        throw InputError(run_file.string(), differs,
                         "differs from " + (shards.front() / "run.json").string() + " (" +
                             run.value(differs, json()).dump() + " vs " + runs.front().value(differs, json()).dump() +
                             "): the folders are shards of different runs");
      }
      if (shard.count != count) {
        throw InputError(run_file.string(), "shard", "is one of " + std::to_string(shard.count) + " shards, the first folder one of " + std::to_string(count));
      }
    }
    count = shard.count;
    if (!by_index.emplace(shard.index, dir).second) {
      throw InputError(run_file.string(), "shard",
                       "shard " + std::to_string(shard.index) + " is given twice (also " + by_index[shard.index].string() + ")");
    }
    runs.push_back(std::move(run));
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    if (!by_index.count(i)) {
      throw InputError("command line", "SHARD_DIR",
                       "shard " + std::to_string(i) + " of " + std::to_string(count) + " is missing: every shard is needed");
    }
  }

  // The schema comes from the first shard that kept an episode (a dataset without episodes has no features to read
  // back); when none did, the merged dataset is the empty one every shard wrote.
  fs::path first_dataset = ShardDataset(by_index.at(0), ReadJson(by_index.at(0) / "summary.json"));
  for (const auto& [index, dir] : by_index) {
    const json summary = ReadJson(dir / "summary.json");
    if (summary.at("totals").at("kept").get<std::uint64_t>() > 0) {
      first_dataset = ShardDataset(dir, summary);
      break;
    }
  }
  const episode::DatasetInfo info = episode::DatasetReader::Open(first_dataset).info();
  // The shards' coverage reports, checked before anything is written; the units the shards cover.
  std::vector<fs::path> in_order;
  for (const auto& [index, dir] : by_index) in_order.push_back(dir);
  std::optional<RunCoverage> coverage = MergeRunCoverage(in_order);
  std::uint64_t units_begin = 0, units_end = 0;
  if (coverage) {
    units_begin = ReadJson(in_order.front() / "summary.json").at("units").at(0).get<std::uint64_t>();
    units_end = ReadJson(in_order.back() / "summary.json").at("units").at(1).get<std::uint64_t>();
  }
  json merged_run = runs.front();
  merged_run["shard"] = "0/1";
  merged_run["merged_from"] = count;
  const fs::path source = merged_run.at("dataset").get<std::string>();
  RefuseOutOverSource(out, source, kMergeOut);
  const fs::path dataset = DatasetPathIn(out, info, source);
  const auto lock = FolderLock::Acquire(out, kMergeOut);
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw InputError(out.string(), kMergeOut, "cannot be created: " + ec.message());
  // Locked: what a killed merge left under temporary names is nobody's work in progress.
  episode::RemoveStaleTemporaries(out);
  if (fs::exists(out / "run.json") || fs::exists(out / "summary.json")) {
    if (!overwrite) {
      throw InputError(out.string(), kMergeOut, "holds a run already; MergeShards.overwrite replaces it");
    }
    Clear(out, info, dataset);
  }
  std::vector<StoredEpisode> episodes;
  for (const auto& [index, dir] : by_index) {
    const json summary = ReadJson(dir / "summary.json");
    const RunTotals t = TotalsFrom(summary.at("totals"));
    result.totals.attempted += t.attempted;
    result.totals.kept += t.kept;
    result.totals.succeeded += t.succeeded;
    for (const auto& [code, tally] : t.rejected) {
      ReasonTally& sum = result.totals.rejected[code];
      if (sum.count == 0) {  // shards in index order, so the first example is the lowest unit
        sum.example_unit = tally.example_unit;
        sum.example = tally.example;
      }
      sum.count += tally.count;
    }
    result.totals.frames += t.frames;
    result.totals.camera_frames += t.camera_frames;
    result.totals.physics_steps += t.physics_steps;
    result.totals.times += t.times;
    if (t.kept == 0) continue;
    const fs::path shard_dataset = ShardDataset(dir, summary);
    const episode::DatasetReader reader = episode::DatasetReader::Open(shard_dataset);
    if (reader.num_episodes() != static_cast<std::int64_t>(t.kept)) {
      throw InputError(shard_dataset.string(), "(episodes)",
                       "holds " + std::to_string(reader.num_episodes()) + " episodes, its summary says " +
                           std::to_string(t.kept));
    }
    // A shard's episodes are numbered 0..kept-1, which is also the reader's order.
    for (std::int64_t i = 0; i < reader.num_episodes(); ++i) {
      const fs::path file = info.layout == episode::StorageLayout::kAloha ? reader.episode_file(i) : shard_dataset;
      episodes.push_back({file, i, reader.episode_length(i)});
    }
  }
  if (!episodes.empty() || info.layout == episode::StorageLayout::kLeRobot) {
    Assemble(episodes, info, dataset);  // LeRobot: an empty dataset is written like any other
  } else if (info.layout == episode::StorageLayout::kRobomimic) {
    PlaceFile(first_dataset, dataset);
  }
  episode::WriteFileAtomically(out / "run.json", merged_run.dump(2) + "\n");
  if (coverage) {
    coverage->summary.run = CoverageRunFields(merged_run, units_begin, units_end);
    WriteRunCoverage(out, coverage->summary, coverage->draws);
  }
  json summary{{"totals", TotalsJson(result.totals)}, {"dataset", dataset.string()}, {"shard", "0/1"},
               {"merged_from", count}};
  episode::WriteFileAtomically(out / "summary.json", summary.dump(2) + "\n");
  result.dataset = dataset;
  result.shards = count;
  return result;
}

}  // namespace r2s::amplify

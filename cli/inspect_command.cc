#include "cli/inspect_command.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <set>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "episode/dataset_reader.h"
#include "episode/lerobot/dataset_meta.h"
#include "episode/qa.h"
#include "episode/statistics.h"
#include "episode/video/video_file.h"

namespace r2s::cli {
namespace {

using episode::DatasetReader;
using episode::FeatureStatistics;
using Json = nlohmann::ordered_json;

// NaN and Inf have no JSON form; they print as null.
Json Number(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

Json Numbers(const std::vector<double>& xs) {
  Json a = Json::array();
  for (double x : xs) a.push_back(Number(x));
  return a;
}

// How a channel is labelled in the report: colour for images, the spec's element name, else its index.
std::string ChannelName(const episode::FeatureSpec& spec, std::int64_t channel) {
  if (spec.IsImage()) {
    static constexpr const char* kRgba[] = {"r", "g", "b", "a"};
    return spec.shape[2] == 1 ? "gray" : kRgba[channel % 4];
  }
  std::string name = spec.ElementName(channel);
  return name.empty() ? "[" + std::to_string(channel) + "]" : name;
}

// LeRobot's tolerance_s: how far a video frame's time may be from the time its table gives it.
constexpr double kVideoToleranceS = 1e-4;

// A LeRobot dataset's videos, probed (no decoding): per video feature its stream parameters and whether its
// frames and their times match the tables, episode by episode. `times_s[e]` are episode e's table timestamps
// (frame / fps where the dataset has none). Mismatches are findings; the decoding reader already refused
// those it cannot read past (a missing frame, a time off by more than the tolerance).
Json VideoReport(const DatasetReader& reader, const std::vector<std::vector<double>>& times_s, Json& findings) {
  const episode::lerobot::DatasetMeta meta = episode::lerobot::ReadDatasetMeta(reader.path());
  const auto& declared = reader.info().lerobot->video_codecs;
  Json videos = Json::object();
  for (const std::string& key : meta.info.VideoKeys()) {
    std::map<std::filesystem::path, episode::video::StreamInfo> probes;
    std::vector<std::filesystem::path> files;
    for (const auto& e : meta.episodes) {
      const auto& file = e.videos.at(key).file;
      if (!probes.contains(file)) {
        probes.emplace(file, episode::video::ProbeVideo(file));
        files.push_back(file);
      }
    }
    if (files.empty()) continue;  // no episodes
    auto finding = [&](const Json& episode, const std::string& problem) {
      findings.push_back({{"feature", key}, {"episode", episode}, {"problem", problem}});
    };
    std::int64_t video_frames = 0, table_frames = 0;
    int keyframe_interval = 0;
    for (const auto& [file, probe] : probes) {
      video_frames += probe.frames();
      keyframe_interval = std::max(keyframe_interval, probe.keyframe_interval);
    }
    double max_error_s = 0;
    bool agrees = true;
    for (std::size_t i = 0; i < meta.episodes.size(); ++i) {
      const auto& e = meta.episodes[i];
      const auto& segment = e.videos.at(key);
      const auto& t = probes.at(segment.file).timestamps_s;
      table_frames += e.length;
      // The segment's frames: the whole file (v2.1), or [from_timestamp, to_timestamp) of it (v3.0).
      const double half_period = 0.5 / (meta.info.fps > 0 ? meta.info.fps : 30.0);
      const auto begin = segment.to_s ? std::lower_bound(t.begin(), t.end(), segment.from_s - half_period) : t.begin();
      const auto end = segment.to_s ? std::lower_bound(t.begin(), t.end(), *segment.to_s - half_period) : t.end();
      const std::int64_t frames = end - begin;
      if (frames != e.length) {
        agrees = false;
        finding(e.index, "the video holds " + std::to_string(frames) + " frames for the episode, its table " +
                             std::to_string(e.length) + " (" + segment.file.filename().string() + ")");
      }
      const auto& table = times_s[i];
      for (std::size_t f = 0; f < table.size(); ++f) {
        const double want = segment.from_s + table[f];
        auto near = std::lower_bound(t.begin(), t.end(), want);
        double error = near == t.end() ? INFINITY : *near - want;
        if (near != t.begin()) error = std::min(error, want - *(near - 1));
        max_error_s = std::max(max_error_s, error);
      }
    }
    if (max_error_s > kVideoToleranceS) {
      agrees = false;
      finding(nullptr, "a table timestamp is " + std::to_string(max_error_s * 1e3) +
                           " ms from the nearest video frame, over LeRobot's tolerance of 0.1 ms");
    }
    const auto& first = probes.at(files.front());
    for (const auto& [file, probe] : probes) {
      if (probe.codec != first.codec || probe.width_px != first.width_px || probe.height_px != first.height_px ||
          probe.pix_fmt != first.pix_fmt) {
        finding(nullptr, file.filename().string() + " is " + probe.codec + " " + std::to_string(probe.width_px) + "x" +
                             std::to_string(probe.height_px) + " " + probe.pix_fmt + ", unlike " +
                             files.front().filename().string());
      }
    }
    const std::string codec_declared = declared.contains(key) ? declared.at(key) : "";
    if (!codec_declared.empty() && codec_declared != first.codec) {
      finding(nullptr, "meta/info.json declares codec " + codec_declared + ", the video is " + first.codec);
    }
    if (std::abs(first.fps - meta.info.fps) > 1e-3 * meta.info.fps) {
      finding(nullptr, "the video runs at " + std::to_string(first.fps) + " fps, the dataset at " +
                           std::to_string(meta.info.fps));
    }
    videos[key] = {{"codec", first.codec},
                   {"codec_declared", codec_declared},
                   {"pix_fmt", first.pix_fmt},
                   {"width_px", first.width_px},
                   {"height_px", first.height_px},
                   {"fps", first.fps},
                   {"keyframe_interval", keyframe_interval},
                   {"files", files.size()},
                   {"video_frames", video_frames},
                   {"table_frames", table_frames},
                   {"max_timestamp_error_s", Number(max_error_s)},
                   {"agrees", agrees}};
  }
  return videos;
}

// The whole report as JSON; the text form is rendered from it, so both always say the same.
Json BuildReport(const DatasetReader& reader) {
  const episode::DatasetInfo& info = reader.info();
  Json report;
  report["dataset"] = reader.path().string();
  const bool lerobot = info.layout == episode::StorageLayout::kLeRobot && info.lerobot;
  report["format"] = lerobot ? "parquet" : "hdf5";
  report["layout"] = std::string(episode::StorageLayoutName(info.layout));
  if (lerobot) report["codebase_version"] = info.lerobot->codebase_version;
  report["robot_type"] = info.robot_type;
  report["tasks"] = info.tasks;
  report["schema_version"] = info.schema_version;

  episode::QaAccumulator qa(info.features, info.fps);
  std::map<std::string, std::vector<FeatureStatistics>> per_episode;
  Json episodes = Json::array();
  std::int64_t frames = 0;
  std::vector<std::vector<double>> times_s;  // per episode, for the video check
  std::int64_t synthetic = 0;          // episodes with a provenance record
  std::set<std::string> sources;       // the datasets they were generated from
  for (std::int64_t i = 0; i < reader.num_episodes(); ++i) {
    const episode::Episode episode = reader.ReadEpisode(i);
    frames += episode.metadata.length;
    if (lerobot) {
      const episode::Column* t = episode.Find("timestamp");
      const bool seconds = t && episode::IsFloating(t->data.dtype) && episode::FrameWidth(t->data) == 1;
      std::vector<double>& times = times_s.emplace_back();
      for (std::int64_t f = 0; f < episode.metadata.length; ++f) {
        times.push_back(seconds ? episode::FloatAt(t->data, 1, f, 0) : static_cast<double>(f) / info.fps.value_or(30));
      }
    }
    Json e = {{"index", episode.metadata.index}, {"length", episode.metadata.length}};
    if (!episode.metadata.task.empty()) e["task"] = episode.metadata.task;
    if (episode.metadata.success) e["success"] = *episode.metadata.success;
    if (const auto& p = episode.provenance) {
      // Where a synthetic episode came from (the sampled parameters stay in the dataset; their count is shown).
      e["provenance"] = {{"source_dataset", p->source_dataset}, {"source_episode", p->source_episode},
                         {"variant", p->variant},               {"seed", p->seed},
                         {"parameters", p->parameters.size()},  {"software_version", p->software_version}};
      ++synthetic;
      sources.insert(p->source_dataset);
    }
    episodes.push_back(e);
    for (auto& [name, stats] : episode::ComputeEpisodeStatistics(episode, info.features)) {
      per_episode[name].push_back(std::move(stats));
    }
    qa.Add(episode);
  }
  const episode::QaReport findings = qa.Finish();

  report["num_episodes"] = reader.num_episodes();
  report["num_frames"] = frames;
  Json fps;
  fps["declared"] = info.fps ? Json(*info.fps) : Json(nullptr);
  fps["measured"] = findings.timestamps && findings.timestamps->frames >= 2 && findings.timestamps->median_period_s > 0
                        ? Json(findings.timestamps->measured_fps())
                        : Json(nullptr);
  report["fps"] = fps;
  report["episodes"] = episodes;
  report["synthetic_episodes"] = synthetic;
  report["real_episodes"] = reader.num_episodes() - synthetic;
  report["synthetic_sources"] = sources;

  Json features = Json::object();
  for (const auto& [name, spec] : info.features) {
    Json f = {{"dtype", std::string(episode::DTypeName(spec.dtype))}, {"shape", spec.shape}};
    if (spec.IsImage()) f["kind"] = "image";
    Json names = Json::array();
    for (const auto& axis : spec.names) names.push_back(axis);
    f["names"] = names;
    f["unit"] = spec.unit;
    f["storage_path"] = info.storage_paths.count(name) ? info.storage_paths.at(name) : name;
    features[name] = f;
  }
  report["features"] = features;
  Json video_findings = Json::array();
  if (lerobot) report["videos"] = VideoReport(reader, times_s, video_findings);

  Json stats = Json::object();
  for (const auto& [name, list] : per_episode) {
    const FeatureStatistics s = episode::AggregateStatistics(list);
    const auto& spec = info.features.at(name);
    Json channels = Json::array();
    for (std::size_t c = 0; c < s.min.size(); ++c) channels.push_back(ChannelName(spec, static_cast<std::int64_t>(c)));
    stats[name] = {{"count", s.count},      {"channels", channels},    {"min", Numbers(s.min)},
                   {"max", Numbers(s.max)}, {"mean", Numbers(s.mean)}, {"std", Numbers(s.std)},
                   {"q01", Numbers(s.q01)}, {"q10", Numbers(s.q10)},   {"q50", Numbers(s.q50)},
                   {"q90", Numbers(s.q90)}, {"q99", Numbers(s.q99)}};
  }
  report["statistics"] = stats;

  Json qa_json;
  if (findings.timestamps && findings.timestamps->frames >= 2) {
    const auto& t = *findings.timestamps;
    qa_json["timestamps"] = {
        {"samples", t.frames},
        {"median_period_ms", t.median_period_s * 1e3},
        {"non_monotonic", t.non_monotonic},
        {"first_non_monotonic",
         t.non_monotonic ? Json({{"episode", t.first_non_monotonic_episode}, {"frame", t.first_non_monotonic_frame}})
                         : Json(nullptr)},
        {"gaps_over_1_5x_median", t.gaps},
        {"worst_gap_ms", t.worst_gap_s * 1e3},
        {"worst_gap", {{"episode", t.worst_gap_episode}, {"frame", t.worst_gap_frame}}},
    };
  } else {
    qa_json["timestamps"] = nullptr;
    if (auto t = info.features.find("timestamp"); t != info.features.end()) {
      qa_json["timestamps_not_used"] =
          !episode::IsFloating(t->second.dtype)
              ? "timestamp is " + std::string(episode::DTypeName(t->second.dtype)) + "; only float seconds are used"
              : std::string("fewer than 2 timestamps");
    }
  }
  Json non_finite = Json::array();
  for (const auto& n : findings.non_finite) {
    non_finite.push_back({{"feature", n.feature}, {"episode", n.episode}, {"frame", n.frame}, {"count", n.count}});
  }
  qa_json["non_finite"] = non_finite;
  Json constant = Json::array();
  for (const auto& c : findings.constant_channels) {
    constant.push_back({{"feature", c.feature},
                        {"channel", c.channel},
                        {"name", ChannelName(info.features.at(c.feature), c.channel)},
                        {"value", Number(c.value)}});
  }
  qa_json["constant_channels"] = constant;
  if (findings.latency) {
    const auto& l = *findings.latency;
    qa_json["action_to_state_latency"] = {{"action", l.action_feature},
                                          {"state", l.state_feature},
                                          {"lag_frames", l.lag_frames},
                                          {"lag_ms", l.lag_ms ? Json(*l.lag_ms) : Json(nullptr)},
                                          {"peak_correlation", l.peak_correlation}};
  } else {
    qa_json["action_to_state_latency"] = nullptr;
  }
  if (lerobot) qa_json["video"] = video_findings;
  report["findings"] = qa_json;
  return report;
}

// Below this peak correlation the action and state hardly co-move (random signals reach ~0.2), so the lag
// found is flagged rather than presented as a measurement.
constexpr double kWeakCorrelation = 0.5;

std::string Fixed(double x, int digits) {
  if (!std::isfinite(x)) return "nan";
  std::ostringstream s;
  s << std::setprecision(digits) << std::fixed << x;
  return s.str();
}

std::string General(const Json& x) {
  if (x.is_null()) return "nan";
  std::ostringstream s;
  s << std::setprecision(5) << std::defaultfloat << x.get<double>();
  return s.str();
}

std::string ShapeText(const Json& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i].get<std::int64_t>());
  return s + "]";
}

void PrintText(const Json& r, std::ostream& out) {
  auto text_or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  std::string tasks;
  for (const auto& t : r["tasks"]) tasks += (tasks.empty() ? "" : ", ") + t.get<std::string>();
  out << "dataset    " << r["dataset"].get<std::string>() << "\n";
  out << "layout     " << r["layout"].get<std::string>() << " (" << r["format"].get<std::string>()
      << (r.contains("codebase_version") ? ", " + r["codebase_version"].get<std::string>() : std::string()) << ")\n";
  out << "robot      " << text_or_dash(r["robot_type"].get<std::string>()) << "\n";
  out << "tasks      " << text_or_dash(tasks) << "\n";
  out << "episodes   " << r["num_episodes"];
  if (r["synthetic_episodes"].get<std::int64_t>() > 0) {
    out << " (" << r["synthetic_episodes"] << " synthetic, " << r["real_episodes"] << " real)";
  }
  out << "\n";
  for (const auto& source : r["synthetic_sources"]) {
    out << "generated  from " << source.get<std::string>() << " (per-episode provenance in --json)\n";
  }
  out << "frames     " << r["num_frames"] << "\n";
  const Json& fps = r["fps"];
  out << "fps        declared " << (fps["declared"].is_null() ? "none" : General(fps["declared"])) << ", measured "
      << (fps["measured"].is_null() ? "n/a (no timestamps)" : General(fps["measured"])) << "\n";

  out << "\nfeatures\n";
  std::size_t width = 8;
  for (const auto& [name, f] : r["features"].items()) width = std::max(width, name.size());
  for (const auto& [name, f] : r["features"].items()) {
    out << "  " << std::left << std::setw(static_cast<int>(width)) << name << "  " << std::setw(8)
        << f["dtype"].get<std::string>() << std::setw(16) << ShapeText(f["shape"])
        << text_or_dash(f["unit"].get<std::string>()) << (f.contains("kind") ? "  (image)" : "") << "\n";
  }

  if (r.contains("videos") && !r["videos"].empty()) {
    out << "\nvideos\n";
    for (const auto& [name, v] : r["videos"].items()) {
      out << "  " << name << "  " << v["codec"].get<std::string>() << " " << v["width_px"] << "x" << v["height_px"]
          << " " << v["pix_fmt"].get<std::string>() << ", " << General(v["fps"]) << " fps, keyframe every "
          << v["keyframe_interval"] << " frames, " << v["files"] << (v["files"] == 1 ? " file" : " files") << "\n";
      out << "    " << v["video_frames"] << " video frames " << (v["video_frames"] == v["table_frames"] ? "=" : "!=")
          << " " << v["table_frames"] << " table frames; timestamps within "
          << (v["max_timestamp_error_s"].is_null() ? std::string("nan")
                                                   : Fixed(v["max_timestamp_error_s"].get<double>() * 1e3, 4))
          << " ms of the tables'" << (v["agrees"].get<bool>() ? "" : "  (DISAGREE)") << "\n";
    }
  }

  out << "\nstatistics (per channel)\n";
  constexpr const char* kStatistics[] = {"min", "max", "mean", "std", "q01", "q10", "q50", "q90", "q99"};
  for (const auto& [name, s] : r["statistics"].items()) {
    out << "  " << name << "  (" << s["count"] << " values per channel)\n";
    // Channel names as wide as the longest ("kRightHandThumbRotation"), so the columns line up.
    std::size_t channel_width = 10;
    for (const auto& c : s["channels"]) channel_width = std::max(channel_width, c.get<std::string>().size() + 1);
    out << "    " << std::left << std::setw(static_cast<int>(channel_width)) << "channel";
    for (const char* k : kStatistics) out << std::right << std::setw(12) << k;
    out << "\n";
    for (std::size_t c = 0; c < s["channels"].size(); ++c) {
      out << "    " << std::left << std::setw(static_cast<int>(channel_width)) << s["channels"][c].get<std::string>();
      for (const char* k : kStatistics) {
        out << std::right << std::setw(12) << General(s[k][c]);
      }
      out << "\n";
    }
  }

  out << "\nfindings\n";
  const Json& q = r["findings"];
  if (q.contains("timestamps_not_used")) {
    out << "  timestamps: not used (" << q["timestamps_not_used"].get<std::string>() << ")\n";
  } else if (q["timestamps"].is_null()) {
    out << "  timestamps: none in the dataset\n";
  } else {
    const Json& t = q["timestamps"];
    out << "  timestamps: " << t["samples"] << " samples, median period " << Fixed(t["median_period_ms"], 3) << " ms\n";
    out << "    non-monotonic: " << t["non_monotonic"];
    if (!t["first_non_monotonic"].is_null()) {
      out << " (first: episode " << t["first_non_monotonic"]["episode"] << ", frame "
          << t["first_non_monotonic"]["frame"] << ")";
    }
    out << "\n    gaps > 1.5x median period: " << t["gaps_over_1_5x_median"] << "; worst gap "
        << Fixed(t["worst_gap_ms"], 3) << " ms (episode " << t["worst_gap"]["episode"] << ", frame "
        << t["worst_gap"]["frame"] << ")\n";
  }
  if (q["non_finite"].empty()) {
    out << "  NaN/Inf: none\n";
  } else {
    for (const auto& n : q["non_finite"]) {
      out << "  NaN/Inf: " << n["feature"].get<std::string>() << ", episode " << n["episode"] << ", first at frame "
          << n["frame"] << " (" << n["count"] << " values)\n";
    }
  }
  if (q["constant_channels"].empty()) {
    out << "  constant channels: none\n";
  } else {
    for (const auto& c : q["constant_channels"]) {
      out << "  constant channel: " << c["feature"].get<std::string>() << " " << c["name"].get<std::string>() << " = "
          << General(c["value"]) << "\n";
    }
  }
  if (q.contains("video")) {
    if (q["video"].empty()) {
      out << "  videos: agree with the tables\n";
    } else {
      for (const auto& v : q["video"]) {
        out << "  video: " << v["feature"].get<std::string>()
            << (v["episode"].is_null() ? std::string() : ", episode " + v["episode"].dump()) << ": "
            << v["problem"].get<std::string>() << "\n";
      }
    }
  }
  if (q["action_to_state_latency"].is_null()) {
    out << "  action->state latency: not estimated (needs 'action' and 'observation.state' of the same shape)\n";
  } else {
    const Json& l = q["action_to_state_latency"];
    out << "  action->state latency: "
        << (l["lag_ms"].is_null() ? std::string("unknown ms (no timestamps or fps)") : Fixed(l["lag_ms"], 1) + " ms")
        << " (" << Fixed(l["lag_frames"], 2) << " frames, " << l["action"].get<std::string>() << " -> "
        << l["state"].get<std::string>() << ", peak correlation " << Fixed(l["peak_correlation"], 3) << ")\n";
    if (l["peak_correlation"].get<double>() < kWeakCorrelation) {
      out << "    weak correlation: the state may not follow this action; do not trust this lag\n";
    }
  }
}

}  // namespace

void RunInspect(const InspectOptions& options, std::ostream& out) {
  const DatasetReader reader = DatasetReader::Open(options.dataset);
  const Json report = BuildReport(reader);
  if (options.json) {
    out << report.dump(2) << "\n";
  } else {
    PrintText(report, out);
  }
}

}  // namespace r2s::cli

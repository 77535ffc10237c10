#include "cli/replay_command.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>

#include <nlohmann/json.hpp>

#include "common/cpu_budget.h"
#include "sim/replay.h"
#include "sim/scene_compiler.h"

namespace r2s::cli {
namespace {

constexpr double kRadToDeg = 180.0 / M_PI;

nlohmann::json ToJson(const sim::DatasetReplay& replay, const ReplayOptions& options, int threads) {
  nlohmann::json report;
  report["scene"] = options.scene.string();
  report["dataset"] = options.episodes.string();
  report["output"] = replay.output.string();
  report["drive"] = replay.drive;
  report["threads"] = threads;
  report["inactive_bindings"] = replay.inactive;
  nlohmann::json episodes = nlohmann::json::array();
  for (const auto& e : replay.episodes) {
    nlohmann::json item;
    item["index"] = e.source_index;
    item["frames"] = e.frames;
    item["steps"] = e.steps;
    nlohmann::json joints = nlohmann::json::array();
    for (const auto& j : e.joints) joints.push_back({{"joint", j.joint}, {"rms", j.rms}, {"max_abs", j.max_abs}});
    item["joints"] = joints;
    nlohmann::json objects = nlohmann::json::array();
    for (const auto& o : e.objects) {
      objects.push_back({{"object", o.object},
                         {"position_rms_m", o.position_rms_m},
                         {"position_max_m", o.position_max_m},
                         {"angle_rms_deg", o.angle_rms_deg},
                         {"angle_max_deg", o.angle_max_deg}});
    }
    item["objects"] = objects;
    episodes.push_back(item);
  }
  report["episodes"] = episodes;
  return report;
}

void PrintText(const sim::DatasetReplay& replay, const ReplayOptions& options, int threads, std::ostream& out) {
  out << "scene      " << options.scene.string() << "\n"
      << "dataset    " << options.episodes.string() << "\n"
      << "output     " << replay.output.string() << "\n"
      << "drive      " << replay.drive << "\n"
      << "threads    " << threads << "\n"
      << "episodes   " << replay.episodes.size() << "\n";
  for (const auto& inactive : replay.inactive) out << "inactive   " << inactive << "\n";
  out << std::fixed;
  for (const auto& e : replay.episodes) {
    out << "\nepisode " << e.source_index << "  (" << e.frames << " frames, " << e.steps << " steps)\n";
    if (!e.joints.empty()) {
      out << "  " << std::left << std::setw(24) << "joint" << std::right << std::setw(14) << "rms [rad]"
          << std::setw(14) << "max [rad]" << std::setw(12) << "rms [deg]"
          << "\n";
      for (const auto& j : e.joints) {
        out << "  " << std::left << std::setw(24) << j.joint << std::right << std::setprecision(6) << std::setw(14)
            << j.rms << std::setw(14) << j.max_abs << std::setprecision(3) << std::setw(12) << j.rms * kRadToDeg
            << "\n";
      }
    }
    if (!e.objects.empty()) {
      out << "  " << std::left << std::setw(24) << "object" << std::right << std::setw(14) << "pos rms [m]"
          << std::setw(14) << "pos max [m]" << std::setw(15) << "rot rms [deg]" << std::setw(15) << "rot max [deg]"
          << "\n";
      for (const auto& o : e.objects) {
        out << "  " << std::left << std::setw(24) << o.object << std::right << std::setprecision(4) << std::setw(14)
            << o.position_rms_m << std::setw(14) << o.position_max_m << std::setprecision(2) << std::setw(15)
            << o.angle_rms_deg << std::setw(15) << o.angle_max_deg << "\n";
      }
    }
  }
}

}  // namespace

void RunReplay(const ReplayOptions& options, std::ostream& out) {
  const int threads = ThreadsOrAvailable(options.threads);
  const auto model = sim::LoadScene(options.scene, options.params);
  sim::ReplayOptions replay_options;
  replay_options.threads = threads;
  replay_options.overwrite = options.overwrite;
  const sim::DatasetReplay replay = sim::ReplayDataset(model, options.episodes, options.out, replay_options);
  if (options.json) {
    out << ToJson(replay, options, threads).dump(2) << "\n";
  } else {
    PrintText(replay, options, threads, out);
  }
}

}  // namespace r2s::cli

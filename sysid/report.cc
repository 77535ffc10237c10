#include "sysid/report.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include <nlohmann/json.hpp>

namespace r2s::sysid {
namespace fs = std::filesystem;
namespace {

nlohmann::json Number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

nlohmann::json ToJson(const ChannelFit& c) {
  nlohmann::json j = {{"channel", c.channel}, {"unit", c.unit},   {"samples", c.samples},
                      {"rms", Number(c.rms)}, {"r2", Number(c.r2)}, {"baseline_rms", Number(c.baseline_rms)}};
  if (!c.baseline.empty()) j["baseline"] = c.baseline;
  return j;
}

nlohmann::json ToJson(const FitResult& r) {
  nlohmann::json parameters = nlohmann::json::array();
  for (const FitParameter& p : r.parameters) {
    parameters.push_back({{"name", p.name},
                          {"unit", p.unit},
                          {"nominal", Number(p.nominal)},
                          {"estimate", Number(p.estimate)},
                          {"std", Number(p.std_dev)},
                          {"lower", Number(p.lower)},
                          {"upper", Number(p.upper)},
                          {"identified", p.identified},
                          {"why_not_identified", p.why_not_identified},
                          {"overlays_scene", p.overlays_scene}});
  }
  nlohmann::json covariance = nlohmann::json::array();
  for (Eigen::Index i = 0; i < r.covariance.rows(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index k = 0; k < r.covariance.cols(); ++k) row.push_back(Number(r.covariance(i, k)));
    covariance.push_back(std::move(row));
  }
  nlohmann::json train = nlohmann::json::array(), held_out = nlohmann::json::array();
  for (const auto& c : r.train) train.push_back(ToJson(c));
  for (const auto& c : r.held_out) held_out.push_back(ToJson(c));
  nlohmann::json start_costs = nlohmann::json::array();
  for (const auto& s : r.start_costs) {
    start_costs.push_back(
        {{"block", s.block}, {"final_costs", s.final_costs}, {"relative_spread", Number(s.relative_spread())}});
  }
  return {{"problem", ProblemName(r.problem)},
          {"parameters", parameters},
          {"covariance", {{"names", r.covariance_names}, {"matrix", covariance}}},
          {"condition_number", Number(r.condition_number)},
          {"rank", r.rank},
          {"warnings", r.warnings},
          {"train", train},
          {"held_out", held_out},
          {"termination", r.termination},
          {"converged", r.converged},
          {"iterations", r.iterations},
          {"wall_s", r.wall_s},
          {"train_samples", r.train_samples},
          {"held_out_samples", r.held_out_samples},
          {"starts", r.starts},
          {"start_costs", start_costs},
          {"passes", r.passes},
          {"passes_converged", r.passes_converged},
          {"noise_floor", r.noise_floor},
          {"time_step_cost_change", Number(r.time_step_cost_change)}};
}

std::string Cell(double x) {
  if (!std::isfinite(x)) return "";
  char buffer[32];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), x);
  return std::string(buffer, end);
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Wide: one row per (problem, episode, time), three columns per channel.
std::string PredictionsCsv(const SysidRun& run) {
  struct Column {
    std::string problem, channel, unit;
    bool has_baseline = false;
  };
  std::vector<Column> columns;
  std::map<std::pair<std::string, std::string>, std::size_t> column_of;
  using RowKey = std::tuple<std::size_t, std::int64_t, double>;  // problem order, episode, time
  std::map<RowKey, std::map<std::size_t, std::tuple<double, double, double>>> rows;
  for (std::size_t r = 0; r < run.results.size(); ++r) {
    const FitResult& result = run.results[r];
    const std::string problem = ProblemName(result.problem);
    for (const HeldOutSeries& s : result.predictions) {
      auto [it, added] = column_of.try_emplace({problem, s.channel}, columns.size());
      if (added) columns.push_back({problem, s.channel, s.unit});
      Column& column = columns[it->second];
      column.has_baseline = column.has_baseline || !s.baseline.empty();
      for (std::size_t i = 0; i < s.time_s.size(); ++i) {
        const double baseline = s.baseline.empty() ? std::nan("") : s.baseline[i];
        rows[{r, s.episode, s.time_s[i]}][it->second] = {s.measured[i], s.predicted[i], baseline};
      }
    }
  }
  std::ostringstream csv;
  csv << "problem,episode,time_s";
  for (const Column& c : columns) {
    const std::string unit = c.unit.empty() ? "" : " [" + c.unit + "]";
    csv << ',' << CsvField(c.channel + " measured" + unit) << ',' << CsvField(c.channel + " predicted" + unit);
    if (c.has_baseline) csv << ',' << CsvField(c.channel + " baseline" + unit);
  }
  csv << '\n';
  for (const auto& [key, cells] : rows) {
    const auto& [r, episode, time] = key;
    csv << ProblemName(run.results[r].problem) << ',' << episode << ',' << Cell(time);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const auto it = cells.find(c);
      const bool has = it != cells.end();
      csv << ',' << (has ? Cell(std::get<0>(it->second)) : "") << ',' << (has ? Cell(std::get<1>(it->second)) : "");
      if (columns[c].has_baseline) csv << ',' << (has ? Cell(std::get<2>(it->second)) : "");
    }
    csv << '\n';
  }
  return csv.str();
}

fs::path PlotScript() {
  for (const fs::path& candidate : {fs::path(R2S_REPORT_SCRIPT_BUILD), fs::path(R2S_REPORT_SCRIPT_INSTALL)}) {
    if (fs::exists(candidate)) return candidate;
  }
  throw std::runtime_error(std::string("the report's plotting script is missing (looked for ") +
                           R2S_REPORT_SCRIPT_BUILD + " and " + R2S_REPORT_SCRIPT_INSTALL + ")");
}

std::string Quoted(const fs::path& p) {
  std::string out = "'";
  for (char c : p.string()) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

nlohmann::json ToJson(const SysidRun& run) {
  nlohmann::json results = nlohmann::json::array();
  for (const auto& r : run.results) results.push_back(ToJson(r));
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& s : run.skipped) skipped.push_back({{"problem", ProblemName(s.problem)}, {"why", s.why}});
  return {{"format", "real2sim.sysid_report/1"},
          {"scene", run.scene_name},
          {"scene_file", run.scene_file.string()},
          {"dataset", run.dataset.string()},
          {"episodes", run.episodes},
          {"wall_s", run.wall_s},
          {"results", results},
          {"skipped", skipped}};
}

void WriteReport(const SysidRun& run, const fs::path& dir) {
  const fs::path target = fs::absolute(dir).lexically_normal();
  const fs::path parent = target.parent_path();
  fs::create_directories(parent);
  std::random_device entropy;
  const fs::path temp = parent / ("." + target.filename().string() + ".tmp" + std::to_string(entropy()));
  fs::create_directories(temp);
  try {
    WriteText(temp / "fit.json", ToJson(run).dump(1) + "\n");
    WriteText(temp / "predictions.csv", PredictionsCsv(run));
    const std::string command = Quoted(R2S_REPORT_PYTHON) + " " + Quoted(PlotScript()) + " " + Quoted(temp) +
                                " > " + Quoted(temp / "plot.log") + " 2>&1";
    const int status = std::system(command.c_str());
    if (status != 0) {
      std::ifstream log(temp / "plot.log");
      const std::string text((std::istreambuf_iterator<char>(log)), {});
      throw std::runtime_error("drawing the report's plots failed (" + std::string(R2S_REPORT_PYTHON) +
                               " with matplotlib; scripts/setup.sh installs python3-matplotlib): " +
                               text.substr(text.size() > 2000 ? text.size() - 2000 : 0));
    }
    fs::remove(temp / "plot.log");
    // Replace an earlier report whole: move it aside, move the new one in, then delete the old one.
    fs::path old;
    if (fs::exists(target)) {
      old = parent / ("." + target.filename().string() + ".old" + std::to_string(entropy()));
      fs::rename(target, old);
    }
    fs::rename(temp, target);
    if (!old.empty()) fs::remove_all(old);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(temp, ignored);
    throw;
  }
}

}  // namespace r2s::sysid

#include "amplify/run_coverage.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "episode/atomic_file.h"
#include "episode/input_error.h"
#include "randomize/csv_text.h"
#include "randomize/coverage_html.h"

namespace r2s::amplify {
namespace {

namespace fs = std::filesystem;
using randomize::CoordinateHistogram;
using randomize::CoverageDraw;
using randomize::CoverageSummary;
using randomize::CsvField;
using randomize::FormatNumber;
using randomize::SplitCsvLine;

std::vector<std::string> Header(const CoverageSummary& layout) {
  std::vector<std::string> header = {"unit", "episode", "variant", "kept", "edge_case"};
  for (const CoordinateHistogram& h : layout.histograms) header.push_back(h.name);
  for (int i = 0; i < layout.unit_dimension; ++i) header.push_back("unit_point[" + std::to_string(i) + "]");
  return header;
}

template <typename T>
bool ParseNumber(const std::string& text, T* value) {
  const auto result = std::from_chars(text.data(), text.data() + text.size(), *value);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

std::string ReadText(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), "", "cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// What must agree for two shards' reports to be parts of one: bins, labels, distributions, edge cases, sampler.
std::string LayoutKey(const CoverageSummary& s) {
  std::string key = s.sampler + "|" + std::to_string(s.unit_dimension) + "|";
  for (const CoordinateHistogram& h : s.histograms) {
    key += h.axis + "|" + h.name + "|" + h.distribution + "|" + (h.categorical ? "c" : "n") + "|" + FormatNumber(h.lo) +
           "|" + FormatNumber(h.hi) + "|" + std::to_string(h.counts.size()) + "|";
    for (const std::string& label : h.labels) key += label + ";";
  }
  for (const auto& e : s.edge_cases) key += e.name + "=" + FormatNumber(e.target_weight) + "|";
  return key;
}

}  // namespace

std::vector<CoverageDraw> RunConditionDraws(const randomize::ConditionSpace& space, std::uint64_t seed,
                                            std::uint32_t variants, std::uint64_t begin, std::uint64_t end) {
  std::vector<CoverageDraw> draws;
  draws.reserve(static_cast<std::size_t>(end - begin));
  std::uint64_t u = begin;
  while (u < end) {
    // A source episode's variants of this range in one call.
    const auto episode = static_cast<std::uint32_t>(u / variants);
    const auto first = static_cast<std::uint32_t>(u % variants);
    const auto count = static_cast<std::uint32_t>(std::min<std::uint64_t>(end - u, variants - first));
    const std::vector<randomize::ConditionDraw> batch =
        randomize::DrawConditions(space, seed, episode, first, count, variants);
    std::vector<CoverageDraw> flat = randomize::FlattenDraws(space, batch);
    for (CoverageDraw& d : flat) {
      d.unit = u++;
      d.episode = episode;
      draws.push_back(std::move(d));
    }
  }
  return draws;
}

std::string RunDrawsCsv(const CoverageSummary& layout, const std::vector<CoverageDraw>& draws) {
  std::string csv;
  const std::vector<std::string> header = Header(layout);
  for (std::size_t i = 0; i < header.size(); ++i) csv += (i ? "," : "") + CsvField(header[i]);
  csv += "\n";
  for (const CoverageDraw& d : draws) {
    csv += std::to_string(d.unit) + "," + std::to_string(d.episode) + "," + std::to_string(d.variant) + "," +
           (d.kept ? (*d.kept ? "1" : "0") : "") + "," + CsvField(d.edge_case);
    for (std::size_t c = 0; c < layout.histograms.size(); ++c) {
      const CoordinateHistogram& h = layout.histograms[c];
      const double x = d.values.at(c);
      if (h.categorical) {
        const int bin = h.Bin(x);
        if (bin < 0) {
          throw std::logic_error("RunDrawsCsv: unit " + std::to_string(d.unit) + " has no label of " + h.name);
        }
        csv += "," + CsvField(h.labels[static_cast<std::size_t>(bin)]);
      } else {
        csv += "," + FormatNumber(x);
      }
    }
    for (double x : d.unit_point) csv += "," + FormatNumber(x);
    csv += "\n";
  }
  return csv;
}

std::vector<CoverageDraw> ParseRunDrawsCsv(const std::string& text, const CoverageSummary& layout,
                                           const std::string& file) {
  const std::vector<std::string> header = Header(layout);
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> fields;
  if (!std::getline(in, line) || !SplitCsvLine(line, &fields) || fields != header) {
    throw InputError(file, "line 1", "is not the header coverage.json's axes give ('" + line + "')");
  }
  std::vector<CoverageDraw> draws;
  for (std::size_t number = 2; std::getline(in, line); ++number) {
    const std::string where = "line " + std::to_string(number);
    if (!SplitCsvLine(line, &fields) || fields.size() != header.size()) {
      throw InputError(file, where,
                       "has " + std::to_string(fields.size()) + " fields, expected " + std::to_string(header.size()));
    }
    const auto bad = [&](std::size_t column) {
      return InputError(file, where + ", " + header[column], "'" + fields[column] + "' is not a valid value");
    };
    CoverageDraw d;
    if (!ParseNumber(fields[0], &d.unit)) throw bad(0);
    if (!ParseNumber(fields[1], &d.episode)) throw bad(1);
    if (!ParseNumber(fields[2], &d.variant)) throw bad(2);
    if (fields[3] == "1") {
      d.kept = true;
    } else if (fields[3] == "0") {
      d.kept = false;
    } else if (!fields[3].empty()) {
      throw bad(3);
    }
    d.edge_case = fields[4];
    std::size_t column = 5;
    for (const CoordinateHistogram& h : layout.histograms) {
      const std::string& field = fields[column];
      if (h.categorical) {
        const auto it = std::find(h.labels.begin(), h.labels.end(), field);
        if (it == h.labels.end()) throw bad(column);
        d.values.push_back(static_cast<double>(it - h.labels.begin()));
      } else {
        double x = 0;
        if (!ParseNumber(field, &x)) throw bad(column);
        d.values.push_back(x);
      }
      ++column;
    }
    for (int i = 0; i < layout.unit_dimension; ++i, ++column) {
      double x = 0;
      if (!ParseNumber(fields[column], &x)) throw bad(column);
      d.unit_point.push_back(x);
    }
    draws.push_back(std::move(d));
  }
  return draws;
}

RunCoverage WriteRunCoverage(const fs::path& dir, const CoverageSummary& layout,
                             const std::vector<CoverageDraw>& draws) {
  RunCoverage report{randomize::SummarizeCoverage(layout, draws), draws};
  const std::string json = randomize::CoverageJson(report.summary);
  const std::string csv = RunDrawsCsv(report.summary, draws);
  const std::string html = randomize::CoverageHtml(report.summary, draws);
  episode::WriteFileAtomically(dir / kCoverageFiles[0], json);
  episode::WriteFileAtomically(dir / kCoverageFiles[1], csv);
  episode::WriteFileAtomically(dir / kCoverageFiles[2], html);
  return report;
}

std::optional<RunCoverage> ReadRunCoverage(const fs::path& dir) {
  const fs::path json_file = dir / kCoverageFiles[0];
  if (!fs::exists(json_file)) return std::nullopt;
  RunCoverage report;
  try {
    report.summary = randomize::ParseCoverageJson(ReadText(json_file));
  } catch (const std::invalid_argument& e) {
    throw InputError(json_file.string(), "", e.what());
  }
  const fs::path csv_file = dir / kCoverageFiles[1];
  if (!fs::exists(csv_file)) throw InputError(csv_file.string(), "", "is missing beside coverage.json");
  report.draws = ParseRunDrawsCsv(ReadText(csv_file), report.summary, csv_file.string());
  if (report.draws.size() != report.summary.draws) {
    throw InputError(csv_file.string(), "(rows)",
                     "holds " + std::to_string(report.draws.size()) + " draws, coverage.json says " +
                         std::to_string(report.summary.draws));
  }
  return report;
}

std::optional<RunCoverage> MergeRunCoverage(const std::vector<fs::path>& shard_dirs) {
  std::optional<RunCoverage> merged;
  std::string key;
  for (std::size_t i = 0; i < shard_dirs.size(); ++i) {
    const fs::path& dir = shard_dirs[i];
    std::optional<RunCoverage> shard = ReadRunCoverage(dir);
    if (shard.has_value() != (i == 0 ? shard.has_value() : merged.has_value())) {
      const fs::path& with = shard ? dir : shard_dirs.front();
      const fs::path& without = shard ? shard_dirs.front() : dir;
      throw InputError((without / kCoverageFiles[0]).string(), "",
                       "is missing, but " + (with / kCoverageFiles[0]).string() +
                           " exists: the shards' coverage reports do not belong together");
    }
    if (!shard) continue;
    if (!merged) {
      key = LayoutKey(shard->summary);
      merged = RunCoverage{shard->summary, {}};
    } else if (LayoutKey(shard->summary) != key) {
      throw InputError((dir / kCoverageFiles[0]).string(), "axes",
                       "differ from " + (shard_dirs.front() / kCoverageFiles[0]).string() +
                           "'s: the shards drew from different deployment maps");
    }
    for (CoverageDraw& d : shard->draws) {
      if (!merged->draws.empty() && d.unit != merged->draws.back().unit + 1) {
        throw InputError((dir / kCoverageFiles[1]).string(), "unit",
                         "unit " + std::to_string(d.unit) + " follows unit " +
                             std::to_string(merged->draws.back().unit) + ": the shards' draws leave a gap or overlap");
      }
      merged->draws.push_back(std::move(d));
    }
  }
  return merged;
}

void RemoveRunCoverage(const fs::path& dir) {
  std::error_code ec;
  for (const char* name : kCoverageFiles) fs::remove(dir / name, ec);
}

}  // namespace r2s::amplify

#include "randomize/coverage_report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>
#include <utility>

#include "episode/atomic_file.h"
#include "randomize/csv_text.h"
#include "randomize/low_discrepancy.h"
#include "randomize/philox.h"

namespace r2s::randomize {
namespace {

using nlohmann::ordered_json;

// Extreme unit coordinates of a 32-bit draw: U01(0) and U01(2^32 - 1).
const double kUnitLo = U01(0u);
const double kUnitHi = U01(0xFFFFFFFFu);
// A truncated multivariate normal's support is its box clipped to this many standard deviations (the reach of a
// 32-bit inverse-CDF draw of a normal).
constexpr double kNormalReachStd = 6.2;

const Eigen::VectorXd& ValueOf(const ConditionDraw& draw, const ConditionAxis& axis) {
  const auto it = draw.values.find(axis.name);
  if (it == draw.values.end()) {
    throw std::invalid_argument("SummarizeCoverage: draw of variant " + std::to_string(draw.variant) +
                                " has no value for axis '" + axis.name + "'");
  }
  if (it->second.size() != axis.distribution.dimension()) {
    throw std::invalid_argument("SummarizeCoverage: draw of variant " + std::to_string(draw.variant) + " has " +
                                std::to_string(it->second.size()) + " values for axis '" + axis.name + "', expected " +
                                std::to_string(axis.distribution.dimension()));
  }
  return it->second;
}

std::string DrawName(const CoverageDraw& draw) {
  return "draw of unit " + std::to_string(draw.unit) + " (variant " + std::to_string(draw.variant) + ")";
}

}  // namespace

int CoordinateHistogram::Bin(double x) const {
  if (categorical) {
    const long bin = std::lround(x);
    return (bin >= 0 && bin < static_cast<long>(counts.size())) ? static_cast<int>(bin) : -2;
  }
  if (x < lo) return -1;
  if (x > hi) return -2;
  if (counts.size() <= 1) return 0;
  const int bin = static_cast<int>(std::floor((x - lo) / (hi - lo) * static_cast<double>(counts.size())));
  return std::clamp(bin, 0, static_cast<int>(counts.size()) - 1);
}

double CoordinateHistogram::BinEdge(std::size_t b) const {
  if (counts.empty()) return lo;
  return lo + (hi - lo) * static_cast<double>(b) / static_cast<double>(counts.size());
}

CoverageSummary CoverageLayout(const ConditionSpace& space) {
  CoverageSummary layout;
  layout.sampler = std::string(ConditionSamplerName(space.sampler));
  layout.unit_dimension = space.dimension();
  for (const ConditionAxis& axis : space.axes) {
    const Distribution& d = axis.distribution;
    const int n = d.dimension();
    if (d.kind() == Distribution::Kind::kCategorical) {
      CoordinateHistogram h;
      h.axis = h.name = axis.name;
      h.distribution = d.Describe();
      h.categorical = true;
      h.labels = d.labels();
      h.counts.assign(d.labels().size(), 0);
      layout.histograms.push_back(std::move(h));
      continue;
    }
    Eigen::VectorXd lo(n), hi(n);
    if (d.kind() == Distribution::Kind::kTruncatedMultivariateNormal) {
      for (int i = 0; i < n; ++i) {
        const double reach = kNormalReachStd * std::sqrt(d.covariance()(i, i));
        lo[i] = std::max(d.lo()[i], d.mean()[i] - reach);
        hi[i] = std::min(d.hi()[i], d.mean()[i] + reach);
      }
    } else {
      const std::vector<double> u_lo(static_cast<std::size_t>(n), kUnitLo);
      const std::vector<double> u_hi(static_cast<std::size_t>(n), kUnitHi);
      const Eigen::VectorXd a = d.FromUnit(u_lo);
      const Eigen::VectorXd b = d.FromUnit(u_hi);
      lo = a.cwiseMin(b);
      hi = a.cwiseMax(b);
      // Bounded distributions: their exact bounds, not the values at the extreme unit coordinates.
      if (d.lo().size() == n && d.hi().size() == n) {
        for (int i = 0; i < n; ++i) {
          if (std::isfinite(d.lo()[i])) lo[i] = d.lo()[i];
          if (std::isfinite(d.hi()[i])) hi[i] = d.hi()[i];
        }
      }
    }
    for (int i = 0; i < n; ++i) {
      CoordinateHistogram h;
      h.axis = axis.name;
      h.name = n == 1 ? axis.name : axis.name + "[" + std::to_string(i) + "]";
      h.distribution = d.Describe();
      h.lo = lo[i];
      h.hi = hi[i];
      h.counts.assign(hi[i] > lo[i] ? CoverageSummary::kBins : 1, 0);
      layout.histograms.push_back(std::move(h));
    }
  }
  layout.edge_cases.push_back(EdgeCaseCount{"", 1 - space.edge_weight(), 0, 0, 0});
  for (const EdgeCase& e : space.edge_cases) layout.edge_cases.push_back(EdgeCaseCount{e.name, e.weight, 0, 0, 0});
  layout.mean_pair_fraction = 1;
  return layout;
}

std::vector<CoverageDraw> FlattenDraws(const ConditionSpace& space, const std::vector<ConditionDraw>& draws) {
  std::vector<CoverageDraw> flat;
  flat.reserve(draws.size());
  for (const ConditionDraw& draw : draws) {
    CoverageDraw f;
    f.variant = draw.variant;
    f.edge_case = draw.edge_case;
    f.unit_point = draw.unit_point;
    for (const ConditionAxis& axis : space.axes) {
      const Eigen::VectorXd& value = ValueOf(draw, axis);
      for (Eigen::Index i = 0; i < value.size(); ++i) f.values.push_back(value[i]);
    }
    flat.push_back(std::move(f));
  }
  return flat;
}

CoverageSummary SummarizeCoverage(const CoverageSummary& layout, const std::vector<CoverageDraw>& draws) {
  CoverageSummary summary = layout;
  summary.draws = draws.size();
  summary.pairs.clear();
  summary.has_kept = std::any_of(draws.begin(), draws.end(), [](const CoverageDraw& d) { return d.kept.has_value(); });
  summary.kept = 0;
  for (CoordinateHistogram& h : summary.histograms) {
    std::fill(h.counts.begin(), h.counts.end(), 0);
    h.below = h.above = 0;
    h.kept_counts.assign(summary.has_kept ? h.counts.size() : 0, 0);
  }
  for (EdgeCaseCount& e : summary.edge_cases) e.count = e.kept = 0;

  const std::size_t coordinates = summary.histograms.size();
  // Each draw's bin per coordinate (negative: outside the support).
  std::vector<std::vector<int>> bins(draws.size(), std::vector<int>(coordinates));
  for (std::size_t k = 0; k < draws.size(); ++k) {
    const CoverageDraw& draw = draws[k];
    if (static_cast<int>(draw.unit_point.size()) != summary.unit_dimension) {
      throw std::invalid_argument("SummarizeCoverage: " + DrawName(draw) + " has a unit point of dimension " +
                                  std::to_string(draw.unit_point.size()) + ", expected " +
                                  std::to_string(summary.unit_dimension));
    }
    if (draw.values.size() != coordinates) {
      throw std::invalid_argument("SummarizeCoverage: " + DrawName(draw) + " has " +
                                  std::to_string(draw.values.size()) + " values, expected one per coordinate (" +
                                  std::to_string(coordinates) + ")");
    }
    const bool kept = draw.kept.value_or(false);
    summary.kept += kept ? 1 : 0;
    for (std::size_t c = 0; c < coordinates; ++c) {
      CoordinateHistogram& h = summary.histograms[c];
      const int bin = h.Bin(draw.values[c]);
      bins[k][c] = bin;
      if (bin >= 0) {
        ++h.counts[static_cast<std::size_t>(bin)];
        if (kept) ++h.kept_counts[static_cast<std::size_t>(bin)];
      } else if (bin == -1) {
        ++h.below;
      } else {
        ++h.above;
      }
    }
    const auto it = std::find_if(summary.edge_cases.begin(), summary.edge_cases.end(),
                                 [&](const EdgeCaseCount& e) { return e.name == draw.edge_case; });
    if (it == summary.edge_cases.end()) {
      throw std::invalid_argument("SummarizeCoverage: " + DrawName(draw) + " names unknown edge case '" +
                                  draw.edge_case + "'");
    }
    ++it->count;
    it->kept += kept ? 1 : 0;
  }

  const double n = static_cast<double>(std::max<std::size_t>(draws.size(), 1));
  for (EdgeCaseCount& e : summary.edge_cases) e.fraction = draws.empty() ? 0 : static_cast<double>(e.count) / n;

  double fraction_sum = 0;
  for (std::size_t i = 0; i < coordinates; ++i) {
    for (std::size_t j = i + 1; j < coordinates; ++j) {
      const std::size_t bins_j = summary.histograms[j].counts.size();
      std::set<std::size_t> hit;
      for (const auto& draw_bins : bins) {
        if (draw_bins[i] >= 0 && draw_bins[j] >= 0) {
          hit.insert(static_cast<std::size_t>(draw_bins[i]) * bins_j + static_cast<std::size_t>(draw_bins[j]));
        }
      }
      PairCoverage pair{summary.histograms[i].name, summary.histograms[j].name, hit.size(),
                        summary.histograms[i].counts.size() * bins_j, 0};
      pair.fraction = static_cast<double>(pair.bins_hit) / static_cast<double>(pair.bins);
      fraction_sum += pair.fraction;
      summary.pairs.push_back(std::move(pair));
    }
  }
  summary.mean_pair_fraction = summary.pairs.empty() ? 1 : fraction_sum / static_cast<double>(summary.pairs.size());

  summary.centered_l2_discrepancy = 0;
  summary.discrepancy_draws = 0;
  if (!draws.empty() && summary.unit_dimension > 0) {
    summary.discrepancy_draws = std::min(draws.size(), CoverageSummary::kMaxDiscrepancyDraws);
    std::vector<std::vector<double>> points;
    points.reserve(summary.discrepancy_draws);
    for (std::size_t k = 0; k < summary.discrepancy_draws; ++k) points.push_back(draws[k].unit_point);
    summary.centered_l2_discrepancy = CenteredL2Discrepancy(points);
  }
  return summary;
}

CoverageSummary SummarizeCoverage(const ConditionSpace& space, const std::vector<ConditionDraw>& draws) {
  return SummarizeCoverage(CoverageLayout(space), FlattenDraws(space, draws));
}

std::string CoverageJson(const CoverageSummary& summary) {
  ordered_json json;
  if (!summary.run.empty()) {
    json["run"] = ordered_json::object();
    for (const auto& [key, value] : summary.run) json["run"][key] = value;
  }
  json["sampler"] = summary.sampler;
  json["draws"] = summary.draws;
  if (summary.has_kept) json["kept"] = summary.kept;
  json["unit_dimension"] = summary.unit_dimension;
  json["centered_l2_discrepancy"] = summary.centered_l2_discrepancy;
  json["discrepancy_draws"] = summary.discrepancy_draws;
  json["mean_pair_fraction"] = summary.mean_pair_fraction;
  json["axes"] = ordered_json::array();
  for (const CoordinateHistogram& h : summary.histograms) {
    ordered_json axis;
    axis["axis"] = h.axis;
    axis["coordinate"] = h.name;
    axis["distribution"] = h.distribution;
    axis["categorical"] = h.categorical;
    if (h.categorical) {
      axis["labels"] = h.labels;
    } else {
      axis["lo"] = h.lo;
      axis["hi"] = h.hi;
      std::vector<double> edges;
      for (std::size_t b = 0; b <= h.counts.size(); ++b) edges.push_back(h.BinEdge(b));
      axis["bin_edges"] = edges;
      axis["below"] = h.below;
      axis["above"] = h.above;
    }
    axis["counts"] = h.counts;
    if (summary.has_kept) axis["kept_counts"] = h.kept_counts;
    json["axes"].push_back(std::move(axis));
  }
  json["edge_cases"] = ordered_json::array();
  for (const EdgeCaseCount& e : summary.edge_cases) {
    ordered_json entry{
        {"name", e.name}, {"target_weight", e.target_weight}, {"count", e.count}, {"fraction", e.fraction}};
    if (summary.has_kept) entry["kept"] = e.kept;
    json["edge_cases"].push_back(std::move(entry));
  }
  json["pairs"] = ordered_json::array();
  for (const PairCoverage& p : summary.pairs) {
    json["pairs"].push_back(
        {{"a", p.a}, {"b", p.b}, {"bins_hit", p.bins_hit}, {"bins", p.bins}, {"fraction", p.fraction}});
  }
  return json.dump(2) + "\n";
}

CoverageSummary ParseCoverageJson(const std::string& text) {
  ordered_json json;
  try {
    json = ordered_json::parse(text);
  } catch (const ordered_json::exception& e) {
    throw std::invalid_argument(std::string("is not valid JSON: ") + e.what());
  }
  std::string field;
  try {
    CoverageSummary s;
    field = "run";
    if (json.contains("run")) {
      for (const auto& [key, value] : json.at("run").items()) s.run.emplace_back(key, value.get<std::string>());
    }
    field = "sampler";
    s.sampler = json.at("sampler").get<std::string>();
    field = "draws";
    s.draws = json.at("draws").get<std::size_t>();
    field = "kept";
    s.has_kept = json.contains("kept");
    if (s.has_kept) s.kept = json.at("kept").get<std::size_t>();
    field = "unit_dimension";
    s.unit_dimension = json.at("unit_dimension").get<int>();
    field = "centered_l2_discrepancy";
    s.centered_l2_discrepancy = json.at("centered_l2_discrepancy").get<double>();
    field = "discrepancy_draws";
    s.discrepancy_draws = json.at("discrepancy_draws").get<std::size_t>();
    field = "mean_pair_fraction";
    s.mean_pair_fraction = json.at("mean_pair_fraction").get<double>();
    for (std::size_t i = 0; i < json.at("axes").size(); ++i) {
      const ordered_json& a = json.at("axes")[i];
      field = "axes[" + std::to_string(i) + "]";
      CoordinateHistogram h;
      h.axis = a.at("axis").get<std::string>();
      h.name = a.at("coordinate").get<std::string>();
      h.distribution = a.at("distribution").get<std::string>();
      h.categorical = a.at("categorical").get<bool>();
      if (h.categorical) {
        h.labels = a.at("labels").get<std::vector<std::string>>();
      } else {
        h.lo = a.at("lo").get<double>();
        h.hi = a.at("hi").get<double>();
        h.below = a.at("below").get<std::size_t>();
        h.above = a.at("above").get<std::size_t>();
      }
      h.counts = a.at("counts").get<std::vector<std::size_t>>();
      if (h.categorical ? h.counts.size() != h.labels.size() : h.counts.empty()) {
        throw std::invalid_argument(field + ".counts: " + std::to_string(h.counts.size()) +
                                    " bins do not fit the axis");
      }
      if (a.contains("kept_counts")) h.kept_counts = a.at("kept_counts").get<std::vector<std::size_t>>();
      s.histograms.push_back(std::move(h));
    }
    for (std::size_t i = 0; i < json.at("edge_cases").size(); ++i) {
      const ordered_json& e = json.at("edge_cases")[i];
      field = "edge_cases[" + std::to_string(i) + "]";
      s.edge_cases.push_back(EdgeCaseCount{e.at("name").get<std::string>(), e.at("target_weight").get<double>(),
                                           e.at("count").get<std::size_t>(), e.at("fraction").get<double>(),
                                           e.value("kept", std::size_t{0})});
    }
    field = "pairs";
    for (const ordered_json& p : json.at("pairs")) {
      s.pairs.push_back(PairCoverage{p.at("a").get<std::string>(), p.at("b").get<std::string>(),
                                     p.at("bins_hit").get<std::size_t>(), p.at("bins").get<std::size_t>(),
                                     p.at("fraction").get<double>()});
    }
    return s;
  } catch (const ordered_json::exception& e) {
    throw std::invalid_argument(field + ": " + e.what());
  }
}

void WriteCoverageReport(const ConditionSpace& space, const std::vector<ConditionDraw>& draws,
                         const std::filesystem::path& dir) {
  const std::vector<CoverageDraw> flat = FlattenDraws(space, draws);
  const CoverageSummary summary = SummarizeCoverage(CoverageLayout(space), flat);

  std::string csv = "variant,edge_case";
  for (const CoordinateHistogram& h : summary.histograms) csv += "," + CsvField(h.name);
  csv += "\n";
  for (const CoverageDraw& draw : flat) {
    csv += std::to_string(draw.variant) + "," + CsvField(draw.edge_case);
    for (std::size_t c = 0; c < summary.histograms.size(); ++c) {
      const CoordinateHistogram& h = summary.histograms[c];
      csv += "," + (h.categorical ? CsvField(h.labels.at(static_cast<std::size_t>(std::lround(draw.values[c]))))
                                  : FormatNumber(draw.values[c]));
    }
    csv += "\n";
  }

  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw std::runtime_error("cannot create " + dir.string() + ": " + error.message());
  episode::WriteFileAtomically(dir / "coverage.json", CoverageJson(summary));
  episode::WriteFileAtomically(dir / "draws.csv", csv);
}

}  // namespace r2s::randomize

#include "randomize/coverage_report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>
#include <utility>

#include "episode/atomic_file.h"
#include "randomize/low_discrepancy.h"
#include "randomize/philox.h"

namespace r2s::randomize {
namespace {

// Extreme unit coordinates of a 32-bit draw: U01(0) and U01(2^32 - 1).
const double kUnitLo = U01(0u);
const double kUnitHi = U01(0xFFFFFFFFu);
// A truncated multivariate normal's support is its box clipped to this many standard deviations (the reach of a
// 32-bit inverse-CDF draw of a normal).
constexpr double kNormalReachStd = 6.2;

// One coordinate's bins, in the order of the unit point.
struct Binning {
  const ConditionAxis* axis = nullptr;
  int coordinate = 0;
  CoordinateHistogram histogram;

  // The bin of a value; -1 below the support, -2 above.
  int Bin(double x) const {
    const CoordinateHistogram& h = histogram;
    if (h.categorical) {
      const int bin = static_cast<int>(std::lround(x));
      return (bin >= 0 && bin < static_cast<int>(h.counts.size())) ? bin : -2;
    }
    if (x < h.lo) return -1;
    if (x > h.hi) return -2;
    if (h.counts.size() == 1) return 0;
    const int bin = static_cast<int>(std::floor((x - h.lo) / (h.hi - h.lo) * static_cast<double>(h.counts.size())));
    return std::clamp(bin, 0, static_cast<int>(h.counts.size()) - 1);
  }
};

std::vector<Binning> MakeBinnings(const ConditionSpace& space) {
  std::vector<Binning> binnings;
  for (const ConditionAxis& axis : space.axes) {
    const Distribution& d = axis.distribution;
    const int n = d.dimension();
    if (d.kind() == Distribution::Kind::kCategorical) {
      Binning b{&axis, 0, {}};
      b.histogram.axis = b.histogram.name = axis.name;
      b.histogram.categorical = true;
      b.histogram.labels = d.labels();
      b.histogram.counts.assign(d.labels().size(), 0);
      binnings.push_back(std::move(b));
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
      Binning b{&axis, i, {}};
      b.histogram.axis = axis.name;
      b.histogram.name = n == 1 ? axis.name : axis.name + "[" + std::to_string(i) + "]";
      b.histogram.lo = lo[i];
      b.histogram.hi = hi[i];
      b.histogram.counts.assign(hi[i] > lo[i] ? CoverageSummary::kBins : 1, 0);
      binnings.push_back(std::move(b));
    }
  }
  return binnings;
}

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

std::string FormatNumber(double x) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), x);
  return std::string(buffer, result.ptr);
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

CoverageSummary SummarizeCoverage(const ConditionSpace& space, const std::vector<ConditionDraw>& draws) {
  CoverageSummary summary;
  summary.sampler = std::string(ConditionSamplerName(space.sampler));
  summary.draws = draws.size();
  summary.unit_dimension = space.dimension();

  std::vector<Binning> binnings = MakeBinnings(space);
  // Each draw's bin per coordinate (negative: outside the support).
  std::vector<std::vector<int>> bins(draws.size(), std::vector<int>(binnings.size()));
  for (std::size_t k = 0; k < draws.size(); ++k) {
    if (static_cast<int>(draws[k].unit_point.size()) != summary.unit_dimension) {
      throw std::invalid_argument("SummarizeCoverage: draw of variant " + std::to_string(draws[k].variant) +
                                  " has a unit point of dimension " + std::to_string(draws[k].unit_point.size()) +
                                  ", expected " + std::to_string(summary.unit_dimension));
    }
    for (std::size_t c = 0; c < binnings.size(); ++c) {
      Binning& b = binnings[c];
      const int bin = b.Bin(ValueOf(draws[k], *b.axis)[b.coordinate]);
      bins[k][c] = bin;
      if (bin >= 0) {
        ++b.histogram.counts[static_cast<std::size_t>(bin)];
      } else if (bin == -1) {
        ++b.histogram.below;
      } else {
        ++b.histogram.above;
      }
    }
  }
  for (Binning& b : binnings) summary.histograms.push_back(std::move(b.histogram));

  const double n = static_cast<double>(std::max<std::size_t>(draws.size(), 1));
  EdgeCaseCount nominal{"", 1 - space.edge_weight(), 0, 0};
  std::vector<EdgeCaseCount> edge_counts;
  for (const EdgeCase& e : space.edge_cases) edge_counts.push_back(EdgeCaseCount{e.name, e.weight, 0, 0});
  for (const ConditionDraw& draw : draws) {
    if (draw.edge_case.empty()) {
      ++nominal.count;
      continue;
    }
    const auto it = std::find_if(edge_counts.begin(), edge_counts.end(),
                                 [&](const EdgeCaseCount& e) { return e.name == draw.edge_case; });
    if (it == edge_counts.end()) {
      throw std::invalid_argument("SummarizeCoverage: draw of variant " + std::to_string(draw.variant) +
                                  " names unknown edge case '" + draw.edge_case + "'");
    }
    ++it->count;
  }
  summary.edge_cases.push_back(nominal);
  summary.edge_cases.insert(summary.edge_cases.end(), edge_counts.begin(), edge_counts.end());
  for (EdgeCaseCount& e : summary.edge_cases) e.fraction = draws.empty() ? 0 : static_cast<double>(e.count) / n;

  double fraction_sum = 0;
  for (std::size_t i = 0; i < summary.histograms.size(); ++i) {
    for (std::size_t j = i + 1; j < summary.histograms.size(); ++j) {
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

  if (!draws.empty() && summary.unit_dimension > 0) {
    summary.discrepancy_draws = std::min(draws.size(), CoverageSummary::kMaxDiscrepancyDraws);
    std::vector<std::vector<double>> points;
    points.reserve(summary.discrepancy_draws);
    for (std::size_t k = 0; k < summary.discrepancy_draws; ++k) points.push_back(draws[k].unit_point);
    summary.centered_l2_discrepancy = CenteredL2Discrepancy(points);
  }
  return summary;
}

void WriteCoverageReport(const ConditionSpace& space, const std::vector<ConditionDraw>& draws,
                         const std::filesystem::path& dir) {
  const CoverageSummary summary = SummarizeCoverage(space, draws);

  nlohmann::ordered_json json;
  json["sampler"] = summary.sampler;
  json["draws"] = summary.draws;
  json["unit_dimension"] = summary.unit_dimension;
  json["centered_l2_discrepancy"] = summary.centered_l2_discrepancy;
  json["discrepancy_draws"] = summary.discrepancy_draws;
  json["mean_pair_fraction"] = summary.mean_pair_fraction;
  json["axes"] = nlohmann::ordered_json::array();
  for (const CoordinateHistogram& h : summary.histograms) {
    nlohmann::ordered_json axis;
    axis["axis"] = h.axis;
    axis["coordinate"] = h.name;
    axis["distribution"] = space.FindAxis(h.axis)->distribution.Describe();
    axis["categorical"] = h.categorical;
    if (h.categorical) {
      axis["labels"] = h.labels;
    } else {
      axis["lo"] = h.lo;
      axis["hi"] = h.hi;
      std::vector<double> edges;
      for (std::size_t b = 0; b <= h.counts.size(); ++b) {
        edges.push_back(h.lo + (h.hi - h.lo) * static_cast<double>(b) / static_cast<double>(h.counts.size()));
      }
      axis["bin_edges"] = edges;
      axis["below"] = h.below;
      axis["above"] = h.above;
    }
    axis["counts"] = h.counts;
    json["axes"].push_back(std::move(axis));
  }
  json["edge_cases"] = nlohmann::ordered_json::array();
  for (const EdgeCaseCount& e : summary.edge_cases) {
    json["edge_cases"].push_back(
        {{"name", e.name}, {"target_weight", e.target_weight}, {"count", e.count}, {"fraction", e.fraction}});
  }
  json["pairs"] = nlohmann::ordered_json::array();
  for (const PairCoverage& p : summary.pairs) {
    json["pairs"].push_back(
        {{"a", p.a}, {"b", p.b}, {"bins_hit", p.bins_hit}, {"bins", p.bins}, {"fraction", p.fraction}});
  }

  std::string csv = "variant,edge_case";
  for (const CoordinateHistogram& h : summary.histograms) csv += "," + CsvField(h.name);
  csv += "\n";
  for (const ConditionDraw& draw : draws) {
    csv += std::to_string(draw.variant) + "," + CsvField(draw.edge_case);
    for (const ConditionAxis& axis : space.axes) {
      const Eigen::VectorXd& value = ValueOf(draw, axis);
      const auto& labels = axis.distribution.labels();
      for (Eigen::Index i = 0; i < value.size(); ++i) {
        if (axis.distribution.kind() == Distribution::Kind::kCategorical) {
          csv += "," + CsvField(labels.at(static_cast<std::size_t>(std::lround(value[i]))));
        } else {
          csv += "," + FormatNumber(value[i]);
        }
      }
    }
    csv += "\n";
  }

  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw std::runtime_error("cannot create " + dir.string() + ": " + error.message());
  episode::WriteFileAtomically(dir / "coverage.json", json.dump(2) + "\n");
  episode::WriteFileAtomically(dir / "draws.csv", csv);
}

}  // namespace r2s::randomize

#pragma once
// How well a batch of condition draws covers the deployment map: per-axis histograms, edge-case counts against
// their target weights, the fraction of pairwise bins hit, and the centered L2 discrepancy of the unit points;
// written next to the batch as coverage.json plus the draws themselves as draws.csv.
//
// Bins: a numeric coordinate gets 10 equal-width bins over its axis's support: [lo, hi] for bounded distributions;
// a truncated multivariate normal's box clipped to +-6.2 std; otherwise the range FromUnit reaches from the extreme
// unit coordinates a 32-bit draw can take (about +-6.2 std for a normal). A categorical axis gets one bin per
// label. Values an edge case puts outside the nominal support are counted as below/above and take no part in the
// pairwise bins. Pairs are taken over every coordinate of every axis (a 2-D axis p gives p[0] and p[1]).
//
// A summary is computed in two steps so that it can be rebuilt without the scene (r2s merge rebuilds a run's
// report from its shards' coverage.json and draws.csv): CoverageLayout(space) gives the bins and edge cases with
// zero counts, and SummarizeCoverage(layout, draws) counts flattened draws (one value per coordinate) into them.
// ParseCoverageJson(CoverageJson(s)) gives back s's layout exactly (numbers round-trip).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "randomize/condition_space.h"

namespace r2s::randomize {

struct CoordinateHistogram {
  std::string axis;          // the axis's name
  std::string name;          // the axis's name, or "name[i]" for coordinate i of a vector axis
  std::string distribution;  // the axis's distribution, as Distribution::Describe() gives it
  bool categorical = false;
  double lo = 0, hi = 0;                 // numeric: the support the bins divide (lo == hi: one bin)
  std::vector<std::string> labels;       // categorical: one per bin
  std::vector<std::size_t> counts;       // per bin
  std::size_t below = 0, above = 0;      // numeric values outside [lo, hi]
  std::vector<std::size_t> kept_counts;  // per bin, of the kept draws (empty unless CoverageSummary::has_kept)

  // The bin of a value: -1 below the support, -2 above it (categorical: -2 for an index that is no label's).
  int Bin(double x) const;
  // Numeric: the lower edge of bin b (b == counts.size(): hi).
  double BinEdge(std::size_t b) const;
};

struct EdgeCaseCount {
  std::string name;  // "" for the nominal variants
  double target_weight = 0;
  std::size_t count = 0;
  double fraction = 0;   // count / draws
  std::size_t kept = 0;  // of them, kept (when CoverageSummary::has_kept)
};

struct PairCoverage {
  std::string a, b;  // coordinate names
  std::size_t bins_hit = 0;
  std::size_t bins = 0;  // bins of a times bins of b
  double fraction = 0;
};

struct CoverageSummary {
  static constexpr int kBins = 10;
  // The discrepancy is O(n^2): computed on the first this-many draws.
  static constexpr std::size_t kMaxDiscrepancyDraws = 4096;

  // The identity of the run the draws belong to (scene, seed, ...), as text, in order; empty outside a run.
  std::vector<std::pair<std::string, std::string>> run;
  std::string sampler;
  std::size_t draws = 0;
  int unit_dimension = 0;
  bool has_kept = false;  // some draw said whether its episode was kept (a generate run)
  std::size_t kept = 0;
  std::vector<CoordinateHistogram> histograms;  // in axis order
  std::vector<EdgeCaseCount> edge_cases;        // nominal first, then in file order
  std::vector<PairCoverage> pairs;              // every pair of coordinates (i < j)
  double mean_pair_fraction = 0;                // 1 when there are no pairs
  double centered_l2_discrepancy = 0;           // of the unit points; 0 without draws or axes
  std::size_t discrepancy_draws = 0;
};

// One draw flattened: a value per coordinate of the summary's histograms (a categorical axis: the label's index).
struct CoverageDraw {
  std::uint64_t unit = 0;     // in a generate run: the unit (source episode position x K + variant)
  std::uint32_t episode = 0;  // the source episode's position in the dataset
  std::uint32_t variant = 0;
  std::optional<bool> kept;    // whether the run kept its episode, where known
  std::string edge_case;       // "" for nominal
  std::vector<double> values;  // per coordinate
  std::vector<double> unit_point;
};

// The bins, edge cases, sampler and unit dimension of `space`'s summaries, every count zero.
CoverageSummary CoverageLayout(const ConditionSpace& space);

// Flattens draws of `space` (episode and unit stay 0, kept unset). Throws std::invalid_argument if a draw does not
// fit the space (missing axis, wrong size).
std::vector<CoverageDraw> FlattenDraws(const ConditionSpace& space, const std::vector<ConditionDraw>& draws);

// Counts `draws` into `layout`'s bins (its counts are ignored and replaced). Throws std::invalid_argument if a draw
// does not fit (values per coordinate, unit dimension, an unknown edge case).
CoverageSummary SummarizeCoverage(const CoverageSummary& layout, const std::vector<CoverageDraw>& draws);

// Throws std::invalid_argument if a draw does not fit the space (missing axis, wrong size or unit dimension).
CoverageSummary SummarizeCoverage(const ConditionSpace& space, const std::vector<ConditionDraw>& draws);

// The summary as coverage.json's text (pretty-printed, ending in a newline).
std::string CoverageJson(const CoverageSummary& summary);

// Reads back CoverageJson's text: everything but `pairs` (recomputed by SummarizeCoverage). Throws
// std::invalid_argument naming the field when the text is not such a summary.
CoverageSummary ParseCoverageJson(const std::string& text);

// Writes dir/coverage.json (the summary) and dir/draws.csv (a header, then per draw: variant, edge_case and one
// column per axis coordinate, labels for categorical axes), each to a temporary name renamed when complete.
// Creates dir if needed; std::runtime_error if it cannot write.
void WriteCoverageReport(const ConditionSpace& space, const std::vector<ConditionDraw>& draws,
                         const std::filesystem::path& dir);

}  // namespace r2s::randomize

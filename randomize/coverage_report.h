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

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "randomize/condition_space.h"

namespace r2s::randomize {

struct CoordinateHistogram {
  std::string axis;  // the axis's name
  std::string name;  // the axis's name, or "name[i]" for coordinate i of a vector axis
  bool categorical = false;
  double lo = 0, hi = 0;             // numeric: the support the bins divide (lo == hi: one bin)
  std::vector<std::string> labels;   // categorical: one per bin
  std::vector<std::size_t> counts;   // per bin
  std::size_t below = 0, above = 0;  // numeric values outside [lo, hi]
};

struct EdgeCaseCount {
  std::string name;  // "" for the nominal variants
  double target_weight = 0;
  std::size_t count = 0;
  double fraction = 0;  // count / draws
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

  std::string sampler;
  std::size_t draws = 0;
  int unit_dimension = 0;
  std::vector<CoordinateHistogram> histograms;  // in axis order
  std::vector<EdgeCaseCount> edge_cases;        // nominal first, then in file order
  std::vector<PairCoverage> pairs;              // every pair of coordinates (i < j)
  double mean_pair_fraction = 0;                // 1 when there are no pairs
  double centered_l2_discrepancy = 0;           // of the unit points; 0 without draws or axes
  std::size_t discrepancy_draws = 0;
};

// Throws std::invalid_argument if a draw does not fit the space (missing axis, wrong size or unit dimension).
CoverageSummary SummarizeCoverage(const ConditionSpace& space, const std::vector<ConditionDraw>& draws);

// Writes dir/coverage.json (the summary) and dir/draws.csv (a header, then per draw: variant, edge_case and one
// column per axis coordinate, labels for categorical axes), each to a temporary name renamed when complete.
// Creates dir if needed; std::runtime_error if it cannot write.
void WriteCoverageReport(const ConditionSpace& space, const std::vector<ConditionDraw>& draws,
                         const std::filesystem::path& dir);

}  // namespace r2s::randomize

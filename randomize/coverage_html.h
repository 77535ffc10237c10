#pragma once
// The coverage report as a page to look at: coverage.html, one self-contained file (inline SVG drawn here, a
// little CSS, no script, nothing fetched), with
//   - the run's identity (scene, seed, ...), the sampler, the draws (and how many were kept), the centered L2
//     discrepancy and the mean fraction of pairwise bins hit;
//   - edge cases: each stratum's share of the draws as a bar against a tick at its target weight;
//   - one histogram per axis coordinate (the kept draws' part darker; draws an edge case put outside the nominal
//     support as separate "below"/"above" bars);
//   - pairwise coverage: a matrix of the fraction of the pairwise bins hit, per pair of coordinates;
//   - scatter plots of pairs over their bin grid, hit cells shaded, points coloured by stratum (hollow: not kept):
//     every pair when there are at most kMaxScatterPairs, else the kMaxScatterPairs least covered; the first
//     kMaxScatterPoints draws are drawn, the shading counts them all.
// The page is well-formed XML (XHTML syntax), so XML tools read it as well as browsers. Its bytes are a function
// of the summary and the draws only.

#include <cstddef>
#include <string>
#include <vector>

#include "randomize/coverage_report.h"

namespace r2s::randomize {

inline constexpr std::size_t kMaxScatterPairs = 15;
inline constexpr std::size_t kMaxScatterPoints = 1000;

// `draws` are the summary's draws (for the scatter plots; empty: none are drawn). Throws std::invalid_argument if
// a draw has not one value per coordinate of the summary, or the summary lacks some pair of coordinates.
std::string CoverageHtml(const CoverageSummary& summary, const std::vector<CoverageDraw>& draws);

}  // namespace r2s::randomize

#pragma once
// The condition-coverage report of a generate run: which conditions of the scene's deployment map
// (randomization.conditions) the run's units drew, written in the run folder next to the dataset:
//
//   coverage.json   randomize::CoverageJson of the run's draws, with the run's identity ("run": scene, seed, ...)
//                   and how many of the draws were kept ("kept", per-bin "kept_counts", per-edge-case "kept")
//   draws.csv       one row per unit: unit,episode,variant,kept,edge_case, one column per axis coordinate
//                   (labels for categorical axes), then the unit point (unit_point[0], ...); numbers in shortest
//                   round-trip form
//   coverage.html   randomize::CoverageHtml: the same as plots, self-contained
//
// The draws are the attempted units' (what the run asked of the deployment map), kept or not: unit u draws
// variant u % K of source episode (position) u / K, a pure function of (scene, seed, episode, variant). A shard
// reports its own units; r2s merge rebuilds the whole run's report from the shards' coverage.json (the bins,
// edge cases and identity) and draws.csv (every draw, exactly: numbers round-trip), without the scene, and gives
// the bytes the unsharded run writes. A scene without randomization.conditions gets no report.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "randomize/condition_space.h"
#include "randomize/coverage_report.h"

namespace r2s::amplify {

// The report's files, in the order they are written.
inline constexpr const char* kCoverageFiles[] = {"coverage.json", "draws.csv", "coverage.html"};

// The conditions units [begin, end) of a run with `variants` (K) per source episode draw; kept unset.
std::vector<randomize::CoverageDraw> RunConditionDraws(const randomize::ConditionSpace& space, std::uint64_t seed,
                                                       std::uint32_t variants, std::uint64_t begin, std::uint64_t end);

// draws.csv's text, and its reverse (InputError naming `file`, the line and the column).
std::string RunDrawsCsv(const randomize::CoverageSummary& layout, const std::vector<randomize::CoverageDraw>& draws);
std::vector<randomize::CoverageDraw> ParseRunDrawsCsv(const std::string& text, const randomize::CoverageSummary& layout,
                                                      const std::string& file);

struct RunCoverage {
  randomize::CoverageSummary summary;  // counted (SummarizeCoverage of the layout and the draws)
  std::vector<randomize::CoverageDraw> draws;
};

// Counts `draws` into `layout` and writes the three files into `dir`, each to a temporary name renamed when
// complete, in kCoverageFiles order. Returns what it wrote.
RunCoverage WriteRunCoverage(const std::filesystem::path& dir, const randomize::CoverageSummary& layout,
                             const std::vector<randomize::CoverageDraw>& draws);

// A folder's report read back (coverage.json and draws.csv); nullopt when the folder has no coverage.json.
// InputError naming the file and field when it is not a report this writes.
std::optional<RunCoverage> ReadRunCoverage(const std::filesystem::path& dir);

// The whole run's draws from its shards' reports, given in shard order: the layout of the first (its "run"
// identity kept; the caller replaces it) and every shard's draws in unit order. nullopt when no shard has a report
// (a scene without conditions). InputError when only some have one, their bins or edge cases differ, or their
// units do not follow each other.
std::optional<RunCoverage> MergeRunCoverage(const std::vector<std::filesystem::path>& shard_dirs);

// Removes the report's files from `dir` (for --overwrite).
void RemoveRunCoverage(const std::filesystem::path& dir);

}  // namespace r2s::amplify

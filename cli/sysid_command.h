#pragma once
// `r2s sysid --scene S --episodes D --out params.yaml [--report DIR]`: fits the scene's physical parameters to
// real episodes (sysid/identify.h), writes params.yaml and optionally the fit report, and prints a summary.

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace r2s::cli {

struct SysidOptions {
  std::filesystem::path scene;
  std::filesystem::path episodes;
  std::filesystem::path out;
  std::optional<std::filesystem::path> report;
  std::optional<std::filesystem::path> params;    // an earlier params.yaml as the starting point
  std::optional<std::filesystem::path> baseline;  // a published reference model to compare with
  std::vector<std::string> problems;              // joint_dynamics, actuators, objects; empty: all the data support
  double held_out = 0.3;
  int threads = 0;  // 0: every CPU the process may use
  std::uint64_t seed = 0;
  bool json = false;
  // Limits and knobs of the fits (unset: each problem's default; see docs/sysid.md).
  std::int64_t max_episodes = 0;     // 0: every episode; else the dataset's first N
  std::vector<std::string> joints;   // actuators: only these joints (names of the scene's robot)
  std::optional<int> starts;          // actuators: diverse starts refined per joint (>= 1)
  std::optional<int> passes;          // actuators: most joint-by-joint rounds (>= 1)
  std::optional<int> global_samples;  // actuators, objects: points of the global search (>= 0)
  std::optional<int> max_iterations;  // every problem: Levenberg-Marquardt iterations (>= 1)
  std::optional<double> cutoff_hz;    // joint dynamics: low-pass cutoff of q, qd, qdd (> 0)
  std::optional<double> fit_rate_hz;  // joint dynamics: training samples thinned to about this rate (> 0)
  std::optional<double> huber;        // joint dynamics: Huber threshold in robust stds (<= 0: plain least squares)
  std::string friction;               // joint dynamics: "coulomb_viscous" (default) or "stribeck"
};

// Prints the summary to `out`; progress and warnings go to `log` as the fits run. Throws InputError on bad input
// (a bad value names its flag); params.yaml and the report are written only when every fit has finished.
void RunSysid(const SysidOptions& options, std::ostream& out, std::ostream& log);
void RunSysid(const SysidOptions& options, std::ostream& out);  // log: std::cerr

}  // namespace r2s::cli

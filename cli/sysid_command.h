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
  int threads = 0;  // 0: every hardware thread
  std::uint64_t seed = 0;
  bool json = false;
};

// Prints the summary to `out`. Throws InputError on bad input; params.yaml and the report are written only when
// every fit has finished.
void RunSysid(const SysidOptions& options, std::ostream& out);

}  // namespace r2s::cli

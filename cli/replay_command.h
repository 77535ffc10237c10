#pragma once
// `r2s replay --scene S --episodes D [--params P] --out DIR`: replays real episodes in the scene's simulated
// world, writes the replays in the input's layout and reports the tracking error per joint and per object.

#include <filesystem>
#include <iosfwd>
#include <optional>

namespace r2s::cli {

struct ReplayOptions {
  std::filesystem::path scene;
  std::filesystem::path episodes;
  std::optional<std::filesystem::path> params;
  std::filesystem::path out;
  int threads = 0;  // 0: every CPU the process may use
  bool json = false;
  bool overwrite = false;
};

// Prints the report to `out`. Throws InputError on a bad scene, params file or dataset.
void RunReplay(const ReplayOptions& options, std::ostream& out);

}  // namespace r2s::cli

#pragma once
// `r2s inspect DATASET`: layout, episodes, frames, fps, features, per-feature statistics and QA findings.

#include <filesystem>
#include <iosfwd>

namespace r2s::cli {

struct InspectOptions {
  std::filesystem::path dataset;
  bool json = false;
};

// Prints the report to `out`. Throws InputError when the dataset cannot be read.
void RunInspect(const InspectOptions& options, std::ostream& out);

}  // namespace r2s::cli

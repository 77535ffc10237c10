#pragma once
// Checks an episode against a features dictionary and reports every mismatch at once.

#include <cstdint>
#include <string>
#include <vector>

#include "episode/episode.h"
#include "episode/feature_spec.h"

namespace r2s::episode {

struct FeatureMismatch {
  enum class Kind { kMissing, kUnexpected, kDType, kShape, kLength, kNonFinite };
  Kind kind;
  std::string feature;
  std::string expected;     // "float64", "[T, 7]", "100 frames"
  std::string actual;       // what the episode has
  std::int64_t frame = -1;  // kNonFinite: first frame holding NaN or Inf

  std::string ToString() const;  // "observation.state: shape [T, 6], expected [T, 7]"
};

struct ValidationReport {
  std::vector<FeatureMismatch> mismatches;
  bool ok() const { return mismatches.empty(); }
  std::string ToString() const;  // one mismatch per line
};

// Every feature must be present with the spec's dtype and per-frame shape and metadata.length frames; columns
// the spec does not list are reported; floating-point columns are scanned for NaN/Inf.
ValidationReport ValidateEpisode(const Episode& episode, const Features& features);

}  // namespace r2s::episode

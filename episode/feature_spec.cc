#include "episode/feature_spec.h"

namespace r2s::episode {

std::int64_t FeatureSpec::FrameSize() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

bool FeatureSpec::IsImage() const {
  return dtype == DType::kUInt8 && shape.size() == 3 && (shape[2] == 1 || shape[2] == 3 || shape[2] == 4);
}

}  // namespace r2s::episode

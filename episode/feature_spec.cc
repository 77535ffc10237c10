#include "episode/feature_spec.h"

namespace r2s::episode {

std::int64_t FeatureSpec::FrameSize() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

std::string FeatureSpec::ElementName(std::int64_t channel) const {
  if (shape.empty()) return names.size() == 1 && names[0].size() == 1 ? names[0][0] : "";
  // Per-axis names aligned with the shape; a single list names the last axis.
  const std::size_t first_named_axis = names.size() == shape.size() ? 0 : shape.size() - 1;
  if (names.size() != shape.size() && names.size() != 1) return "";
  std::string name;
  std::int64_t rest = channel;
  for (std::size_t a = shape.size(); a-- > 0;) {
    const std::int64_t index = rest % shape[a];
    rest /= shape[a];
    if (a < first_named_axis) break;
    const auto& axis_names = names[a - first_named_axis];
    if (static_cast<std::int64_t>(axis_names.size()) != shape[a]) continue;
    name = name.empty() ? axis_names[index] : axis_names[index] + "." + name;
  }
  return name;
}

bool FeatureSpec::IsImage() const {
  return dtype == DType::kUInt8 && shape.size() == 3 && (shape[2] == 1 || shape[2] == 3 || shape[2] == 4);
}

}  // namespace r2s::episode

#pragma once
// The schema as data, the way LeRobot writes its features dictionary: feature name -> dtype, per-frame shape,
// per-axis names and unit. One description drives validation, storage and statistics.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "episode/dtype.h"

namespace r2s::episode {

struct FeatureSpec {
  DType dtype = DType::kFloat32;
  std::vector<std::int64_t> shape;  // one frame's shape: {7} for a 7-joint state, {480, 640, 3} for an image
  // names[a] names the elements along axis a ({"q1", ..., "q7"}), or is empty when they are unnamed.
  std::vector<std::vector<std::string>> names;
  std::string unit;  // "rad", "rad/s", "N m", "s"; empty when unknown or dimensionless

  std::int64_t FrameSize() const;  // elements per frame
  // uint8 [height, width, channels] with 1, 3 or 4 channels: stored HWC, chunked one frame per chunk.
  bool IsImage() const;
  // The name of one element (flat index within a frame): its names along every named axis joined by '.', so
  // [7] with names {q1..q7} gives "q4" and a named [2, 3] gives "left.x"; "" when unnamed.
  std::string ElementName(std::int64_t element) const;

  bool operator==(const FeatureSpec&) const = default;
};

// Ordered by name, so two datasets with the same features compare and print alike.
using Features = std::map<std::string, FeatureSpec>;

}  // namespace r2s::episode

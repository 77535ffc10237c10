#include "episode/validate.h"

#include <span>

namespace r2s::episode {
namespace {

std::string FrameShapeString(std::span<const std::int64_t> frame_shape) {
  std::string s = "[T";
  for (std::int64_t d : frame_shape) s += ", " + std::to_string(d);
  return s + "]";
}

}  // namespace

std::string FeatureMismatch::ToString() const {
  switch (kind) {
    case Kind::kMissing:
      return feature + ": missing (expected " + expected + ")";
    case Kind::kUnexpected:
      return feature + ": not in the features (" + actual + ")";
    case Kind::kNonFinite:
      return feature + ": " + actual + " at frame " + std::to_string(frame);
    case Kind::kDType:
    case Kind::kShape:
    case Kind::kLength:
      return feature + ": " + actual + ", expected " + expected;
  }
  return feature;
}

std::string ValidationReport::ToString() const {
  std::string s;
  for (const auto& m : mismatches) s += m.ToString() + "\n";
  return s;
}

ValidationReport ValidateEpisode(const Episode& episode, const Features& features) {
  ValidationReport report;
  auto add = [&](FeatureMismatch m) { report.mismatches.push_back(std::move(m)); };

  for (const auto& [name, spec] : features) {
    const std::string expected_type = std::string(DTypeName(spec.dtype)) + " " + FrameShapeString(spec.shape);
    const Column* column = episode.Find(name);
    if (!column) {
      add({FeatureMismatch::Kind::kMissing, name, expected_type, "", -1});
      continue;
    }
    const Array& data = column->data;
    if (data.dtype != spec.dtype) {
      add({FeatureMismatch::Kind::kDType, name, std::string(DTypeName(spec.dtype)),
           "dtype " + std::string(DTypeName(data.dtype)), -1});
    }
    const std::span<const std::int64_t> frame_shape =
        data.shape.empty() ? std::span<const std::int64_t>() : std::span(data.shape).subspan(1);
    if (data.shape.empty() ||
        !std::equal(frame_shape.begin(), frame_shape.end(), spec.shape.begin(), spec.shape.end())) {
      add({FeatureMismatch::Kind::kShape, name, FrameShapeString(spec.shape),
           "shape " + (data.shape.empty() ? std::string("scalar") : FrameShapeString(frame_shape)), -1});
    }
    if (column->num_frames() != episode.metadata.length) {
      add({FeatureMismatch::Kind::kLength, name, std::to_string(episode.metadata.length) + " frames",
           std::to_string(column->num_frames()) + " frames", -1});
    }
    if (data.bytes.size() == static_cast<std::size_t>(data.size()) * DTypeSize(data.dtype)) {
      const NonFiniteCount non_finite = CountNonFinite(data);
      if (non_finite.count > 0) {
        add({FeatureMismatch::Kind::kNonFinite, name, "finite values", "NaN or Inf", non_finite.first_frame});
      }
    }
  }
  for (const auto& [name, column] : episode.columns) {
    if (!features.contains(name)) {
      add({FeatureMismatch::Kind::kUnexpected, name, "",
           std::string(DTypeName(column.data.dtype)) + " " + ShapeToString(column.data.shape), -1});
    }
  }
  return report;
}

}  // namespace r2s::episode

#pragma once
// Internal: colours given as sRGB (scene files, mesh materials, like colour pickers and image files) are shaded in
// linear light.

#include <cmath>

#include <Eigen/Core>

namespace r2s::render {

inline double SrgbToLinear(double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); }

// Alpha stays as it is.
inline Eigen::Vector4d SrgbToLinear(const Eigen::Vector4d& rgba) {
  return {SrgbToLinear(rgba[0]), SrgbToLinear(rgba[1]), SrgbToLinear(rgba[2]), rgba[3]};
}
inline Eigen::Vector3d SrgbToLinear(const Eigen::Vector3d& rgb) {
  return {SrgbToLinear(rgb[0]), SrgbToLinear(rgb[1]), SrgbToLinear(rgb[2])};
}

}  // namespace r2s::render

#include "amplify/black_body.h"

#include <algorithm>

namespace r2s::amplify {

Eigen::Vector3d BlackBodyLinearRgb(double kelvin) {
  const double t = kelvin;
  const double u = (0.860117757 + 1.54118254e-4 * t + 1.28641212e-7 * t * t) / (1 + 8.42420235e-4 * t + 7.08145163e-7 * t * t);
  const double v = (0.317398726 + 4.22806245e-5 * t + 4.20481691e-8 * t * t) / (1 - 2.89741816e-5 * t + 1.61456053e-7 * t * t);
  const double d = 2 * u - 8 * v + 4;
  const double x = 3 * u / d, y = 2 * v / d;
  const Eigen::Vector3d xyz(x / y, 1.0, (1 - x - y) / y);
  Eigen::Matrix3d to_rgb;  // XYZ -> linear sRGB (D65)
  to_rgb << 3.2404542, -1.5371385, -0.4985314, -0.9692660, 1.8760108, 0.0415560, 0.0556434, -0.2040259, 1.0572252;
  Eigen::Vector3d rgb = (to_rgb * xyz).cwiseMax(0.0);
  const double luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  return rgb / luminance;
}

}  // namespace r2s::amplify

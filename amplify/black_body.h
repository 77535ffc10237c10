#pragma once
// The colour of a light of a given correlated colour temperature, for condition axes in kelvin.

#include <Eigen/Core>

namespace r2s::amplify {

// Linear sRGB of a black body at `kelvin` (Krystek's 1985 rational fit of the Planckian locus in CIE 1960 uv, good
// to about 1e-4 in uv over 1000-15000 K; beyond that the fit's own trend), scaled to unit luminance (Rec. 709 Y = 1)
// so that a colour temperature changes the hue of a light, not its brightness. Channels outside the sRGB gamut
// (blue below ~1900 K) are clipped to 0 before the scaling.
Eigen::Vector3d BlackBodyLinearRgb(double kelvin);

}  // namespace r2s::amplify

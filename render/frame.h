#pragma once
// One rendered view: colour, metric depth and instance segmentation, row-major from the top-left pixel.

#include <cstdint>
#include <vector>

namespace r2s::render {

struct Frame {
  int width_px = 0;
  int height_px = 0;
  std::vector<std::uint8_t> rgb;  // 3 bytes per pixel, sRGB
  // Distance along the camera's optical axis (the OpenCV camera frame's z), in metres; 0 where no surface lies
  // between the near and far planes.
  std::vector<float> depth_m;
  // The SegmentationTable id of the body seen at each pixel (robot link, object, environment body); 0 for none.
  std::vector<std::uint16_t> segmentation;
};

}  // namespace r2s::render

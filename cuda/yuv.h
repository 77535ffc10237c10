#pragma once
// RGB -> YUV 4:2:0 (I420) for the video encoders, shared by the CPU backend and the CUDA kernel.
//
// BT.601, limited ("TV") range -- what libx264 assumes for untagged input: Y in [16, 235], U and V in
// [16, 240]. With R, G, B in [0, 255]:
//   Y  = 16  + ( 0.256788 R + 0.504129 G + 0.097906 B)
//   Cb = 128 + (-0.148223 R - 0.290993 G + 0.439216 B)
//   Cr = 128 + ( 0.439216 R - 0.367788 G - 0.071427 B)
// i.e. (219/255, 224/255) times the BT.601 (Kr = 0.299, Kb = 0.114) analogue matrix. Integer arithmetic with
// 16 fractional bits (each chroma row sums to exactly 0, so grey maps to 128), rounded half up: exact and
// identical on every device. Chroma is computed from the mean RGB of each 2x2 block (centre-sited, as MPEG-1
// and JPEG; averaging before or after the matrix is the same, the matrix being linear).

#include <cstdint>

#include "randomize/philox.h"  // R2S_HOST_DEVICE

namespace r2s::cuda {

R2S_HOST_DEVICE inline std::uint8_t Bt601Luma(int r, int g, int b) {
  return static_cast<std::uint8_t>(16 + ((16829 * r + 33039 * g + 6416 * b + 32768) >> 16));
}

// From the sums of R, G and B over a 2x2 block (each in [0, 1020]).
R2S_HOST_DEVICE inline std::uint8_t Bt601Cb(int sum_r, int sum_g, int sum_b) {
  return static_cast<std::uint8_t>(128 + ((-9714 * sum_r - 19071 * sum_g + 28785 * sum_b + 131072) >> 18));
}
R2S_HOST_DEVICE inline std::uint8_t Bt601Cr(int sum_r, int sum_g, int sum_b) {
  return static_cast<std::uint8_t>(128 + ((28785 * sum_r - 24104 * sum_g - 4681 * sum_b + 131072) >> 18));
}

// The 2x2 block (cx, cy) of one frame: four luma samples and one chroma pair.
R2S_HOST_DEVICE inline void Yuv420Block(const std::uint8_t* frame_rgb, int width, int cx, int cy, std::uint8_t* y_plane,
                                        std::uint8_t* u_plane, std::uint8_t* v_plane) {
  int sr = 0, sg = 0, sb = 0;
  for (int j = 0; j < 2; ++j) {
    for (int i = 0; i < 2; ++i) {
      const long long idx = static_cast<long long>(2 * cy + j) * width + 2 * cx + i;
      const std::uint8_t* p = frame_rgb + idx * 3;
      y_plane[idx] = Bt601Luma(p[0], p[1], p[2]);
      sr += p[0];
      sg += p[1];
      sb += p[2];
    }
  }
  const long long c = static_cast<long long>(cy) * (width / 2) + cx;
  u_plane[c] = Bt601Cb(sr, sg, sb);
  v_plane[c] = Bt601Cr(sr, sg, sb);
}

}  // namespace r2s::cuda

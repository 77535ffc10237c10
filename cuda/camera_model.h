#pragma once
// The camera model's per-pixel math, shared by the CPU backend (sensor_cpu.cc) and the CUDA kernels
// (sensor_cuda.cu): R2S_HOST_DEVICE functions over plain structs and pointers, one body for both devices.
//
// CPU and GPU must agree bit for bit on the uint8 result, so this file uses only correctly rounded float
// operations (+ - * / sqrtf, floorf, int<->float conversions) in an order fixed by the source; the build turns
// off contraction into fused multiply-adds on both sides (-ffp-contract=off, --fmad=false). Every curve that
// would need a transcendental function (gamma, the normal quantile, the DCT basis, hue rotation) is tabulated
// on the host, in double, once, and read by both backends. The stages and their order: docs/sensors.md.

#include <cmath>
#include <cstdint>

#include "randomize/philox.h"

namespace r2s::cuda {

// Standard normal draws by table: the 31 low bits of a Philox word give a tail probability p in (0, 1/2) and
// the top bit the sign; the quantile -Phi^-1(p) is tabulated on a log-spaced grid (one octave of p per row,
// kNormalSegments linear pieces per octave) down to p = 2^-33, i.e. 6.3 standard deviations, so the tails
// and the variance are right to well under 0.1 %.
inline constexpr int kNormalOctaves = 32;
inline constexpr int kNormalSegments = 32;
inline constexpr int kNormalTableSize = kNormalOctaves * (kNormalSegments + 1);
// The gamma encode curve is tabulated over sqrt(linear) (where x^(1/gamma) is nearly straight), with linear
// interpolation between kEncodeSegments + 1 nodes.
inline constexpr int kEncodeSegments = 1024;
inline constexpr int kMaxBlurRadius = 32;  // taps each side of the Gaussian; sigma <= kMaxBlurSigmaPx
inline constexpr float kMaxBlurSigmaPx = 10.0f;
inline constexpr int kMaxMotionTaps = 64;  // samples along the motion-blur line; length <= 63 px

// Constant tables shared by every frame and kernel.
struct SensorTables {
  float normal[kNormalTableSize];  // row k, node j: -Phi^-1(2^-(k+2) * (1 + j / kNormalSegments))
  float dct[64];                   // orthonormal 8-point DCT-II basis: dct[u * 8 + x] = c(u) cos((2x+1) u pi / 16)
};

// One frame's camera model, derived on the host from CameraModelParams (sensor.cc).
struct CameraFrameConstants {
  float linearize[256];               // input DN -> linear light in [0, 1] (the renderer's gamma undone)
  float encode[kEncodeSegments + 1];  // node i: output DN for linear = (i / kEncodeSegments)^2
  float gain_dn[3];                   // 255 * exposure * white balance, per channel: linear -> signal in DN
  int noise_on;
  float shot_gain;  // noise variance in DN^2 = shot_gain * signal_dn + read_var_dn2
  float read_var_dn2;
  float vignette_s;  // falloff 1 / (1 + s r^2)^2 (cos^4 law), r = 1 at the corners; 0 = off
  float jitter[12];  // colour jitter as one affine map in DN: out_c = sum_k m[4c+k] in_k + m[4c+3]
  int blur_radius;   // Gaussian taps each side; 0 = no Gaussian blur
  float blur_weights[kMaxBlurRadius + 1];  // weight of offset |i|, normalized over the whole kernel
  int motion_taps;                         // 0 = no motion blur
  float motion_dx[kMaxMotionTaps];         // sample offsets along the line, px
  float motion_dy[kMaxMotionTaps];
  float motion_weight;  // 1 / motion_taps
  int jpeg_on;
  float jpeg_q[2][64];  // quantization steps, luma then chroma, in DCT coefficient order
};

struct Rgbf {
  float r, g, b;
};

R2S_HOST_DEVICE inline int CountLeadingZeros32(std::uint32_t x) {
#if defined(__CUDA_ARCH__)
  return __clz(static_cast<int>(x));
#else
  return x == 0 ? 32 : __builtin_clz(x);
#endif
}

// A standard normal variate from 32 random bits (see kNormalOctaves).
R2S_HOST_DEVICE inline float StandardNormal(std::uint32_t bits, const float* normal_table) {
  const std::uint32_t q = bits & 0x7FFFFFFFu;  // tail probability p = (q + 1/2) / 2^32
  float z;
  if (q == 0) {
    z = normal_table[(kNormalOctaves - 1) * (kNormalSegments + 1)];
  } else {
    const int octave = CountLeadingZeros32(q) - 1;  // q in [2^(30 - octave), 2^(31 - octave))
    const std::uint32_t lead = 1u << (30 - octave);
    const float f = (static_cast<float>(q - lead) + 0.5f) / static_cast<float>(lead);  // in [0, 1]
    const float pos = f * static_cast<float>(kNormalSegments);
    int j = static_cast<int>(pos);
    if (j > kNormalSegments - 1) j = kNormalSegments - 1;
    const float t = pos - static_cast<float>(j);
    const float* row = normal_table + octave * (kNormalSegments + 1);
    z = row[j] + t * (row[j + 1] - row[j]);
  }
  return (bits & 0x80000000u) ? -z : z;
}

R2S_HOST_DEVICE inline float ClampF(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Round half up to uint8 after clamping to [0, 255].
R2S_HOST_DEVICE inline std::uint8_t RoundToU8(float v) {
  return static_cast<std::uint8_t>(static_cast<int>(ClampF(v, 0.0f, 255.0f) + 0.5f));
}

R2S_HOST_DEVICE inline Rgbf Linearize(const std::uint8_t* px, const CameraFrameConstants& c) {
  return Rgbf{c.linearize[px[0]], c.linearize[px[1]], c.linearize[px[2]]};
}

// Separable Gaussian blur, horizontal then vertical pass, over a frame of linear float RGB (HWC); borders
// clamp. Taps are summed centre first, then pairs outward, the same order on both devices.
R2S_HOST_DEVICE inline Rgbf GaussianRow(const float* frame, int width, int x, int y, const CameraFrameConstants& c) {
  const float* row = frame + static_cast<long long>(y) * width * 3;
  const float w0 = c.blur_weights[0];
  Rgbf acc{w0 * row[3 * x], w0 * row[3 * x + 1], w0 * row[3 * x + 2]};
  for (int i = 1; i <= c.blur_radius; ++i) {
    const int xl = x - i < 0 ? 0 : x - i;
    const int xr = x + i > width - 1 ? width - 1 : x + i;
    const float w = c.blur_weights[i];
    acc.r = acc.r + w * (row[3 * xl] + row[3 * xr]);
    acc.g = acc.g + w * (row[3 * xl + 1] + row[3 * xr + 1]);
    acc.b = acc.b + w * (row[3 * xl + 2] + row[3 * xr + 2]);
  }
  return acc;
}

R2S_HOST_DEVICE inline Rgbf GaussianColumn(const float* frame, int width, int height, int x, int y,
                                           const CameraFrameConstants& c) {
  const long long stride = static_cast<long long>(width) * 3;
  const float* col = frame + 3 * x;
  const float w0 = c.blur_weights[0];
  Rgbf acc{w0 * col[y * stride], w0 * col[y * stride + 1], w0 * col[y * stride + 2]};
  for (int i = 1; i <= c.blur_radius; ++i) {
    const long long yu = (y - i < 0 ? 0 : y - i) * stride;
    const long long yd = (y + i > height - 1 ? height - 1 : y + i) * stride;
    const float w = c.blur_weights[i];
    acc.r = acc.r + w * (col[yu] + col[yd]);
    acc.g = acc.g + w * (col[yu + 1] + col[yd + 1]);
    acc.b = acc.b + w * (col[yu + 2] + col[yd + 2]);
  }
  return acc;
}

// Motion blur: the mean of bilinear samples at motion_taps points along a line through the pixel (a constant
// velocity during the exposure); samples outside the frame clamp to its edge.
R2S_HOST_DEVICE inline Rgbf MotionBlur(const float* frame, int width, int height, int x, int y,
                                       const CameraFrameConstants& c) {
  Rgbf acc{0.0f, 0.0f, 0.0f};
  for (int i = 0; i < c.motion_taps; ++i) {
    const float sx = ClampF(static_cast<float>(x) + c.motion_dx[i], 0.0f, static_cast<float>(width - 1));
    const float sy = ClampF(static_cast<float>(y) + c.motion_dy[i], 0.0f, static_cast<float>(height - 1));
    const float fx = floorf(sx);
    const float fy = floorf(sy);
    const int x0 = static_cast<int>(fx);
    const int y0 = static_cast<int>(fy);
    const int x1 = x0 + 1 > width - 1 ? width - 1 : x0 + 1;
    const int y1 = y0 + 1 > height - 1 ? height - 1 : y0 + 1;
    const float ax = sx - fx;
    const float ay = sy - fy;
    const float* p00 = frame + (static_cast<long long>(y0) * width + x0) * 3;
    const float* p01 = frame + (static_cast<long long>(y0) * width + x1) * 3;
    const float* p10 = frame + (static_cast<long long>(y1) * width + x0) * 3;
    const float* p11 = frame + (static_cast<long long>(y1) * width + x1) * 3;
    float v[3];
    for (int k = 0; k < 3; ++k) {
      const float top = p00[k] * (1.0f - ax) + p01[k] * ax;
      const float bottom = p10[k] * (1.0f - ax) + p11[k] * ax;
      v[k] = top * (1.0f - ay) + bottom * ay;
    }
    acc.r = acc.r + v[0];
    acc.g = acc.g + v[1];
    acc.b = acc.b + v[2];
  }
  return Rgbf{acc.r * c.motion_weight, acc.g * c.motion_weight, acc.b * c.motion_weight};
}

// Everything after the blur, for one pixel of linear light: exposure and white balance, vignetting, shot and
// read noise (in DN, from Philox at counter (pixel, frame, 0, 0)), clipping, gamma encoding and colour jitter.
// Returns output DN in [0, 255], not yet rounded (the JPEG-like stage, when on, works on these).
R2S_HOST_DEVICE inline Rgbf CameraPointwise(Rgbf lin, int x, int y, int width, int height, std::uint32_t pixel,
                                            std::uint32_t frame, randomize::PhiloxKey key,
                                            const CameraFrameConstants& c, const float* normal_table) {
  float s[3] = {lin.r * c.gain_dn[0], lin.g * c.gain_dn[1], lin.b * c.gain_dn[2]};
  if (c.vignette_s != 0.0f) {
    const float dx = (static_cast<float>(x) + 0.5f) - 0.5f * static_cast<float>(width);
    const float dy = (static_cast<float>(y) + 0.5f) - 0.5f * static_cast<float>(height);
    const float half_diag2 = 0.25f * static_cast<float>(width) * static_cast<float>(width) +
                             0.25f * static_cast<float>(height) * static_cast<float>(height);
    const float r2 = (dx * dx + dy * dy) / half_diag2;
    const float d = 1.0f + c.vignette_s * r2;
    const float falloff = 1.0f / (d * d);
    for (int k = 0; k < 3; ++k) s[k] = s[k] * falloff;
  }
  if (c.noise_on) {
    const randomize::PhiloxBlock block = randomize::Philox(key, pixel, frame, 0u, 0u);
    for (int k = 0; k < 3; ++k) {
      const float var = c.shot_gain * (s[k] > 0.0f ? s[k] : 0.0f) + c.read_var_dn2;
      s[k] = s[k] + sqrtf(var) * StandardNormal(block.w[k], normal_table);
    }
  }
  float e[3];
  for (int k = 0; k < 3; ++k) {
    const float t = sqrtf(ClampF(s[k], 0.0f, 255.0f) / 255.0f);
    const float pos = t * static_cast<float>(kEncodeSegments);
    int i = static_cast<int>(pos);
    if (i > kEncodeSegments - 1) i = kEncodeSegments - 1;
    const float frac = pos - static_cast<float>(i);
    e[k] = c.encode[i] + frac * (c.encode[i + 1] - c.encode[i]);
  }
  const float* m = c.jitter;
  Rgbf out;
  out.r = ClampF(m[0] * e[0] + m[1] * e[1] + m[2] * e[2] + m[3], 0.0f, 255.0f);
  out.g = ClampF(m[4] * e[0] + m[5] * e[1] + m[6] * e[2] + m[7], 0.0f, 255.0f);
  out.b = ClampF(m[8] * e[0] + m[9] * e[1] + m[10] * e[2] + m[11], 0.0f, 255.0f);
  return out;
}

// In place on an 8x8 block (row-major): forward DCT, quantize with steps q, dequantize, inverse DCT.
R2S_HOST_DEVICE inline void DctQuantizeBlock(float* block, const float* q, const float* dct) {
  float tmp[64];
  float coef[64];
  for (int u = 0; u < 8; ++u) {  // tmp[u][x] = sum_y C[u][y] block[y][x]
    for (int x = 0; x < 8; ++x) {
      float acc = 0.0f;
      for (int y = 0; y < 8; ++y) acc = acc + dct[u * 8 + y] * block[y * 8 + x];
      tmp[u * 8 + x] = acc;
    }
  }
  for (int u = 0; u < 8; ++u) {  // coef[u][v] = sum_x tmp[u][x] C[v][x], then quantized
    for (int v = 0; v < 8; ++v) {
      float acc = 0.0f;
      for (int x = 0; x < 8; ++x) acc = acc + tmp[u * 8 + x] * dct[v * 8 + x];
      const float step = q[u * 8 + v];
      coef[u * 8 + v] = floorf(acc / step + 0.5f) * step;
    }
  }
  for (int y = 0; y < 8; ++y) {  // tmp[y][v] = sum_u C[u][y] coef[u][v]
    for (int v = 0; v < 8; ++v) {
      float acc = 0.0f;
      for (int u = 0; u < 8; ++u) acc = acc + dct[u * 8 + y] * coef[u * 8 + v];
      tmp[y * 8 + v] = acc;
    }
  }
  for (int y = 0; y < 8; ++y) {  // block[y][x] = sum_v tmp[y][v] C[v][x]
    for (int x = 0; x < 8; ++x) {
      float acc = 0.0f;
      for (int v = 0; v < 8; ++v) acc = acc + tmp[y * 8 + v] * dct[v * 8 + x];
      block[y * 8 + x] = acc;
    }
  }
}

// JPEG-like compression of the 8x8 block (bx, by) of a frame: RGB (float DN, HWC) -> JFIF YCbCr (full range,
// no chroma subsampling), DCT quantization per channel, back to RGB, rounded into out (uint8 HWC). Blocks
// over the right/bottom edge repeat the last column/row, as JPEG encoders pad, and write only real pixels.
R2S_HOST_DEVICE inline void JpegBlock(const float* frame_in, std::uint8_t* frame_out, int width, int height, int bx,
                                      int by, const CameraFrameConstants& c, const float* dct) {
  float ycc[3][64];
  for (int j = 0; j < 8; ++j) {
    const int y = by * 8 + j > height - 1 ? height - 1 : by * 8 + j;
    for (int i = 0; i < 8; ++i) {
      const int x = bx * 8 + i > width - 1 ? width - 1 : bx * 8 + i;
      const float* p = frame_in + (static_cast<long long>(y) * width + x) * 3;
      ycc[0][j * 8 + i] = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2] - 128.0f;
      ycc[1][j * 8 + i] = -0.168736f * p[0] - 0.331264f * p[1] + 0.5f * p[2];
      ycc[2][j * 8 + i] = 0.5f * p[0] - 0.418688f * p[1] - 0.081312f * p[2];
    }
  }
  DctQuantizeBlock(ycc[0], c.jpeg_q[0], dct);
  DctQuantizeBlock(ycc[1], c.jpeg_q[1], dct);
  DctQuantizeBlock(ycc[2], c.jpeg_q[1], dct);
  for (int j = 0; j < 8 && by * 8 + j < height; ++j) {
    for (int i = 0; i < 8 && bx * 8 + i < width; ++i) {
      const float luma = ycc[0][j * 8 + i] + 128.0f;
      const float cb = ycc[1][j * 8 + i];
      const float cr = ycc[2][j * 8 + i];
      std::uint8_t* p = frame_out + (static_cast<long long>(by * 8 + j) * width + bx * 8 + i) * 3;
      p[0] = RoundToU8(luma + 1.402f * cr);
      p[1] = RoundToU8(luma - 0.344136f * cb - 0.714136f * cr);
      p[2] = RoundToU8(luma + 1.772f * cb);
    }
  }
}

}  // namespace r2s::cuda

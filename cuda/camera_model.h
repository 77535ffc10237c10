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
  float dct_t[64];                 // its transpose, dct_t[x * 8 + u] = dct[u * 8 + x], for the CPU's row form
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

// The octave of a nonzero 31-bit tail word q: q in [2^(30 - octave), 2^(31 - octave)).
R2S_HOST_DEVICE inline int NormalOctave(std::uint32_t q) { return CountLeadingZeros32(q) - 1; }

// -Phi^-1(p) for a nonzero tail word q in its octave: linear interpolation along the octave's row of the table.
// Split from StandardNormal so the CPU backend can find the octave without a per-lane clz and vectorize the rest.
R2S_HOST_DEVICE inline float NormalTail(std::uint32_t q, int octave, const float* normal_table) {
  const std::uint32_t lead = 1u << (30 - octave);
  const float f = (static_cast<float>(q - lead) + 0.5f) / static_cast<float>(lead);  // in [0, 1]
  const float pos = f * static_cast<float>(kNormalSegments);
  int j = static_cast<int>(pos);
  if (j > kNormalSegments - 1) j = kNormalSegments - 1;
  const float t = pos - static_cast<float>(j);
  const int node = octave * (kNormalSegments + 1) + j;  // one int index: 32-bit vector gathers on the CPU
  return normal_table[node] + t * (normal_table[node + 1] - normal_table[node]);
}

// The deepest tail, q = 0 (p = 2^-33), which has no octave of its own.
R2S_HOST_DEVICE inline float NormalDeepestTail(const float* normal_table) {
  return normal_table[(kNormalOctaves - 1) * (kNormalSegments + 1)];
}

// A standard normal variate from 32 random bits (see kNormalOctaves).
R2S_HOST_DEVICE inline float StandardNormal(std::uint32_t bits, const float* normal_table) {
  const std::uint32_t q = bits & 0x7FFFFFFFu;  // tail probability p = (q + 1/2) / 2^32
  const float z = q == 0 ? NormalDeepestTail(normal_table) : NormalTail(q, NormalOctave(q), normal_table);
  return (bits & 0x80000000u) ? -z : z;
}

// Both comparisons always run (the same result as nesting them, for lo <= hi), so a CPU compiler turns the
// clamp into two selects and can vectorize the loop around it.
R2S_HOST_DEVICE inline float ClampF(float v, float lo, float hi) {
  const float above = v < lo ? lo : v;
  return above > hi ? hi : above;
}

// Round half up to uint8 after clamping to [0, 255].
R2S_HOST_DEVICE inline std::uint8_t RoundToU8(float v) {
  return static_cast<std::uint8_t>(static_cast<int>(ClampF(v, 0.0f, 255.0f) + 0.5f));
}

R2S_HOST_DEVICE inline Rgbf Linearize(const std::uint8_t* px, const CameraFrameConstants& c) {
  return Rgbf{c.linearize[px[0]], c.linearize[px[1]], c.linearize[px[2]]};
}

// Separable Gaussian blur, horizontal then vertical pass, over a frame of linear float RGB (HWC); borders
// clamp. Taps are summed centre first, then pairs outward, the same order on both devices: the running sum
// starts at w0 * centre and GaussianTap adds each pair.
R2S_HOST_DEVICE inline float GaussianTap(float acc, float weight, float left, float right) {
  return acc + weight * (left + right);
}

R2S_HOST_DEVICE inline Rgbf GaussianRow(const float* frame, int width, int x, int y, const CameraFrameConstants& c) {
  const float* row = frame + static_cast<long long>(y) * width * 3;
  const float w0 = c.blur_weights[0];
  Rgbf acc{w0 * row[3 * x], w0 * row[3 * x + 1], w0 * row[3 * x + 2]};
  for (int i = 1; i <= c.blur_radius; ++i) {
    const int xl = x - i < 0 ? 0 : x - i;
    const int xr = x + i > width - 1 ? width - 1 : x + i;
    const float w = c.blur_weights[i];
    acc.r = GaussianTap(acc.r, w, row[3 * xl], row[3 * xr]);
    acc.g = GaussianTap(acc.g, w, row[3 * xl + 1], row[3 * xr + 1]);
    acc.b = GaussianTap(acc.b, w, row[3 * xl + 2], row[3 * xr + 2]);
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
    acc.r = GaussianTap(acc.r, w, col[yu], col[yd]);
    acc.g = GaussianTap(acc.g, w, col[yu + 1], col[yd + 1]);
    acc.b = GaussianTap(acc.b, w, col[yu + 2], col[yd + 2]);
  }
  return acc;
}

// Motion blur: the mean of bilinear samples at motion_taps points along a line through the pixel (a constant
// velocity during the exposure); samples outside the frame clamp to its edge.
//
// One axis of a bilinear sample: the two pixels it falls between and the weight of the second. It depends on
// the row or the column alone, so the CPU backend evaluates it once per row and once per column.
struct BilinearAxis {
  int i0, i1;
  float a;
};

R2S_HOST_DEVICE inline BilinearAxis MotionAxis(int pixel, float offset_px, int size) {
  const float s = ClampF(static_cast<float>(pixel) + offset_px, 0.0f, static_cast<float>(size - 1));
  const float f = floorf(s);
  const int i0 = static_cast<int>(f);
  return BilinearAxis{i0, i0 + 1 > size - 1 ? size - 1 : i0 + 1, s - f};
}

// p<row><column>: the four pixels around the sample; ax, ay: the weights of column 1 and row 1.
R2S_HOST_DEVICE inline float Bilinear(float p00, float p01, float p10, float p11, float ax, float ay) {
  const float top = p00 * (1.0f - ax) + p01 * ax;
  const float bottom = p10 * (1.0f - ax) + p11 * ax;
  return top * (1.0f - ay) + bottom * ay;
}

R2S_HOST_DEVICE inline Rgbf MotionBlur(const float* frame, int width, int height, int x, int y,
                                       const CameraFrameConstants& c) {
  Rgbf acc{0.0f, 0.0f, 0.0f};
  for (int i = 0; i < c.motion_taps; ++i) {
    const BilinearAxis sx = MotionAxis(x, c.motion_dx[i], width);
    const BilinearAxis sy = MotionAxis(y, c.motion_dy[i], height);
    const float* p00 = frame + (static_cast<long long>(sy.i0) * width + sx.i0) * 3;
    const float* p01 = frame + (static_cast<long long>(sy.i0) * width + sx.i1) * 3;
    const float* p10 = frame + (static_cast<long long>(sy.i1) * width + sx.i0) * 3;
    const float* p11 = frame + (static_cast<long long>(sy.i1) * width + sx.i1) * 3;
    acc.r = acc.r + Bilinear(p00[0], p01[0], p10[0], p11[0], sx.a, sy.a);
    acc.g = acc.g + Bilinear(p00[1], p01[1], p10[1], p11[1], sx.a, sy.a);
    acc.b = acc.b + Bilinear(p00[2], p01[2], p10[2], p11[2], sx.a, sy.a);
  }
  return Rgbf{acc.r * c.motion_weight, acc.g * c.motion_weight, acc.b * c.motion_weight};
}

// Everything after the blur, for one pixel of linear light, as small per-channel steps that the CPU backend
// runs one at a time over a row (so each loop vectorizes) and CameraPointwise runs one after the other.
//
// Exposure and white balance: linear light of channel k -> signal in DN.
R2S_HOST_DEVICE inline float SignalDn(float linear, int k, const CameraFrameConstants& c) {
  return linear * c.gain_dn[k];
}

// Vignetting: the factor on the signal at pixel (x, y), 1 / (1 + s r^2)^2 (see vignette_s).
R2S_HOST_DEVICE inline float VignetteFalloff(int x, int y, int width, int height, float vignette_s) {
  const float dx = (static_cast<float>(x) + 0.5f) - 0.5f * static_cast<float>(width);
  const float dy = (static_cast<float>(y) + 0.5f) - 0.5f * static_cast<float>(height);
  const float half_diag2 = 0.25f * static_cast<float>(width) * static_cast<float>(width) +
                           0.25f * static_cast<float>(height) * static_cast<float>(height);
  const float r2 = (dx * dx + dy * dy) / half_diag2;
  const float d = 1.0f + vignette_s * r2;
  return 1.0f / (d * d);
}

// Shot and read noise on a signal in DN, given a standard normal draw.
R2S_HOST_DEVICE inline float AddSensorNoise(float signal_dn, float normal, const CameraFrameConstants& c) {
  const float var = c.shot_gain * (signal_dn > 0.0f ? signal_dn : 0.0f) + c.read_var_dn2;
  return signal_dn + sqrtf(var) * normal;
}

// Clipping to the sensor's range, then the gamma encode (table over sqrt(linear)): output DN.
R2S_HOST_DEVICE inline float EncodeDn(float signal_dn, const float* encode) {
  const float t = sqrtf(ClampF(signal_dn, 0.0f, 255.0f) / 255.0f);
  const float pos = t * static_cast<float>(kEncodeSegments);
  int i = static_cast<int>(pos);
  if (i > kEncodeSegments - 1) i = kEncodeSegments - 1;
  const float frac = pos - static_cast<float>(i);
  return encode[i] + frac * (encode[i + 1] - encode[i]);
}

// One output channel of the colour jitter (m: that channel's row of CameraFrameConstants::jitter), clipped.
R2S_HOST_DEVICE inline float JitterChannel(const float* m, float e0, float e1, float e2) {
  return ClampF(m[0] * e0 + m[1] * e1 + m[2] * e2 + m[3], 0.0f, 255.0f);
}

// All of the above for one pixel: exposure and white balance, vignetting, shot and read noise (in DN, from
// Philox at counter (pixel, frame, 0, 0)), clipping, gamma encoding and colour jitter. Returns output DN in
// [0, 255], not yet rounded (the JPEG-like stage, when on, works on these).
R2S_HOST_DEVICE inline Rgbf CameraPointwise(Rgbf lin, int x, int y, int width, int height, std::uint32_t pixel,
                                            std::uint32_t frame, randomize::PhiloxKey key,
                                            const CameraFrameConstants& c, const float* normal_table) {
  float s[3] = {SignalDn(lin.r, 0, c), SignalDn(lin.g, 1, c), SignalDn(lin.b, 2, c)};
  if (c.vignette_s != 0.0f) {
    const float falloff = VignetteFalloff(x, y, width, height, c.vignette_s);
    for (int k = 0; k < 3; ++k) s[k] = s[k] * falloff;
  }
  if (c.noise_on) {
    const randomize::PhiloxBlock block = randomize::Philox(key, pixel, frame, 0u, 0u);
    for (int k = 0; k < 3; ++k) s[k] = AddSensorNoise(s[k], StandardNormal(block.w[k], normal_table), c);
  }
  const float e[3] = {EncodeDn(s[0], c.encode), EncodeDn(s[1], c.encode), EncodeDn(s[2], c.encode)};
  return Rgbf{JitterChannel(c.jitter, e[0], e[1], e[2]), JitterChannel(c.jitter + 4, e[0], e[1], e[2]),
              JitterChannel(c.jitter + 8, e[0], e[1], e[2])};
}

// In place on an 8x8 block (row-major): forward DCT, quantize with steps q, dequantize, inverse DCT. Each
// output is a sum over k = 0..7 in ascending order, starting from 0. The CPU backend evaluates the same sums a
// row of eight at a time (sensor_cpu.cc, DctQuantizeRows), which is why the table also holds the transpose.
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

// RGB (float DN) -> JFIF YCbCr, full range, with luma centred on 0 for the DCT; and back to RGB from the
// centred luma and the chroma.
R2S_HOST_DEVICE inline float JpegLuma(float r, float g, float b) { return 0.299f * r + 0.587f * g + 0.114f * b - 128.0f; }
R2S_HOST_DEVICE inline float JpegCb(float r, float g, float b) { return -0.168736f * r - 0.331264f * g + 0.5f * b; }
R2S_HOST_DEVICE inline float JpegCr(float r, float g, float b) { return 0.5f * r - 0.418688f * g - 0.081312f * b; }
R2S_HOST_DEVICE inline float JpegRed(float centred_luma, float cr) { return (centred_luma + 128.0f) + 1.402f * cr; }
R2S_HOST_DEVICE inline float JpegGreen(float centred_luma, float cb, float cr) {
  return (centred_luma + 128.0f) - 0.344136f * cb - 0.714136f * cr;
}
R2S_HOST_DEVICE inline float JpegBlue(float centred_luma, float cb) { return (centred_luma + 128.0f) + 1.772f * cb; }

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
      ycc[0][j * 8 + i] = JpegLuma(p[0], p[1], p[2]);
      ycc[1][j * 8 + i] = JpegCb(p[0], p[1], p[2]);
      ycc[2][j * 8 + i] = JpegCr(p[0], p[1], p[2]);
    }
  }
  DctQuantizeBlock(ycc[0], c.jpeg_q[0], dct);
  DctQuantizeBlock(ycc[1], c.jpeg_q[1], dct);
  DctQuantizeBlock(ycc[2], c.jpeg_q[1], dct);
  for (int j = 0; j < 8 && by * 8 + j < height; ++j) {
    for (int i = 0; i < 8 && bx * 8 + i < width; ++i) {
      const float luma = ycc[0][j * 8 + i];
      const float cb = ycc[1][j * 8 + i];
      const float cr = ycc[2][j * 8 + i];
      std::uint8_t* p = frame_out + (static_cast<long long>(by * 8 + j) * width + bx * 8 + i) * 3;
      p[0] = RoundToU8(JpegRed(luma, cr));
      p[1] = RoundToU8(JpegGreen(luma, cb, cr));
      p[2] = RoundToU8(JpegBlue(luma, cb));
    }
  }
}

}  // namespace r2s::cuda

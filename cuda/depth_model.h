#pragma once
// The depth sensor model's per-pixel math, shared by the CPU backend and the CUDA kernels (see
// cuda/camera_model.h for the rules that keep both devices in agreement). Stages, in order, for a pixel with
// rendered depth z (metres along the optical axis; 0 = no return):
//   1. no return outside [min_range, max_range] (decided on the true depth: whether light comes back);
//   2. edge dropout: 0 where a 4-neighbour's depth differs by more than edge_jump_m (mixed pixels and stereo
//      occlusion at depth discontinuities); a neighbour without return counts as a jump;
//   3. grazing-angle dropout: 0 where the angle between the viewing ray and the surface normal (from the
//      back-projected central differences of the depth image) exceeds the limit;
//   4. range-dependent noise: z + (a + b z^2) N(0, 1), Philox at counter (pixel, frame, 1, 0);
//   5. quantization: to multiples of step (uniform) or of disparity 1/z (step at 1 m, growing with z^2).

#include <cstdint>

#include "cuda/camera_model.h"
#include "randomize/philox.h"

namespace r2s::cuda {

enum DepthQuantizationCode : int { kDepthQuantizeNone = 0, kDepthQuantizeUniform = 1, kDepthQuantizeDisparity = 2 };

// One frame's depth model, derived on the host from DepthModelParams (sensor.cc).
struct DepthFrameConstants {
  float noise_a_m;  // noise std = noise_a_m + noise_b_per_m * z^2
  float noise_b_per_m;
  int noise_on;
  int quantization;   // DepthQuantizationCode
  float step;         // metres (uniform) or 1/m (disparity)
  float edge_jump_m;  // <= 0: off
  int grazing_on;
  float cos2_max_angle;  // drop where cos^2(angle between ray and normal) < this
  float min_range_m;
  float max_range_m;     // <= 0: no limit
  float fx, fy, cx, cy;  // pinhole intrinsics, px; pixel (x, y)'s centre is at (x, y)
};

struct Vec3f {
  float x, y, z;
};

R2S_HOST_DEVICE inline Vec3f BackProject(int x, int y, float z, const DepthFrameConstants& c) {
  return Vec3f{(static_cast<float>(x) - c.cx) * z / c.fx, (static_cast<float>(y) - c.cy) * z / c.fy, z};
}

// The stages as small pure functions: DepthPixel runs them with early returns, the CPU backend evaluates all of
// them for a whole row (so each loop vectorizes) and keeps a pixel's result where DepthPixel would.
//
// The predicates combine comparisons with & and | (no short-circuit: every comparison is cheap and pure), which
// a CPU compiler turns into vector masks.
//
// Stage 1: whether light comes back at all (a finite depth inside the range).
R2S_HOST_DEVICE inline bool DepthReturns(float z, const DepthFrameConstants& c) {
  return (z > 0.0f) & (z <= 3.0e38f) & !(z < c.min_range_m) & !((c.max_range_m > 0.0f) & (z > c.max_range_m));
}

// Stage 2, for one neighbour depth n of z: no return there, or a jump of more than edge_jump_m.
R2S_HOST_DEVICE inline bool DepthJump(float n, float z, float edge_jump_m) {
  const float d = n - z;
  return !(n > 0.0f) | (d > edge_jump_m) | (-d > edge_jump_m);
}

// Stage 3: whether the surface through the back-projected left/right and up/down neighbours is seen from the
// pixel's point p at more than the limit angle.
R2S_HOST_DEVICE inline bool GrazingDropout(Vec3f pl, Vec3f pr, Vec3f pu, Vec3f pd, Vec3f p, float cos2_max_angle) {
  const Vec3f du{pr.x - pl.x, pr.y - pl.y, pr.z - pl.z};
  const Vec3f dv{pd.x - pu.x, pd.y - pu.y, pd.z - pu.z};
  const Vec3f n{du.y * dv.z - du.z * dv.y, du.z * dv.x - du.x * dv.z, du.x * dv.y - du.y * dv.x};
  const float dot = n.x * p.x + n.y * p.y + n.z * p.z;
  const float nn = n.x * n.x + n.y * n.y + n.z * n.z;
  const float pp = p.x * p.x + p.y * p.y + p.z * p.z;
  return dot * dot < cos2_max_angle * (nn * pp);
}

// Stage 4, given a standard normal draw.
R2S_HOST_DEVICE inline float AddDepthNoise(float z, float normal, const DepthFrameConstants& c) {
  const float std_m = c.noise_a_m + c.noise_b_per_m * (z * z);
  return z + std_m * normal;
}

// Stage 5, then no negative depth. The reciprocals are computed unconditionally and selected (never used where
// z or the disparity is 0), so the CPU compiler may vectorize without masked divisions.
R2S_HOST_DEVICE inline float QuantizeDepth(float z, const DepthFrameConstants& c) {
  if (c.quantization == kDepthQuantizeUniform) {
    z = floorf(z / c.step + 0.5f) * c.step;
  } else if (c.quantization == kDepthQuantizeDisparity) {
    const float disparity = floorf((1.0f / z) / c.step + 0.5f) * c.step;
    const float depth = 1.0f / disparity;
    z = z > 0.0f ? (disparity > 0.0f ? depth : 0.0f) : z;
  }
  return z > 0.0f ? z : 0.0f;
}

// The depth model for pixel (x, y) of one frame (frame_depth: that frame's input, row-major).
R2S_HOST_DEVICE inline float DepthPixel(const float* frame_depth, int width, int height, int x, int y,
                                        std::uint32_t pixel, std::uint32_t frame, randomize::PhiloxKey key,
                                        const DepthFrameConstants& c, const float* normal_table) {
  const long long row = static_cast<long long>(y) * width;
  float z = frame_depth[row + x];
  if (!DepthReturns(z, c)) return 0.0f;

  const int xl = x > 0 ? x - 1 : x;
  const int xr = x < width - 1 ? x + 1 : x;
  const int yu = y > 0 ? y - 1 : y;
  const int yd = y < height - 1 ? y + 1 : y;
  const float zl = frame_depth[row + xl];
  const float zr = frame_depth[row + xr];
  const float zu = frame_depth[static_cast<long long>(yu) * width + x];
  const float zd = frame_depth[static_cast<long long>(yd) * width + x];
  if (c.edge_jump_m > 0.0f && (DepthJump(zl, z, c.edge_jump_m) || DepthJump(zr, z, c.edge_jump_m) ||
                               DepthJump(zu, z, c.edge_jump_m) || DepthJump(zd, z, c.edge_jump_m))) {
    return 0.0f;
  }
  if (c.grazing_on && xl != xr && yu != yd && zl > 0.0f && zr > 0.0f && zu > 0.0f && zd > 0.0f &&
      GrazingDropout(BackProject(xl, y, zl, c), BackProject(xr, y, zr, c), BackProject(x, yu, zu, c),
                     BackProject(x, yd, zd, c), BackProject(x, y, z, c), c.cos2_max_angle)) {
    return 0.0f;
  }
  if (c.noise_on) {
    const randomize::PhiloxBlock block = randomize::Philox(key, pixel, frame, 1u, 0u);
    z = AddDepthNoise(z, StandardNormal(block.w[0], normal_table), c);
  }
  return QuantizeDepth(z, c);
}

}  // namespace r2s::cuda

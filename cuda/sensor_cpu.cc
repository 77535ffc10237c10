// The CPU backend: the kernels of cuda/camera_model.h, depth_model.h and yuv.h on `threads` threads started for
// the call and joined before it returns. Every output element is a pure function of the input and the
// constants, so which thread computes it, and in which order, changes nothing.
//
// Speed comes from three things, none of which changes a pixel's floating-point operations:
//  - Streaming. A frame is produced in row order; each stage keeps only the rows the next one still needs
//    (ring buffers of a few rows), so the working set stays in cache and the scratch is small enough to
//    allocate per call. The JPEG-like stage runs on each 8-row band as soon as the pointwise stage has made it.
//  - Structure of arrays. Rows are held as R, G and B planes, and each stage of the shared per-pixel math runs
//    as its own loop over a row: the same R2S_HOST_DEVICE functions, one lane per pixel, which the compiler
//    vectorizes (the row kernels are built for baseline x86-64, AVX2 and AVX-512, picked at run time).
//  - Hoisting. What depends on the column alone or the row alone (the motion-blur sample positions) is
//    evaluated once per frame by the same function and reused.
// tests/sensor_cpu_equivalence_test.cc holds all of this to the straightforward per-pixel evaluation.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "common/parallel_for.h"
#include "cuda/camera_model.h"
#include "cuda/depth_model.h"
#include "cuda/sensor_backend.h"
#include "cuda/yuv.h"

// Row kernels: a baseline x86-64 build, an AVX2 build and an AVX-512 (x86-64-v4) build of each, chosen once by
// the loader (ifunc) for the CPU at hand. flatten inlines the shared per-pixel functions into each build, so they
// are vectorized for its instruction set; the operations stay IEEE single precision either way (no contraction:
// -ffp-contract=off), so every build computes the same bits. Off under sanitizers and for other compilers.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define R2S_ROW_KERNEL __attribute__((target_clones("default", "avx2", "arch=x86-64-v4"), flatten))
#else
#define R2S_ROW_KERNEL
#endif

namespace r2s::cuda::backend {
namespace {

// Row chunks of about 16k pixels: enough work per chunk to amortize the hand-out, enough chunks to balance.
std::int64_t RowGrain(int width) { return std::max<std::int64_t>(1, 16384 / std::max(1, width)); }

// Rows per band when a frame is split between threads: one band per frame while there are at least as many
// frames as threads (no overlap recomputed), else enough bands to give every thread work. Multiples of 8, so the
// JPEG-like stage's blocks never straddle two bands.
int BandRows(int frames, int height, int threads) {
  const int bands = frames >= threads ? 1 : (threads + frames - 1) / frames;
  const int blocks = (height + 7) / 8;
  return 8 * ((blocks + bands - 1) / bands);
}

std::size_t RoundUp(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// Per-worker scratch, carved out of one allocation and handed out again for every frame: the rings are a few
// rows each, so this is small (about 0.3 MB for the benchmark's 640 px camera) and costs little per call.
class Arena {
 public:
  explicit Arena(std::size_t floats) : data_(std::make_unique_for_overwrite<float[]>(floats)), size_(floats) {}
  void Reset() { used_ = 0; }
  template <typename T>
  T* Take(std::size_t count) {
    static_assert(sizeof(T) == sizeof(float) && alignof(T) <= alignof(float));
    float* p = data_.get() + used_;
    used_ += RoundUp(count, kAlignFloats);  // whole 64-byte lines: every array starts aligned like the first
    if (used_ > size_) std::abort();        // a layout that undercounts is a bug here, not bad input
    return reinterpret_cast<T*>(p);
  }
  static std::size_t Floats(std::size_t count) { return RoundUp(count, kAlignFloats); }

 private:
  static constexpr std::size_t kAlignFloats = 16;
  std::unique_ptr<float[]> data_;
  std::size_t size_;
  std::size_t used_ = 0;
};

// A standard normal per 32-bit word, lane by lane: StandardNormal with its two branches turned into selects so
// the loop vectorizes. The octave comes from the highest set bit (smeared right, then read from the exponent of
// its exact float conversion) instead of clz; the floating-point part is the shared NormalTail. q = 0 computes
// a valid placeholder and then takes the deepest tail (`deepest`, hoisted so no load is conditional).
inline float StandardNormalLanes(std::uint32_t bits, const float* normal_table, float deepest) {
  const std::uint32_t q = bits & 0x7FFFFFFFu;
  const std::uint32_t q_or_1 = q | (q == 0 ? 1u : 0u);
  std::uint32_t smear = q_or_1 | q_or_1 >> 1;
  smear |= smear >> 2;
  smear |= smear >> 4;
  smear |= smear >> 8;
  smear |= smear >> 16;
  const std::uint32_t lead = smear - (smear >> 1);  // 2^e, e = floor(log2 q) <= 30
  const int exponent = (std::bit_cast<std::int32_t>(static_cast<float>(static_cast<std::int32_t>(lead))) >> 23) - 127;
  const float tail = NormalTail(q_or_1, 30 - exponent, normal_table);
  const float z = q == 0 ? deepest : tail;
  return (bits & 0x80000000u) ? -z : z;
}

// ---- row kernels (each a plain loop over a row, vectorized) ----

// Philox words for pixels first_pixel .. first_pixel + n - 1 at counter (pixel, frame, group, 0).
R2S_ROW_KERNEL void PhiloxRow3(randomize::PhiloxKey key, std::uint32_t first_pixel, std::uint32_t frame,
                               std::uint32_t group, int n, std::uint32_t* __restrict w0, std::uint32_t* __restrict w1,
                               std::uint32_t* __restrict w2) {
  for (int x = 0; x < n; ++x) {
    const randomize::PhiloxBlock b = randomize::Philox(key, first_pixel + static_cast<std::uint32_t>(x), frame, group, 0u);
    w0[x] = b.w[0];
    w1[x] = b.w[1];
    w2[x] = b.w[2];
  }
}

R2S_ROW_KERNEL void PhiloxRow1(randomize::PhiloxKey key, std::uint32_t first_pixel, std::uint32_t frame,
                               std::uint32_t group, int n, std::uint32_t* __restrict w0) {
  for (int x = 0; x < n; ++x) {
    w0[x] = randomize::Philox(key, first_pixel + static_cast<std::uint32_t>(x), frame, group, 0u).w[0];
  }
}

R2S_ROW_KERNEL void NormalRow(const std::uint32_t* __restrict bits, int n, const float* __restrict normal_table,
                              float* __restrict out) {
  const float deepest = NormalDeepestTail(normal_table);
  for (int x = 0; x < n; ++x) out[x] = StandardNormalLanes(bits[x], normal_table, deepest);
}

// uint8 HWC -> linear planes (Linearize's table).
R2S_ROW_KERNEL void LinearizeRow(const std::uint8_t* __restrict px, int n, const float* __restrict table,
                                 float* __restrict r, float* __restrict g, float* __restrict b) {
  for (int x = 0; x < n; ++x) {
    r[x] = table[px[3 * x]];
    g[x] = table[px[3 * x + 1]];
    b[x] = table[px[3 * x + 2]];
  }
}

// GaussianRow on one plane; `in` has `radius` clamped copies of its edge pixels on each side.
R2S_ROW_KERNEL void GaussianRowPlane(const float* __restrict in, int n, const float* __restrict weights, int radius,
                                     float* __restrict out) {
  const float w0 = weights[0];
  for (int x = 0; x < n; ++x) out[x] = w0 * in[x];
  for (int i = 1; i <= radius; ++i) {
    const float w = weights[i];
    for (int x = 0; x < n; ++x) out[x] = GaussianTap(out[x], w, in[x - i], in[x + i]);
  }
}

// GaussianColumn on one plane: rows[i] is the row at offset i - radius (clamped to the frame).
R2S_ROW_KERNEL void GaussianColumnPlane(const float* const* rows, int n, const float* __restrict weights, int radius,
                                        float* __restrict out) {
  const float w0 = weights[0];
  const float* centre = rows[radius];
  for (int x = 0; x < n; ++x) out[x] = w0 * centre[x];
  for (int i = 1; i <= radius; ++i) {
    const float w = weights[i];
    const float* __restrict up = rows[radius - i];
    const float* __restrict down = rows[radius + i];
    for (int x = 0; x < n; ++x) out[x] = GaussianTap(out[x], w, up[x], down[x]);
  }
}

// One motion-blur tap over columns [begin, end) of one plane, adding Bilinear to acc. Where the tap's columns
// are x + offset and x + offset + 1 the loads are contiguous; elsewhere (offset = kTabledColumns, at the
// frame's edges) they go through the tap's tables i0/i1.
constexpr int kTabledColumns = std::numeric_limits<int>::min();

R2S_ROW_KERNEL void MotionTapPlane(const float* __restrict row0, const float* __restrict row1, float ay, int begin,
                                   int end, int offset, const int* __restrict i0, const int* __restrict i1,
                                   const float* __restrict ax, float* __restrict acc) {
  if (offset != kTabledColumns) {
    const float* __restrict a0 = row0 + offset;
    const float* __restrict b0 = row1 + offset;
    for (int x = begin; x < end; ++x) {
      acc[x] = acc[x] + Bilinear(a0[x], a0[x + 1], b0[x], b0[x + 1], ax[x], ay);
    }
  } else {
    for (int x = begin; x < end; ++x) {
      acc[x] = acc[x] + Bilinear(row0[i0[x]], row0[i1[x]], row1[i0[x]], row1[i1[x]], ax[x], ay);
    }
  }
}

R2S_ROW_KERNEL void ScaleRow(float* __restrict v, int n, float factor) {
  for (int x = 0; x < n; ++x) v[x] = v[x] * factor;
}

// CameraPointwise over a row of planes (lin -> out, float DN), stage by stage.
R2S_ROW_KERNEL void SignalRow(const float* __restrict lin, int n, int k, const CameraFrameConstants& c,
                              float* __restrict s) {
  for (int x = 0; x < n; ++x) s[x] = SignalDn(lin[x], k, c);
}

R2S_ROW_KERNEL void VignetteRow(int y, int width, int height, float vignette_s, float* __restrict falloff) {
  for (int x = 0; x < width; ++x) falloff[x] = VignetteFalloff(x, y, width, height, vignette_s);
}

R2S_ROW_KERNEL void NoiseRow(float* __restrict s, const float* __restrict normal, int n,
                             const CameraFrameConstants& c) {
  for (int x = 0; x < n; ++x) s[x] = AddSensorNoise(s[x], normal[x], c);
}

R2S_ROW_KERNEL void EncodeRow(float* __restrict s, int n, const float* __restrict encode) {
  for (int x = 0; x < n; ++x) s[x] = EncodeDn(s[x], encode);
}

R2S_ROW_KERNEL void JitterRow(const float* __restrict e0, const float* __restrict e1, const float* __restrict e2,
                              int n, const float* __restrict m, float* __restrict out) {
  for (int x = 0; x < n; ++x) out[x] = JitterChannel(m, e0[x], e1[x], e2[x]);
}

R2S_ROW_KERNEL void RoundRow(const float* __restrict r, const float* __restrict g, const float* __restrict b, int n,
                             std::uint8_t* __restrict px) {
  for (int x = 0; x < n; ++x) {
    px[3 * x] = RoundToU8(r[x]);
    px[3 * x + 1] = RoundToU8(g[x]);
    px[3 * x + 2] = RoundToU8(b[x]);
  }
}

R2S_ROW_KERNEL void YccRow(const float* __restrict r, const float* __restrict g, const float* __restrict b, int n,
                           float* __restrict luma, float* __restrict cb, float* __restrict cr) {
  for (int x = 0; x < n; ++x) {
    luma[x] = JpegLuma(r[x], g[x], b[x]);
    cb[x] = JpegCb(r[x], g[x], b[x]);
    cr[x] = JpegCr(r[x], g[x], b[x]);
  }
}

// Eight floats, one vector (two on baseline x86-64): a row of an 8x8 block.
typedef float Row8 __attribute__((vector_size(32)));

inline void LoadRow8(Row8& row, const float* p) { std::memcpy(&row, p, sizeof(Row8)); }
inline void StoreRow8(float* p, const Row8& row) { std::memcpy(p, &row, sizeof(Row8)); }

// DctQuantizeBlock a row at a time: every output element is the same sum, over the same k in the same order,
// starting from 0, as there; lane x of a row vector computes element x of that row.
inline void DctQuantizeRows(Row8 (&block)[8], const float* q, const SensorTables& tables) {
  const float* dct = tables.dct;
  Row8 basis[8], basis_t[8], tmp[8], coef[8];
  for (int k = 0; k < 8; ++k) {
    LoadRow8(basis[k], dct + 8 * k);
    LoadRow8(basis_t[k], tables.dct_t + 8 * k);
  }
  for (int u = 0; u < 8; ++u) {  // tmp[u][x] = sum_y C[u][y] block[y][x]
    Row8 acc = {};
    for (int y = 0; y < 8; ++y) acc = acc + dct[u * 8 + y] * block[y];
    tmp[u] = acc;
  }
  for (int u = 0; u < 8; ++u) {  // coef[u][v] = sum_x tmp[u][x] C[v][x], then quantized
    Row8 acc = {};
    for (int x = 0; x < 8; ++x) acc = acc + tmp[u][x] * basis_t[x];
    Row8 step;
    LoadRow8(step, q + 8 * u);
    float rounded[8];
    StoreRow8(rounded, acc / step + 0.5f);
    for (float& r : rounded) r = floorf(r);
    LoadRow8(coef[u], rounded);
    coef[u] = coef[u] * step;
  }
  for (int y = 0; y < 8; ++y) {  // tmp[y][v] = sum_u C[u][y] coef[u][v]
    Row8 acc = {};
    for (int u = 0; u < 8; ++u) acc = acc + dct[u * 8 + y] * coef[u];
    tmp[y] = acc;
  }
  for (int y = 0; y < 8; ++y) {  // block[y][x] = sum_v tmp[y][v] C[v][x]
    Row8 acc = {};
    for (int v = 0; v < 8; ++v) acc = acc + tmp[y][v] * basis[v];
    block[y] = acc;
  }
}

// The JPEG-like DCT round trip on the `blocks` 8x8 blocks side by side in 8 rows of a plane (row stride
// `stride`), in place.
R2S_ROW_KERNEL void DctBand(float* __restrict plane, std::size_t stride, int blocks, const float* __restrict q,
                            const SensorTables& tables) {
  for (int bx = 0; bx < blocks; ++bx) {
    Row8 block[8];
    for (int j = 0; j < 8; ++j) LoadRow8(block[j], plane + j * stride + 8 * bx);
    DctQuantizeRows(block, q, tables);
    for (int j = 0; j < 8; ++j) StoreRow8(plane + j * stride + 8 * bx, block[j]);
  }
}

R2S_ROW_KERNEL void YccToRgbRow(const float* __restrict luma, const float* __restrict cb, const float* __restrict cr,
                                int n, std::uint8_t* __restrict px) {
  for (int x = 0; x < n; ++x) {
    px[3 * x] = RoundToU8(JpegRed(luma[x], cr[x]));
    px[3 * x + 1] = RoundToU8(JpegGreen(luma[x], cb[x], cr[x]));
    px[3 * x + 2] = RoundToU8(JpegBlue(luma[x], cb[x]));
  }
}

R2S_ROW_KERNEL void MultiplyRow(float* __restrict v, const float* __restrict factor, int n) {
  for (int x = 0; x < n; ++x) v[x] = v[x] * factor[x];
}

// BackProject's x and y for every pixel of a depth row (z is the row itself).
R2S_ROW_KERNEL void BackProjectRow(const float* __restrict z, int n, int y, const DepthFrameConstants& c,
                                   float* __restrict px, float* __restrict py) {
  for (int x = 0; x < n; ++x) {
    const Vec3f p = BackProject(x, y, z[x], c);
    px[x] = p.x;
    py[x] = p.y;
  }
}

// One depth row: DepthPixel's stages for every pixel, kept where DepthPixel would keep it. The rows are padded
// by one clamped pixel on each side (zc[-1] = zc[0], ...), as DepthPixel clamps its neighbours; up and down are
// the clamped rows above and below. has_lr / has_ud: the frame is more than one pixel wide / high.
struct DepthRowInputs {
  const float* zc;  // this row, padded
  const float* zu;  // the row above (clamped), padded
  const float* zd;  // the row below (clamped), padded
  const float* xc;  // BackProject(...).x of each, padded alike
  const float* yc;
  const float* xu;
  const float* yu;
  const float* xd;
  const float* yd;
  const float* normal;  // a standard normal per pixel (unused without noise)
  bool has_lr, has_ud;
};

R2S_ROW_KERNEL void DepthRow(const DepthRowInputs& in, int n, const DepthFrameConstants& constants,
                             float* __restrict out) {
  const DepthFrameConstants c = constants;  // a local copy: out cannot alias it, so its fields stay in registers
  const float* __restrict zc = in.zc;
  const float* __restrict zu = in.zu;
  const float* __restrict zd = in.zd;
  const float* __restrict xc = in.xc;
  const float* __restrict yc = in.yc;
  const float* __restrict xu = in.xu;
  const float* __restrict yu = in.yu;
  const float* __restrict xd = in.xd;
  const float* __restrict yd = in.yd;
  const float* __restrict normal = in.normal;
  const bool edge_on = c.edge_jump_m > 0.0f;
  const bool grazing_on = c.grazing_on && in.has_lr && in.has_ud;
  const bool noise_on = c.noise_on;
  for (int x = 0; x < n; ++x) {
    const float z = zc[x];
    const float zl = zc[x - 1], zr = zc[x + 1], zup = zu[x], zdown = zd[x];
    const bool jump = DepthJump(zl, z, c.edge_jump_m) | DepthJump(zr, z, c.edge_jump_m) |
                      DepthJump(zup, z, c.edge_jump_m) | DepthJump(zdown, z, c.edge_jump_m);
    const bool neighbours = (zl > 0.0f) & (zr > 0.0f) & (zup > 0.0f) & (zdown > 0.0f);
    const bool grazing = GrazingDropout(Vec3f{xc[x - 1], yc[x - 1], zl}, Vec3f{xc[x + 1], yc[x + 1], zr},
                                        Vec3f{xu[x], yu[x], zup}, Vec3f{xd[x], yd[x], zdown}, Vec3f{xc[x], yc[x], z},
                                        c.cos2_max_angle);
    const bool keep = DepthReturns(z, c) & !(edge_on & jump) & !(grazing_on & neighbours & grazing);
    const float noisy = noise_on ? AddDepthNoise(z, normal[x], c) : z;
    const float quantized = QuantizeDepth(noisy, c);
    out[x] = keep ? quantized : 0.0f;
  }
}

// ---- camera ----

// One frame's camera model streamed through a worker's arena, row by row: linearize and Gaussian row pass
// into ring H, column pass into ring V, motion blur into one row, the pointwise stage, then rounding or the
// JPEG-like stage per 8-row band. Each ring holds the last rows produced; a stage asks for rows in increasing
// order and the rings are long enough that nothing it still needs has been overwritten.
class CameraStream {
 public:
  static std::size_t ArenaFloats(const CameraPlan& plan, int width, int height) {
    std::size_t floats = 0;
    for (const CameraFrameConstants& c : plan.frames) floats = std::max(floats, MakeLayout(c, width, height).floats);
    return floats;
  }

  CameraStream(Arena& arena, const CameraFrameConstants& c, int width, int height)
      : c_(c), width_(width), height_(height), layout_(MakeLayout(c, width, height)) {
    const std::size_t plane = layout_.plane;
    padded_ = arena.Take<float>(3 * layout_.padded);
    h_ring_ = arena.Take<float>(3 * plane * layout_.h_rows);
    v_ring_ = arena.Take<float>(3 * plane * layout_.v_rows);
    motion_ = arena.Take<float>(3 * plane);
    signal_ = arena.Take<float>(3 * plane);
    encoded_ = arena.Take<float>(3 * plane);
    falloff_ = arena.Take<float>(plane);
    normal_ = arena.Take<float>(plane);
    for (auto& b : bits_) b = arena.Take<std::uint32_t>(plane);
    jpeg_rgb_ = arena.Take<float>(3 * 8 * layout_.jpeg_stride);
    jpeg_ycc_ = arena.Take<float>(3 * 8 * layout_.jpeg_stride);
    const std::size_t tap_columns = static_cast<std::size_t>(c.motion_taps) * width;
    tap_i0_ = arena.Take<int>(tap_columns);
    tap_i1_ = arena.Take<int>(tap_columns);
    tap_ax_ = arena.Take<float>(tap_columns);
    row_lo_ = arena.Take<int>(height);
    row_hi_ = arena.Take<int>(height);
    PrepareMotion();
  }

  // Output rows [y0, y1) (y0 a multiple of 8) of the frame `in` into `out` (which may be `in`: every input row
  // is read before its output row is written). `frame` is the frame's noise counter; output_dn, when not null,
  // gets the frame's output DN before rounding (see CameraCpu).
  void Run(const std::uint8_t* in, std::uint8_t* out, int y0, int y1, randomize::PhiloxKey key, std::uint32_t frame,
           const SensorTables& tables, float* output_dn) {
    in_ = in;
    const int v_first = c_.motion_taps > 0 ? row_lo_[y0] : y0;
    v_done_ = v_first - 1;
    h_done_ = (c_.blur_radius > 0 ? std::max(0, v_first - c_.blur_radius) : v_first) - 1;
    for (int y = y0; y < y1; ++y) {
      float* dn[3];
      for (int k = 0; k < 3; ++k) {
        dn[k] = c_.jpeg_on ? jpeg_rgb_ + (static_cast<std::size_t>(k) * 8 + y % 8) * layout_.jpeg_stride
                           : encoded_ + k * layout_.plane;
      }
      Pointwise(MotionRow(y), y, key, frame, tables, dn);
      if (output_dn != nullptr) {
        float* row = output_dn + static_cast<std::size_t>(y) * width_ * 3;
        for (int x = 0; x < width_; ++x)
          for (int k = 0; k < 3; ++k) row[3 * x + k] = dn[k][x];
      }
      if (!c_.jpeg_on) {
        RoundRow(dn[0], dn[1], dn[2], width_, out + static_cast<std::size_t>(y) * width_ * 3);
      } else if (y % 8 == 7 || y == height_ - 1) {
        JpegBand(y / 8, out, tables);
      }
    }
  }

 private:
  struct Layout {
    std::size_t plane;        // floats per plane of a row (a whole number of 64-byte lines)
    std::size_t padded;       // ... with kMaxBlurRadius clamped pixels on each side, for the row pass
    std::size_t jpeg_stride;  // floats per plane row in the JPEG band: whole blocks
    int h_rows, v_rows;       // ring capacities in rows
    std::size_t floats;       // all the constructor takes from the arena
  };

  // The column pass reads 2 radius + 1 rows of H; motion blur the rows between its lowest and highest sample,
  // at most int(max dy - min dy) + 3 of them. Without blur, motion reads H directly.
  static Layout MakeLayout(const CameraFrameConstants& c, int width, int height) {
    Layout l{};
    l.plane = Arena::Floats(static_cast<std::size_t>(width));
    l.padded = l.plane + 2 * kMaxBlurRadius;
    l.jpeg_stride = RoundUp(static_cast<std::size_t>(width), 8);
    int motion_rows = 1;
    if (c.motion_taps > 0) {
      float lo = 0.0f, hi = 0.0f;
      for (int i = 0; i < c.motion_taps; ++i) {
        lo = std::min(lo, c.motion_dy[i]);
        hi = std::max(hi, c.motion_dy[i]);
      }
      motion_rows = std::min(height, static_cast<int>(hi - lo) + 4);
    }
    l.h_rows = c.blur_radius > 0 ? std::min(height, 2 * c.blur_radius + 1) : motion_rows;
    l.v_rows = c.blur_radius > 0 ? motion_rows : 0;
    const std::size_t tap_columns = static_cast<std::size_t>(c.motion_taps) * width;
    l.floats = Arena::Floats(3 * l.padded) + Arena::Floats(3 * l.plane * l.h_rows) +
               Arena::Floats(3 * l.plane * l.v_rows) + 3 * Arena::Floats(3 * l.plane) + 5 * Arena::Floats(l.plane) +
               2 * Arena::Floats(3 * 8 * l.jpeg_stride) + 3 * Arena::Floats(tap_columns) +
               2 * Arena::Floats(static_cast<std::size_t>(height));
    return l;
  }

  // A run of one motion-blur tap's columns [begin, end) whose samples are the contiguous x + offset and
  // x + offset + 1, or (offset = kTabledColumns) go through the tap's column tables (at the frame's edges).
  struct TapRun {
    int tap, begin, end, offset;
  };

  // MotionAxis depends on the column alone (x) or the row alone (y): evaluated once per frame. Runs are kept
  // in tap order, so every pixel sums its taps in MotionBlur's order.
  void PrepareMotion() {
    runs_.clear();
    for (int i = 0; i < c_.motion_taps; ++i) {
      int* i0 = tap_i0_ + static_cast<std::size_t>(i) * width_;
      int* i1 = tap_i1_ + static_cast<std::size_t>(i) * width_;
      float* ax = tap_ax_ + static_cast<std::size_t>(i) * width_;
      for (int x = 0; x < width_; ++x) {
        const BilinearAxis a = MotionAxis(x, c_.motion_dx[i], width_);
        i0[x] = a.i0;
        i1[x] = a.i1;
        ax[x] = a.a;
      }
      auto offset_at = [&](int x) { return i1[x] == i0[x] + 1 ? i0[x] - x : kTabledColumns; };
      for (int x = 0; x < width_;) {
        const int offset = offset_at(x);
        int end = x + 1;
        while (end < width_ && offset_at(end) == offset) ++end;
        runs_.push_back(TapRun{i, x, end, offset});
        x = end;
      }
    }
    for (int y = 0; c_.motion_taps > 0 && y < height_; ++y) {
      row_lo_[y] = height_;
      row_hi_[y] = 0;
      for (int i = 0; i < c_.motion_taps; ++i) {
        const BilinearAxis a = MotionAxis(y, c_.motion_dy[i], height_);
        row_lo_[y] = std::min(row_lo_[y], a.i0);
        row_hi_[y] = std::max(row_hi_[y], a.i1);
      }
    }
  }

  float* HRow(int r) { return h_ring_ + static_cast<std::size_t>(r % layout_.h_rows) * 3 * layout_.plane; }
  float* VRow(int r) { return v_ring_ + static_cast<std::size_t>(r % layout_.v_rows) * 3 * layout_.plane; }

  // Linearize and (when on) the Gaussian row pass, for every input row up to r.
  void ProduceH(int r) {
    while (h_done_ < r) {
      const int row = ++h_done_;
      const std::uint8_t* px = in_ + static_cast<std::size_t>(row) * width_ * 3;
      float* h = HRow(row);
      if (c_.blur_radius == 0) {
        LinearizeRow(px, width_, c_.linearize, h, h + layout_.plane, h + 2 * layout_.plane);
        continue;
      }
      float* lin[3];
      for (int k = 0; k < 3; ++k) lin[k] = padded_ + k * layout_.padded + kMaxBlurRadius;
      LinearizeRow(px, width_, c_.linearize, lin[0], lin[1], lin[2]);
      for (int k = 0; k < 3; ++k) {
        for (int i = 1; i <= c_.blur_radius; ++i) {  // GaussianRow clamps at the borders
          lin[k][-i] = lin[k][0];
          lin[k][width_ - 1 + i] = lin[k][width_ - 1];
        }
        GaussianRowPlane(lin[k], width_, c_.blur_weights, c_.blur_radius, h + k * layout_.plane);
      }
    }
  }

  // Row r of the Gaussian-blurred frame (the linear frame without blur).
  const float* BlurredRow(int r) {
    if (c_.blur_radius == 0) {
      ProduceH(r);
      return HRow(r);
    }
    while (v_done_ < r) {
      const int row = ++v_done_;
      ProduceH(std::min(height_ - 1, row + c_.blur_radius));
      float* v = VRow(row);
      const float* rows[2 * kMaxBlurRadius + 1];
      for (int k = 0; k < 3; ++k) {
        for (int i = -c_.blur_radius; i <= c_.blur_radius; ++i) {
          rows[i + c_.blur_radius] = HRow(std::clamp(row + i, 0, height_ - 1)) + k * layout_.plane;
        }
        GaussianColumnPlane(rows, width_, c_.blur_weights, c_.blur_radius, v + k * layout_.plane);
      }
    }
    return VRow(r);
  }

  // Row y after both blurs.
  const float* MotionRow(int y) {
    if (c_.motion_taps == 0) return BlurredRow(y);
    BlurredRow(row_hi_[y]);
    std::fill(motion_, motion_ + 3 * layout_.plane, 0.0f);
    auto source = [&](int r, int k) { return (c_.blur_radius > 0 ? VRow(r) : HRow(r)) + k * layout_.plane; };
    for (const TapRun& run : runs_) {
      const BilinearAxis sy = MotionAxis(y, c_.motion_dy[run.tap], height_);
      const std::size_t at = static_cast<std::size_t>(run.tap) * width_;
      for (int k = 0; k < 3; ++k) {
        MotionTapPlane(source(sy.i0, k), source(sy.i1, k), sy.a, run.begin, run.end, run.offset, tap_i0_ + at,
                       tap_i1_ + at, tap_ax_ + at, motion_ + k * layout_.plane);
      }
    }
    for (int k = 0; k < 3; ++k) ScaleRow(motion_ + k * layout_.plane, width_, c_.motion_weight);
    return motion_;
  }

  // CameraPointwise, stage by stage over the row: linear planes `lin` -> output DN planes `dn`.
  void Pointwise(const float* lin, int y, randomize::PhiloxKey key, std::uint32_t frame, const SensorTables& tables,
                 float* const dn[3]) {
    const int w = width_;
    float* s[3];
    for (int k = 0; k < 3; ++k) {
      s[k] = signal_ + k * layout_.plane;
      SignalRow(lin + k * layout_.plane, w, k, c_, s[k]);
    }
    if (c_.vignette_s != 0.0f) {
      VignetteRow(y, w, height_, c_.vignette_s, falloff_);
      for (int k = 0; k < 3; ++k) MultiplyRow(s[k], falloff_, w);
    }
    if (c_.noise_on) {
      const std::uint32_t first_pixel = static_cast<std::uint32_t>(y) * static_cast<std::uint32_t>(w);
      PhiloxRow3(key, first_pixel, frame, 0u, w, bits_[0], bits_[1], bits_[2]);
      for (int k = 0; k < 3; ++k) {
        NormalRow(bits_[k], w, tables.normal, normal_);
        NoiseRow(s[k], normal_, w, c_);
      }
    }
    for (int k = 0; k < 3; ++k) EncodeRow(s[k], w, c_.encode);
    for (int k = 0; k < 3; ++k) JitterRow(s[0], s[1], s[2], w, c_.jitter + 4 * k, dn[k]);
  }

  // JpegBlock for block row `by` from the pointwise output in jpeg_rgb_ (slot j: row by * 8 + j). Rows past
  // the frame repeat its last row and columns past it its last column, as JpegBlock pads; converting a
  // repeated pixel gives the repeated conversion, so the padding is done on YCbCr.
  void JpegBand(int by, std::uint8_t* out, const SensorTables& tables) {
    const std::size_t stride = layout_.jpeg_stride;
    const int rows = std::min(8, height_ - by * 8);
    const int blocks = (width_ + 7) / 8;
    auto plane_row = [&](float* base, int k, int j) { return base + (static_cast<std::size_t>(k) * 8 + j) * stride; };
    for (int j = 0; j < 8; ++j) {
      const int src = std::min(j, rows - 1);
      YccRow(plane_row(jpeg_rgb_, 0, src), plane_row(jpeg_rgb_, 1, src), plane_row(jpeg_rgb_, 2, src), width_,
             plane_row(jpeg_ycc_, 0, j), plane_row(jpeg_ycc_, 1, j), plane_row(jpeg_ycc_, 2, j));
      for (int k = 0; k < 3; ++k) {
        float* ycc = plane_row(jpeg_ycc_, k, j);
        std::fill(ycc + width_, ycc + 8 * blocks, ycc[width_ - 1]);
      }
    }
    DctBand(plane_row(jpeg_ycc_, 0, 0), stride, blocks, c_.jpeg_q[0], tables);
    DctBand(plane_row(jpeg_ycc_, 1, 0), stride, blocks, c_.jpeg_q[1], tables);
    DctBand(plane_row(jpeg_ycc_, 2, 0), stride, blocks, c_.jpeg_q[1], tables);
    for (int j = 0; j < rows; ++j) {
      YccToRgbRow(plane_row(jpeg_ycc_, 0, j), plane_row(jpeg_ycc_, 1, j), plane_row(jpeg_ycc_, 2, j), width_,
                  out + (static_cast<std::size_t>(by) * 8 + j) * width_ * 3);
    }
  }

  const CameraFrameConstants& c_;
  const int width_, height_;
  const Layout layout_;
  const std::uint8_t* in_ = nullptr;
  int h_done_ = -1, v_done_ = -1;  // the last row produced into each ring
  float* padded_;                  // one linear row per plane, with room for the row pass's clamped borders
  float* h_ring_;
  float* v_ring_;
  float* motion_;
  float* signal_;
  float* encoded_;
  float* falloff_;
  float* normal_;
  std::uint32_t* bits_[3];
  float* jpeg_rgb_;
  float* jpeg_ycc_;
  int* tap_i0_;
  int* tap_i1_;
  float* tap_ax_;
  int* row_lo_;  // per output row: the lowest and highest blurred row its motion taps read
  int* row_hi_;
  std::vector<TapRun> runs_;
};

// ---- depth ----

// One frame's depth model streamed row by row: each input row is copied (padded) with its back-projection into
// a ring of three, so the output can overwrite the input once the row below has been read.
class DepthStream {
 public:
  static std::size_t ArenaFloats(int width) {
    const std::size_t padded = Arena::Floats(static_cast<std::size_t>(width) + 2);
    return 9 * padded + 3 * Arena::Floats(static_cast<std::size_t>(width));
  }

  DepthStream(Arena& arena, const DepthFrameConstants& c, int width, int height)
      : c_(c), width_(width), height_(height), padded_(Arena::Floats(static_cast<std::size_t>(width) + 2)) {
    z_ = arena.Take<float>(3 * padded_);
    x_ = arena.Take<float>(3 * padded_);
    y_ = arena.Take<float>(3 * padded_);
    out_ = arena.Take<float>(width);
    bits_ = arena.Take<std::uint32_t>(width);
    normal_ = arena.Take<float>(width);
    if (!c.noise_on) std::fill(normal_, normal_ + width, 0.0f);  // read by DepthRow's vector lanes, never used
  }

  void Run(const float* in, float* out, int y0, int y1, randomize::PhiloxKey key, std::uint32_t frame,
           const SensorTables& tables) {
    in_ = in;
    loaded_ = std::max(0, y0 - 1) - 1;
    for (int y = y0; y < y1; ++y) {
      const int up = std::max(0, y - 1);
      const int down = std::min(height_ - 1, y + 1);
      Load(down);
      if (c_.noise_on) {
        PhiloxRow1(key, static_cast<std::uint32_t>(y) * static_cast<std::uint32_t>(width_), frame, 1u, width_, bits_);
        NormalRow(bits_, width_, tables.normal, normal_);
      }
      const DepthRowInputs rows{Z(y), Z(up), Z(down), X(y), Y(y), X(up), Y(up), X(down), Y(down), normal_,
                                width_ > 1, height_ > 1};
      DepthRow(rows, width_, c_, out_);
      std::memcpy(out + static_cast<std::size_t>(y) * width_, out_, static_cast<std::size_t>(width_) * sizeof(float));
    }
  }

 private:
  float* Slot(float* ring, int r) { return ring + static_cast<std::size_t>(r % 3) * padded_ + 1; }
  float* Z(int r) { return Slot(z_, r); }
  float* X(int r) { return Slot(x_, r); }
  float* Y(int r) { return Slot(y_, r); }

  void Load(int r) {
    while (loaded_ < r) {
      const int row = ++loaded_;
      float* z = Z(row);
      std::memcpy(z, in_ + static_cast<std::size_t>(row) * width_, static_cast<std::size_t>(width_) * sizeof(float));
      BackProjectRow(z, width_, row, c_, X(row), Y(row));
      for (float* p : {z, X(row), Y(row)}) {  // DepthPixel's clamped neighbours
        p[-1] = p[0];
        p[width_] = p[width_ - 1];
      }
    }
  }

  const DepthFrameConstants& c_;
  const int width_, height_;
  const std::size_t padded_;
  const float* in_ = nullptr;
  int loaded_ = -1;
  float* z_;
  float* x_;
  float* y_;
  float* out_;
  std::uint32_t* bits_;
  float* normal_;
};

// Calls body(arena, frame, in, out, y0, y1) for every band of rows [y0, y1) of every frame, on `threads`
// threads, each worker with its own arena. in and out point to the frame; bands of one frame overlap in what
// they read, so with more than one band per frame `in` is a copy of the input made first.
template <typename Pixel, typename Body>
void ForEachBand(Pixel* data, int frames, int height, std::size_t frame_elements, int threads,
                 std::size_t arena_floats, const Body& body) {
  const int band_rows = BandRows(frames, height, threads);
  const int bands = (height + band_rows - 1) / band_rows;
  std::unique_ptr<Pixel[]> copy;
  if (bands > 1) {
    copy = std::make_unique_for_overwrite<Pixel[]>(frame_elements * frames);
    ParallelFor(frames, threads, 1, [&](std::int64_t f, int) {
      std::memcpy(copy.get() + f * frame_elements, data + f * frame_elements, frame_elements * sizeof(Pixel));
    });
  }
  const std::int64_t units = static_cast<std::int64_t>(frames) * bands;
  std::vector<std::unique_ptr<Arena>> arenas(WorkersFor(units, threads));
  for (auto& arena : arenas) arena = std::make_unique<Arena>(arena_floats);
  ParallelFor(units, threads, 1, [&](std::int64_t unit, int worker) {
    const int f = static_cast<int>(unit / bands);
    const int band = static_cast<int>(unit % bands);
    Arena& arena = *arenas[worker];
    arena.Reset();
    const Pixel* in = (bands > 1 ? copy.get() : data) + f * frame_elements;
    body(arena, f, in, data + f * frame_elements, band * band_rows, std::min(height, (band + 1) * band_rows));
  });
}

}  // namespace

void CameraCpu(RgbBatch batch, const CameraPlan& plan, int threads, float* output_dn) {
  const SensorTables& tables = Tables();
  const int w = batch.width;
  const int h = batch.height;
  ForEachBand(batch.data, batch.frames, h, static_cast<std::size_t>(w) * h * 3, threads,
              CameraStream::ArenaFloats(plan, w, h),
              [&](Arena& arena, int f, const std::uint8_t* in, std::uint8_t* out, int y0, int y1) {
                CameraStream stream(arena, plan.frames[f], w, h);
                float* dn = output_dn != nullptr ? output_dn + static_cast<std::size_t>(f) * w * h * 3 : nullptr;
                stream.Run(in, out, y0, y1, plan.key, plan.first_frame + f, tables, dn);
              });
}

void DepthCpu(DepthBatch batch, const DepthPlan& plan, int threads) {
  const SensorTables& tables = Tables();
  const int w = batch.width;
  const int h = batch.height;
  ForEachBand(batch.data, batch.frames, h, static_cast<std::size_t>(w) * h, threads, DepthStream::ArenaFloats(w),
              [&](Arena& arena, int f, const float* in, float* out, int y0, int y1) {
                DepthStream stream(arena, plan.frames[f], w, h);
                stream.Run(in, out, y0, y1, plan.key, plan.first_frame + f, tables);
              });
}

float StandardNormalCpu(std::uint32_t bits) {
  const SensorTables& tables = Tables();
  return StandardNormalLanes(bits, tables.normal, NormalDeepestTail(tables.normal));
}

void DctQuantizeBlockCpu(float* block, const float* q) {
  Row8 rows[8];
  for (int j = 0; j < 8; ++j) LoadRow8(rows[j], block + 8 * j);
  DctQuantizeRows(rows, q, Tables());
  for (int j = 0; j < 8; ++j) StoreRow8(block + 8 * j, rows[j]);
}

void Yuv420Cpu(RgbBatch in, Yuv420Batch out, int threads) {
  const int w = in.width;
  const int h = in.height;
  const std::int64_t frame_px = static_cast<std::int64_t>(w) * h;
  const std::int64_t chroma_rows = static_cast<std::int64_t>(in.frames) * (h / 2);
  ParallelFor(chroma_rows, threads, RowGrain(w) / 2 + 1, [&](std::int64_t r, int) {
    const int f = static_cast<int>(r / (h / 2));
    const int cy = static_cast<int>(r % (h / 2));
    const std::uint8_t* rgb = in.data + f * frame_px * 3;
    std::uint8_t* y = out.y + f * frame_px;
    std::uint8_t* u = out.u + f * (frame_px / 4);
    std::uint8_t* v = out.v + f * (frame_px / 4);
    for (int cx = 0; cx < w / 2; ++cx) Yuv420Block(rgb, w, cx, cy, y, u, v);
  });
}

}  // namespace r2s::cuda::backend

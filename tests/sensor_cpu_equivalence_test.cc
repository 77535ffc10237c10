// The CPU backend's fast path (streamed rows, structure of arrays, vectorized loops) against the straightforward
// evaluation of the same shared per-pixel functions: whole-frame passes, pixel by pixel, as the CUDA kernels run
// them. The two must agree bit for bit (uint8 camera output, float depth output) for every combination of
// effects, on random frames whose sizes are not multiples of 8, at several thread counts. A change to either
// side that alters one pixel's floating-point operations fails here, not only on a GPU machine.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "cuda/camera_model.h"
#include "cuda/depth_model.h"
#include "cuda/sensor.h"
#include "cuda/sensor_backend.h"
#include "cuda/sensor_plan.h"
#include "randomize/philox.h"

// As the library is built (cuda/CMakeLists.txt): no fused multiply-adds in the reference either.
#pragma GCC optimize("fp-contract=off")

namespace r2s::cuda {
namespace {

NoiseKey Key(std::uint32_t first_frame = 5) {
  return NoiseKey{randomize::StreamKey{77, 2, 1, randomize::StreamId("noise/equivalence")}, first_frame};
}

// ---- the reference: the CUDA backend's passes, on the host ----

// output_dn: every pixel's output DN before rounding and before the JPEG-like stage, float HWC.
void ReferenceCamera(RgbBatch batch, const backend::CameraPlan& plan, float* output_dn) {
  const SensorTables& tables = backend::Tables();
  const int w = batch.width, h = batch.height;
  const std::size_t frame_floats = static_cast<std::size_t>(w) * h * 3;
  for (int f = 0; f < batch.frames; ++f) {
    const CameraFrameConstants& c = plan.frames[f];
    std::uint8_t* rgb = batch.data + f * frame_floats;
    std::vector<float> a(frame_floats), b(frame_floats);
    for (std::size_t i = 0; i < frame_floats; ++i) a[i] = c.linearize[rgb[i]];
    auto pass = [&](const std::vector<float>& from, std::vector<float>& to, auto sample) {
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const Rgbf v = sample(from.data(), x, y);
          float* p = to.data() + (static_cast<std::size_t>(y) * w + x) * 3;
          p[0] = v.r;
          p[1] = v.g;
          p[2] = v.b;
        }
    };
    if (c.blur_radius > 0) {
      pass(a, b, [&](const float* in, int x, int y) { return GaussianRow(in, w, x, y, c); });
      pass(b, a, [&](const float* in, int x, int y) { return GaussianColumn(in, w, h, x, y, c); });
    }
    std::vector<float>* src = &a;
    if (c.motion_taps > 0) {
      pass(a, b, [&](const float* in, int x, int y) { return MotionBlur(in, w, h, x, y, c); });
      src = &b;
    }
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        float* lin = src->data() + (static_cast<std::size_t>(y) * w + x) * 3;
        const Rgbf out = CameraPointwise(Rgbf{lin[0], lin[1], lin[2]}, x, y, w, h, static_cast<std::uint32_t>(y * w + x),
                                         plan.first_frame + f, plan.key, c, tables.normal);
        lin[0] = out.r;
        lin[1] = out.g;
        lin[2] = out.b;
        float* dn = output_dn + f * frame_floats + (static_cast<std::size_t>(y) * w + x) * 3;
        dn[0] = out.r;
        dn[1] = out.g;
        dn[2] = out.b;
        std::uint8_t* px = rgb + (static_cast<std::size_t>(y) * w + x) * 3;
        px[0] = RoundToU8(out.r);
        px[1] = RoundToU8(out.g);
        px[2] = RoundToU8(out.b);
      }
    if (c.jpeg_on) {
      for (int by = 0; by < (h + 7) / 8; ++by)
        for (int bx = 0; bx < (w + 7) / 8; ++bx) JpegBlock(src->data(), rgb, w, h, bx, by, c, tables.dct);
    }
  }
}

void ReferenceDepth(DepthBatch batch, const backend::DepthPlan& plan) {
  const SensorTables& tables = backend::Tables();
  const int w = batch.width, h = batch.height;
  const std::size_t frame_px = static_cast<std::size_t>(w) * h;
  for (int f = 0; f < batch.frames; ++f) {
    const std::vector<float> in(batch.data + f * frame_px, batch.data + (f + 1) * frame_px);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        batch.data[f * frame_px + static_cast<std::size_t>(y) * w + x] =
            DepthPixel(in.data(), w, h, x, y, static_cast<std::uint32_t>(y * w + x), plan.first_frame + f, plan.key,
                       plan.frames[f], tables.normal);
      }
  }
}

// ---- inputs ----

std::uint32_t Random(std::uint32_t a, std::uint32_t b, std::uint32_t c = 0) {
  return randomize::Philox({0x5eed, 0x1234}, a, b, c, 0).w[0];
}

// Random bytes, with a bright and a dark block so clipping at 0 and 255 occurs.
std::vector<std::uint8_t> RandomRgb(int frames, int h, int w, std::uint32_t seed) {
  std::vector<std::uint8_t> rgb(std::size_t(frames) * h * w * 3);
  for (std::size_t i = 0; i < rgb.size(); ++i) {
    const std::size_t px = i / 3;
    const int x = static_cast<int>(px % w), y = static_cast<int>(px / w % h);
    rgb[i] = static_cast<std::uint8_t>(Random(seed, static_cast<std::uint32_t>(i)));
    if (x < w / 4 && y < h / 4) rgb[i] = 255;
    if (x >= 3 * w / 4 && y >= 3 * h / 4) rgb[i] = static_cast<std::uint8_t>(rgb[i] % 3);
  }
  return rgb;
}

// Smooth depth with steps, holes, and values the model rejects (NaN, infinities, negatives, out of range).
std::vector<float> RandomDepth(int frames, int h, int w, std::uint32_t seed) {
  std::vector<float> z(std::size_t(frames) * h * w);
  for (std::size_t i = 0; i < z.size(); ++i) {
    const int x = static_cast<int>(i % w), y = static_cast<int>(i / w % h);
    const std::uint32_t r = Random(seed, static_cast<std::uint32_t>(i));
    z[i] = 0.5f + 0.03f * x + 0.02f * y + ((x / 7 + y / 5) % 3 == 0 ? 0.4f : 0.0f) + (r % 1000) * 1e-5f;
    switch (r >> 28) {
      case 0: z[i] = 0.0f; break;
      case 1: z[i] = (r & 1) ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity(); break;
      case 2: z[i] = -z[i]; break;
      case 3: z[i] = 9.0f; break;
      default: break;
    }
  }
  return z;
}

// ---- camera ----

// Bit k of `effects` turns on effect k, in this order.
constexpr const char* kCameraEffects[] = {"blur", "motion", "noise", "jitter", "vignetting", "jpeg"};

CameraModelParams CameraWith(unsigned effects, int variant) {
  CameraModelParams p;
  p.exposure = 1.15;
  p.white_balance_r = 1.1;
  p.white_balance_b = 0.85;
  p.gamma = 2.0 + 0.1 * variant;
  if (effects & 1u) p.blur_sigma_px = 0.7 + 0.6 * variant;
  if (effects & 2u) {
    p.motion_blur_length_px = 2.5 + 2.0 * variant;
    p.motion_blur_angle_rad = -2.2 + 1.7 * variant;  // negative dy, then positive
  }
  if (effects & 4u) {
    p.shot_noise_gain = 0.5;
    p.read_noise_std_dn = 2.0;
  }
  if (effects & 8u) {
    p.brightness = 1.1;
    p.contrast = 0.85;
    p.saturation = 1.3;
    p.hue_shift_rad = 0.3;
  }
  if (effects & 16u) p.vignetting = 0.4;
  if (effects & 32u) p.jpeg_quality = 30 + 40 * variant;
  return p;
}

std::string Describe(unsigned effects) {
  std::string s;
  for (unsigned k = 0; k < 6; ++k)
    if (effects & (1u << k)) s += std::string(s.empty() ? "" : "+") + kCameraEffects[k];
  return s.empty() ? "none" : s;
}

// Runs both paths on the same frames and fails on the first difference in the output or in the DN before rounding.
void ExpectCameraEquivalent(const std::vector<CameraModelParams>& per_frame, int frames, int h, int w, int threads,
                            const std::string& what) {
  const std::vector<std::uint8_t> input = RandomRgb(frames, h, w, static_cast<std::uint32_t>(h * 1000 + w));
  std::vector<std::uint8_t> reference = input, fast = input;
  std::vector<float> reference_dn(input.size()), fast_dn(input.size());
  const backend::CameraPlan plan = backend::MakeCameraPlan(RgbBatch{reference.data(), frames, h, w}, per_frame, Key());
  ReferenceCamera(RgbBatch{reference.data(), frames, h, w}, plan, reference_dn.data());
  backend::CameraCpu(RgbBatch{fast.data(), frames, h, w}, plan, threads, fast_dn.data());
  // Rounding to uint8 hides most one-ulp differences: the DN before it must agree too.
  std::size_t differ_dn = 0, first_dn = 0;
  for (std::size_t i = 0; i < fast_dn.size(); ++i) {
    if (std::bit_cast<std::uint32_t>(fast_dn[i]) != std::bit_cast<std::uint32_t>(reference_dn[i]) && differ_dn++ == 0) {
      first_dn = i;
    }
  }
  EXPECT_EQ(differ_dn, 0u) << what << ", " << threads << " threads: output DN before rounding, first at element "
                           << first_dn << ": " << fast_dn[first_dn] << " vs " << reference_dn[first_dn];
  std::size_t differ = 0, first = 0;
  for (std::size_t i = 0; i < fast.size(); ++i) {
    if (fast[i] != reference[i] && differ++ == 0) first = i;
  }
  EXPECT_EQ(differ, 0u) << what << ", " << threads << " threads, " << frames << "x" << h << "x" << w
                        << ": first at byte " << first << " (pixel " << first / 3 % (h * w) << " of frame "
                        << first / 3 / (h * w) << "): " << int(fast[first]) << " vs " << int(reference[first]);
  EXPECT_NE(reference, input) << what << ": the model did nothing, so agreement proves little";
}

TEST(CameraCpuEquivalence, EveryEffectCombination) {
  for (unsigned effects = 0; effects < 64; ++effects) {
    for (int variant = 0; variant < 2; ++variant) {
      const std::vector<CameraModelParams> one{CameraWith(effects, variant)};
      ExpectCameraEquivalent(one, 2, 21 + 8 * variant, 37 + 5 * variant, 1, Describe(effects));
    }
  }
}

TEST(CameraCpuEquivalence, ThreadCountsAndBands) {
  const std::vector<CameraModelParams> all{CameraWith(63, 1)};
  for (int threads : {1, 2, 3, 7, 16}) ExpectCameraEquivalent(all, 3, 53, 44, threads, "every effect");
  ExpectCameraEquivalent(all, 1, 120, 33, 5, "every effect, one frame in five bands");
}

TEST(CameraCpuEquivalence, PerFrameParametersInOneBatch) {
  std::vector<CameraModelParams> per_frame;
  for (unsigned effects : {63u, 0u, 5u, 34u, 18u}) per_frame.push_back(CameraWith(effects, static_cast<int>(effects % 2)));
  ExpectCameraEquivalent(per_frame, 5, 30, 41, 1, "mixed");
  ExpectCameraEquivalent(per_frame, 5, 30, 41, 4, "mixed");
}

TEST(CameraCpuEquivalence, ExtremeKernelsAndTinyFrames) {
  CameraModelParams wide = CameraWith(63, 0);
  wide.blur_sigma_px = 10.0;         // radius 30: taller than some frames below
  wide.motion_blur_length_px = 63;   // 64 taps
  wide.motion_blur_angle_rad = 1.3;  // mostly vertical
  CameraModelParams flat = CameraWith(63, 1);
  flat.motion_blur_length_px = 40;
  flat.motion_blur_angle_rad = 3.14159;  // horizontal, leftwards: runs of tabled columns at both edges
  for (const CameraModelParams& p : {wide, flat}) {
    const std::vector<CameraModelParams> one{p};
    ExpectCameraEquivalent(one, 1, 70, 90, 1, "wide kernels");
    ExpectCameraEquivalent(one, 2, 9, 13, 2, "wide kernels, small frame");
    ExpectCameraEquivalent(one, 1, 1, 17, 1, "one row");
    ExpectCameraEquivalent(one, 1, 17, 1, 1, "one column");
  }
}

// ---- depth ----

DepthModelParams DepthWith(unsigned effects, int quantization) {
  DepthModelParams p;
  if (effects & 1u) {
    p.noise_std_m = 0.002;
    p.noise_std_per_m = 0.004;
  }
  if (effects & 2u) p.edge_jump_m = 0.08;
  if (effects & 4u) {
    p.max_incidence_rad = 1.1;
    p.fx = 40;
    p.fy = 45;
    p.cx = 20.5;
    p.cy = 14;
  }
  if (effects & 8u) {
    p.min_range_m = 0.6;
    p.max_range_m = 3.0;
  }
  p.quantization = quantization == 0   ? DepthQuantization::kNone
                   : quantization == 1 ? DepthQuantization::kUniform
                                       : DepthQuantization::kDisparity;
  p.quantization_step_m = quantization == 1 ? 0.01 : 0.003;
  return p;
}

void ExpectDepthEquivalent(const std::vector<DepthModelParams>& per_frame, int frames, int h, int w, int threads,
                           const std::string& what) {
  const std::vector<float> input = RandomDepth(frames, h, w, static_cast<std::uint32_t>(h * 977 + w));
  std::vector<float> reference = input, fast = input;
  const backend::DepthPlan plan = backend::MakeDepthPlan(DepthBatch{reference.data(), frames, h, w}, per_frame, Key());
  ReferenceDepth(DepthBatch{reference.data(), frames, h, w}, plan);
  backend::DepthCpu(DepthBatch{fast.data(), frames, h, w}, plan, threads);
  std::size_t differ = 0, first = 0;
  for (std::size_t i = 0; i < fast.size(); ++i) {
    if (std::bit_cast<std::uint32_t>(fast[i]) != std::bit_cast<std::uint32_t>(reference[i]) && differ++ == 0) first = i;
  }
  EXPECT_EQ(differ, 0u) << what << ", " << threads << " threads, " << frames << "x" << h << "x" << w
                        << ": first at pixel " << first << ": " << fast[first] << " vs " << reference[first];
}

TEST(DepthCpuEquivalence, EveryEffectCombination) {
  constexpr const char* kNames[] = {"noise", "edge", "grazing", "range"};
  for (unsigned effects = 0; effects < 16; ++effects) {
    for (int quantization = 0; quantization < 3; ++quantization) {
      std::string what = "quantization " + std::to_string(quantization);
      for (unsigned k = 0; k < 4; ++k)
        if (effects & (1u << k)) what += std::string("+") + kNames[k];
      const std::vector<DepthModelParams> one{DepthWith(effects, quantization)};
      ExpectDepthEquivalent(one, 2, 29, 41, 1, what);
    }
  }
}

TEST(DepthCpuEquivalence, ThreadCountsBandsAndTinyFrames) {
  const std::vector<DepthModelParams> all{DepthWith(15, 2)};
  for (int threads : {1, 2, 3, 7}) ExpectDepthEquivalent(all, 3, 37, 26, threads, "everything");
  ExpectDepthEquivalent(all, 1, 1, 19, 1, "one row");
  ExpectDepthEquivalent(all, 1, 19, 1, 1, "one column");
  ExpectDepthEquivalent(all, 1, 1, 1, 1, "one pixel");
  const std::vector<DepthModelParams> mixed{DepthWith(15, 1), DepthWith(3, 0), DepthWith(12, 2)};
  ExpectDepthEquivalent(mixed, 3, 33, 40, 2, "per-frame parameters");
}

// ---- the DCT round trip ----

TEST(CpuDct, MatchesDctQuantizeBlockBitForBit) {
  const SensorTables& tables = backend::Tables();
  for (int quality : {5, 50, 75, 95, 100}) {
    const backend::CameraPlan plan = [&] {
      CameraModelParams p;
      p.jpeg_quality = quality;
      std::uint8_t px[3] = {0, 0, 0};
      return backend::MakeCameraPlan(RgbBatch{px, 1, 1, 1}, std::span(&p, 1), Key());
    }();
    for (std::uint32_t trial = 0; trial < 2000; ++trial) {
      float want[64], got[64];
      for (int i = 0; i < 64; ++i) {  // centred luma- or chroma-like values, some blocks nearly flat
        const std::uint32_t r = Random(trial, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(quality));
        want[i] = got[i] = (trial % 4 == 0 ? 40.0f : 0.0f) + static_cast<float>(r % 200000) / 781.25f - 128.0f;
      }
      const float* q = plan.frames[0].jpeg_q[trial % 2];
      DctQuantizeBlock(want, q, tables.dct);
      backend::DctQuantizeBlockCpu(got, q);
      for (int i = 0; i < 64; ++i) {
        ASSERT_EQ(std::bit_cast<std::uint32_t>(got[i]), std::bit_cast<std::uint32_t>(want[i]))
            << "quality " << quality << ", trial " << trial << ", element " << i << ": " << got[i] << " vs " << want[i];
      }
    }
  }
}

// ---- the normal draw ----

TEST(CpuStandardNormal, MatchesStandardNormalWordByWord) {
  const SensorTables& tables = backend::Tables();
  auto expect_same = [&](std::uint32_t bits) {
    const float want = StandardNormal(bits, tables.normal);
    const float got = backend::StandardNormalCpu(bits);
    ASSERT_EQ(std::bit_cast<std::uint32_t>(got), std::bit_cast<std::uint32_t>(want)) << "bits 0x" << std::hex << bits;
  };
  for (std::uint32_t sign : {0u, 0x80000000u}) {
    expect_same(sign);  // q = 0: the deepest tail
    for (int e = 0; e <= 30; ++e) {  // every octave's ends and neighbours
      const std::uint32_t lead = 1u << e;
      for (std::uint32_t q : {lead - 1, lead, lead + 1, 2 * lead - 1, lead + lead / 2, lead + lead / 3})
        if (q != 0 && q <= 0x7FFFFFFFu) expect_same(sign | q);
    }
  }
  for (std::uint32_t i = 0; i < (1u << 20); ++i) {
    const std::uint32_t r = Random(i, 99);
    expect_same(r);
    expect_same(r >> (i % 31));  // deep octaves too
  }
}

}  // namespace
}  // namespace r2s::cuda

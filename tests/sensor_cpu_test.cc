// The sensor models on the CPU backend: the noise models checked statistically against their parameters, the
// deterministic pieces (blur, white balance, YUV matrix, JPEG-like quantization, depth dropout) against their
// definitions, and determinism across thread counts and batching.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/sensor.h"
#include "randomize/philox.h"

namespace r2s::cuda {
namespace {

using randomize::StreamId;

SensorOptions Cpu(int threads = 2) { return SensorOptions{Device::kCpu, threads}; }

NoiseKey Key(std::uint32_t episode = 3, std::string_view camera = "noise/front", std::uint32_t first_frame = 0) {
  return NoiseKey{randomize::StreamKey{20240501, episode, 7, StreamId(camera)}, first_frame};
}

// gamma 1 in and out, everything else off: output DN = linear signal, so noise statistics read off directly.
CameraModelParams LinearCamera() {
  CameraModelParams p;
  p.input_gamma = 1.0;
  p.gamma = 1.0;
  return p;
}

struct Frames {
  int frames, height, width;
  std::vector<std::uint8_t> data;
  Frames(int f, int h, int w, std::uint8_t fill = 0)
      : frames(f), height(h), width(w), data(std::size_t(f) * h * w * 3, fill) {}
  RgbBatch batch() { return RgbBatch{data.data(), frames, height, width}; }
  std::uint8_t& at(int f, int y, int x, int c) { return data[((std::size_t(f) * height + y) * width + x) * 3 + c]; }
};

// Random-looking but smooth-ish content (a few gradients plus a hash), the same every run.
Frames TestImage(int f, int h, int w) {
  Frames img(f, h, w);
  for (int k = 0; k < f; ++k)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) {
          const std::uint32_t hash = randomize::Philox({1, 2}, x, y, k, c).w[0];
          img.at(k, y, x, c) = static_cast<std::uint8_t>((x * 3 + y * 2 + c * 60 + k * 17 + (hash & 31)) % 256);
        }
  return img;
}

CameraModelParams EverythingOn() {
  CameraModelParams p;
  p.exposure = 1.3;
  p.shot_noise_gain = 0.4;
  p.read_noise_std_dn = 1.5;
  p.gamma = 2.0;
  p.brightness = 1.1;
  p.contrast = 0.9;
  p.saturation = 1.2;
  p.hue_shift_rad = 0.2;
  p.white_balance_r = 1.1;
  p.white_balance_b = 0.9;
  p.vignetting = 0.3;
  p.blur_sigma_px = 1.2;
  p.motion_blur_length_px = 4.5;
  p.motion_blur_angle_rad = 0.6;
  p.jpeg_quality = 60;
  return p;
}

TEST(CameraNoise, VarianceFollowsShotPlusReadModel) {
  CameraModelParams p = LinearCamera();
  p.shot_noise_gain = 0.5;
  p.read_noise_std_dn = 2.0;
  for (int level : {12, 30, 50, 75, 100, 130, 160, 190, 215}) {
    Frames img(4, 256, 256, static_cast<std::uint8_t>(level));
    ApplyCameraModel(img.batch(), std::span(&p, 1), Key(), Cpu());
    double sum = 0, sum2 = 0;
    for (std::uint8_t v : img.data) {
      sum += v;
      sum2 += double(v) * v;
    }
    const double n = static_cast<double>(img.data.size());
    const double mean = sum / n;
    const double var = sum2 / n - mean * mean;
    // Rounding to integers adds the variance of a uniform over one DN.
    const double model = p.shot_noise_gain * level + p.read_noise_std_dn * p.read_noise_std_dn + 1.0 / 12.0;
    EXPECT_NEAR(var, model, 0.05 * model) << "signal " << level << " DN";
    EXPECT_NEAR(mean, level, 0.05) << "signal " << level << " DN";
  }
}

TEST(CameraNoise, DeterministicPerKeyFrameAndCamera) {
  const CameraModelParams p = EverythingOn();
  const Frames src = TestImage(3, 40, 52);
  auto run = [&](NoiseKey key, int threads) {
    Frames img = src;
    ApplyCameraModel(img.batch(), std::span(&p, 1), key, Cpu(threads));
    return img.data;
  };
  const auto one = run(Key(), 1);
  EXPECT_EQ(one, run(Key(), 1));
  EXPECT_EQ(one, run(Key(), 2));
  EXPECT_EQ(one, run(Key(), 7));
  EXPECT_NE(one, run(Key(3, "noise/wrist"), 1)) << "another camera draws other noise";
  EXPECT_NE(one, run(Key(4), 1)) << "another episode draws other noise";
  EXPECT_NE(one, run(Key(3, "noise/front", 1), 1)) << "other frame indices draw other noise";
}

TEST(CameraNoise, BatchingDoesNotChangeTheNoise) {
  CameraModelParams p = LinearCamera();
  p.read_noise_std_dn = 3.0;
  Frames all(4, 16, 24, 100);
  ApplyCameraModel(all.batch(), std::span(&p, 1), Key(), Cpu());
  Frames tail(2, 16, 24, 100);
  ApplyCameraModel(tail.batch(), std::span(&p, 1), Key(3, "noise/front", 2), Cpu());
  EXPECT_TRUE(std::equal(tail.data.begin(), tail.data.end(), all.data.begin() + all.data.size() / 2));
  EXPECT_FALSE(std::equal(tail.data.begin(), tail.data.end(), all.data.begin()));
}

TEST(CameraModel, IdentityParametersKeepTheFrame) {
  const CameraModelParams p;  // gamma 2.2 in and out, nothing else
  Frames img = TestImage(2, 24, 40);
  const auto before = img.data;
  ApplyCameraModel(img.batch(), std::span(&p, 1), Key(), Cpu());
  EXPECT_EQ(img.data, before);
}

TEST(CameraModel, ExposureAndWhiteBalanceAreExactMultiples) {
  CameraModelParams p = LinearCamera();
  p.exposure = 1.5;
  p.white_balance_r = 2.0;
  p.white_balance_g = 1.0;
  p.white_balance_b = 0.5;
  Frames img(1, 8, 8, 40);
  ApplyCameraModel(img.batch(), std::span(&p, 1), Key(), Cpu());
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) {
      EXPECT_EQ(img.at(0, y, x, 0), 120);
      EXPECT_EQ(img.at(0, y, x, 1), 60);
      EXPECT_EQ(img.at(0, y, x, 2), 30);
    }
  }
}

TEST(CameraModel, ParametersApplyPerFrame) {
  CameraModelParams dim = LinearCamera();
  CameraModelParams bright = LinearCamera();
  bright.exposure = 2.0;
  const CameraModelParams per_frame[] = {dim, bright};
  Frames img(2, 6, 6, 50);
  ApplyCameraModel(img.batch(), per_frame, Key(), Cpu());
  EXPECT_EQ(img.at(0, 3, 3, 1), 50);
  EXPECT_EQ(img.at(1, 3, 3, 1), 100);
}

TEST(CameraModel, GaussianBlurOfALineHasUnitSumAndItsSigma) {
  CameraModelParams p = LinearCamera();
  p.blur_sigma_px = 2.0;
  Frames img(1, 16, 41);
  for (int y = 0; y < 16; ++y)
    for (int c = 0; c < 3; ++c) img.at(0, y, 20, c) = 255;  // a vertical line: the row pass spreads it
  ApplyCameraModel(img.batch(), std::span(&p, 1), Key(), Cpu());
  double sum = 0, m2 = 0;
  for (int x = 0; x < 41; ++x) {
    sum += img.at(0, 8, x, 0);
    m2 += double(x - 20) * (x - 20) * img.at(0, 8, x, 0);
  }
  EXPECT_NEAR(sum / 255.0, 1.0, 0.02);
  // The kernel is cut at 3 sigma (its variance is 0.973 sigma^2), and each tap is rounded to a DN.
  EXPECT_NEAR(std::sqrt(m2 / sum), 2.0, 0.1);
  // The column pass: a horizontal line spreads vertically the same way.
  Frames row(1, 41, 16);
  for (int x = 0; x < 16; ++x)
    for (int c = 0; c < 3; ++c) row.at(0, 20, x, c) = 255;
  ApplyCameraModel(row.batch(), std::span(&p, 1), Key(), Cpu());
  for (int y = 0; y < 41; ++y) EXPECT_EQ(row.at(0, y, 8, 2), img.at(0, 8, y, 2)) << y;
}

TEST(CameraModel, MotionBlurSpreadsAlongItsDirectionOnly) {
  CameraModelParams p = LinearCamera();
  p.motion_blur_length_px = 8.0;
  p.motion_blur_angle_rad = 0.0;  // horizontal
  Frames img(1, 21, 21);
  img.at(0, 10, 10, 0) = 252;
  ApplyCameraModel(img.batch(), std::span(&p, 1), Key(), Cpu());
  int row_sum = 0, lit_rows = 0;
  for (int x = 0; x < 21; ++x) row_sum += img.at(0, 10, x, 0);
  for (int y = 0; y < 21; ++y) {
    int s = 0;
    for (int x = 0; x < 21; ++x) s += img.at(0, y, x, 0);
    lit_rows += s > 0;
  }
  EXPECT_EQ(lit_rows, 1);
  EXPECT_NEAR(row_sum, 252, 5);
  EXPECT_EQ(img.at(0, 10, 14, 0), 28);  // 9 taps of 252 / 9 from x = 6 to 14
  EXPECT_EQ(img.at(0, 10, 15, 0), 0);
}

TEST(CameraModel, VignettingDarkensTheCornersByItsStrength) {
  CameraModelParams p = LinearCamera();
  p.vignetting = 0.5;
  Frames img(1, 200, 300, 200);
  ApplyCameraModel(img.batch(), std::span(&p, 1), Key(), Cpu());
  EXPECT_NEAR(img.at(0, 100, 150, 0), 200, 1);
  EXPECT_NEAR(img.at(0, 0, 0, 0), 100, 2);
  EXPECT_NEAR(img.at(0, 199, 299, 2), 100, 2);
  EXPECT_LT(img.at(0, 0, 150, 0), 200);
  EXPECT_GT(img.at(0, 0, 150, 0), img.at(0, 0, 0, 0));
}

TEST(CameraModel, ColourJitter) {
  CameraModelParams p = LinearCamera();
  p.hue_shift_rad = 2.0 * 3.14159265358979323846 / 3.0;  // a third of a turn about grey: R -> G -> B -> R
  Frames img(1, 2, 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x) {
      img.at(0, y, x, 0) = 200;
      img.at(0, y, x, 1) = 50;
      img.at(0, y, x, 2) = 10;
    }
  ApplyCameraModel(img.batch(), std::span(&p, 1), Key(), Cpu());
  EXPECT_EQ(img.at(0, 1, 1, 0), 10);
  EXPECT_EQ(img.at(0, 1, 1, 1), 200);
  EXPECT_EQ(img.at(0, 1, 1, 2), 50);

  CameraModelParams grey = LinearCamera();
  grey.saturation = 0.0;
  grey.contrast = 0.5;
  grey.brightness = 1.2;
  ApplyCameraModel(img.batch(), std::span(&grey, 1), Key(), Cpu());
  // luma of (10, 200, 50) = 126.09; x 1.2 = 151.3; contrast 0.5 about 127.5: 139.4
  EXPECT_EQ(img.at(0, 0, 0, 0), 139);
  EXPECT_EQ(img.at(0, 0, 0, 1), 139);
  EXPECT_EQ(img.at(0, 0, 0, 2), 139);
}

TEST(CameraModel, JpegLikeQuantization) {
  // A smooth image barely changes at quality 100.
  Frames smooth(1, 32, 48);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 48; ++x) {
      smooth.at(0, y, x, 0) = static_cast<std::uint8_t>(40 + 3 * x);
      smooth.at(0, y, x, 1) = static_cast<std::uint8_t>(60 + 2 * y + x);
      smooth.at(0, y, x, 2) = static_cast<std::uint8_t>(200 - 2 * y);
    }
  const auto before = smooth.data;
  CameraModelParams q100 = LinearCamera();
  q100.jpeg_quality = 100;
  ApplyCameraModel(smooth.batch(), std::span(&q100, 1), Key(), Cpu());
  int max_diff = 0;
  for (std::size_t i = 0; i < before.size(); ++i) max_diff = std::max(max_diff, std::abs(before[i] - smooth.data[i]));
  EXPECT_LE(max_diff, 2);

  // Fine low-contrast texture (+-12 DN of pixel noise on grey) loses most of its energy at quality 10.
  Frames checker(1, 32, 32);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x)
      for (int c = 0; c < 3; ++c) checker.at(0, y, x, c) = 116 + randomize::Philox({5, 6}, x, y, c, 0).w[0] % 25;
  auto hf_energy = [](const Frames& f) {
    double e = 0;
    for (int y = 0; y < 32; ++y)
      for (int x = 1; x < 32; ++x) {
        const double d = double(f.data[(y * 32 + x) * 3 + 1]) - f.data[(y * 32 + x - 1) * 3 + 1];
        e += d * d;
      }
    return e;
  };
  const double e0 = hf_energy(checker);
  CameraModelParams q10 = LinearCamera();
  q10.jpeg_quality = 10;
  ApplyCameraModel(checker.batch(), std::span(&q10, 1), Key(), Cpu());
  EXPECT_LT(hf_energy(checker), 0.2 * e0);
}

TEST(CameraModel, RejectsInvalidParameters) {
  CameraModelParams p;
  p.gamma = -1;
  Frames img(1, 4, 4);
  try {
    ApplyCameraModel(img.batch(), std::span(&p, 1), Key(), Cpu());
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("CameraModelParams[0].gamma = -1"), std::string::npos) << e.what();
  }
  const CameraModelParams two[2];
  Frames three(3, 4, 4);
  EXPECT_THROW(ApplyCameraModel(three.batch(), two, Key(), Cpu()), std::invalid_argument);
}

// ---- depth ----

struct Depth {
  int frames, height, width;
  std::vector<float> data;
  Depth(int f, int h, int w, float fill = 0) : frames(f), height(h), width(w), data(std::size_t(f) * h * w, fill) {}
  DepthBatch batch() { return DepthBatch{data.data(), frames, height, width}; }
  float& at(int f, int y, int x) { return data[(std::size_t(f) * height + y) * width + x]; }
};

TEST(DepthNoise, StdFollowsAPlusBZSquared) {
  DepthModelParams p;
  p.noise_std_m = 0.001;
  p.noise_std_per_m = 0.002;
  for (float z : {0.4f, 1.0f, 2.0f, 3.0f, 5.0f}) {
    Depth d(1, 256, 256, z);
    ApplyDepthModel(d.batch(), std::span(&p, 1), Key(), Cpu());
    double sum = 0, sum2 = 0;
    for (float v : d.data) {
      sum += v - z;
      sum2 += double(v - z) * (v - z);
    }
    const double n = static_cast<double>(d.data.size());
    const double std_m = std::sqrt(sum2 / n - (sum / n) * (sum / n));
    const double model = p.noise_std_m + p.noise_std_per_m * z * z;
    EXPECT_NEAR(std_m, model, 0.05 * model) << "z = " << z;
    EXPECT_NEAR(sum / n, 0.0, 0.02 * model) << "z = " << z;
  }
}

TEST(DepthModel, QuantizesUniformlyOrInDisparity) {
  Depth d(1, 1, 200);
  for (int x = 0; x < 200; ++x) d.at(0, 0, x) = 0.3f + 0.0237f * x;
  const Depth truth = d;
  DepthModelParams uniform;
  uniform.quantization = DepthQuantization::kUniform;
  uniform.quantization_step_m = 0.01;
  ApplyDepthModel(d.batch(), std::span(&uniform, 1), Key(), Cpu());
  for (int x = 0; x < 200; ++x) {
    const double steps = d.data[x] / 0.01;
    EXPECT_NEAR(steps, std::round(steps), 1e-3) << x;
    EXPECT_LE(std::abs(d.data[x] - truth.data[x]), 0.005 + 1e-6) << x;
  }
  Depth s = truth;
  DepthModelParams disparity;
  disparity.quantization = DepthQuantization::kDisparity;
  disparity.quantization_step_m = 0.002;  // 2 mm at 1 m, 8 mm at 2 m, 32 mm at 4 m
  ApplyDepthModel(s.batch(), std::span(&disparity, 1), Key(), Cpu());
  for (int x = 0; x < 200; ++x) {
    const double z = truth.data[x];
    const double steps = (1.0 / s.data[x]) / 0.002;
    EXPECT_NEAR(steps, std::round(steps), 1e-3) << x;
    EXPECT_LE(std::abs(s.data[x] - z), 0.5 * 0.002 * z * z * 1.05 + 1e-6) << x;
  }
  EXPECT_GT(std::abs(s.data[199] - truth.data[199]) + std::abs(s.data[198] - truth.data[198]), 0.004);
}

TEST(DepthModel, EdgeDropoutOnlyNextToJumps) {
  Depth d(1, 10, 20);
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 20; ++x) d.at(0, y, x) = x < 10 ? 1.0f : 2.0f + 0.01f * x;  // small slope: no jump
  DepthModelParams p;
  p.edge_jump_m = 0.1;
  ApplyDepthModel(d.batch(), std::span(&p, 1), Key(), Cpu());
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 20; ++x) {
      if (x == 9 || x == 10) {
        EXPECT_EQ(d.at(0, y, x), 0.0f) << x;
      } else {
        EXPECT_GT(d.at(0, y, x), 0.0f) << x;
      }
    }
}

TEST(DepthModel, GrazingAngleDropoutOnSteepPlanes) {
  // A plane through (0, 0, 1) whose normal is tilted by `tilt` from the optical axis, seen by a 500 px camera.
  auto plane = [](double tilt) {
    Depth d(1, 64, 64);
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x) {
        const double rx = (x - 32) / 500.0;
        d.at(0, y, x) = static_cast<float>(std::cos(tilt) / (std::sin(tilt) * rx + std::cos(tilt)));
      }
    return d;
  };
  DepthModelParams p;
  p.max_incidence_rad = 70.0 * 3.14159265358979 / 180.0;
  p.fx = p.fy = 500;
  p.cx = p.cy = 32;
  auto dropped = [&](Depth d) {
    ApplyDepthModel(d.batch(), std::span(&p, 1), Key(), Cpu());
    int n = 0;
    for (float v : d.data) n += v == 0.0f;
    return n;
  };
  EXPECT_EQ(dropped(plane(80.0 * 3.14159265358979 / 180.0)), 64 * 64);  // 76..84 deg everywhere
  EXPECT_EQ(dropped(plane(30.0 * 3.14159265358979 / 180.0)), 0);
  const int part = dropped(plane(68.0 * 3.14159265358979 / 180.0));  // 64..72 deg: only the side facing away
  EXPECT_GT(part, 64 * 4);
  EXPECT_LT(part, 64 * 32);
  p.max_incidence_rad = 85.0 * 3.14159265358979 / 180.0;
  EXPECT_EQ(dropped(plane(80.0 * 3.14159265358979 / 180.0)), 0);
}

TEST(DepthModel, NoReturnOutsideTheRange) {
  Depth d(1, 1, 6);
  const float z[] = {0.1f, 0.5f, 2.0f, 3.9f, 4.1f, 0.0f};
  std::copy(std::begin(z), std::end(z), d.data.begin());
  DepthModelParams p;
  p.min_range_m = 0.2;
  p.max_range_m = 4.0;
  ApplyDepthModel(d.batch(), std::span(&p, 1), Key(), Cpu());
  const std::vector<float> expected = {0.0f, 0.5f, 2.0f, 3.9f, 0.0f, 0.0f};
  EXPECT_EQ(d.data, expected);
}

TEST(DepthModel, DeterministicAcrossThreadCounts) {
  DepthModelParams p;
  p.noise_std_m = 0.002;
  p.noise_std_per_m = 0.003;
  p.quantization = DepthQuantization::kDisparity;
  p.quantization_step_m = 0.001;
  p.edge_jump_m = 0.05;
  p.max_incidence_rad = 1.3;
  p.fx = p.fy = 300;
  p.cx = 20;
  p.cy = 15;
  p.max_range_m = 3.5;
  Depth src(3, 30, 40);
  for (std::size_t i = 0; i < src.data.size(); ++i)
    src.data[i] = 0.5f + 0.001f * (i % 997) + ((i / 40) % 7 == 0 ? 1.0f : 0.0f);
  auto run = [&](int threads) {
    Depth d = src;
    ApplyDepthModel(d.batch(), std::span(&p, 1), Key(), Cpu(threads));
    return d.data;
  };
  const auto one = run(1);
  EXPECT_EQ(one, run(2));
  EXPECT_EQ(one, run(7));
}

// ---- YUV ----

struct Yuv {
  std::vector<std::uint8_t> y, u, v;
  Yuv420Batch batch(int f, int h, int w) {
    y.assign(std::size_t(f) * h * w, 0);
    u.assign(std::size_t(f) * h * w / 4, 0);
    v.assign(std::size_t(f) * h * w / 4, 0);
    return Yuv420Batch{y.data(), u.data(), v.data(), f, h, w};
  }
};

TEST(Yuv420, KnownColoursGiveBt601LimitedRange) {
  struct Case {
    std::uint8_t r, g, b, y, u, v;
  };
  const Case cases[] = {{255, 0, 0, 81, 90, 240},       {0, 255, 0, 145, 54, 34},       {0, 0, 255, 41, 240, 110},
                        {128, 128, 128, 126, 128, 128}, {255, 255, 255, 235, 128, 128}, {0, 0, 0, 16, 128, 128}};
  for (const Case& c : cases) {
    Frames img(1, 2, 2);
    for (int i = 0; i < 4; ++i) {
      img.data[3 * i] = c.r;
      img.data[3 * i + 1] = c.g;
      img.data[3 * i + 2] = c.b;
    }
    Yuv out;
    RgbToYuv420(img.batch(), out.batch(1, 2, 2), Cpu());
    EXPECT_EQ(out.y[0], c.y) << int(c.r) << "," << int(c.g) << "," << int(c.b);
    EXPECT_EQ(out.y[3], c.y);
    EXPECT_EQ(out.u[0], c.u) << int(c.r) << "," << int(c.g) << "," << int(c.b);
    EXPECT_EQ(out.v[0], c.v) << int(c.r) << "," << int(c.g) << "," << int(c.b);
  }
}

TEST(Yuv420, MatchesTheMatrixAndAveragesChromaOver2x2) {
  Frames img = TestImage(2, 16, 24);
  Yuv out;
  RgbToYuv420(img.batch(), out.batch(2, 16, 24), Cpu(3));
  for (int f = 0; f < 2; ++f)
    for (int cy = 0; cy < 8; ++cy)
      for (int cx = 0; cx < 12; ++cx) {
        double r = 0, g = 0, b = 0;
        for (int j = 0; j < 2; ++j)
          for (int i = 0; i < 2; ++i) {
            const int y = 2 * cy + j, x = 2 * cx + i;
            const double pr = img.at(f, y, x, 0), pg = img.at(f, y, x, 1), pb = img.at(f, y, x, 2);
            EXPECT_NEAR(out.y[(f * 16 + y) * 24 + x], 16 + 0.256788 * pr + 0.504129 * pg + 0.097906 * pb, 0.51);
            r += pr / 4;
            g += pg / 4;
            b += pb / 4;
          }
        const std::size_t c = (f * 8 + cy) * 12 + cx;
        EXPECT_NEAR(out.u[c], 128 - 0.148223 * r - 0.290993 * g + 0.439216 * b, 0.51);
        EXPECT_NEAR(out.v[c], 128 + 0.439216 * r - 0.367788 * g - 0.071427 * b, 0.51);
      }
  Frames odd(1, 3, 4);
  EXPECT_THROW(RgbToYuv420(odd.batch(), out.batch(1, 3, 4), Cpu()), std::invalid_argument);
}

// ---- devices ----

TEST(Devices, CudaWithoutCudaIsAClearErrorAndAutoFallsBack) {
  if (CudaAvailable()) GTEST_SKIP() << "a CUDA device is present";
  CameraModelParams p = EverythingOn();
  Frames img = TestImage(1, 16, 16);
  try {
    ApplyCameraModel(img.batch(), std::span(&p, 1), Key(), SensorOptions{Device::kCuda, 1});
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    const std::string expected =
        BuiltWithCuda() ? "no CUDA device" : "real2sim was built without CUDA (R2S_CUDA=OFF or no nvcc)";
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
  EXPECT_THROW(gpu::DeviceBuffer(16), std::runtime_error);

  Frames by_auto = TestImage(1, 16, 16);
  Frames by_cpu = by_auto;
  ApplyCameraModel(by_auto.batch(), std::span(&p, 1), Key(), SensorOptions{Device::kAuto, 1});
  ApplyCameraModel(by_cpu.batch(), std::span(&p, 1), Key(), Cpu());
  EXPECT_EQ(by_auto.data, by_cpu.data);
  EXPECT_EQ(DeviceName(Device::kAuto), "cpu");
}

}  // namespace
}  // namespace r2s::cuda

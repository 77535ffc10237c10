// CPU/GPU parity of the sensor models: every kernel with every effect on, on the same frames and noise key, on
// both devices. uint8 outputs must be bit-identical, depth within 1e-5 relative. Skips without a CUDA device
// (and so always skips in builds without CUDA, where it still compiles).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "cuda/sensor.h"
#include "randomize/philox.h"

namespace r2s::cuda {
namespace {

constexpr int kFrames = 3;
constexpr int kHeight = 61;  // not multiples of 8 or of the CUDA block: edge blocks and tails get exercised
constexpr int kWidth = 90;

NoiseKey Key() { return NoiseKey{randomize::StreamKey{99, 4, 2, randomize::StreamId("noise/front")}, 10}; }

std::vector<std::uint8_t> Frames() {
  std::vector<std::uint8_t> rgb(std::size_t(kFrames) * kHeight * kWidth * 3);
  for (std::size_t i = 0; i < rgb.size(); ++i) {
    const std::uint32_t h = randomize::Philox({7, 8}, static_cast<std::uint32_t>(i), 0, 0, 0).w[0];
    rgb[i] = static_cast<std::uint8_t>((i / 3 % kWidth) * 2 + (h & 63));
  }
  return rgb;
}

std::vector<CameraModelParams> EveryEffect() {
  std::vector<CameraModelParams> per_frame(kFrames);
  for (int f = 0; f < kFrames; ++f) {
    CameraModelParams& p = per_frame[f];
    p.exposure = 1.1 + 0.1 * f;
    p.shot_noise_gain = 0.3;
    p.read_noise_std_dn = 1.7;
    p.input_gamma = 2.2;
    p.gamma = 1.9 + 0.2 * f;
    p.brightness = 1.05;
    p.contrast = 0.9;
    p.saturation = 1.3;
    p.hue_shift_rad = 0.25 * (f - 1);
    p.white_balance_r = 1.1;
    p.white_balance_g = 0.95;
    p.white_balance_b = 0.8;
    p.vignetting = 0.35;
    p.blur_sigma_px = f == 1 ? 0.0 : 1.3;  // one frame without, to exercise per-frame skipping
    p.motion_blur_length_px = 5.5;
    p.motion_blur_angle_rad = 0.7;
    p.jpeg_quality = f == 2 ? 0 : 55;
  }
  return per_frame;
}

class SensorGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CudaAvailable()) GTEST_SKIP() << "no CUDA device";
  }
};

void ExpectCameraParity(const std::vector<CameraModelParams>& per_frame) {
  std::vector<std::uint8_t> cpu = Frames();
  std::vector<std::uint8_t> gpu = cpu;
  ApplyCameraModel(RgbBatch{cpu.data(), kFrames, kHeight, kWidth}, per_frame, Key(), {Device::kCpu, 2});
  ApplyCameraModel(RgbBatch{gpu.data(), kFrames, kHeight, kWidth}, per_frame, Key(), {Device::kCuda, 0});
  std::size_t differ = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) differ += cpu[i] != gpu[i];
  EXPECT_EQ(differ, 0u) << "of " << cpu.size() << " bytes";
  // Parity alone would also hold if both backends skipped the model: every frame must have changed.
  const std::vector<std::uint8_t> input = Frames();
  const std::size_t frame_bytes = cpu.size() / kFrames;
  for (int f = 0; f < kFrames; ++f) {
    EXPECT_FALSE(std::equal(cpu.begin() + f * frame_bytes, cpu.begin() + (f + 1) * frame_bytes,
                            input.begin() + f * frame_bytes))
        << "frame " << f << " is unchanged";
  }
}

TEST_F(SensorGpuTest, CameraModelEveryEffectIsBitIdentical) { ExpectCameraParity(EveryEffect()); }

TEST_F(SensorGpuTest, CameraModelNoiseOnlyIsBitIdentical) {
  CameraModelParams p;
  p.shot_noise_gain = 0.6;
  p.read_noise_std_dn = 2.5;
  ExpectCameraParity(std::vector<CameraModelParams>(kFrames, p));
}

TEST_F(SensorGpuTest, CameraModelDevicePointersMatchHostPointers) {
  const std::vector<CameraModelParams> per_frame = EveryEffect();
  std::vector<std::uint8_t> host = Frames();
  std::vector<std::uint8_t> via_device = host;
  ApplyCameraModel(RgbBatch{host.data(), kFrames, kHeight, kWidth}, per_frame, Key(), {Device::kCuda, 0});
  gpu::DeviceBuffer buffer(via_device.size());
  buffer.CopyFromHost(via_device.data(), via_device.size());
  gpu::ApplyCameraModelDevice(RgbBatch{static_cast<std::uint8_t*>(buffer.data()), kFrames, kHeight, kWidth}, per_frame,
                              Key());
  buffer.CopyToHost(via_device.data(), via_device.size());
  EXPECT_EQ(host, via_device);
  EXPECT_NE(host, Frames());
}

TEST_F(SensorGpuTest, DepthModelAgreesWithin1e5Relative) {
  std::vector<float> cpu(std::size_t(kFrames) * kHeight * kWidth);
  for (int f = 0; f < kFrames; ++f)
    for (int y = 0; y < kHeight; ++y)
      for (int x = 0; x < kWidth; ++x) {
        float z = 0.6f + 0.02f * x + 0.01f * y + 0.3f * f;    // a tilted plane
        if (x > 40 && x < 55 && y > 20 && y < 35) z -= 0.4f;  // a box in front: depth edges
        if ((x * 7 + y * 3) % 97 == 0) z = 0.0f;              // holes
        cpu[(std::size_t(f) * kHeight + y) * kWidth + x] = z;
      }
  std::vector<float> gpu = cpu;
  std::vector<DepthModelParams> per_frame(kFrames);
  for (int f = 0; f < kFrames; ++f) {
    DepthModelParams& p = per_frame[f];
    p.noise_std_m = 0.001;
    p.noise_std_per_m = 0.0025;
    p.quantization = f == 0 ? DepthQuantization::kUniform : DepthQuantization::kDisparity;
    p.quantization_step_m = 0.001;
    p.edge_jump_m = 0.1;
    p.max_incidence_rad = 1.2;
    p.fx = p.fy = 80;
    p.cx = 45;
    p.cy = 30;
    p.min_range_m = 0.3;
    p.max_range_m = 3.0;
  }
  ApplyDepthModel(DepthBatch{cpu.data(), kFrames, kHeight, kWidth}, per_frame, Key(), {Device::kCpu, 2});
  ApplyDepthModel(DepthBatch{gpu.data(), kFrames, kHeight, kWidth}, per_frame, Key(), {Device::kCuda, 0});
  std::size_t zeros = 0;
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    EXPECT_NEAR(gpu[i], cpu[i], 1e-5 * std::abs(cpu[i])) << "pixel " << i;
    EXPECT_EQ(gpu[i] == 0.0f, cpu[i] == 0.0f) << "pixel " << i;
    zeros += cpu[i] == 0.0f;
  }
  EXPECT_GT(zeros, 0u);
  EXPECT_LT(zeros, cpu.size() / 2);
}

TEST_F(SensorGpuTest, Yuv420IsBitIdentical) {
  const int h = kHeight - 1;  // 4:2:0 needs even sizes
  std::vector<std::uint8_t> rgb = Frames();
  rgb.resize(std::size_t(kFrames) * h * kWidth * 3);
  const std::size_t luma = std::size_t(kFrames) * h * kWidth;
  // Different fill values, so a byte neither backend writes cannot compare equal.
  std::vector<std::uint8_t> cpu(luma * 3 / 2, 0x00), gpu(luma * 3 / 2, 0xFF);
  auto planes = [&](std::vector<std::uint8_t>& out) {
    return Yuv420Batch{out.data(), out.data() + luma, out.data() + luma + luma / 4, kFrames, h, kWidth};
  };
  RgbToYuv420(RgbBatch{rgb.data(), kFrames, h, kWidth}, planes(cpu), {Device::kCpu, 2});
  RgbToYuv420(RgbBatch{rgb.data(), kFrames, h, kWidth}, planes(gpu), {Device::kCuda, 0});
  EXPECT_EQ(cpu, gpu);
}

}  // namespace
}  // namespace r2s::cuda

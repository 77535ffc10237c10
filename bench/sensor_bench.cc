// Sensor-model throughput in MB/s (bytes read + bytes written per second; the counter "MB" shows as MB=.../s) for 16
// frames of 640x480: the camera model with every effect and with noise only, the depth model, and RGB -> YUV 4:2:0. The
// CPU backend runs with 1 thread and with all hardware threads; where a CUDA device is present, the GPU kernels run on
// device memory (no host transfers; per-call constant upload included) and are also given as a fraction of a
// device-to-device cudaMemcpy's bandwidth measured in the same run. Without a device the GPU entries are not
// registered.
//
//   sensor_bench [google benchmark flags]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "cuda/sensor.h"
#include "randomize/philox.h"

namespace {

using namespace r2s::cuda;

constexpr int kFrames = 16;
constexpr int kHeight = 480;
constexpr int kWidth = 640;
constexpr std::size_t kPixels = std::size_t(kFrames) * kHeight * kWidth;

NoiseKey Key() { return NoiseKey{r2s::randomize::StreamKey{1, 0, 0, r2s::randomize::StreamId("noise/front")}, 0}; }

std::vector<std::uint8_t> Rgb() {
  std::vector<std::uint8_t> rgb(kPixels * 3);
  for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 24);
  return rgb;
}

std::vector<float> DepthFrames() {
  std::vector<float> z(kPixels);
  for (std::size_t i = 0; i < z.size(); ++i) {
    const int x = static_cast<int>(i % kWidth);
    const int y = static_cast<int>(i / kWidth % kHeight);
    z[i] = 0.8f + 0.002f * x + 0.001f * y + ((x / 80 + y / 80) % 2 ? 0.5f : 0.0f);  // tilted, with steps
  }
  return z;
}

CameraModelParams FullCamera() {
  CameraModelParams p;
  p.exposure = 1.2;
  p.shot_noise_gain = 0.4;
  p.read_noise_std_dn = 1.5;
  p.brightness = 1.05;
  p.contrast = 0.95;
  p.saturation = 1.1;
  p.hue_shift_rad = 0.1;
  p.white_balance_r = 1.05;
  p.white_balance_b = 0.95;
  p.vignetting = 0.3;
  p.blur_sigma_px = 1.0;
  p.motion_blur_length_px = 3.0;
  p.motion_blur_angle_rad = 0.4;
  p.jpeg_quality = 75;
  return p;
}

CameraModelParams NoiseOnlyCamera() {
  CameraModelParams p;
  p.shot_noise_gain = 0.4;
  p.read_noise_std_dn = 1.5;
  return p;
}

DepthModelParams Depth() {
  DepthModelParams p;
  p.noise_std_m = 0.001;
  p.noise_std_per_m = 0.002;
  p.quantization = DepthQuantization::kDisparity;
  p.quantization_step_m = 0.001;
  p.edge_jump_m = 0.1;
  p.max_incidence_rad = 1.3;
  p.fx = p.fy = 600;
  p.cx = 320;
  p.cy = 240;
  p.max_range_m = 4.0;
  return p;
}

void SetRate(benchmark::State& state, double bytes_per_iteration) {
  state.counters["MB"] = benchmark::Counter(bytes_per_iteration * static_cast<double>(state.iterations()) / 1e6,
                                            benchmark::Counter::kIsRate);
}

int Threads(const benchmark::State& state) {
  return state.range(0) > 0 ? static_cast<int>(state.range(0))
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void CameraCpu(benchmark::State& state, CameraModelParams p) {
  const std::vector<std::uint8_t> input = Rgb();
  std::vector<std::uint8_t> rgb = input;
  const SensorOptions options{Device::kCpu, Threads(state)};
  for (auto _ : state) {
    state.PauseTiming();
    rgb = input;
    state.ResumeTiming();
    ApplyCameraModel(RgbBatch{rgb.data(), kFrames, kHeight, kWidth}, std::span(&p, 1), Key(), options);
    benchmark::DoNotOptimize(rgb.data());
  }
  SetRate(state, 2.0 * kPixels * 3);
  state.counters["threads"] = Threads(state);
}

void BM_CameraFull_Cpu(benchmark::State& state) { CameraCpu(state, FullCamera()); }
void BM_CameraNoiseOnly_Cpu(benchmark::State& state) { CameraCpu(state, NoiseOnlyCamera()); }

void BM_Depth_Cpu(benchmark::State& state) {
  const std::vector<float> input = DepthFrames();
  std::vector<float> z = input;
  const DepthModelParams p = Depth();
  const SensorOptions options{Device::kCpu, Threads(state)};
  for (auto _ : state) {
    state.PauseTiming();
    z = input;
    state.ResumeTiming();
    ApplyDepthModel(DepthBatch{z.data(), kFrames, kHeight, kWidth}, std::span(&p, 1), Key(), options);
    benchmark::DoNotOptimize(z.data());
  }
  SetRate(state, 2.0 * kPixels * sizeof(float));
  state.counters["threads"] = Threads(state);
}

void BM_RgbToYuv420_Cpu(benchmark::State& state) {
  std::vector<std::uint8_t> rgb = Rgb();
  std::vector<std::uint8_t> yuv(kPixels * 3 / 2);
  const SensorOptions options{Device::kCpu, Threads(state)};
  for (auto _ : state) {
    RgbToYuv420(RgbBatch{rgb.data(), kFrames, kHeight, kWidth},
                Yuv420Batch{yuv.data(), yuv.data() + kPixels, yuv.data() + kPixels * 5 / 4, kFrames, kHeight, kWidth},
                options);
    benchmark::DoNotOptimize(yuv.data());
  }
  SetRate(state, kPixels * 3.0 + kPixels * 1.5);
  state.counters["threads"] = Threads(state);
}

// ---- GPU: device memory, kernels alone ----

double g_copy_mb_s = 0;  // device-to-device cudaMemcpy, MB/s counting bytes read + written

double MeasureCopyBandwidth() {
  const std::size_t bytes = kPixels * 3;  // one RGB batch
  gpu::DeviceBuffer a(bytes), b(bytes);
  for (int i = 0; i < 3; ++i) gpu::CopyDeviceToDevice(b.data(), a.data(), bytes);  // warm up
  const int reps = 50;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) gpu::CopyDeviceToDevice(b.data(), a.data(), bytes);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return 2.0 * bytes * reps / s / 1e6;
}

void SetGpuRate(benchmark::State& state, double bytes_per_iteration) {
  SetRate(state, bytes_per_iteration);
  // Filled in per iteration count so the ratio uses the same bytes as MB/s.
  state.counters["of_d2d_copy"] = benchmark::Counter(
      bytes_per_iteration * static_cast<double>(state.iterations()) / 1e6 / g_copy_mb_s, benchmark::Counter::kIsRate);
  state.counters["d2d_copy_MB/s"] = g_copy_mb_s;
}

void CameraGpu(benchmark::State& state, CameraModelParams p) {
  const std::vector<std::uint8_t> input = Rgb();
  gpu::DeviceBuffer rgb(input.size());
  rgb.CopyFromHost(input.data(), input.size());
  const RgbBatch batch{static_cast<std::uint8_t*>(rgb.data()), kFrames, kHeight, kWidth};
  for (auto _ : state) gpu::ApplyCameraModelDevice(batch, std::span(&p, 1), Key());
  SetGpuRate(state, 2.0 * kPixels * 3);
}

void BM_CameraFull_Gpu(benchmark::State& state) { CameraGpu(state, FullCamera()); }
void BM_CameraNoiseOnly_Gpu(benchmark::State& state) { CameraGpu(state, NoiseOnlyCamera()); }

void BM_Depth_Gpu(benchmark::State& state) {
  const std::vector<float> input = DepthFrames();
  gpu::DeviceBuffer in(input.size() * sizeof(float)), out(input.size() * sizeof(float));
  in.CopyFromHost(input.data(), input.size() * sizeof(float));
  const DepthModelParams p = Depth();
  const DepthBatch batch{static_cast<float*>(in.data()), kFrames, kHeight, kWidth};
  for (auto _ : state) gpu::ApplyDepthModelDevice(batch, static_cast<float*>(out.data()), std::span(&p, 1), Key());
  SetGpuRate(state, 2.0 * kPixels * sizeof(float));
}

void BM_RgbToYuv420_Gpu(benchmark::State& state) {
  const std::vector<std::uint8_t> input = Rgb();
  gpu::DeviceBuffer rgb(input.size()), yuv(kPixels * 3 / 2);
  rgb.CopyFromHost(input.data(), input.size());
  auto* y = static_cast<std::uint8_t*>(yuv.data());
  const Yuv420Batch out{y, y + kPixels, y + kPixels * 5 / 4, kFrames, kHeight, kWidth};
  for (auto _ : state)
    gpu::RgbToYuv420Device(RgbBatch{static_cast<std::uint8_t*>(rgb.data()), kFrames, kHeight, kWidth}, out);
  SetGpuRate(state, kPixels * 3.0 + kPixels * 1.5);
}

// The CPU baseline: copying the same RGB batch with memcpy (one thread), MB/s counted as read + write like the
// kernels, so each kernel's figure reads as a fraction of what moving its bytes costs.
void BM_Memcpy_Cpu(benchmark::State& state) {
  const std::vector<std::uint8_t> input = Rgb();
  std::vector<std::uint8_t> output(input.size());
  for (auto _ : state) {
    std::memcpy(output.data(), input.data(), input.size());
    benchmark::DoNotOptimize(output.data());
    benchmark::ClobberMemory();
  }
  SetRate(state, 2.0 * kPixels * 3);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("BM_Memcpy_Cpu", BM_Memcpy_Cpu)->Unit(benchmark::kMillisecond)->UseRealTime();
  // Argument 1 = one thread, 0 = every hardware thread.
  for (auto* bm : {benchmark::RegisterBenchmark("BM_CameraFull_Cpu", BM_CameraFull_Cpu),
                   benchmark::RegisterBenchmark("BM_CameraNoiseOnly_Cpu", BM_CameraNoiseOnly_Cpu),
                   benchmark::RegisterBenchmark("BM_Depth_Cpu", BM_Depth_Cpu),
                   benchmark::RegisterBenchmark("BM_RgbToYuv420_Cpu", BM_RgbToYuv420_Cpu)}) {
    bm->ArgName("threads")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  if (CudaAvailable()) {
    g_copy_mb_s = MeasureCopyBandwidth();
    std::printf("GPU: %s; device-to-device copy %.0f MB/s (read + write)\n", DeviceName(Device::kAuto).c_str(),
                g_copy_mb_s);
    for (auto* bm : {benchmark::RegisterBenchmark("BM_CameraFull_Gpu", BM_CameraFull_Gpu),
                     benchmark::RegisterBenchmark("BM_CameraNoiseOnly_Gpu", BM_CameraNoiseOnly_Gpu),
                     benchmark::RegisterBenchmark("BM_Depth_Gpu", BM_Depth_Gpu),
                     benchmark::RegisterBenchmark("BM_RgbToYuv420_Gpu", BM_RgbToYuv420_Gpu)}) {
      bm->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
  } else {
    std::printf("GPU benchmarks skipped: %s\n", BuiltWithCuda() ? "no CUDA device" : "real2sim was built without CUDA");
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

#pragma once
// Sensor models on frame batches: a camera model on uint8 RGB, a depth model on float depth, and RGB -> YUV
// 4:2:0 for the video encoder. Segmentation frames pass through untouched (there is no segmentation model:
// labels are exact by construction, and any noise on them would invent classes).
//
// Each runs on the CPU (threaded) or on a CUDA device, with one kernel body for both (cuda/camera_model.h,
// cuda/depth_model.h, cuda/yuv.h); the devices agree bit for bit on uint8 outputs and to float rounding on
// depth. Per-pixel noise comes from Philox keyed by (seed, episode, variant, camera stream) and counted by
// (pixel, frame), so it does not depend on the device, the thread count or how frames are batched.
// Models, parameters and the pipeline order: docs/sensors.md.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cuda/image_batch.h"
#include "randomize/philox.h"

namespace r2s::cuda {

enum class Device {
  kAuto,  // CUDA when built with it and a device is present, else CPU
  kCpu,
  kCuda,  // throws std::runtime_error when built without CUDA or no device is present
};

struct SensorOptions {
  Device device = Device::kAuto;
  // CPU backend worker threads; 0: the CPUs the process may use (its affinity mask and cgroup quota). Results
  // never depend on it.
  int threads = 0;
};

// One frame's camera. Defaults leave a frame unchanged (up to the gamma round trip, which is exact for 8 bits).
struct CameraModelParams {
  double exposure = 1.0;           // gain on the linear signal
  double shot_noise_gain = 0.0;    // DN per electron: shot-noise variance (DN^2) = gain * signal (DN, linear)
  double read_noise_std_dn = 0.0;  // signal-independent noise, DN (linear)
  double input_gamma = 2.2;        // the rendered frames' encoding, undone first (1 = linear frames)
  double gamma = 2.2;              // the camera's output encoding: DN = 255 (linear)^(1/gamma)
  double brightness = 1.0;         // factor on the encoded values
  double contrast = 1.0;           // factor on the distance from mid-grey (127.5)
  double saturation = 1.0;         // factor on the distance from the pixel's BT.601 luma (0 = grey)
  double hue_shift_rad = 0.0;      // rotation about the grey axis
  double white_balance_r = 1.0;    // per-channel gains on the linear signal
  double white_balance_g = 1.0;
  double white_balance_b = 1.0;
  double vignetting = 0.0;             // fraction of light lost in the corners, cos^4-law falloff; in [0, 1)
  double blur_sigma_px = 0.0;          // Gaussian blur (optics, defocus); 0 = off, at most 10
  double motion_blur_length_px = 0.0;  // length of the blur line (camera or scene motion); 0 = off, below 64
  double motion_blur_angle_rad = 0.0;  // its direction, from +x (right) towards +y (down)
  int jpeg_quality = 0;                // JPEG-like 8x8 DCT quantization at this libjpeg quality, 1..100; 0 = off
};

enum class DepthQuantization {
  kNone,
  kUniform,    // depth in multiples of quantization_step_m (time-of-flight-like)
  kDisparity,  // disparity 1/z in multiples of quantization_step_m / (1 m)^2: the step is quantization_step_m
               // at 1 m and grows with z^2 (stereo / structured light)
};

// One frame's depth sensor. Defaults leave valid depth unchanged.
struct DepthModelParams {
  double noise_std_m = 0.0;      // a in std = a + b z^2
  double noise_std_per_m = 0.0;  // b, 1/m
  DepthQuantization quantization = DepthQuantization::kNone;
  double quantization_step_m = 0.0;  // the step at 1 m
  double edge_jump_m = 0.0;          // dropout next to depth jumps larger than this; 0 = off
  double max_incidence_rad = 0.0;    // dropout where ray and surface normal are further apart; 0 = off
  double min_range_m = 0.0;          // no return nearer than this
  double max_range_m = 0.0;          // no return beyond this; 0 = no limit
  double fx = 0.0, fy = 0.0;         // intrinsics in px (needed when max_incidence_rad > 0); pixel centres at
  double cx = 0.0, cy = 0.0;         //   integer coordinates, as OpenCV
};

// Which noise: the camera's stream (conventionally StreamId("noise/<camera>")) and the episode frame index of
// the batch's first frame, so a batch of frames 16..31 draws what one batch of frames 0..31 would.
struct NoiseKey {
  randomize::StreamKey stream;
  std::uint32_t first_frame = 0;
};

// per_frame holds one entry per frame of the batch, or a single entry for all of them. Invalid parameters
// (out of range, NaN) and mismatched batch shapes throw std::invalid_argument naming the field and value.
void ApplyCameraModel(RgbBatch in_out, std::span<const CameraModelParams> per_frame, const NoiseKey& noise,
                      const SensorOptions& options = {});
void ApplyDepthModel(DepthBatch in_out, std::span<const DepthModelParams> per_frame, const NoiseKey& noise,
                     const SensorOptions& options = {});
// out must be sized for in (same frames, height, width; both even).
void RgbToYuv420(RgbBatch in, Yuv420Batch out, const SensorOptions& options = {});

// Whether this build has CUDA and a device is present.
bool CudaAvailable();
// Whether this build has the CUDA backend at all (R2S_CUDA and nvcc at configure time).
bool BuiltWithCuda();
// "cpu" or "cuda" for kCpu/kCuda; for kAuto the device it resolves to, e.g. "cuda (NVIDIA H100 80GB HBM3)".
std::string DeviceName(Device device);
// The device a user names: "auto", "cpu" or "cuda"; nullopt for anything else.
std::optional<Device> DeviceFromName(std::string_view name);

// Device-memory entry points for callers that hold frames on the GPU already, and for benchmarks that time the
// kernels alone: the batches' pointers are CUDA device pointers; each call returns when its kernels are done.
// Each call uploads its per-frame constants (about 7 KB a frame) before the kernels, and the timings include
// that. They throw std::runtime_error without CUDA, like Device::kCuda.
namespace gpu {

// Device memory, freed on destruction.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* data() const { return data_; }
  std::size_t size() const { return bytes_; }
  void CopyFromHost(const void* host, std::size_t bytes);
  void CopyToHost(void* host, std::size_t bytes) const;

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

void ApplyCameraModelDevice(RgbBatch device_in_out, std::span<const CameraModelParams> per_frame,
                            const NoiseKey& noise);
// The depth model reads neighbours, so it writes to a separate buffer (same size, not overlapping the input).
void ApplyDepthModelDevice(DepthBatch device_in, float* device_out, std::span<const DepthModelParams> per_frame,
                           const NoiseKey& noise);
void RgbToYuv420Device(RgbBatch device_in, Yuv420Batch device_out);
// Device-to-device cudaMemcpy of `bytes` bytes from src to dst, waited for: the bandwidth reference.
void CopyDeviceToDevice(void* dst, const void* src, std::size_t bytes);

}  // namespace gpu

}  // namespace r2s::cuda

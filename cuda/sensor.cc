// Validation, per-frame constants and device dispatch for the sensor models (cuda/sensor.h).
#include "cuda/sensor.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/cpu_budget.h"
#include "cuda/sensor_backend.h"
#include "cuda/sensor_plan.h"
#include "randomize/distribution.h"

namespace r2s::cuda {
namespace {

SensorTables BuildTables() {
  SensorTables t{};
  for (int k = 0; k < kNormalOctaves; ++k) {
    for (int j = 0; j <= kNormalSegments; ++j) {
      const double p = std::ldexp(1.0 + static_cast<double>(j) / kNormalSegments, -(k + 2));
      t.normal[k * (kNormalSegments + 1) + j] = static_cast<float>(-randomize::NormalQuantile(p));
    }
  }
  for (int u = 0; u < 8; ++u) {
    const double cu = u == 0 ? std::sqrt(1.0 / 8.0) : 0.5;
    for (int x = 0; x < 8; ++x) {
      t.dct[u * 8 + x] = static_cast<float>(cu * std::cos((2 * x + 1) * u * std::numbers::pi / 16.0));
      t.dct_t[x * 8 + u] = t.dct[u * 8 + x];
    }
  }
  return t;
}

// ITU-T T.81 Annex K example tables, row-major (vertical frequency, horizontal frequency).
constexpr int kJpegLuma[64] = {16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
                               14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
                               18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
                               49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
constexpr int kJpegChroma[64] = {17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99,
                                 99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
                                 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};

// "Params[3].gamma = -1: must be > 0"
[[noreturn]] void Reject(const char* type, std::size_t index, const char* field, double value, const char* rule) {
  std::ostringstream s;
  s << type << "[" << index << "]." << field << " = " << value << ": " << rule;
  throw std::invalid_argument(s.str());
}

void Check(bool ok, const char* type, std::size_t index, const char* field, double value, const char* rule) {
  if (!ok || std::isnan(value)) Reject(type, index, field, value, rule);
}

void ValidateCamera(const CameraModelParams& p, std::size_t i) {
  constexpr const char* t = "CameraModelParams";
  Check(p.exposure >= 0 && std::isfinite(p.exposure), t, i, "exposure", p.exposure, "must be finite and >= 0");
  Check(p.shot_noise_gain >= 0 && std::isfinite(p.shot_noise_gain), t, i, "shot_noise_gain", p.shot_noise_gain,
        "must be finite and >= 0");
  Check(p.read_noise_std_dn >= 0 && std::isfinite(p.read_noise_std_dn), t, i, "read_noise_std_dn", p.read_noise_std_dn,
        "must be finite and >= 0");
  Check(p.input_gamma > 0 && p.input_gamma <= 10, t, i, "input_gamma", p.input_gamma, "must be in (0, 10]");
  Check(p.gamma > 0 && p.gamma <= 10, t, i, "gamma", p.gamma, "must be in (0, 10]");
  Check(p.brightness >= 0 && std::isfinite(p.brightness), t, i, "brightness", p.brightness, "must be finite and >= 0");
  Check(p.contrast >= 0 && std::isfinite(p.contrast), t, i, "contrast", p.contrast, "must be finite and >= 0");
  Check(p.saturation >= 0 && std::isfinite(p.saturation), t, i, "saturation", p.saturation, "must be finite and >= 0");
  Check(std::isfinite(p.hue_shift_rad), t, i, "hue_shift_rad", p.hue_shift_rad, "must be finite");
  Check(p.white_balance_r >= 0 && std::isfinite(p.white_balance_r), t, i, "white_balance_r", p.white_balance_r,
        "must be finite and >= 0");
  Check(p.white_balance_g >= 0 && std::isfinite(p.white_balance_g), t, i, "white_balance_g", p.white_balance_g,
        "must be finite and >= 0");
  Check(p.white_balance_b >= 0 && std::isfinite(p.white_balance_b), t, i, "white_balance_b", p.white_balance_b,
        "must be finite and >= 0");
  Check(p.vignetting >= 0 && p.vignetting < 1, t, i, "vignetting", p.vignetting, "must be in [0, 1)");
  Check(p.blur_sigma_px >= 0 && p.blur_sigma_px <= kMaxBlurSigmaPx, t, i, "blur_sigma_px", p.blur_sigma_px,
        "must be in [0, 10]");
  Check(p.motion_blur_length_px >= 0 && p.motion_blur_length_px <= kMaxMotionTaps - 1, t, i, "motion_blur_length_px",
        p.motion_blur_length_px, "must be in [0, 63]");
  Check(std::isfinite(p.motion_blur_angle_rad), t, i, "motion_blur_angle_rad", p.motion_blur_angle_rad,
        "must be finite");
  Check(p.jpeg_quality >= 0 && p.jpeg_quality <= 100, t, i, "jpeg_quality", p.jpeg_quality,
        "must be in [1, 100], or 0 for off");
}

void ValidateDepth(const DepthModelParams& p, std::size_t i) {
  constexpr const char* t = "DepthModelParams";
  Check(p.noise_std_m >= 0 && std::isfinite(p.noise_std_m), t, i, "noise_std_m", p.noise_std_m,
        "must be finite and >= 0");
  Check(p.noise_std_per_m >= 0 && std::isfinite(p.noise_std_per_m), t, i, "noise_std_per_m", p.noise_std_per_m,
        "must be finite and >= 0");
  if (p.quantization != DepthQuantization::kNone) {
    Check(p.quantization_step_m > 0 && std::isfinite(p.quantization_step_m), t, i, "quantization_step_m",
          p.quantization_step_m, "must be finite and > 0 when quantization is on");
  }
  Check(p.edge_jump_m >= 0 && std::isfinite(p.edge_jump_m), t, i, "edge_jump_m", p.edge_jump_m,
        "must be finite and >= 0 (0 = off)");
  Check(p.max_incidence_rad >= 0 && p.max_incidence_rad < std::numbers::pi / 2, t, i, "max_incidence_rad",
        p.max_incidence_rad, "must be in [0, pi/2) (0 = off)");
  if (p.max_incidence_rad > 0) {
    Check(p.fx > 0 && std::isfinite(p.fx), t, i, "fx", p.fx, "must be finite and > 0 for grazing-angle dropout");
    Check(p.fy > 0 && std::isfinite(p.fy), t, i, "fy", p.fy, "must be finite and > 0 for grazing-angle dropout");
    Check(std::isfinite(p.cx), t, i, "cx", p.cx, "must be finite");
    Check(std::isfinite(p.cy), t, i, "cy", p.cy, "must be finite");
  }
  Check(p.min_range_m >= 0 && std::isfinite(p.min_range_m), t, i, "min_range_m", p.min_range_m,
        "must be finite and >= 0");
  Check(p.max_range_m == 0 || (p.max_range_m > p.min_range_m && std::isfinite(p.max_range_m)), t, i, "max_range_m",
        p.max_range_m, "must be 0 (no limit) or finite and > min_range_m");
}

CameraFrameConstants MakeCameraConstants(const CameraModelParams& p) {
  CameraFrameConstants c{};
  for (int i = 0; i < 256; ++i) c.linearize[i] = static_cast<float>(std::pow(i / 255.0, p.input_gamma));
  for (int i = 0; i <= kEncodeSegments; ++i) {
    const double t = static_cast<double>(i) / kEncodeSegments;  // sqrt(linear)
    c.encode[i] = static_cast<float>(255.0 * std::pow(t, 2.0 / p.gamma));
  }
  c.gain_dn[0] = static_cast<float>(255.0 * p.exposure * p.white_balance_r);
  c.gain_dn[1] = static_cast<float>(255.0 * p.exposure * p.white_balance_g);
  c.gain_dn[2] = static_cast<float>(255.0 * p.exposure * p.white_balance_b);
  c.noise_on = p.shot_noise_gain > 0 || p.read_noise_std_dn > 0;
  c.shot_gain = static_cast<float>(p.shot_noise_gain);
  c.read_var_dn2 = static_cast<float>(p.read_noise_std_dn * p.read_noise_std_dn);
  // cos^4 law with r = 1 at the corners: 1 / (1 + s)^2 = 1 - vignetting there.
  c.vignette_s = p.vignetting > 0 ? static_cast<float>(1.0 / std::sqrt(1.0 - p.vignetting) - 1.0) : 0.0f;

  // Colour jitter, composed in double into one affine map: brightness (scale), contrast (about mid-grey),
  // saturation (about BT.601 luma), hue (rotation about the grey axis). Both last two keep grey grey.
  const double luma[3] = {0.299, 0.587, 0.114};
  double sat[3][3];
  for (int r = 0; r < 3; ++r)
    for (int k = 0; k < 3; ++k) sat[r][k] = (r == k ? p.saturation : 0.0) + (1.0 - p.saturation) * luma[k];
  const double ch = std::cos(p.hue_shift_rad), sh = std::sin(p.hue_shift_rad);
  const double a = 1.0 / std::sqrt(3.0);  // unit grey axis (a, a, a)
  const double cross[3][3] = {{0, -a, a}, {a, 0, -a}, {-a, a, 0}};
  double hue[3][3];
  for (int r = 0; r < 3; ++r)
    for (int k = 0; k < 3; ++k) hue[r][k] = (r == k ? ch : 0.0) + sh * cross[r][k] + (1.0 - ch) * a * a;
  const double scale = p.contrast * p.brightness;
  const double offset = 127.5 * (1.0 - p.contrast);  // hue and saturation map grey (1,1,1) to itself
  for (int r = 0; r < 3; ++r) {
    for (int k = 0; k < 3; ++k) {
      double m = 0;
      for (int j = 0; j < 3; ++j) m += hue[r][j] * sat[j][k];
      c.jitter[4 * r + k] = static_cast<float>(scale * m);
    }
    c.jitter[4 * r + 3] = static_cast<float>(offset);
  }

  if (p.blur_sigma_px > 0) {
    const int radius = std::min(kMaxBlurRadius, static_cast<int>(std::ceil(3.0 * p.blur_sigma_px)));
    double w[kMaxBlurRadius + 1];
    double sum = 0;
    for (int i = 0; i <= radius; ++i) {
      w[i] = std::exp(-0.5 * i * i / (p.blur_sigma_px * p.blur_sigma_px));
      sum += i == 0 ? w[i] : 2 * w[i];
    }
    c.blur_radius = radius;
    for (int i = 0; i <= radius; ++i) c.blur_weights[i] = static_cast<float>(w[i] / sum);
  }
  if (p.motion_blur_length_px > 0) {
    const int taps = std::clamp(static_cast<int>(std::ceil(p.motion_blur_length_px)) + 1, 2, kMaxMotionTaps);
    const double dx = std::cos(p.motion_blur_angle_rad), dy = std::sin(p.motion_blur_angle_rad);
    for (int i = 0; i < taps; ++i) {
      const double s = p.motion_blur_length_px * (static_cast<double>(i) / (taps - 1) - 0.5);
      c.motion_dx[i] = static_cast<float>(s * dx);
      c.motion_dy[i] = static_cast<float>(s * dy);
    }
    c.motion_taps = taps;
    c.motion_weight = static_cast<float>(1.0 / taps);
  }
  if (p.jpeg_quality > 0) {
    c.jpeg_on = 1;
    const int q = p.jpeg_quality;
    const int scale_pct = q < 50 ? 5000 / q : 200 - 2 * q;  // libjpeg's jpeg_quality_scaling
    for (int i = 0; i < 64; ++i) {
      c.jpeg_q[0][i] = static_cast<float>(std::clamp((kJpegLuma[i] * scale_pct + 50) / 100, 1, 255));
      c.jpeg_q[1][i] = static_cast<float>(std::clamp((kJpegChroma[i] * scale_pct + 50) / 100, 1, 255));
    }
  }
  return c;
}

DepthFrameConstants MakeDepthConstants(const DepthModelParams& p) {
  DepthFrameConstants c{};
  c.noise_a_m = static_cast<float>(p.noise_std_m);
  c.noise_b_per_m = static_cast<float>(p.noise_std_per_m);
  c.noise_on = p.noise_std_m > 0 || p.noise_std_per_m > 0;
  switch (p.quantization) {
    case DepthQuantization::kNone:
      c.quantization = kDepthQuantizeNone;
      break;
    case DepthQuantization::kUniform:
      c.quantization = kDepthQuantizeUniform;
      break;
    case DepthQuantization::kDisparity:
      c.quantization = kDepthQuantizeDisparity;
      break;
  }
  c.step = static_cast<float>(p.quantization_step_m);
  c.edge_jump_m = static_cast<float>(p.edge_jump_m);
  c.grazing_on = p.max_incidence_rad > 0;
  const double cos_max = std::cos(p.max_incidence_rad);
  c.cos2_max_angle = static_cast<float>(cos_max * cos_max);
  c.min_range_m = static_cast<float>(p.min_range_m);
  c.max_range_m = static_cast<float>(p.max_range_m);
  c.fx = static_cast<float>(p.fx > 0 ? p.fx : 1.0);
  c.fy = static_cast<float>(p.fy > 0 ? p.fy : 1.0);
  c.cx = static_cast<float>(p.cx);
  c.cy = static_cast<float>(p.cy);
  return c;
}

void CheckShape(const char* what, const void* data, int frames, int height, int width) {
  if (frames < 0 || (frames > 0 && (height <= 0 || width <= 0 || data == nullptr))) {
    std::ostringstream s;
    s << what << ": frames = " << frames << ", height = " << height << ", width = " << width
      << (data == nullptr ? ", data = null" : "") << ": need frames >= 0 and, for frames > 0, a positive size and data";
    throw std::invalid_argument(s.str());
  }
  if (static_cast<long long>(height) * width >= (1ll << 31)) {
    throw std::invalid_argument(std::string(what) + ": a frame of more than 2^31 pixels");
  }
}

template <typename Params>
void CheckFrameCount(const char* what, std::span<const Params> per_frame, int frames) {
  if (per_frame.size() != 1 && per_frame.size() != static_cast<std::size_t>(frames)) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(per_frame.size()) + " parameter sets for " +
                                std::to_string(frames) + " frames: need one per frame, or one");
  }
}

void CheckYuvShapes(RgbBatch in, Yuv420Batch out) {
  CheckShape("RgbToYuv420", in.data, in.frames, in.height, in.width);
  if (in.frames > 0 && (in.height % 2 != 0 || in.width % 2 != 0)) {
    throw std::invalid_argument("RgbToYuv420: " + std::to_string(in.width) + "x" + std::to_string(in.height) +
                                " frames: 4:2:0 needs an even width and height");
  }
  if (out.frames != in.frames || out.height != in.height || out.width != in.width ||
      (in.frames > 0 && (out.y == nullptr || out.u == nullptr || out.v == nullptr))) {
    throw std::invalid_argument("RgbToYuv420: the output batch (" + std::to_string(out.frames) + " frames of " +
                                std::to_string(out.width) + "x" + std::to_string(out.height) +
                                ") does not match the input or has a null plane");
  }
}

int ResolveThreads(int threads) {
  if (threads < 0) throw std::invalid_argument("SensorOptions.threads = " + std::to_string(threads) + ": must be >= 0");
  if (threads > 0) return threads;
  return AvailableCpus();
}

// True for CUDA, false for CPU; throws when CUDA is asked for and cannot be had.
bool UseCuda(Device device) {
  switch (device) {
    case Device::kCpu:
      return false;
    case Device::kAuto:
      return CudaAvailable();
    case Device::kCuda:
      if (!backend::BuiltWithCuda()) {
        throw std::runtime_error(std::string(backend::kNoCudaMessage) +
                                 ": Device::kCuda is unavailable; use Device::kCpu or Device::kAuto");
      }
      if (backend::CudaDeviceCount() <= 0) {
        throw std::runtime_error("Device::kCuda: no CUDA device is present (cudaGetDeviceCount found none)");
      }
      return true;
  }
  return false;
}

void RequireCudaForDevicePointers() { UseCuda(Device::kCuda); }

}  // namespace

namespace backend {
const SensorTables& Tables() {
  static const SensorTables tables = BuildTables();
  return tables;
}

CameraPlan MakeCameraPlan(RgbBatch batch, std::span<const CameraModelParams> per_frame, const NoiseKey& noise) {
  CheckShape("ApplyCameraModel", batch.data, batch.frames, batch.height, batch.width);
  CheckFrameCount("ApplyCameraModel", per_frame, batch.frames);
  for (std::size_t i = 0; i < per_frame.size(); ++i) ValidateCamera(per_frame[i], i);
  CameraPlan plan;
  plan.key = randomize::DeriveKey(noise.stream);
  plan.first_frame = noise.first_frame;
  plan.frames.reserve(batch.frames);
  for (int f = 0; f < batch.frames; ++f) {
    plan.frames.push_back(f == 0 || per_frame.size() > 1 ? MakeCameraConstants(per_frame[per_frame.size() > 1 ? f : 0])
                                                         : plan.frames.front());
    const CameraFrameConstants& c = plan.frames.back();
    plan.any_blur = plan.any_blur || c.blur_radius > 0;
    plan.any_motion = plan.any_motion || c.motion_taps > 0;
    plan.any_jpeg = plan.any_jpeg || c.jpeg_on;
  }
  return plan;
}

DepthPlan MakeDepthPlan(DepthBatch batch, std::span<const DepthModelParams> per_frame, const NoiseKey& noise) {
  CheckShape("ApplyDepthModel", batch.data, batch.frames, batch.height, batch.width);
  CheckFrameCount("ApplyDepthModel", per_frame, batch.frames);
  for (std::size_t i = 0; i < per_frame.size(); ++i) ValidateDepth(per_frame[i], i);
  DepthPlan plan;
  plan.key = randomize::DeriveKey(noise.stream);
  plan.first_frame = noise.first_frame;
  for (int f = 0; f < batch.frames; ++f)
    plan.frames.push_back(MakeDepthConstants(per_frame[per_frame.size() > 1 ? f : 0]));
  return plan;
}
}  // namespace backend

bool CudaAvailable() { return backend::BuiltWithCuda() && backend::CudaDeviceCount() > 0; }

bool BuiltWithCuda() { return backend::BuiltWithCuda(); }

std::optional<Device> DeviceFromName(std::string_view name) {
  if (name == "auto") return Device::kAuto;
  if (name == "cpu") return Device::kCpu;
  if (name == "cuda") return Device::kCuda;
  return std::nullopt;
}

std::string DeviceName(Device device) {
  switch (device) {
    case Device::kCpu:
      return "cpu";
    case Device::kCuda:
      return "cuda";
    case Device::kAuto:
      return CudaAvailable() ? "cuda (" + backend::CudaDeviceName() + ")" : "cpu";
  }
  return "cpu";
}

void ApplyCameraModel(RgbBatch in_out, std::span<const CameraModelParams> per_frame, const NoiseKey& noise,
                      const SensorOptions& options) {
  const backend::CameraPlan plan = backend::MakeCameraPlan(in_out, per_frame, noise);
  const int threads = ResolveThreads(options.threads);
  if (in_out.frames == 0) return;
  if (UseCuda(options.device)) {
    backend::CameraCuda(in_out, plan, /*device_pointers=*/false);
  } else {
    backend::CameraCpu(in_out, plan, threads);
  }
}

void ApplyDepthModel(DepthBatch in_out, std::span<const DepthModelParams> per_frame, const NoiseKey& noise,
                     const SensorOptions& options) {
  const backend::DepthPlan plan = backend::MakeDepthPlan(in_out, per_frame, noise);
  const int threads = ResolveThreads(options.threads);
  if (in_out.frames == 0) return;
  if (UseCuda(options.device)) {
    backend::DepthCuda(in_out, in_out.data, plan, /*device_pointers=*/false);
  } else {
    backend::DepthCpu(in_out, plan, threads);
  }
}

void RgbToYuv420(RgbBatch in, Yuv420Batch out, const SensorOptions& options) {
  CheckYuvShapes(in, out);
  const int threads = ResolveThreads(options.threads);
  if (in.frames == 0) return;
  if (UseCuda(options.device)) {
    backend::Yuv420Cuda(in, out, /*device_pointers=*/false);
  } else {
    backend::Yuv420Cpu(in, out, threads);
  }
}

namespace gpu {

DeviceBuffer::DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
  RequireCudaForDevicePointers();
  data_ = backend::CudaAlloc(bytes);
}

DeviceBuffer::~DeviceBuffer() { backend::CudaFree(data_); }

void DeviceBuffer::CopyFromHost(const void* host, std::size_t bytes) {
  if (bytes > bytes_) throw std::invalid_argument("DeviceBuffer::CopyFromHost: more bytes than the buffer holds");
  backend::CudaCopy(data_, host, bytes, backend::CopyKind::kHostToDevice);
}

void DeviceBuffer::CopyToHost(void* host, std::size_t bytes) const {
  if (bytes > bytes_) throw std::invalid_argument("DeviceBuffer::CopyToHost: more bytes than the buffer holds");
  backend::CudaCopy(host, data_, bytes, backend::CopyKind::kDeviceToHost);
}

void ApplyCameraModelDevice(RgbBatch device_in_out, std::span<const CameraModelParams> per_frame,
                            const NoiseKey& noise) {
  const backend::CameraPlan plan = backend::MakeCameraPlan(device_in_out, per_frame, noise);
  RequireCudaForDevicePointers();
  if (device_in_out.frames > 0) backend::CameraCuda(device_in_out, plan, /*device_pointers=*/true);
}

void ApplyDepthModelDevice(DepthBatch device_in, float* device_out, std::span<const DepthModelParams> per_frame,
                           const NoiseKey& noise) {
  const backend::DepthPlan plan = backend::MakeDepthPlan(device_in, per_frame, noise);
  if (device_in.frames > 0 && device_out == nullptr) throw std::invalid_argument("ApplyDepthModelDevice: null output");
  RequireCudaForDevicePointers();
  if (device_in.frames > 0) backend::DepthCuda(device_in, device_out, plan, /*device_pointers=*/true);
}

void RgbToYuv420Device(RgbBatch device_in, Yuv420Batch device_out) {
  CheckYuvShapes(device_in, device_out);
  RequireCudaForDevicePointers();
  if (device_in.frames > 0) backend::Yuv420Cuda(device_in, device_out, /*device_pointers=*/true);
}

void CopyDeviceToDevice(void* dst, const void* src, std::size_t bytes) {
  RequireCudaForDevicePointers();
  backend::CudaCopy(dst, src, bytes, backend::CopyKind::kDeviceToDevice);
}

}  // namespace gpu
}  // namespace r2s::cuda

#pragma once
// Internal (not installed): what sensor.cc hands the backends. sensor.cc validates the parameters and turns
// them into per-frame constants; sensor_cpu.cc runs them on threads, sensor_cuda.cu on a CUDA device (or,
// built without CUDA, sensor_no_cuda.cc says so).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cuda/camera_model.h"
#include "cuda/depth_model.h"
#include "cuda/image_batch.h"
#include "randomize/philox.h"

namespace r2s::cuda::backend {

struct CameraPlan {
  std::vector<CameraFrameConstants> frames;  // one per frame of the batch
  randomize::PhiloxKey key{};
  std::uint32_t first_frame = 0;
  bool any_blur = false;    // some frame has a Gaussian blur
  bool any_motion = false;  // some frame has a motion blur
  bool any_jpeg = false;    // some frame has the JPEG-like stage
};

struct DepthPlan {
  std::vector<DepthFrameConstants> frames;  // one per frame of the batch
  randomize::PhiloxKey key{};
  std::uint32_t first_frame = 0;
};

// The constant tables, built once (in double) on first use and never changed after.
const SensorTables& Tables();

// CPU backend (sensor_cpu.cc); threads >= 1.
// With output_dn, also writes every pixel's output DN before rounding (and before the JPEG-like stage) there,
// as float HWC: for the test that holds the fast path to the per-pixel functions bit for bit.
void CameraCpu(RgbBatch batch, const CameraPlan& plan, int threads, float* output_dn = nullptr);
void DepthCpu(DepthBatch batch, const DepthPlan& plan, int threads);
void Yuv420Cpu(RgbBatch in, Yuv420Batch out, int threads);
// The CPU backend's branch-free StandardNormal (what its vectorized rows evaluate), for the test that compares
// it with StandardNormal word by word.
float StandardNormalCpu(std::uint32_t bits);
// ... and its DCT round trip (DctQuantizeBlock's sums, a row of eight at a time).
void DctQuantizeBlockCpu(float* block, const float* q);

// CUDA backend (sensor_cuda.cu, or sensor_no_cuda.cc which reports kNoCudaMessage). With device_pointers the
// batches point to device memory; otherwise to host memory, copied in and out around the kernels.
inline constexpr const char* kNoCudaMessage = "real2sim was built without CUDA (R2S_CUDA=OFF or no nvcc)";
bool BuiltWithCuda();
int CudaDeviceCount();  // 0 when built without CUDA or when the runtime finds none
std::string CudaDeviceName();
void CameraCuda(RgbBatch batch, const CameraPlan& plan, bool device_pointers);
void DepthCuda(DepthBatch in, float* out, const DepthPlan& plan, bool device_pointers);  // out may be in.data on host
void Yuv420Cuda(RgbBatch in, Yuv420Batch out, bool device_pointers);
void* CudaAlloc(std::size_t bytes);
void CudaFree(void* ptr) noexcept;
enum class CopyKind { kHostToDevice, kDeviceToHost, kDeviceToDevice };
void CudaCopy(void* dst, const void* src, std::size_t bytes, CopyKind kind);  // waits for completion

}  // namespace r2s::cuda::backend

// The CUDA backend: one launcher per stage over the same R2S_HOST_DEVICE math as the CPU backend
// (cuda/camera_model.h, depth_model.h, yuv.h). Host-pointer calls copy the batch in, run, and copy it back;
// device-pointer calls run in place. Every call waits for its kernels, so errors surface where they happen.
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/camera_model.h"
#include "cuda/depth_model.h"
#include "cuda/sensor_backend.h"
#include "cuda/yuv.h"

namespace r2s::cuda::backend {
namespace {

void Check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(err));
}

// Device memory owned by scope.
class Scratch {
 public:
  explicit Scratch(std::size_t bytes) {
    if (bytes > 0) Check(cudaMalloc(&ptr_, bytes), "cudaMalloc");
  }
  ~Scratch() { cudaFree(ptr_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
};

template <typename T>
void Upload(const Scratch& dst, const T* src, std::size_t count) {
  Check(cudaMemcpy(dst.as<void>(), src, count * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy to device");
}

constexpr int kBlock = 256;

unsigned GridFor(std::int64_t n) {
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
  return static_cast<unsigned>(blocks < (1 << 20) ? blocks : (1 << 20));  // grid-stride beyond this
}

void AfterLaunch(const char* kernel) { Check(cudaGetLastError(), kernel); }

struct Shape {
  int frames, height, width;
  __host__ __device__ std::int64_t frame_px() const { return static_cast<std::int64_t>(height) * width; }
  __host__ __device__ std::int64_t pixels() const { return frames * frame_px(); }
};

#define R2S_GRID_STRIDE(i, n)                                                                      \
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)

// ---- camera ----

__global__ void CameraFusedKernel(std::uint8_t* rgb, Shape s, const CameraFrameConstants* frames,
                                  const SensorTables* tables, randomize::PhiloxKey key, std::uint32_t first_frame) {
  R2S_GRID_STRIDE(i, s.pixels()) {
    const int f = static_cast<int>(i / s.frame_px());
    const int p = static_cast<int>(i - f * s.frame_px());
    const int y = p / s.width;
    const int x = p - y * s.width;
    const CameraFrameConstants& c = frames[f];
    std::uint8_t* px = rgb + i * 3;
    const Rgbf out = CameraPointwise(Linearize(px, c), x, y, s.width, s.height, static_cast<std::uint32_t>(p),
                                     first_frame + f, key, c, tables->normal);
    px[0] = RoundToU8(out.r);
    px[1] = RoundToU8(out.g);
    px[2] = RoundToU8(out.b);
  }
}

__global__ void LinearizeKernel(const std::uint8_t* rgb, float* lin, Shape s, const CameraFrameConstants* frames) {
  R2S_GRID_STRIDE(i, s.pixels() * 3) { lin[i] = frames[i / (s.frame_px() * 3)].linearize[rgb[i]]; }
}

// stage 0: Gaussian rows (in -> out), 1: Gaussian columns, 2: motion blur; frames without the stage are skipped.
__global__ void BlurKernel(const float* in, float* out, Shape s, const CameraFrameConstants* frames, int stage) {
  R2S_GRID_STRIDE(i, s.pixels()) {
    const int f = static_cast<int>(i / s.frame_px());
    const int p = static_cast<int>(i - f * s.frame_px());
    const int y = p / s.width;
    const int x = p - y * s.width;
    const CameraFrameConstants& c = frames[f];
    const float* frame = in + f * s.frame_px() * 3;
    Rgbf v;
    if (stage == 0) {
      if (c.blur_radius == 0) continue;
      v = GaussianRow(frame, s.width, x, y, c);
    } else if (stage == 1) {
      if (c.blur_radius == 0) continue;
      v = GaussianColumn(frame, s.width, s.height, x, y, c);
    } else {
      if (c.motion_taps == 0) continue;
      v = MotionBlur(frame, s.width, s.height, x, y, c);
    }
    out[i * 3] = v.r;
    out[i * 3 + 1] = v.g;
    out[i * 3 + 2] = v.b;
  }
}

__device__ float* SourceOf(float* a, float* b, const CameraFrameConstants& c) { return c.motion_taps > 0 ? b : a; }

__global__ void CameraPointwiseKernel(float* a, float* b, std::uint8_t* rgb, Shape s,
                                      const CameraFrameConstants* frames, const SensorTables* tables,
                                      randomize::PhiloxKey key, std::uint32_t first_frame) {
  R2S_GRID_STRIDE(i, s.pixels()) {
    const int f = static_cast<int>(i / s.frame_px());
    const int p = static_cast<int>(i - f * s.frame_px());
    const int y = p / s.width;
    const int x = p - y * s.width;
    const CameraFrameConstants& c = frames[f];
    float* lin = SourceOf(a, b, c) + i * 3;
    const Rgbf out = CameraPointwise(Rgbf{lin[0], lin[1], lin[2]}, x, y, s.width, s.height,
                                     static_cast<std::uint32_t>(p), first_frame + f, key, c, tables->normal);
    if (c.jpeg_on) {
      lin[0] = out.r;
      lin[1] = out.g;
      lin[2] = out.b;
    } else {
      rgb[i * 3] = RoundToU8(out.r);
      rgb[i * 3 + 1] = RoundToU8(out.g);
      rgb[i * 3 + 2] = RoundToU8(out.b);
    }
  }
}

__global__ void JpegKernel(float* a, float* b, std::uint8_t* rgb, Shape s, const CameraFrameConstants* frames,
                           const SensorTables* tables) {
  const int blocks_x = (s.width + 7) / 8;
  const int blocks_y = (s.height + 7) / 8;
  const std::int64_t per_frame = static_cast<std::int64_t>(blocks_x) * blocks_y;
  R2S_GRID_STRIDE(i, s.frames * per_frame) {
    const int f = static_cast<int>(i / per_frame);
    const int k = static_cast<int>(i - f * per_frame);
    const CameraFrameConstants& c = frames[f];
    if (!c.jpeg_on) continue;
    const float* src = SourceOf(a, b, c) + f * s.frame_px() * 3;
    JpegBlock(src, rgb + f * s.frame_px() * 3, s.width, s.height, k % blocks_x, k / blocks_x, c, tables->dct);
  }
}

// ---- depth, YUV ----

__global__ void DepthKernel(const float* in, float* out, Shape s, const DepthFrameConstants* frames,
                            const SensorTables* tables, randomize::PhiloxKey key, std::uint32_t first_frame) {
  R2S_GRID_STRIDE(i, s.pixels()) {
    const int f = static_cast<int>(i / s.frame_px());
    const int p = static_cast<int>(i - f * s.frame_px());
    const int y = p / s.width;
    const int x = p - y * s.width;
    out[i] = DepthPixel(in + f * s.frame_px(), s.width, s.height, x, y, static_cast<std::uint32_t>(p), first_frame + f,
                        key, frames[f], tables->normal);
  }
}

__global__ void Yuv420Kernel(const std::uint8_t* rgb, std::uint8_t* y_plane, std::uint8_t* u_plane,
                             std::uint8_t* v_plane, Shape s) {
  const int cw = s.width / 2;
  const std::int64_t per_frame = static_cast<std::int64_t>(cw) * (s.height / 2);
  R2S_GRID_STRIDE(i, s.frames * per_frame) {
    const int f = static_cast<int>(i / per_frame);
    const int k = static_cast<int>(i - f * per_frame);
    Yuv420Block(rgb + f * s.frame_px() * 3, s.width, k % cw, k / cw, y_plane + f * s.frame_px(),
                u_plane + f * per_frame, v_plane + f * per_frame);
  }
}

void RunCamera(std::uint8_t* rgb, Shape s, const CameraPlan& plan) {
  Scratch frames(plan.frames.size() * sizeof(CameraFrameConstants));
  Upload(frames, plan.frames.data(), plan.frames.size());
  Scratch tables(sizeof(SensorTables));
  Upload(tables, &Tables(), 1);
  const auto* fc = frames.as<CameraFrameConstants>();
  const auto* tb = tables.as<SensorTables>();
  if (!plan.any_blur && !plan.any_motion && !plan.any_jpeg) {
    CameraFusedKernel<<<GridFor(s.pixels()), kBlock>>>(rgb, s, fc, tb, plan.key, plan.first_frame);
    AfterLaunch("CameraFusedKernel");
  } else {
    const std::size_t floats = static_cast<std::size_t>(s.pixels()) * 3;
    Scratch a(floats * sizeof(float));
    Scratch b(plan.any_blur || plan.any_motion ? floats * sizeof(float) : 0);
    LinearizeKernel<<<GridFor(s.pixels() * 3), kBlock>>>(rgb, a.as<float>(), s, fc);
    AfterLaunch("LinearizeKernel");
    if (plan.any_blur) {
      BlurKernel<<<GridFor(s.pixels()), kBlock>>>(a.as<float>(), b.as<float>(), s, fc, 0);
      AfterLaunch("BlurKernel (rows)");
      BlurKernel<<<GridFor(s.pixels()), kBlock>>>(b.as<float>(), a.as<float>(), s, fc, 1);
      AfterLaunch("BlurKernel (columns)");
    }
    if (plan.any_motion) {
      BlurKernel<<<GridFor(s.pixels()), kBlock>>>(a.as<float>(), b.as<float>(), s, fc, 2);
      AfterLaunch("BlurKernel (motion)");
    }
    CameraPointwiseKernel<<<GridFor(s.pixels()), kBlock>>>(a.as<float>(), b.as<float>(), rgb, s, fc, tb, plan.key,
                                                           plan.first_frame);
    AfterLaunch("CameraPointwiseKernel");
    if (plan.any_jpeg) {
      const std::int64_t blocks = s.frames * static_cast<std::int64_t>((s.width + 7) / 8) * ((s.height + 7) / 8);
      JpegKernel<<<GridFor(blocks), 64>>>(a.as<float>(), b.as<float>(), rgb, s, fc, tb);
      AfterLaunch("JpegKernel");
    }
    Check(cudaDeviceSynchronize(), "camera model kernels");  // before the scratch buffers go
    return;
  }
  Check(cudaDeviceSynchronize(), "camera model kernels");
}

}  // namespace

bool BuiltWithCuda() { return true; }

int CudaDeviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: clear the sticky-free error and report none
    return 0;
  }
  return count;
}

std::string CudaDeviceName() {
  int device = 0;
  cudaDeviceProp prop{};
  if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&prop, device) != cudaSuccess) return "unknown";
  return prop.name;
}

void* CudaAlloc(std::size_t bytes) {
  void* ptr = nullptr;
  Check(cudaMalloc(&ptr, bytes), "cudaMalloc");
  return ptr;
}

void CudaFree(void* ptr) noexcept { cudaFree(ptr); }

void CudaCopy(void* dst, const void* src, std::size_t bytes, CopyKind kind) {
  const cudaMemcpyKind k = kind == CopyKind::kHostToDevice   ? cudaMemcpyHostToDevice
                           : kind == CopyKind::kDeviceToHost ? cudaMemcpyDeviceToHost
                                                             : cudaMemcpyDeviceToDevice;
  Check(cudaMemcpy(dst, src, bytes, k), "cudaMemcpy");
  Check(cudaDeviceSynchronize(), "cudaMemcpy");
}

void CameraCuda(RgbBatch batch, const CameraPlan& plan, bool device_pointers) {
  const Shape s{batch.frames, batch.height, batch.width};
  if (device_pointers) {
    RunCamera(batch.data, s, plan);
    return;
  }
  Scratch rgb(batch.bytes());
  Check(cudaMemcpy(rgb.as<void>(), batch.data, batch.bytes(), cudaMemcpyHostToDevice), "cudaMemcpy frames in");
  RunCamera(rgb.as<std::uint8_t>(), s, plan);
  Check(cudaMemcpy(batch.data, rgb.as<void>(), batch.bytes(), cudaMemcpyDeviceToHost), "cudaMemcpy frames out");
}

void DepthCuda(DepthBatch in, float* out, const DepthPlan& plan, bool device_pointers) {
  const Shape s{in.frames, in.height, in.width};
  Scratch frames(plan.frames.size() * sizeof(DepthFrameConstants));
  Upload(frames, plan.frames.data(), plan.frames.size());
  Scratch tables(sizeof(SensorTables));
  Upload(tables, &Tables(), 1);
  auto launch = [&](const float* src, float* dst) {
    DepthKernel<<<GridFor(s.pixels()), kBlock>>>(src, dst, s, frames.as<DepthFrameConstants>(),
                                                 tables.as<SensorTables>(), plan.key, plan.first_frame);
    AfterLaunch("DepthKernel");
    Check(cudaDeviceSynchronize(), "depth model kernel");
  };
  if (device_pointers) {
    launch(in.data, out);
    return;
  }
  Scratch src(in.bytes());
  Scratch dst(in.bytes());  // neighbours are read from the input
  Check(cudaMemcpy(src.as<void>(), in.data, in.bytes(), cudaMemcpyHostToDevice), "cudaMemcpy depth in");
  launch(src.as<float>(), dst.as<float>());
  Check(cudaMemcpy(out, dst.as<void>(), in.bytes(), cudaMemcpyDeviceToHost), "cudaMemcpy depth out");
}

void Yuv420Cuda(RgbBatch in, Yuv420Batch out, bool device_pointers) {
  const Shape s{in.frames, in.height, in.width};
  const std::int64_t blocks = s.frames * static_cast<std::int64_t>(s.width / 2) * (s.height / 2);
  if (device_pointers) {
    Yuv420Kernel<<<GridFor(blocks), kBlock>>>(in.data, out.y, out.u, out.v, s);
    AfterLaunch("Yuv420Kernel");
    Check(cudaDeviceSynchronize(), "Yuv420Kernel");
    return;
  }
  Scratch rgb(in.bytes());
  Scratch yuv(out.bytes());
  Check(cudaMemcpy(rgb.as<void>(), in.data, in.bytes(), cudaMemcpyHostToDevice), "cudaMemcpy frames in");
  std::uint8_t* y = yuv.as<std::uint8_t>();
  std::uint8_t* u = y + out.luma_bytes();
  std::uint8_t* v = u + out.chroma_bytes();
  Yuv420Kernel<<<GridFor(blocks), kBlock>>>(rgb.as<std::uint8_t>(), y, u, v, s);
  AfterLaunch("Yuv420Kernel");
  Check(cudaMemcpy(out.y, y, out.luma_bytes(), cudaMemcpyDeviceToHost), "cudaMemcpy luma out");
  Check(cudaMemcpy(out.u, u, out.chroma_bytes(), cudaMemcpyDeviceToHost), "cudaMemcpy chroma out");
  Check(cudaMemcpy(out.v, v, out.chroma_bytes(), cudaMemcpyDeviceToHost), "cudaMemcpy chroma out");
}

}  // namespace r2s::cuda::backend

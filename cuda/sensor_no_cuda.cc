// Built without CUDA: the CUDA backend's entry points exist (so nothing fails to link) and say why they
// cannot run. sensor.cc checks BuiltWithCuda() before calling the others, so they are not normally reached.
#include <stdexcept>
#include <string>

#include "cuda/sensor_backend.h"

namespace r2s::cuda::backend {
namespace {
[[noreturn]] void NoCuda() { throw std::runtime_error(kNoCudaMessage); }
}  // namespace

bool BuiltWithCuda() { return false; }
int CudaDeviceCount() { return 0; }
std::string CudaDeviceName() { return "none"; }
void CameraCuda(RgbBatch, const CameraPlan&, bool) { NoCuda(); }
void DepthCuda(DepthBatch, float*, const DepthPlan&, bool) { NoCuda(); }
void Yuv420Cuda(RgbBatch, Yuv420Batch, bool) { NoCuda(); }
void* CudaAlloc(std::size_t) { NoCuda(); }
void CudaFree(void*) noexcept {}
void CudaCopy(void*, const void*, std::size_t, CopyKind) { NoCuda(); }

}  // namespace r2s::cuda::backend

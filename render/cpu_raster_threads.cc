#include "render/cpu_raster_threads.h"

#include <cstdlib>
#include <stdexcept>

namespace r2s::render {
namespace {

constexpr const char* kVariable = "LP_NUM_THREADS";

}  // namespace

int CpuRasterThreads(int cpus, int renderers) {
  if (cpus < 1) throw std::invalid_argument("CpuRasterThreads: cpus = " + std::to_string(cpus) + ", must be >= 1");
  if (renderers < 1) {
    throw std::invalid_argument("CpuRasterThreads: renderers = " + std::to_string(renderers) + ", must be >= 1");
  }
  if (renderers >= cpus) return 0;
  return cpus / renderers;  // lavapipe caps it at its own LP_MAX_THREADS
}

std::string ShareCpuRasterizer(int cpus, int renderers) {
  const int threads = CpuRasterThreads(cpus, renderers);
  const std::string share = std::to_string(renderers) + (renderers == 1 ? " renderer" : " renderers") + " on " +
                            std::to_string(cpus) + (cpus == 1 ? " CPU" : " CPUs");
  if (const char* set = std::getenv(kVariable); set != nullptr && *set != '\0') {
    return std::string("a CPU renderer (lavapipe) uses ") + kVariable + "=" + set + " from the environment (" + share +
           "; unset, it would be " + std::to_string(threads) + ")";
  }
  setenv(kVariable, std::to_string(threads).c_str(), /*overwrite=*/0);
  return std::string("a CPU renderer (lavapipe) gets ") + kVariable + "=" + std::to_string(threads) + " (" + share +
         (threads == 0 ? ": each rasterizes on its worker's thread)" : ")");
}

}  // namespace r2s::render

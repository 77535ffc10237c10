#include "bench/world_count.h"

#include <atomic>

namespace {

std::atomic<long long> g_worlds_built{0};

}  // namespace

// The linker sends every call of World's complete-object constructor here (LINKER:--wrap, bench/CMakeLists.txt).
// A by-value std::shared_ptr is passed by invisible reference in the Itanium C++ ABI, hence the two pointers.
extern "C" void __real__ZN3r2s3sim5WorldC1ESt10shared_ptrIKNS0_5ModelEE(void* self, void* model);
extern "C" void __wrap__ZN3r2s3sim5WorldC1ESt10shared_ptrIKNS0_5ModelEE(void* self, void* model) {
  g_worlds_built.fetch_add(1, std::memory_order_relaxed);
  __real__ZN3r2s3sim5WorldC1ESt10shared_ptrIKNS0_5ModelEE(self, model);
}

namespace r2s::bench {

long long WorldsBuilt() { return g_worlds_built.load(std::memory_order_relaxed); }

}  // namespace r2s::bench

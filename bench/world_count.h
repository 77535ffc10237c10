#pragma once
// How many sim::World objects a bench program has built: one per simulated episode in sysid. Counted by wrapping
// World's constructor at link time (r2s_bench_world_count in bench/CMakeLists.txt), so the library stays as is.

namespace r2s::bench {

long long WorldsBuilt();

}  // namespace r2s::bench

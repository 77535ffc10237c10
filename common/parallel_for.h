#pragma once
// The project's one parallel loop (sysid's fits, the CPU sensor models): threads started for the call and joined
// before it returns, as many as the caller says. No pool outlives a call; nothing here is global.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace r2s {

// How many workers ParallelFor(count, threads, grain, ...) runs: one per chunk of `grain` indices, at most
// `threads`, at least one. A caller sizes per-worker scratch with it.
inline int WorkersFor(std::int64_t count, int threads, std::int64_t grain = 1) {
  const std::int64_t chunks = count <= 0 ? 0 : (count + grain - 1) / grain;
  return static_cast<int>(std::clamp<std::int64_t>(chunks, 1, std::max(1, threads)));
}

// Calls body(i, worker) for every i in [0, count): workers (the calling thread is worker 0) take chunks of `grain`
// consecutive indices, the next free chunk whenever done with theirs, so which worker runs an index is not fixed;
// results must not depend on it. The first exception a body throws stops the hand-out and is rethrown on the
// calling thread once every worker has stopped.
template <typename Body>
void ParallelFor(std::int64_t count, int threads, std::int64_t grain, const Body& body) {
  if (count <= 0) return;
  grain = std::max<std::int64_t>(1, grain);
  const int workers = WorkersFor(count, threads, grain);
  if (workers == 1) {
    for (std::int64_t i = 0; i < count; ++i) body(i, 0);
    return;
  }
  std::atomic<std::int64_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  const auto work = [&](int worker) {
    for (;;) {
      const std::int64_t begin = next.fetch_add(grain, std::memory_order_relaxed);
      if (begin >= count) return;
      const std::int64_t end = std::min(count, begin + grain);
      try {
        for (std::int64_t i = begin; i < end; ++i) body(i, worker);
      } catch (...) {
        const std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next.store(count, std::memory_order_relaxed);
        return;
      }
    }
  };
  {
    std::vector<std::jthread> pool;
    pool.reserve(static_cast<std::size_t>(workers - 1));
    for (int w = 1; w < workers; ++w) pool.emplace_back(work, w);
    work(0);
  }  // joined
  if (failure) std::rethrow_exception(failure);
}

}  // namespace r2s

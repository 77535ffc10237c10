#pragma once
// The one parallel loop of system identification's fits: no pool that outlives the call, the caller's thread count.

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace r2s::sysid {

// Runs body(i) for i in [0, count) on `threads` threads (the caller's choice; 1 runs inline). The first exception
// is rethrown on the calling thread once every worker has stopped.
template <typename Body>
void ParallelFor(int count, int threads, const Body& body) {
  threads = std::clamp(threads, 1, std::max(1, count));
  if (threads == 1) {
    for (int i = 0; i < count; ++i) body(i);
    return;
  }
  std::atomic<int> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&] {
    for (int i = next++; i < count; i = next++) {
      try {
        body(i);
      } catch (...) {
        const std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next = count;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace r2s::sysid

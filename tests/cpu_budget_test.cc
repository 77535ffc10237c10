// The CPUs a process may use (common/cpu_budget.h) and the CPU renderer's share of them
// (render/cpu_raster_threads.h).

#include <sched.h>

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "common/cpu_budget.h"
#include "render/cpu_raster_threads.h"

namespace r2s {
namespace {

TEST(CpuBudget, ReadsACgroupQuotaAsCpus) {
  EXPECT_EQ(CpuQuotaCpus("200000 100000"), 2.0);  // cgroup v2 cpu.max, docker --cpus 2
  EXPECT_EQ(CpuQuotaCpus("150000 100000"), 1.5);
  EXPECT_EQ(CpuQuotaCpus("50000 100000\n"), 0.5);
  EXPECT_EQ(CpuQuotaCpus("max 100000"), std::nullopt);  // no limit
  EXPECT_EQ(CpuQuotaCpus("-1 100000"), std::nullopt);   // v1's "no limit"
  for (const char* text : {"", "max", "100000", "abc 100000", "100000 0", "100000 -5", "1e400 100000", "12x 100"}) {
    EXPECT_EQ(CpuQuotaCpus(text), std::nullopt) << "'" << text << "'";
  }
}

// Pinned to one CPU (as Slurm, taskset or a container's cpuset pin a job), the process may use one, whatever the
// machine has; the default thread count follows.
TEST(CpuBudget, FollowsTheAffinityMask) {
  cpu_set_t original;
  ASSERT_EQ(sched_getaffinity(0, sizeof(original), &original), 0);
  const int allowed = CPU_COUNT(&original);
  EXPECT_GE(AvailableCpus(), 1);
  EXPECT_LE(AvailableCpus(), allowed);
  int first = 0;
  while (!CPU_ISSET(first, &original)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const int pinned = AvailableCpus();
  const int threads = ThreadsOrAvailable(0);
  ASSERT_EQ(sched_setaffinity(0, sizeof(original), &original), 0);
  EXPECT_EQ(pinned, 1);
  EXPECT_EQ(threads, 1);
  EXPECT_EQ(ThreadsOrAvailable(5), 5);  // asked for: as asked
}

TEST(CpuRasterThreads, SharesTheCpusBetweenTheRenderers) {
  EXPECT_EQ(render::CpuRasterThreads(2, 2), 0);  // a renderer per CPU: each rasterizes on its worker's thread
  EXPECT_EQ(render::CpuRasterThreads(4, 8), 0);
  EXPECT_EQ(render::CpuRasterThreads(1, 1), 0);
  EXPECT_EQ(render::CpuRasterThreads(2, 1), 2);
  EXPECT_EQ(render::CpuRasterThreads(16, 4), 4);
  EXPECT_EQ(render::CpuRasterThreads(16, 3), 5);
  EXPECT_THROW(render::CpuRasterThreads(0, 1), std::invalid_argument);
  EXPECT_THROW(render::CpuRasterThreads(2, 0), std::invalid_argument);
}

// It sets LP_NUM_THREADS for lavapipe unless the user did, and says which value is in effect.
TEST(CpuRasterThreads, SetsLavapipesThreadsUnlessTheEnvironmentDoes) {
  unsetenv("LP_NUM_THREADS");
  const std::string set = render::ShareCpuRasterizer(2, 2);
  ASSERT_NE(std::getenv("LP_NUM_THREADS"), nullptr);
  EXPECT_EQ(std::string(std::getenv("LP_NUM_THREADS")), "0");
  EXPECT_NE(set.find("LP_NUM_THREADS=0 (2 renderers on 2 CPUs"), std::string::npos) << set;

  setenv("LP_NUM_THREADS", "3", 1);
  const std::string kept = render::ShareCpuRasterizer(8, 2);
  EXPECT_EQ(std::string(std::getenv("LP_NUM_THREADS")), "3");
  EXPECT_NE(kept.find("LP_NUM_THREADS=3 from the environment"), std::string::npos) << kept;
  EXPECT_NE(kept.find("it would be 4"), std::string::npos) << kept;
  unsetenv("LP_NUM_THREADS");
}

}  // namespace
}  // namespace r2s

#pragma once
// How many CPUs this process may use: the default of every --threads / `threads = 0`.
//
// std::thread::hardware_concurrency() counts the machine's online CPUs (glibc's get_nprocs), not the CPUs a job was
// given. A batch job is given fewer: Slurm, taskset, numactl and container runtimes (--cpuset-cpus) restrict the
// affinity mask, and a container's CPU quota (docker --cpus, Kubernetes CPU limits: cgroup v2 cpu.max, v1
// cpu.cfs_quota_us) throttles a process to fewer CPUs' worth of time than its mask holds. Defaulting to the
// machine's count, a Slurm task given 4 CPUs of a 64-core node started 64 workers, each with its own renderer
// (about 0.8 GB on lavapipe), time-sliced onto 4 CPUs.
//
// Read from the kernel each call (sched_getaffinity, /proc/self/cgroup, /sys/fs/cgroup); nothing is cached.

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

namespace r2s {

// The CPUs' worth of time a cgroup quota allows: cgroup v2's cpu.max text "quota period" (e.g. "200000 100000":
// 2.0), or v1's cpu.cfs_quota_us and cpu.cfs_period_us joined by a space. nullopt for no limit ("max", a negative
// quota) and for text that is not two positive numbers.
inline std::optional<double> CpuQuotaCpus(std::string_view quota_and_period) {
  std::istringstream in{std::string(quota_and_period)};
  std::string quota_text;
  double period = 0;
  if (!(in >> quota_text >> period) || quota_text == "max" || !(period > 0)) return std::nullopt;
  char* end = nullptr;
  const double quota = std::strtod(quota_text.c_str(), &end);
  if (end == quota_text.c_str() || *end != '\0' || !(quota > 0) || !std::isfinite(quota)) return std::nullopt;
  return quota / period;
}

namespace cpu_budget_detail {

inline std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The tightest quota on the way from the process's cgroup up to the hierarchy's root (a parent's limit binds its
// children too). `cgroup_path` is the path /proc/self/cgroup gives ("/" inside a container's cgroup namespace).
inline std::optional<double> TightestQuota(const std::string& mount, std::string cgroup_path, const char* quota_file,
                                           const char* period_file) {
  std::optional<double> tightest;
  for (;;) {
    const std::string dir = mount + (cgroup_path == "/" ? "" : cgroup_path);
    std::string text = ReadFirstLine(dir + "/" + quota_file);
    if (period_file != nullptr && !text.empty()) text += " " + ReadFirstLine(dir + "/" + period_file);
    if (const std::optional<double> cpus = CpuQuotaCpus(text)) tightest = std::min(tightest.value_or(*cpus), *cpus);
    if (cgroup_path.empty() || cgroup_path == "/") break;
    const std::size_t slash = cgroup_path.find_last_of('/');
    cgroup_path = slash == 0 || slash == std::string::npos ? "/" : cgroup_path.substr(0, slash);
  }
  return tightest;
}

// The process's cgroup CPU quota in CPUs, the tightest of cgroup v2's (the unified hierarchy, also mounted at
// unified/ on hybrid systems) and v1's cpu controller; nullopt without one.
inline std::optional<double> CgroupCpuQuota() {
  std::optional<double> tightest;
  const auto take = [&](std::optional<double> quota) {
    if (quota) tightest = std::min(tightest.value_or(*quota), *quota);
  };
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    // "hierarchy-id:controllers:path"; v2's unified hierarchy is "0::path".
    const std::size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1), path = line.substr(second + 1);
    if (line.compare(0, first, "0") == 0 && controllers.empty()) {
      for (const char* mount : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
        take(TightestQuota(mount, path, "cpu.max", nullptr));
      }
      continue;
    }
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');) {
      if (name != "cpu") continue;
      for (const char* mount : {"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"}) {
        take(TightestQuota(mount, path, "cpu.cfs_quota_us", "cpu.cfs_period_us"));
      }
    }
  }
  return tightest;
}

}  // namespace cpu_budget_detail

// The CPUs the calling thread may run on (its affinity mask), at most the cgroup quota rounded up, at least 1.
inline int AvailableCpus() {
  int cpus = 0;
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0) cpus = CPU_COUNT(&mask);
  if (cpus <= 0) cpus = static_cast<int>(std::thread::hardware_concurrency());
  if (const std::optional<double> quota = cpu_budget_detail::CgroupCpuQuota()) {
    cpus = std::min(cpus, static_cast<int>(std::ceil(*quota - 1e-9)));
  }
  return std::max(1, cpus);
}

// threads > 0: threads as asked; 0 (the default everywhere): AvailableCpus().
inline int ThreadsOrAvailable(int threads) { return threads > 0 ? threads : AvailableCpus(); }

}  // namespace r2s

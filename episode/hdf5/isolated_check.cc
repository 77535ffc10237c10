#include "episode/hdf5/isolated_check.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "episode/hdf5/attribute_io.h"
#include "episode/hdf5/error.h"
#include "episode/hdf5/handle.h"
#include "episode/hdf5/structure.h"
#include "episode/input_error.h"

#if defined(__SANITIZE_ADDRESS__)
#define R2S_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define R2S_UNDER_ASAN 1
#endif
#endif

namespace r2s::episode::hdf5 {
namespace fs = std::filesystem;
namespace {

constexpr int kChildClean = 0;
constexpr int kChildInputError = 2;
constexpr int kChildOther = 3;

herr_t CollectName(hid_t, const char* name, const H5L_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}

// Every object below `object` with its attributes and, for datasets, type and dataspace: what the readers and
// the copy of preserved nodes will touch. Links other than hard links are not followed (the readers refuse or
// copy them as links); hard links are, with the readers' cycle and size bounds.
void ReadEverything(hid_t object, const std::string& path, const std::string& file, std::vector<haddr_t>& ancestors,
                    std::size_t& objects) {
  ReadAttributes(object, file, path.empty() ? "/" : path);
  if (ancestors.size() > kMaxGroupDepth) {
    throw InputError(file, path, "groups nest deeper than " + std::to_string(kMaxGroupDepth) + " levels");
  }
  std::vector<std::string> names;
  hsize_t index = 0;
  Check(H5Literate(object, H5_INDEX_NAME, H5_ITER_INC, &index, CollectName, &names), file, path.empty() ? "/" : path,
        "cannot list group");
  for (const std::string& name : names) {
    const std::string where = path + "/" + name;
    H5L_info_t link;
    Check(H5Lget_info(object, name.c_str(), &link, H5P_DEFAULT), file, where, "cannot read link");
    if (link.type != H5L_TYPE_HARD) continue;
    if (++objects > kMaxObjects) throw InputError(file, where, "more than " + std::to_string(kMaxObjects) + " objects");
    H5O_info_t info;
    Check(H5Oget_info_by_name2(object, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT), file, where,
          "cannot read object");
    if (info.type == H5O_TYPE_GROUP) {
      if (std::count(ancestors.begin(), ancestors.end(), info.addr) > 0) {
        throw InputError(file, where, "is a hard link to a group it is inside of (a cycle)");
      }
      Handle child(Check(H5Gopen2(object, name.c_str(), H5P_DEFAULT), file, where, "cannot open group"));
      ancestors.push_back(info.addr);
      ReadEverything(child.get(), where, file, ancestors, objects);
      ancestors.pop_back();
    } else if (info.type == H5O_TYPE_DATASET) {
      Handle dataset(Check(H5Dopen2(object, name.c_str(), H5P_DEFAULT), file, where, "cannot open dataset"));
      Handle type(Check(H5Dget_type(dataset.get()), file, where, "cannot read dataset type"));
      Handle space(Check(H5Dget_space(dataset.get()), file, where, "cannot read dataset dataspace"));
      Handle plist(Check(H5Dget_create_plist(dataset.get()), file, where, "cannot read dataset creation properties"));
      ReadAttributes(dataset.get(), file, where);
    } else {
      Handle other(Check(H5Oopen(object, name.c_str(), H5P_DEFAULT), file, where, "cannot open object"));
      ReadAttributes(other.get(), file, where);
    }
  }
}

void WriteAll(int fd, const std::string& bytes) {
  std::size_t at = 0;
  while (at < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + at, bytes.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    at += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void RunChild(const fs::path& file, const IsolatedCheckLimits& limits, int report_fd) {
#ifndef R2S_UNDER_ASAN
  // AddressSanitizer reserves terabytes of shadow address space: a limit on it would fail every run.
  const rlimit as{limits.address_space_bytes, limits.address_space_bytes};
  setrlimit(RLIMIT_AS, &as);
#endif
  const auto seconds = static_cast<rlim_t>(limits.cpu_time.count());
  const rlimit cpu{seconds, seconds + 1};
  setrlimit(RLIMIT_CPU, &cpu);
  int status = kChildClean;
  std::string report;
  try {
    Quiet quiet;
    const std::string name = file.string();
    Handle handle(Check(H5Fopen(name.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), name, "", "truncated or corrupt HDF5 file"));
    Handle root(Check(H5Gopen2(handle.get(), "/", H5P_DEFAULT), name, "/", "cannot open group"));
    H5O_info_t info;
    Check(H5Oget_info2(root.get(), &info, H5O_INFO_BASIC), name, "/", "cannot read object");
    std::vector<haddr_t> ancestors{info.addr};
    std::size_t objects = 0;
    ReadEverything(root.get(), "", name, ancestors, objects);
  } catch (const InputError& e) {
    status = kChildInputError;
    report = e.file() + '\0' + e.field() + '\0' + e.problem();
  } catch (const std::bad_alloc&) {
    status = kChildInputError;
    report = file.string() + '\0' + "" + '\0' + "reading its metadata needs more than " +
             std::to_string(limits.address_space_bytes >> 20) + " MiB: a corrupt size in the file";
  } catch (const std::exception& e) {
    status = kChildOther;
    report = e.what();
  }
  WriteAll(report_fd, report);
  // _exit: no atexit handlers, no library teardown of state shared with the parent.
  _exit(status);
}

std::string SignalName(int signal) {
  const char* description = strsignal(signal);
  return "signal " + std::to_string(signal) + (description ? std::string(" (") + description + ")" : "");
}

}  // namespace

void CheckMetadataInChildProcess(const fs::path& file, const IsolatedCheckLimits& limits) {
  const std::string name = file.string();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("hdf5: pipe: " + std::string(std::strerror(errno)));
  const pid_t child = fork();
  if (child < 0) {
    close(fds[0]);
    close(fds[1]);
    throw std::runtime_error("hdf5: fork: " + std::string(std::strerror(errno)));
  }
  if (child == 0) {
    close(fds[0]);
    RunChild(file, limits, fds[1]);
  }
  close(fds[1]);

  // Read the child's report until it closes the pipe (it exits), or until the time is up.
  std::string report;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + limits.wall_time;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    report.append(buffer, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(child, SIGKILL);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }

  if (timed_out) {
    throw InputError(name, "",
                     "corrupt HDF5 file: reading its metadata did not finish in " +
                         std::to_string(limits.wall_time.count()) + " s");
  }
  if (WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    const std::string what = signal == SIGXCPU ? "used more than " + std::to_string(limits.cpu_time.count()) +
                                                     " s of CPU time"
                             : signal == SIGKILL ? "was killed"
                                                 : "crashed libhdf5";
    throw InputError(name, "",
                     "corrupt HDF5 file: reading its metadata " + what + " (" + SignalName(signal) +
                         ", in the child process r2s reads untrusted files in first)");
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : kChildOther;
  if (code == kChildClean) return;
  if (code == kChildInputError) {
    const std::size_t a = report.find('\0');
    const std::size_t b = a == std::string::npos ? std::string::npos : report.find('\0', a + 1);
    if (b != std::string::npos) {
      throw InputError(report.substr(0, a), report.substr(a + 1, b - a - 1), report.substr(b + 1));
    }
  }
  throw InputError(name, "",
                   "corrupt HDF5 file: reading its metadata failed in the child process r2s reads untrusted files in "
                   "first (exit status " +
                       std::to_string(code) + (report.empty() ? "" : ": " + report) + ")");
}

}  // namespace r2s::episode::hdf5

#include "amplify/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "episode/input_error.h"

namespace r2s::amplify {
namespace fs = std::filesystem;

std::shared_ptr<const FolderLock> FolderLock::Acquire(const fs::path& dir, const std::string& field) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(dir.string(), field, "cannot be created: " + ec.message());
  const fs::path file = dir / ".r2s.lock";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(file.string(), field, std::string("cannot be opened: ") + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char holder[512] = {};
    const ssize_t n = ::pread(fd, holder, sizeof(holder) - 1, 0);
    ::close(fd);
    if (error == EWOULDBLOCK) {
      std::string who = n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : "another process";
      while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
      throw InputError(dir.string(), field,
                       "is being written by " + who + " (" + file.string() +
                           "); wait for it to finish, or give another folder");
    }
    throw InputError(file.string(), field, std::string("cannot be locked: ") + std::strerror(error));
  }
  // Who holds it, for the message another writer gets.
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  const std::time_t now = std::time(nullptr);
  char started[64] = {};
  std::strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const std::string text = "r2s process " + std::to_string(::getpid()) + " on " + host + " since " + started + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(fd, text.data(), text.size(), 0);
  }
  return std::shared_ptr<const FolderLock>(new FolderLock(fd));
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

}  // namespace r2s::amplify

#include "episode/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <random>
#include <regex>
#include <string>
#include <system_error>

namespace r2s::episode {

namespace fs = std::filesystem;

fs::path TemporaryPathFor(const fs::path& final_path) {
  std::random_device entropy;
  const std::uint64_t nonce = (static_cast<std::uint64_t>(entropy()) << 32) ^ entropy();
  return final_path.parent_path() /
         ("." + final_path.filename().string() + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(nonce));
}

int RemoveStaleTemporaries(const fs::path& dir) {
  const std::regex temporary(R"(\..+\.tmp-[0-9]+-[0-9]+)");
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!std::regex_match(entry.path().filename().string(), temporary)) continue;
    std::error_code remove_error;
    if (fs::remove_all(entry.path(), remove_error) > 0) ++removed;
  }
  return removed;
}

void PublishFile(const fs::path& temp, const fs::path& final_path) {
  // Flush first, so that a crash right after the rename cannot leave the final name on a file whose data never
  // reached the disk.
  const int fd = ::open(temp.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    throw std::system_error(error, std::generic_category(), "cannot flush " + temp.string());
  }
  ::close(fd);
  std::error_code ec;
  fs::rename(temp, final_path, ec);
  if (ec) throw std::system_error(ec, "cannot rename " + temp.string() + " to " + final_path.string());
}

void WriteFileAtomically(const fs::path& final_path, std::string_view bytes) {
  const fs::path temp = TemporaryPathFor(final_path);
  try {
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      if (!out) throw std::system_error(errno, std::generic_category(), "cannot create " + temp.string());
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      out.flush();
      if (!out) throw std::system_error(errno, std::generic_category(), "cannot write " + temp.string());
    }
    PublishFile(temp, final_path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
}

}  // namespace r2s::episode

#include "fuzz/fuzz_support.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <stdexcept>

namespace r2s::fuzz {
namespace fs = std::filesystem;
namespace {

fs::path MakeScratchDir() {
  std::string pattern = (fs::temp_directory_path() / "r2s-fuzz-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("fuzz: cannot make a folder like " + pattern);
  return pattern;
}

void RemoveScratchDir() {
  std::error_code ignored;
  fs::remove_all(ScratchDir(), ignored);
}

bool SafeRelativePath(std::string_view path) {
  if (path.empty() || path.size() > 128 || path.front() == '/') return false;
  for (const char c : path) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-' || c == '/';
    if (!ok) return false;
  }
  for (const fs::path& part : fs::path(path)) {
    if (part == "..") return false;
  }
  return true;
}

}  // namespace

const fs::path& ScratchDir() {
  static const fs::path dir = [] {
    fs::path made = MakeScratchDir();
    return made;
  }();
  static const bool registered = [] {
    // Registered after `dir` is made, so it runs before `dir` is destroyed.
    std::atexit(RemoveScratchDir);
    return true;
  }();
  (void)registered;
  return dir;
}

void WriteBytes(const fs::path& file, const std::uint8_t* data, std::size_t size) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) throw std::runtime_error("fuzz: cannot write " + file.string());
}

void CopyOnce(const fs::path& from, const fs::path& to) {
  static std::set<fs::path> done;
  if (!done.insert(to).second) return;
  fs::create_directories(to.parent_path());
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

void NoteInputError(const std::exception& error) {
  static const bool verbose = std::getenv("R2S_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::cerr << "input error: " << error.what() << "\n";
}

std::vector<InputFile> SplitFiles(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<InputFile> files;
  if (input.substr(0, kFileMarker.size()) != kFileMarker) return files;
  std::size_t at = 0;
  while (at < input.size() && files.size() < kMaxFiles) {
    // `at` is at a marker.
    const std::size_t path_begin = at + kFileMarker.size();
    const std::size_t path_end = input.find('\n', path_begin);
    if (path_end == std::string_view::npos) break;
    const std::size_t bytes_begin = path_end + 1;
    const std::string separator = "\n" + std::string(kFileMarker);
    std::size_t next = input.find(separator, bytes_begin);
    const std::size_t bytes_end = next == std::string_view::npos ? input.size() : next;
    const std::string_view path = input.substr(path_begin, path_end - path_begin);
    if (SafeRelativePath(path)) {
      files.push_back({std::string(path), input.substr(bytes_begin, bytes_end - bytes_begin)});
    }
    if (next == std::string_view::npos) break;
    at = next + 1;
  }
  return files;
}

std::string JoinFiles(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string out;
  for (const auto& [path, bytes] : files) {
    if (!out.empty()) out += '\n';
    out += kFileMarker;
    out += path;
    out += '\n';
    out += bytes;
  }
  return out;
}

}  // namespace r2s::fuzz

#pragma once
// What the libFuzzer harnesses share (fuzz/README.md): a private scratch folder per process, the input's bytes
// written as files there, and the multi-file input format of the LeRobot harness. The same harness sources build
// into the fuzzers (clang, -fsanitize=fuzzer) and into the regression test of the normal build
// (tests/fuzz_regression_test.cc), which feeds them the committed corpora.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace r2s::fuzz {

// A fresh folder under the system's temporary folder, made on first use and removed when the process exits.
const std::filesystem::path& ScratchDir();

// Writes `size` bytes to `file` (creating its parent folders), replacing what was there.
void WriteBytes(const std::filesystem::path& file, const std::uint8_t* data, std::size_t size);

// Copies `from` (a file or a folder) to `to`, once per process: later calls with the same `to` do nothing.
void CopyOnce(const std::filesystem::path& from, const std::filesystem::path& to);

// Prints the error to stderr when R2S_FUZZ_VERBOSE is set (to see what an input ends in; silent while fuzzing).
void NoteInputError(const std::exception& error);

// The multi-file input: records "@r2s-file <relative path>\n<bytes>", each after the first preceded by "\n".
// A record whose path is empty, absolute, has a ".." part or characters other than [A-Za-z0-9_.-/], or is longer
// than 128 characters, is dropped; at most kMaxFiles records are kept.
inline constexpr std::string_view kFileMarker = "@r2s-file ";
inline constexpr std::size_t kMaxFiles = 16;
struct InputFile {
  std::string path;
  std::string_view bytes;
};
std::vector<InputFile> SplitFiles(const std::uint8_t* data, std::size_t size);
std::string JoinFiles(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace r2s::fuzz

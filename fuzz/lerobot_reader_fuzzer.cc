// libFuzzer harness: the LeRobot reader (DatasetReader::Open on a folder with meta/info.json, then every episode
// read). The input is a small archive of the dataset's files (fuzz_support.h: "@r2s-file <path>\n<bytes>"
// records: meta/info.json, the data parquet files, meta/episodes, tasks), written into a fresh folder. The seeds
// are the bundled datasets without their videos (fuzz/README.md), so no video is decoded. Bad input must end in
// r2s::InputError.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <system_error>

#include "episode/dataset_reader.h"
#include "episode/input_error.h"
#include "fuzz/fuzz_support.h"

namespace {
constexpr std::int64_t kMaxEpisodesRead = 8;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path dir = r2s::fuzz::ScratchDir() / "lerobot_reader" / "dataset";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const r2s::fuzz::InputFile& file : r2s::fuzz::SplitFiles(data, size)) {
    std::error_code error;
    // A record may name a folder another record made a file (or the reverse): such records are skipped.
    if (std::filesystem::is_directory(dir / file.path, error)) continue;
    try {
      r2s::fuzz::WriteBytes(dir / file.path, reinterpret_cast<const std::uint8_t*>(file.bytes.data()),
                            file.bytes.size());
    } catch (const std::exception&) {
      continue;
    }
  }
  try {
    const auto reader = r2s::episode::DatasetReader::Open(dir);
    for (std::int64_t i = 0; i < reader.num_episodes() && i < kMaxEpisodesRead; ++i) reader.ReadEpisode(i);
  } catch (const r2s::InputError& e) {
    r2s::fuzz::NoteInputError(e);
    // The expected outcome for a corrupt dataset.
  }
  return 0;
}

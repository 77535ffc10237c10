// libFuzzer harness: the HDF5 episode reader (DatasetReader::Open on one file, then every episode read) on
// arbitrary bytes. Bad input must end in r2s::InputError; anything else escaping, a sanitizer report, a hang or
// unbounded memory is a bug. DatasetReader::Open reads an HDF5 file's metadata in a forked child first
// (episode/hdf5/isolated_check.h), so every input costs a fork: libhdf5's own crashes on corrupt files happen
// there and come back as InputError. Many mutants make libhdf5 loop, which costs the reader's child its whole CPU
// budget (30 s): the harness runs the same child check first with a 2 s budget, so that those inputs end sooner;
// an input that passes it goes through the reader's own check and limits unchanged.

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "episode/dataset_reader.h"
#include "episode/hdf5/isolated_check.h"
#include "episode/input_error.h"
#include "fuzz/fuzz_support.h"

namespace {
// A corrupt file may claim any number of episodes; reading a few covers the reader's paths.
constexpr std::int64_t kMaxEpisodesRead = 8;

r2s::episode::hdf5::IsolatedCheckLimits QuickCheck() {
  r2s::episode::hdf5::IsolatedCheckLimits limits;
  limits.cpu_time = std::chrono::seconds(2);
  limits.wall_time = std::chrono::seconds(60);
  return limits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path file = r2s::fuzz::ScratchDir() / "hdf5_reader" / "dataset.hdf5";
  r2s::fuzz::WriteBytes(file, data, size);
  try {
    r2s::episode::hdf5::CheckMetadataInChildProcess(file, QuickCheck());
    const auto reader = r2s::episode::DatasetReader::Open(file);
    for (std::int64_t i = 0; i < reader.num_episodes() && i < kMaxEpisodesRead; ++i) reader.ReadEpisode(i);
  } catch (const r2s::InputError& e) {
    r2s::fuzz::NoteInputError(e);
    // The expected outcome for a corrupt file.
  }
  return 0;
}

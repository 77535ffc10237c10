// Reads a dataset through the installed public headers and prints what a harness would check.
#include <cstdio>

#include "episode/dataset_reader.h"
#include "episode/input_error.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  try {
    const auto reader = r2s::episode::DatasetReader::Open(argv[1]);
    const auto episode = reader.ReadEpisode(0);
    const auto state = episode.At("observation.state").data.values<double>();
    std::printf("episodes=%lld frames=%lld state0=%.6f\n", static_cast<long long>(reader.num_episodes()),
                static_cast<long long>(episode.metadata.length), state[0]);
  } catch (const r2s::InputError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  return 0;
}

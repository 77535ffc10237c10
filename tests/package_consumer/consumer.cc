// Reads a dataset, steps a scene's world and numbers its bodies for segmentation through the installed public
// headers and libraries, as a harness would.
#include <cstdio>

#include "episode/dataset_reader.h"
#include "episode/input_error.h"
#include "render/segmentation.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  try {
    const auto reader = r2s::episode::DatasetReader::Open(argv[1]);
    const auto episode = reader.ReadEpisode(0);
    const auto state = episode.At("observation.state").data.values<double>();
    std::printf("episodes=%lld frames=%lld state0=%.6f\n", static_cast<long long>(reader.num_episodes()),
                static_cast<long long>(episode.metadata.length), state[0]);
    const auto model = r2s::sim::LoadScene(argv[2]);
    r2s::sim::World world(model);
    world.Step(100);
    std::printf("dofs=%d time=%.3f segmentation_ids=%zu\n", model->robot->num_dofs(), world.time_s(),
                r2s::render::SegmentationTable(*model).size());
  } catch (const r2s::InputError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  return 0;
}

// libFuzzer harness: params.yaml (ReadParams on arbitrary bytes, then, for a file that reads, its overlay on two
// bundled scenes, xl330_pendulum (a robot: joints and links) and cube_toss (objects): ApplyParams and
// CompileScene, where joint and link names and overlaid inertials are checked). Bad input must end in
// r2s::InputError.

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "episode/input_error.h"
#include "fuzz/fuzz_support.h"
#include "sim/params_overlay.h"
#include "sim/scene_compiler.h"
#include "sim/scene_loader.h"

#ifndef R2S_SOURCE_DIR
#error "R2S_SOURCE_DIR must name the source tree (the scene the parameters overlay is read from it)"
#endif

namespace {

void Overlay(const r2s::sim::ParamsFile& params, const std::filesystem::path& file, const r2s::sim::SceneSpec& scene) {
  try {
    r2s::sim::SceneSpec spec = scene;
    r2s::sim::ApplyParams(params, file, spec);
    r2s::sim::CompileScene(spec);
  } catch (const r2s::InputError& e) {
    r2s::fuzz::NoteInputError(e);
    // The expected outcome for parameters that do not fit the scene.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path source = R2S_SOURCE_DIR;
  static const r2s::sim::SceneSpec pendulum = r2s::sim::LoadSceneSpec(source / "scenes/xl330_pendulum/scene.yaml");
  static const r2s::sim::SceneSpec cube_toss = r2s::sim::LoadSceneSpec(source / "scenes/cube_toss/scene.yaml");
  const std::filesystem::path file = r2s::fuzz::ScratchDir() / "params_yaml" / "params.yaml";
  r2s::fuzz::WriteBytes(file, data, size);
  r2s::sim::ParamsFile params;
  try {
    params = r2s::sim::ReadParams(file);
  } catch (const r2s::InputError& e) {
    r2s::fuzz::NoteInputError(e);
    return 0;  // the expected outcome for a bad params.yaml
  }
  Overlay(params, file, pendulum);
  Overlay(params, file, cube_toss);
  return 0;
}

// libFuzzer harness: the scene loader (LoadScene: parse, validate, compile, URDF and meshes) on an arbitrary
// scene.yaml. The file is written into a scratch folder that holds, copied once per process, the robots and
// meshes the bundled scenes name (robot/panda.urdf with its collision meshes from scenes/panda_sysid,
// robot/pendulum.urdf from scenes/xl330_pendulum, meshes/ from scenes/tabletop), so mutants of every bundled
// scene compile. Bad input must end in r2s::InputError.

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "episode/input_error.h"
#include "fuzz/fuzz_support.h"
#include "sim/scene_compiler.h"

#ifndef R2S_SOURCE_DIR
#error "R2S_SOURCE_DIR must name the source tree (the bundled robots are copied from it)"
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path source = R2S_SOURCE_DIR;
  const std::filesystem::path dir = r2s::fuzz::ScratchDir() / "scene_loader";
  r2s::fuzz::CopyOnce(source / "scenes/panda_sysid/robot", dir / "robot");
  r2s::fuzz::CopyOnce(source / "scenes/xl330_pendulum/robot/pendulum.urdf", dir / "robot/pendulum.urdf");
  r2s::fuzz::CopyOnce(source / "scenes/tabletop/meshes", dir / "meshes");
  const std::filesystem::path scene = dir / "scene.yaml";
  r2s::fuzz::WriteBytes(scene, data, size);
  try {
    r2s::sim::LoadScene(scene);
  } catch (const r2s::InputError& e) {
    r2s::fuzz::NoteInputError(e);
    // The expected outcome for a bad scene.
  }
  return 0;
}

#pragma once
// scene.yaml -> SceneSpec. Checks syntax and types only (unknown keys, wrong types, missing required keys,
// non-finite numbers, malformed feature slices); values and references are checked by CompileScene.
// docs/scenes.md is the file format's reference.

#include <filesystem>

#include "sim/scene_spec.h"

namespace r2s::sim {

// `scene` is a scene.yaml file or the folder holding one. Throws InputError(file, "line N: key.path", problem).
SceneSpec LoadSceneSpec(const std::filesystem::path& scene);

}  // namespace r2s::sim

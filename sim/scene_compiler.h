#pragma once
// SceneSpec -> the immutable Model: validates every value and reference, resolves asset paths inside the scene
// folder, loads the robot (LoadUrdf) and meshes, fills actuators (URDF -> default -> per joint -> params) and
// computes missing inertials. Deterministic: the same spec gives the same Model.

#include <filesystem>
#include <memory>
#include <optional>

#include "sim/model.h"
#include "sim/scene_spec.h"

namespace r2s::sim {

// Throws InputError naming the scene file (or params file, for overlaid values), the line and the key.
std::shared_ptr<const Model> CompileScene(const SceneSpec& spec);

// LoadSceneSpec, then ApplyParams when `params` is given, then CompileScene.
std::shared_ptr<const Model> LoadScene(const std::filesystem::path& scene,
                                       const std::optional<std::filesystem::path>& params = std::nullopt);

}  // namespace r2s::sim

#pragma once
// Shared by the renderer's tests: every renderer runs under the Vulkan validation layer, so that any message the
// layer prints fails the test (Renderer throws RenderError(kValidation)).

#include <filesystem>
#include <memory>
#include <string>

#include "render/renderer.h"
#include "sim/model.h"
#include "sim/scene_compiler.h"
#include "tests/test_support.h"

namespace r2s::testing {

inline render::RendererOptions ValidatedRendererOptions() {
  render::RendererOptions options;
  options.validation = true;
  return options;
}

// Writes `yaml` as scene.yaml into `dir` and compiles it.
inline std::shared_ptr<const sim::Model> LoadInlineScene(const TempDir& dir, const std::string& yaml) {
  WriteTextFile(dir / "scene.yaml", yaml);
  return sim::LoadScene(dir.path());
}

// A world-fixed OpenCV camera at `eye` looking at `target`, +y of the image pointing away from `up`.
inline Eigen::Isometry3d LookAt(const Eigen::Vector3d& eye, const Eigen::Vector3d& target,
                                const Eigen::Vector3d& up = Eigen::Vector3d::UnitZ()) {
  const Eigen::Vector3d z = (target - eye).normalized();
  const Eigen::Vector3d x = z.cross(up).normalized();
  const Eigen::Vector3d y = z.cross(x);
  Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
  pose.linear().col(0) = x;
  pose.linear().col(1) = y;
  pose.linear().col(2) = z;
  pose.translation() = eye;
  return pose;
}

}  // namespace r2s::testing

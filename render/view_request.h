#pragma once
// A view to render: which world state, which camera, and the per-view parameter record the randomizer varies
// (camera intrinsics and extrinsics, lights, materials, exposure).

#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "render/scene_state.h"
#include "sim/model.h"

namespace r2s::render {

// A pinhole camera in OpenCV's convention: pixel (u, v) = (fx x / z + cx, fy y / z + cy) in the camera frame
// (+z along the optical axis, +x right, +y down), with the centre of the top-left pixel at (0, 0).
struct CameraIntrinsics {
  int width_px = 0;
  int height_px = 0;
  double fx_px = 0, fy_px = 0, cx_px = 0, cy_px = 0;
  double near_m = 0.01;  // nothing nearer or farther than these is drawn
  double far_m = 10.0;
};

// Replaces the look of one of the model's materials in one view. Unset fields keep the model's value.
struct MaterialOverride {
  std::string material;                 // a key of sim::Model::materials ("acrylic", "panda/panda_white", ...)
  std::optional<Eigen::Vector4d> rgba;  // sRGB colour and alpha, like the scene file's
  // A texture id from Renderer::AddTexture, or -1 for none (the mesh files' own textures then show).
  std::optional<int> texture;
  std::optional<double> roughness;  // 0 (mirror-like highlight) to 1 (matte)
};

struct ViewParams {
  // Camera: the model camera's intrinsics unless given; its world pose (after following the link it is attached
  // to) unless camera_pose is given; then camera_offset, a motion in the camera's own frame (jitter), applied last.
  std::optional<CameraIntrinsics> intrinsics;
  std::optional<Eigen::Isometry3d> camera_pose;  // the OpenCV camera frame in the world
  Eigen::Isometry3d camera_offset = Eigen::Isometry3d::Identity();

  // The model's lights unless given (at most Renderer::kMaxLights; intensity, colour, direction and position
  // are the fields to vary). Shadows follow LightModel::casts_shadows.
  std::optional<std::vector<sim::LightModel>> lights;
  std::vector<MaterialOverride> materials;

  // Light that reaches every surface unshadowed (sky and room bounce), as linear RGB irradiance.
  Eigen::Vector3d ambient_rgb = Eigen::Vector3d::Constant(0.3);
  // Scales the light reaching the sensor before the tone curve: a camera's exposure time and gain.
  double exposure = 0.5;
  Eigen::Vector3d background_rgb = Eigen::Vector3d::Zero();  // sRGB, where no surface is drawn
};

struct ViewRequest {
  int state = 0;   // index into the SceneStates given with the batch
  int camera = 0;  // index into sim::Model::cameras, or -1 for a camera given wholly by params
  ViewParams params;
};

// The camera a view resolves to. Throw std::invalid_argument when the request names no usable camera (an index
// out of range, or -1 without params.intrinsics and params.camera_pose) or the intrinsics are unusable.
CameraIntrinsics ResolveIntrinsics(const sim::Model& model, const ViewRequest& view);
Eigen::Isometry3d ResolveCameraPose(const sim::Model& model, const SceneState& state, const ViewRequest& view);

// A model camera's intrinsics.
CameraIntrinsics IntrinsicsOf(const sim::CameraModel& camera);

}  // namespace r2s::render

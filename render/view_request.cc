#include "render/view_request.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace r2s::render {
namespace {

std::string CameraName(const sim::Model& model, const ViewRequest& view) {
  return view.camera >= 0 ? "camera '" + model.cameras[view.camera].name + "'" : "a view's own camera";
}

void CheckCameraIndex(const sim::Model& model, const ViewRequest& view) {
  if (view.camera < -1 || view.camera >= static_cast<int>(model.cameras.size())) {
    throw std::invalid_argument("ViewRequest::camera = " + std::to_string(view.camera) + ": the model has " +
                                std::to_string(model.cameras.size()) + " cameras (-1 for a view's own camera)");
  }
}

}  // namespace

CameraIntrinsics IntrinsicsOf(const sim::CameraModel& camera) {
  return {camera.width_px, camera.height_px, camera.fx_px,  camera.fy_px,
          camera.cx_px,    camera.cy_px,     camera.near_m, camera.far_m};
}

CameraIntrinsics ResolveIntrinsics(const sim::Model& model, const ViewRequest& view) {
  CheckCameraIndex(model, view);
  if (view.camera < 0 && !view.params.intrinsics) {
    throw std::invalid_argument("ViewRequest::camera = -1 needs params.intrinsics");
  }
  const CameraIntrinsics k =
      view.params.intrinsics ? *view.params.intrinsics : IntrinsicsOf(model.cameras[view.camera]);
  const std::string who = CameraName(model, view);
  auto fail = [&](const std::string& field, double value, const std::string& rule) {
    throw std::invalid_argument(who + ": intrinsics " + field + " = " + std::to_string(value) + ", " + rule);
  };
  if (k.width_px <= 0 || k.width_px > 16384) fail("width_px", k.width_px, "must be 1 to 16384");
  if (k.height_px <= 0 || k.height_px > 16384) fail("height_px", k.height_px, "must be 1 to 16384");
  if (!(k.fx_px > 0) || !std::isfinite(k.fx_px)) fail("fx_px", k.fx_px, "must be positive");
  if (!(k.fy_px > 0) || !std::isfinite(k.fy_px)) fail("fy_px", k.fy_px, "must be positive");
  if (!std::isfinite(k.cx_px)) fail("cx_px", k.cx_px, "must be finite");
  if (!std::isfinite(k.cy_px)) fail("cy_px", k.cy_px, "must be finite");
  if (!(k.near_m > 0) || !std::isfinite(k.near_m)) fail("near_m", k.near_m, "must be positive");
  if (!(k.far_m > k.near_m) || !std::isfinite(k.far_m)) fail("far_m", k.far_m, "must exceed near_m");
  return k;
}

Eigen::Isometry3d ResolveCameraPose(const sim::Model& model, const SceneState& state, const ViewRequest& view) {
  CheckCameraIndex(model, view);
  Eigen::Isometry3d pose;
  if (view.params.camera_pose) {
    pose = *view.params.camera_pose;
  } else if (view.camera < 0) {
    throw std::invalid_argument("ViewRequest::camera = -1 needs params.camera_pose");
  } else {
    const sim::CameraModel& camera = model.cameras[view.camera];
    pose = camera.pose;
    if (!camera.attached_link.empty()) {
      const int link = model.robot ? model.robot->FindLink(camera.attached_link) : -1;
      if (link < 0 || link >= static_cast<int>(state.link_poses.size())) {
        throw std::invalid_argument("camera '" + camera.name + "' is attached to link '" + camera.attached_link +
                                    "', which the scene state has no pose for");
      }
      pose = state.link_poses[link] * camera.pose;
    }
  }
  pose = pose * view.params.camera_offset;
  if (!pose.matrix().allFinite()) throw std::invalid_argument(CameraName(model, view) + ": camera pose is not finite");
  return pose;
}

}  // namespace r2s::render

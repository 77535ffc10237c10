#pragma once
// The poses a renderer draws a scene in: one world's robot links, free objects and static bodies. The static
// bodies' poses come from the world's own model, not the renderer's: a variant that moves a static body (a bin
// to place into, amplify/variant_draw.h) renders from one LoadModel of the scene's model.

#include <vector>

#include <Eigen/Geometry>

#include "sim/model.h"

namespace r2s::sim {
class World;
}

namespace r2s::render {

struct SceneState {
  std::vector<Eigen::Isometry3d> link_poses;    // world pose of each RobotModel::links entry's frame
  std::vector<Eigen::Isometry3d> object_poses;  // world pose of each Model::objects entry's frame
  // World pose of each Model::environment entry's frame; empty: where the renderer's loaded model puts them.
  std::vector<Eigen::Isometry3d> environment_poses;
};

// The world's current poses.
SceneState CaptureState(const sim::World& world);

// Objects at their initial poses and robot links at the robot's initial_q, by forward kinematics.
SceneState InitialState(const sim::Model& model);

}  // namespace r2s::render

#pragma once
// The poses a renderer draws a scene in: one world's robot links and free objects. Static bodies (the
// environment) stay where the model puts them.

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
};

// The world's current poses.
SceneState CaptureState(const sim::World& world);

// Objects at their initial poses and robot links at the robot's initial_q, by forward kinematics.
SceneState InitialState(const sim::Model& model);

}  // namespace r2s::render

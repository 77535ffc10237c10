#include "render/scene_state.h"

#include "sim/world.h"

namespace r2s::render {

SceneState CaptureState(const sim::World& world) {
  const sim::Model& model = world.model();
  SceneState state;
  if (model.robot) {
    state.link_poses.reserve(model.robot->links.size());
    for (int i = 0; i < static_cast<int>(model.robot->links.size()); ++i) state.link_poses.push_back(world.LinkPose(i));
  }
  state.object_poses.reserve(model.objects.size());
  for (int i = 0; i < static_cast<int>(model.objects.size()); ++i) state.object_poses.push_back(world.ObjectPose(i));
  // Static bodies do not move in a World: where its model stands them.
  for (const sim::ObjectModel& body : model.environment) state.environment_poses.push_back(body.initial_pose);
  return state;
}

SceneState InitialState(const sim::Model& model) {
  SceneState state;
  if (model.robot) {
    const sim::RobotModel& robot = *model.robot;
    state.link_poses.resize(robot.links.size());
    for (std::size_t i = 0; i < robot.links.size(); ++i) {
      const sim::Link& link = robot.links[i];
      if (link.parent < 0) {
        state.link_poses[i] = robot.base_pose;
        continue;
      }
      Eigen::Isometry3d motion = Eigen::Isometry3d::Identity();
      const double q = link.dof >= 0 && link.dof < robot.initial_q.size() ? robot.initial_q[link.dof] : 0.0;
      if (link.joint_type == sim::JointType::kRevolute) {
        motion.linear() = Eigen::AngleAxisd(q, link.joint_axis).toRotationMatrix();
      } else if (link.joint_type == sim::JointType::kPrismatic) {
        motion.translation() = q * link.joint_axis;
      }
      state.link_poses[i] = state.link_poses[link.parent] * link.joint_origin * motion;
    }
  }
  for (const sim::ObjectModel& object : model.objects) state.object_poses.push_back(object.initial_pose);
  for (const sim::ObjectModel& body : model.environment) state.environment_poses.push_back(body.initial_pose);
  return state;
}

}  // namespace r2s::render

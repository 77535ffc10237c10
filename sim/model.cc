#include "sim/model.h"

namespace r2s::sim {

int RobotModel::FindLink(const std::string& link_name) const {
  for (std::size_t i = 0; i < links.size(); ++i) {
    if (links[i].name == link_name) return static_cast<int>(i);
  }
  return -1;
}

int RobotModel::FindDof(const std::string& joint_name) const {
  for (int dof = 0; dof < num_dofs(); ++dof) {
    if (dof_link(dof).joint_name == joint_name) return dof;
  }
  return -1;
}

Eigen::MatrixXd RobotModel::Transmission() const {
  return coupled() ? transmission : Eigen::MatrixXd::Identity(num_dofs(), num_dofs());
}

int Model::FindObject(const std::string& object_name) const {
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (objects[i].name == object_name) return static_cast<int>(i);
  }
  return -1;
}

const Material& Model::MaterialOf(const std::string& material_name) const {
  static const Material kDefault{};
  auto it = materials.find(material_name);
  return it == materials.end() ? kDefault : it->second;
}

}  // namespace r2s::sim

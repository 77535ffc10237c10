#pragma once
// The scene's success predicate, evaluated on an episode's final state.

#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "sim/model.h"

namespace r2s::sim {

struct SuccessReport {
  bool success = true;              // every condition holds (also true for a scene with none)
  std::vector<std::string> failed;  // a readable line per failing condition
};

// object_poses: one per Model::objects (an object's position is its frame origin); q: one per robot dof (may be
// empty when no condition is about a joint). A region with a frame is in that body's frame: an environment body's
// pose is the model's (pass a variant's model for a body the variant moved), a free object's is its entry in
// object_poses. Throws std::invalid_argument when the sizes do not fit or a name is not in the model.
SuccessReport EvaluateSuccess(const Model& model, const std::vector<Eigen::Isometry3d>& object_poses,
                              const Eigen::VectorXd& q);

}  // namespace r2s::sim

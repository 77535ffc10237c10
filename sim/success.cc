#include "sim/success.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace r2s::sim {
namespace {

std::string Format(const char* format, auto... args) {
  char buffer[512];
  std::snprintf(buffer, sizeof(buffer), format, args...);
  return buffer;
}

}  // namespace

SuccessReport EvaluateSuccess(const Model& model, const std::vector<Eigen::Isometry3d>& object_poses,
                              const Eigen::VectorXd& q) {
  if (object_poses.size() != model.objects.size()) {
    throw std::invalid_argument("EvaluateSuccess: " + std::to_string(object_poses.size()) + " object poses for " +
                                std::to_string(model.objects.size()) + " objects");
  }
  SuccessReport report;
  for (const SuccessCondition& c : model.success) {
    std::string failure;
    if (c.kind == SuccessCondition::Kind::kJointReached) {
      const int dof = model.robot ? model.robot->FindDof(c.subject) : -1;
      if (dof < 0) throw std::invalid_argument("EvaluateSuccess: no movable joint '" + c.subject + "'");
      if (q.size() != model.robot->num_dofs()) {
        throw std::invalid_argument("EvaluateSuccess: q has " + std::to_string(q.size()) + " entries for " +
                                    std::to_string(model.robot->num_dofs()) + " dofs");
      }
      const double error = q[dof] - c.target;
      if (!(std::abs(error) <= c.tolerance)) {
        failure = Format("joint_reached: %s is at %.6g, %.6g from the target %.6g (tolerance %.6g)", c.subject.c_str(),
                         q[dof], error, c.target, c.tolerance);
      }
    } else {
      const int index = model.FindObject(c.subject);
      if (index < 0) throw std::invalid_argument("EvaluateSuccess: no object '" + c.subject + "'");
      const Eigen::Vector3d p = object_poses[index].translation();
      if (c.kind == SuccessCondition::Kind::kObjectInRegion) {
        const bool inside = (p.array() >= c.region_min_m.array()).all() && (p.array() <= c.region_max_m.array()).all();
        if (!inside) {
          failure = Format(
              "object_in_region: %s at (%.4f, %.4f, %.4f) m is outside [%.4f, %.4f] x [%.4f, %.4f] x [%.4f, %.4f] m",
              c.subject.c_str(), p.x(), p.y(), p.z(), c.region_min_m.x(), c.region_max_m.x(), c.region_min_m.y(),
              c.region_max_m.y(), c.region_min_m.z(), c.region_max_m.z());
        }
      } else if (!(p.z() > c.height_m)) {
        failure =
            Format("object_above_height: %s is at z = %.4f m, not above %.4f m", c.subject.c_str(), p.z(), c.height_m);
      }
    }
    if (!failure.empty()) {
      report.success = false;
      report.failed.push_back(std::move(failure));
    }
  }
  return report;
}

}  // namespace r2s::sim

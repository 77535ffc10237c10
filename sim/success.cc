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

// The world pose of the body named `frame`: an environment body where the model stands it (a variant's model may
// have moved it), or a free object where it is now.
Eigen::Isometry3d FramePose(const Model& model, const std::vector<Eigen::Isometry3d>& object_poses,
                            const std::string& frame) {
  for (const ObjectModel& body : model.environment) {
    if (body.name == frame) return body.initial_pose;
  }
  const int object = model.FindObject(frame);
  if (object < 0) throw std::invalid_argument("EvaluateSuccess: no body '" + frame + "' for a region's frame");
  return object_poses[object];
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
        const Eigen::Vector3d local = c.frame.empty() ? p : FramePose(model, object_poses, c.frame).inverse() * p;
        const bool inside =
            (local.array() >= c.region_min_m.array()).all() && (local.array() <= c.region_max_m.array()).all();
        if (!inside) {
          const std::string where = c.frame.empty() ? ""
                                                    : Format(" in %s's frame (world (%.4f, %.4f, %.4f) m)",
                                                             c.frame.c_str(), p.x(), p.y(), p.z());
          failure = Format(
              "object_in_region: %s at (%.4f, %.4f, %.4f) m%s is outside [%.4f, %.4f] x [%.4f, %.4f] x [%.4f, %.4f] m",
              c.subject.c_str(), local.x(), local.y(), local.z(), where.c_str(), c.region_min_m.x(), c.region_max_m.x(),
              c.region_min_m.y(), c.region_max_m.y(), c.region_min_m.z(), c.region_max_m.z());
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

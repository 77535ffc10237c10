#include "sim/parameter_name.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/model.h"

namespace r2s::sim {
namespace {

// ActuatorParams' fields in its order, then the joint's encoder offset (RobotModel::position_offset).
constexpr std::string_view kJointFields[] = {"kp",        "kd",        "effort_limit",     "velocity_limit",
                                             "latency_s", "coulomb_friction", "viscous_friction", "damping",
                                             "armature",  "position_offset"};
constexpr int kPositionOffsetField = 9;
// A link's inertial: mass, CoM in the link frame, inertia about the CoM in the link frame's axes.
constexpr std::string_view kLinkFields[] = {"mass_kg",  "com_x_m",  "com_y_m",  "com_z_m",  "ixx_kgm2",
                                            "ixy_kgm2", "ixz_kgm2", "iyy_kgm2", "iyz_kgm2", "izz_kgm2"};
constexpr std::string_view kObjectFields[] = {"mass_kg", "lateral_friction", "rolling_friction", "spinning_friction",
                                              "restitution"};

int IndexIn(std::span<const std::string_view> fields, std::string_view field) {
  const auto it = std::find(fields.begin(), fields.end(), field);
  return it == fields.end() ? -1 : static_cast<int>(it - fields.begin());
}

std::string List(std::span<const std::string_view> fields) {
  std::string out;
  for (std::string_view f : fields) out += (out.empty() ? "" : ", ") + std::string(f);
  return out;
}

std::string Format(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", x);
  return buffer;
}

// The compiler folded the joint's encoder offset into its position and position-target bindings
// (JointBinding's offset); a new value moves them by the difference.
void SetPositionOffset(Model& model, int dof, double x) {
  Eigen::VectorXd& offset = model.robot->position_offset;
  if (offset.size() != model.robot->num_dofs()) offset = Eigen::VectorXd::Zero(model.robot->num_dofs());
  const double change = x - offset[dof];
  offset[dof] = x;
  for (JointBinding& b : model.joint_bindings) {
    if (b.signal != JointSignal::kPosition && b.signal != JointSignal::kPositionTarget) continue;
    for (std::size_t k = 0; k < b.dofs.size(); ++k) {
      if (b.dofs[k] != dof) continue;
      if (b.offset.empty()) b.offset.assign(b.dofs.size(), 0.0);
      b.offset[k] += change;
    }
  }
}

}  // namespace

std::span<const std::string_view> JointParameterFields() { return kJointFields; }
std::span<const std::string_view> LinkParameterFields() { return kLinkFields; }
std::span<const std::string_view> ObjectParameterFields() { return kObjectFields; }

std::optional<ParameterName> ParseParameterName(std::string_view name, std::string* why) {
  auto fail = [&](std::string text) -> std::optional<ParameterName> {
    if (why) *why = std::move(text);
    return std::nullopt;
  };
  const auto first = name.find('.');
  const auto last = name.rfind('.');
  if (first == std::string_view::npos || last == first || last + 1 == name.size() || last == first + 1) {
    return fail("'" + std::string(name) +
                "' is not a parameter name: expected robot.<joint>.<field>, robot.<link>.<inertial field> or "
                "objects.<name>.<field>");
  }
  const std::string_view group = name.substr(0, first);
  ParameterName out;
  out.target = std::string(name.substr(first + 1, last - first - 1));
  out.field = std::string(name.substr(last + 1));
  if (group == "robot") {
    if (const int k = IndexIn(kJointFields, out.field); k >= 0) {
      out.group = ParameterGroup::kJoint;
      out.field_index = k;
      return out;
    }
    if (const int k = IndexIn(kLinkFields, out.field); k >= 0) {
      out.group = ParameterGroup::kLink;
      out.field_index = k;
      return out;
    }
    return fail("'" + std::string(name) + "': unknown robot parameter '" + out.field + "' (" + List(kJointFields) +
                " of a joint; " + List(kLinkFields) + " of a link)");
  }
  if (group == "objects") {
    if (const int k = IndexIn(kObjectFields, out.field); k >= 0) {
      out.group = ParameterGroup::kObject;
      out.field_index = k;
      return out;
    }
    return fail("'" + std::string(name) + "': unknown object parameter '" + out.field + "' (" + List(kObjectFields) +
                ")");
  }
  return fail("'" + std::string(name) +
              "' is not a parameter name: expected robot.<joint>.<field>, robot.<link>.<inertial field> or "
              "objects.<name>.<field>");
}

std::string ParameterValueProblem(const ParameterName& name, double x) {
  if (!std::isfinite(x)) return "must be finite, found " + Format(x);
  const std::string& f = name.field;
  const bool positive = f == "mass_kg" || f == "effort_limit" || f == "velocity_limit";
  if (positive && !(x > 0)) return "must be > 0, found " + Format(x);
  if (name.group == ParameterGroup::kJoint && name.field_index == kPositionOffsetField) return "";  // either sign
  if (name.group == ParameterGroup::kLink) {
    const bool moment = f == "ixx_kgm2" || f == "iyy_kgm2" || f == "izz_kgm2";
    if (moment && !(x >= 0)) return "is a moment of inertia: must be >= 0, found " + Format(x);
    return "";
  }
  if (!positive && !(x >= 0)) return "must be >= 0, found " + Format(x);
  if (f == "restitution" && x > 1) return "must be <= 1, found " + Format(x);
  return "";
}

void SetModelParameter(Model& model, const ParameterName& name, double x) {
  const std::string full = std::string(name.group == ParameterGroup::kObject ? "objects." : "robot.") + name.target +
                           "." + name.field;
  if (const std::string problem = ParameterValueProblem(name, x); !problem.empty()) {
    throw std::invalid_argument("'" + full + "' " + problem);
  }
  switch (name.group) {
    case ParameterGroup::kJoint: {
      const int dof = model.robot ? model.robot->FindDof(name.target) : -1;
      if (dof < 0) throw std::invalid_argument("'" + full + "': the robot has no movable joint '" + name.target + "'");
      if (name.field_index == kPositionOffsetField) {
        SetPositionOffset(model, dof, x);
        return;
      }
      ActuatorParams& a = model.robot->actuators[dof];
      double* fields[] = {&a.kp,        &a.kd,           &a.effort_limit,
                          &a.velocity_limit, &a.latency_s,    &a.coulomb_friction,
                          &a.viscous_friction, &a.damping, &a.armature};
      *fields[name.field_index] = x;
      return;
    }
    case ParameterGroup::kLink: {
      const int link = model.robot ? model.robot->FindLink(name.target) : -1;
      if (link < 0) throw std::invalid_argument("'" + full + "': the robot has no link '" + name.target + "'");
      Inertial& inertial = model.robot->links[link].inertial;
      const int k = name.field_index;
      if (k == 0) {
        if (inertial.mass_kg > 0) inertial.inertia_kgm2 *= x / inertial.mass_kg;
        inertial.mass_kg = x;
      } else if (k <= 3) {
        inertial.com_m[k - 1] = x;
      } else {
        static constexpr int kRow[6] = {0, 0, 0, 1, 1, 2}, kCol[6] = {0, 1, 2, 1, 2, 2};
        inertial.inertia_kgm2(kRow[k - 4], kCol[k - 4]) = inertial.inertia_kgm2(kCol[k - 4], kRow[k - 4]) = x;
      }
      return;
    }
    case ParameterGroup::kObject: {
      const int object = model.FindObject(name.target);
      if (object < 0) throw std::invalid_argument("'" + full + "': the scene has no free object '" + name.target + "'");
      ObjectModel& o = model.objects[object];
      if (name.field == "mass_kg") {
        if (o.inertial.mass_kg > 0) o.inertial.inertia_kgm2 *= x / o.inertial.mass_kg;
        o.inertial.mass_kg = x;
        return;
      }
      // Contact values belong to a material; the object gets one of its own so no other body changes.
      const std::string own = "objects/" + o.name;
      if (o.material != own) {
        Material derived = model.MaterialOf(o.material);
        derived.name = own;
        model.materials[own] = derived;
        o.material = own;
        for (Shape& s : o.collisions) s.material = own;
        for (Shape& s : o.visuals) s.material = own;
      }
      Material& m = model.materials.at(own);
      double* fields[] = {nullptr, &m.lateral_friction, &m.rolling_friction, &m.spinning_friction, &m.restitution};
      *fields[name.field_index] = x;
      return;
    }
  }
}

double ModelParameter(const Model& model, const ParameterName& name) {
  const std::string full = std::string(name.group == ParameterGroup::kObject ? "objects." : "robot.") + name.target +
                           "." + name.field;
  switch (name.group) {
    case ParameterGroup::kJoint: {
      const int dof = model.robot ? model.robot->FindDof(name.target) : -1;
      if (dof < 0) throw std::invalid_argument("'" + full + "': the robot has no movable joint '" + name.target + "'");
      if (name.field_index == kPositionOffsetField) {
        const Eigen::VectorXd& offset = model.robot->position_offset;
        return offset.size() > dof ? offset[dof] : 0.0;
      }
      const ActuatorParams& a = model.robot->actuators[dof];
      const double fields[] = {a.kp,        a.kd,           a.effort_limit,     a.velocity_limit,
                               a.latency_s, a.coulomb_friction, a.viscous_friction, a.damping,
                               a.armature};
      return fields[name.field_index];
    }
    case ParameterGroup::kLink: {
      const int link = model.robot ? model.robot->FindLink(name.target) : -1;
      if (link < 0) throw std::invalid_argument("'" + full + "': the robot has no link '" + name.target + "'");
      const Inertial& inertial = model.robot->links[link].inertial;
      const int k = name.field_index;
      if (k == 0) return inertial.mass_kg;
      if (k <= 3) return inertial.com_m[k - 1];
      static constexpr int kRow[6] = {0, 0, 0, 1, 1, 2}, kCol[6] = {0, 1, 2, 1, 2, 2};
      return inertial.inertia_kgm2(kRow[k - 4], kCol[k - 4]);
    }
    case ParameterGroup::kObject: {
      const int object = model.FindObject(name.target);
      if (object < 0) throw std::invalid_argument("'" + full + "': the scene has no free object '" + name.target + "'");
      const ObjectModel& o = model.objects[object];
      if (name.field == "mass_kg") return o.inertial.mass_kg;
      const Material& m = model.MaterialOf(o.material);
      const double fields[] = {0, m.lateral_friction, m.rolling_friction, m.spinning_friction, m.restitution};
      return fields[name.field_index];
    }
  }
  return 0;
}

}  // namespace r2s::sim

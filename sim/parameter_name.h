#pragma once
// The names physical parameters go by in params.yaml, r2s sysid's results and a scene's physics randomization:
//   robot.<joint>.<kp|kd|effort_limit|velocity_limit|latency_s|coulomb_friction|viscous_friction|damping|armature|
//                  position_offset>
//     (position_offset, rad or m: the encoder's zero against the joint's, physical = measured + offset, applied to
//     measured positions and position targets alike; RobotModel::position_offset)
//   robot.<link>.<mass_kg|com_x_m|com_y_m|com_z_m|ixx_kgm2|ixy_kgm2|ixz_kgm2|iyy_kgm2|iyz_kgm2|izz_kgm2>
//   objects.<name>.<mass_kg|lateral_friction|rolling_friction|spinning_friction|restitution>
// (the middle part may itself contain dots). One vocabulary, so a name sysid writes is a name the scene overlay
// and the randomizer take.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace r2s::sim {

struct Model;

enum class ParameterGroup { kJoint, kLink, kObject };

struct ParameterName {
  ParameterGroup group = ParameterGroup::kJoint;
  std::string target;  // the joint, link or object name
  std::string field;   // one of the group's fields
  int field_index = 0;  // its position in the group's field list below
};

std::span<const std::string_view> JointParameterFields();   // kp, kd, ..., armature (ActuatorParams order), then
                                                            // position_offset
std::span<const std::string_view> LinkParameterFields();    // mass_kg, com_x_m, ..., izz_kgm2
std::span<const std::string_view> ObjectParameterFields();  // mass_kg, lateral_friction, ..., restitution

// Parses a name; std::nullopt with *why set ("unknown robot parameter 'x' (kp, kd, ...)") when it is malformed or
// names no known field.
std::optional<ParameterName> ParseParameterName(std::string_view name, std::string* why = nullptr);

// The value a parameter must have, or "" when `value` is valid: "must be > 0" for masses and limits, ">= 0" for
// gains, friction, latency and moments of inertia, "<= 1" for restitution, finite for everything (position_offset:
// finite only).
std::string ParameterValueProblem(const ParameterName& name, double value);

// Sets a parameter on a compiled Model, as the params overlay would have set it on the scene before compiling:
// an object's contact values go to a material of its own ("objects/<name>", derived from its material), a mass
// scales the inertia with it (same shape and density), an encoder offset moves the offset of the joint's position
// and position-target bindings with it. Throws std::invalid_argument naming the parameter when the
// joint, link or object does not exist or the value is invalid.
void SetModelParameter(Model& model, const ParameterName& name, double value);
// The parameter's value in a compiled Model (the nominal a scale or offset distribution acts on). Throws
// std::invalid_argument like SetModelParameter for an unknown joint, link or object.
double ModelParameter(const Model& model, const ParameterName& name);

}  // namespace r2s::sim

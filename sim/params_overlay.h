#pragma once
// params.yaml: the physical parameters system identification estimated, with their uncertainty, and their overlay
// on a scene's nominal values. Format (docs/scenes.md):
//
//   format: real2sim.params/1
//   scene: panda_sysid
//   parameters:
//     - {name: robot.panda_joint1.coulomb_friction, estimate: 0.51, std: 0.02, lower: 0.0, upper: 5.0, identified:
//     true}
//   covariance: {names: [robot.panda_joint1.coulomb_friction], matrix: [[0.0004]]}
//   metrics: {rms_panda_joint1: 0.4}
//
// Names: robot.<joint>.<kp|kd|effort_limit|velocity_limit|latency_s|coulomb_friction|viscous_friction|damping|
// armature|position_offset>, robot.<link>.<mass_kg|com_x_m|com_y_m|com_z_m|ixx_kgm2|ixy_kgm2|ixz_kgm2|iyy_kgm2|iyz_kgm2|izz_kgm2>
// (the inertia about the CoM, in the link frame's axes), objects.<name>.<mass_kg|lateral_friction|rolling_friction|
// spinning_friction|restitution>.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "sim/scene_spec.h"

namespace r2s::sim {

struct ParameterEstimate {
  std::string name;
  double estimate = 0;
  double std_dev = 0;  // "std" in the file
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
  bool identified = true;  // false: the data did not constrain it (the estimate is the prior)
  int line = 0;            // where ReadParams found it; 0 when built in code
};

struct ParamsFile {
  std::string scene;  // the scene it was fitted on (informational: a fit on panda_sysid may overlay tabletop)
  std::vector<ParameterEstimate> parameters;
  std::vector<std::string> covariance_names;  // a subset of the parameters' names, in the matrix's order
  Eigen::MatrixXd covariance;                 // symmetric, covariance_names.size() square
  std::map<std::string, double> metrics;      // free-form fit metrics
};

// Throws InputError(params_yaml, "line N: key", problem) for malformed YAML, unknown keys, wrong types, a wrong
// format tag, non-finite estimates, an estimate outside [lower, upper], or a covariance that does not fit.
ParamsFile ReadParams(const std::filesystem::path& params_yaml);

// Writes to a temporary file beside `out` and renames it into place; doubles round-trip exactly.
void WriteParams(const ParamsFile& params, const std::filesystem::path& out);

// Overlays every estimate (identified or not) on the spec's nominal values. Throws InputError(params_file,
// "line N: parameters[i].name", ...) for a malformed or unknown name, an unknown object or an invalid value
// (negative friction, non-positive mass, a negative moment of inertia). Joint and link names, and whether a link's
// overlaid inertial is a real mass distribution, are checked when the scene compiles, with the same file and line.
void ApplyParams(const ParamsFile& params, const std::filesystem::path& params_file, SceneSpec& spec);

}  // namespace r2s::sim

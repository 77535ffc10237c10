#pragma once
// Distributions as scene files write them, and the scene's `randomization: physics:` section. Every error is an
// InputError naming the file, the line and the key path ("scene.yaml", "line 12: randomization.physics.x.uniform").
//
// A distribution is one of:
//   0.5                                     (a plain number: constant)
//   {constant: 0.5} | {constant: [0, 0, 1]}
//   {uniform: [0.4, 0.9]} | {uniform: {min: [0, 0], max: [1, 2]}}
//   {log_uniform: [1e-3, 1e-1]}
//   {normal: {mean: 0, std: 1}}
//   {truncated_normal: {mean: 0, std: 1, min: -3, max: 3}}        (min/max optional, .inf allowed)
//   {categorical: {wood: 0.5, laminate: 0.3, steel: 0.2}}         (value = the label's index; weights > 0)
//   {multivariate_normal: {mean: [..], covariance: [[..], ..], min: [..], max: [..]}}   (min/max optional)
//   {scale: <distribution>} | {offset: <distribution>}            (times / plus the nominal value)
//   posterior                                                     (physics parameters only; see below)
//
// The physics section maps parameters, named as in params.yaml (robot.<joint>.<kp|kd|effort_limit|velocity_limit|
// latency_s|coulomb_friction|viscous_friction|damping|armature>, robot.<link>.mass_kg,
// objects.<name>.<mass_kg|lateral_friction|rolling_friction|spinning_friction|restitution>), to distributions:
//
//   randomization:
//     physics:
//       objects.cube.lateral_friction: {uniform: [0.1, 0.3]}
//       objects.cube.mass_kg: {scale: {uniform: [0.9, 1.1]}}
//       robot.panda_joint1.damping: posterior            # normal(estimate, std) truncated to [lower, upper]
//       joint2_friction:                                 # a group: drawn jointly
//         parameters: [robot.panda_joint2.coulomb_friction, robot.panda_joint2.viscous_friction]
//         distribution: posterior                        # or any distribution of that many dimensions
//
// `posterior` reads params.yaml: one parameter's estimate and std, or a group's estimates and covariance (the
// `covariance:` block where it covers a pair, otherwise uncorrelated with the parameter's std), truncated to each
// parameter's [lower, upper]. A parameter absent from params.yaml, or with identified: false, is an error naming
// the scene line and the params file, except a parameter with identified: false that the covariance block lists:
// the data identify only its sum with others (kd + viscous_friction with no velocity reference), and the block holds
// the sum's variance along the sum and the prior width across it, so a joint draw keeps the sum's distribution
// while each part spreads. Such parts are drawn jointly with the identified parameters by WithPosterior too.

#include <filesystem>
#include <string>
#include <vector>

#include "randomize/distribution.h"

namespace r2s::sim {
struct ParamsFile;
namespace yaml {
class Reader;
struct Value;
}  // namespace yaml
}  // namespace r2s::sim

namespace r2s::randomize {

struct PhysicsRandomization {
  struct Entry {
    std::vector<std::string> parameters;  // one, or a jointly drawn group (in the distribution's coordinate order)
    Distribution distribution;            // dimension() is 1 or parameters.size()
    std::string source;                   // "scenes/x/scene.yaml:12: randomization.physics.objects.cube.mass_kg"
  };
  std::vector<Entry> entries;  // in file order; each parameter appears at most once
};

// Reads scene.yaml's randomization.physics (absent -> no entries). `params` (and its path, for messages) feeds
// `posterior`; without it, `posterior` is an error.
PhysicsRandomization ParsePhysicsRandomization(const std::filesystem::path& scene_yaml, const sim::ParamsFile* params,
                                               const std::filesystem::path& params_file = {});

// The posterior of params.yaml's parameters `names`: one parameter's estimate and std, or the names' joint normal
// (the covariance block where it covers a pair, uncorrelated with each std otherwise), truncated to each
// parameter's [lower, upper]. std::invalid_argument for a name it lacks or a covariance that is not positive
// definite.
Distribution PosteriorOf(const sim::ParamsFile& params, const std::vector<std::string>& names);

// Physics from data where there are data: every parameter params.yaml identifies (or a part of an identified sum)
// is drawn from its posterior
// (jointly, one entry first, with the covariance), and a scene entry whose parameters are all identified is
// replaced (its source goes to *replaced); the scene's ranges stay for the rest, and a group only partly
// identified stays as the scene draws it. This is what `r2s generate --params` draws from.
PhysicsRandomization WithPosterior(const PhysicsRandomization& scene, const sim::ParamsFile& params,
                                   const std::filesystem::path& params_file, std::vector<std::string>* replaced);

// One distribution at `value` (see the forms above; `posterior` is refused here). Errors go through
// reader.Fail(value-or-child, ...). sim/yaml_values.h provides Reader and Value (private to the build tree).
Distribution ParseDistribution(const sim::yaml::Reader& reader, const sim::yaml::Value& value);

}  // namespace r2s::randomize

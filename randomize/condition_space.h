#pragma once
// The deployment map: the conditions a scene is deployed under (light level, colour temperature, materials, object
// pose region, camera jitter, any quantity with a distribution), from scene.yaml's `randomization: conditions:`,
// and the per-variant draws that cover them evenly (scrambled Sobol or Latin hypercube instead of i.i.d.), with
// named edge cases over-sampled at the weight the scene gives them (their deployment failure rate, say, rather
// than their natural frequency).
//
//   randomization:
//     conditions:
//       sampler: sobol                # sobol (default) | stratified | iid
//       axes:                         # name -> any distribution of randomize/distribution_yaml.h except scale/offset
//         light_lux: {log_uniform: [100, 3000]}
//         table_material: {categorical: {wood: 0.5, laminate: 0.3, steel: 0.2}}
//         cube_position_m: {uniform: {min: [-0.2, -0.2], max: [0.2, 0.2]}}
//       edge_cases:                   # in [0, 1], summing to at most 1; the rest of the variants are nominal
//         - {name: dim_light, weight: 0.15, set: {light_lux: {uniform: [20, 80]}}}
//
// How variant v of (seed, episode) is drawn -- a function of (seed, episode, v) only, so that shards, threads
// and resumed runs agree:
//  1. Its stratum (nominal or one edge case) and its rank r within the stratum come from a systematic
//     (Sturmian) assignment: v is an edge case iff floor((v+1) W + o) > floor(v W + o) (W the total edge weight,
//     o a seed-derived offset), and the edge variants are split the same way by each edge case's share. Any run
//     of N consecutive variants holds N W +- 1 edge variants and N w_k +- (k + 1) of the k-th edge case (+- k for the
//     last one), so fractions match the weights whatever the shard split.
//  2. Its unit point is point r of the stratum's own sequence: scrambled Sobol under (seed, episode, stratum),
//     the Latin hypercube of the stratum's size, or (iid) Philox draws under (seed, episode, v). Giving each
//     stratum its own sequence keeps each one low-discrepancy (taking every k-th point of one Sobol sequence
//     would not be). Without edge cases the unit point is plainly Sobol point v.
//  3. Each axis maps its coordinates of the unit point through Distribution::FromUnit; an edge case's overridden
//     axes map the same coordinates through the edge case's distribution.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "randomize/distribution.h"

namespace r2s::randomize {

enum class ConditionSampler { kSobol, kStratified, kIid };

std::string_view ConditionSamplerName(ConditionSampler sampler);  // "sobol", "stratified", "iid"

struct ConditionAxis {
  std::string name;
  Distribution distribution;  // not scale/offset: a condition axis has no nominal value
  int first_coordinate = 0;   // where its dimension() coordinates start in the unit point
  std::string source;         // "scene.yaml:12: randomization.conditions.axes.light_lux"
};

struct EdgeCase {
  std::string name;
  double weight = 0;  // the fraction of variants in this edge case
  // Axis name -> the distribution it is drawn from instead; same dimension as the axis. A categorical axis takes
  // a categorical over some of its labels.
  std::map<std::string, Distribution> set;
  std::string source;
};

struct ConditionSpace {
  ConditionSampler sampler = ConditionSampler::kSobol;
  std::vector<ConditionAxis> axes;  // in file order
  std::vector<EdgeCase> edge_cases;

  bool empty() const { return axes.empty(); }
  int dimension() const;       // coordinates of a unit point: the sum of the axes' dimensions
  double edge_weight() const;  // the sum of the edge cases' weights
  const ConditionAxis* FindAxis(std::string_view name) const;  // nullptr if absent
};

// Reads scene.yaml's randomization.conditions; an absent section (or file without `randomization`) gives an empty
// space. Bad input throws InputError(file, "line N: randomization.conditions...", problem): an unknown sampler or
// key, a weight outside [0, 1] or weights summing above 1, `set` naming an unknown axis or a distribution of
// another dimension, a duplicate edge-case name, a scale/offset axis, or any error of the distribution parser.
ConditionSpace ParseConditionSpace(const std::filesystem::path& scene_yaml);

struct ConditionDraw {
  std::uint32_t variant = 0;
  std::string edge_case;                          // "" for nominal
  std::map<std::string, Eigen::VectorXd> values;  // axis name -> value (categorical: the label's index)
  std::vector<double> unit_point;                 // the point of (0, 1)^dimension() the values were mapped from
};

// Draws variants [first_variant, first_variant + count) of (seed, episode). `variants_per_episode` (K, the run's
// `--variants`) is needed by the stratified sampler only, which stratifies each stratum's share of K variants
// (so draws of variants >= K are refused there); the other samplers ignore it. std::invalid_argument for the
// stratified sampler with K == 0 or a range past K.
std::vector<ConditionDraw> DrawConditions(const ConditionSpace& space, std::uint64_t seed, std::uint32_t episode,
                                          std::uint32_t first_variant, std::uint32_t count,
                                          std::uint32_t variants_per_episode = 0);

}  // namespace r2s::randomize

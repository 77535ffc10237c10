#include "randomize/condition_space.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "randomize/distribution_yaml.h"
#include "randomize/low_discrepancy.h"
#include "randomize/philox.h"
#include "sim/yaml_values.h"

namespace r2s::randomize {
namespace {

namespace yaml = sim::yaml;

// Weights may be written as decimals that do not add up exactly (0.7 + 0.2 + 0.1).
constexpr double kWeightSumTolerance = 1e-9;

std::string Source(const yaml::Reader& reader, const yaml::Value& v) {
  return reader.file().string() + ":" + std::to_string(v.line) + ": " + v.path;
}

std::string AxisList(const ConditionSpace& space) {
  std::string list;
  for (const ConditionAxis& axis : space.axes) list += (list.empty() ? "" : ", ") + axis.name;
  return list;
}

bool IsCategorical(const Distribution& d) { return d.kind() == Distribution::Kind::kCategorical; }

// Checks an edge case's distribution for `axis` against the axis (same dimension; categorical over the axis's
// labels for a categorical axis).
void CheckOverride(const yaml::Reader& reader, const yaml::Value& value, const ConditionAxis& axis,
                   const Distribution& d) {
  if (d.needs_nominal()) {
    reader.Fail(value,
                "a scale/offset form needs a nominal value, which a condition has not; write the "
                "distribution of the value itself");
  }
  const Distribution& a = axis.distribution;
  if (IsCategorical(a) != IsCategorical(d)) {
    reader.Fail(value, "axis '" + axis.name + "' is " + (IsCategorical(a) ? "categorical" : "numeric") +
                           ", but the edge case gives " + d.Describe());
  }
  if (IsCategorical(a)) {
    for (const std::string& label : d.labels()) {
      if (std::find(a.labels().begin(), a.labels().end(), label) == a.labels().end()) {
        std::string known;
        for (const std::string& l : a.labels()) known += (known.empty() ? "" : ", ") + l;
        reader.Fail(value, "label '" + label + "' is not one of axis '" + axis.name + "': " + known);
      }
    }
    return;
  }
  if (d.dimension() != a.dimension()) {
    reader.Fail(value, "axis '" + axis.name + "' has dimension " + std::to_string(a.dimension()) +
                           ", but the edge case's distribution " + d.Describe() + " has dimension " +
                           std::to_string(d.dimension()));
  }
}

ConditionSampler ParseSampler(const yaml::Reader& reader, const yaml::Value& value) {
  const std::string name = reader.String(value);
  if (name == "sobol") return ConditionSampler::kSobol;
  if (name == "stratified") return ConditionSampler::kStratified;
  if (name == "iid") return ConditionSampler::kIid;
  reader.Fail(value, "unknown sampler '" + name + "'; expected one of: sobol, stratified, iid");
}

// ---- the systematic edge-case assignment, in 32.32 fixed point so it is exact on every platform ----

constexpr std::uint64_t kOne = std::uint64_t{1} << 32;

std::uint64_t ToFixed(double p) {
  if (p >= 1) return kOne;
  if (p <= 0) return 0;
  return std::min<std::uint64_t>(kOne, static_cast<std::uint64_t>(std::llround(std::ldexp(p, 32))));
}

// floor(n p + o) with p and o in 32.32 fixed point (p <= 1, o < 1), n <= 2^32: the number of "hits" of the
// Sturmian sequence of density p before n, plus floor(o) = 0.
std::uint64_t Hits(std::uint64_t n, std::uint64_t p_fixed, std::uint32_t o_fixed) {
  if (p_fixed >= kOne) return n;
  const std::uint64_t product = n * p_fixed;  // < 2^64 since n <= 2^32 and p < 2^32
  return (product >> 32) + (((product & 0xFFFFFFFFu) + o_fixed) >> 32);
}

struct Assignment {
  int stratum = 0;  // 0: nominal; e + 1: edge case e
  std::uint32_t rank = 0;
};

class EdgeCaseAssigner {
 public:
  EdgeCaseAssigner(const ConditionSpace& space, std::uint64_t seed, std::uint32_t episode) : space_(space) {
    const PhiloxKey key = DeriveKey(StreamKey{seed, episode, 0, StreamId("conditions/edge_cases")});
    offsets_.resize(space.edge_cases.size() + 1);
    for (std::size_t level = 0; level < offsets_.size(); ++level) {
      offsets_[level] = Philox(key, static_cast<std::uint32_t>(level), 0, 0, 0).w[0];
    }
    total_fixed_ = ToFixed(space.edge_weight());
    last_positive_ = -1;
    for (std::size_t e = 0; e < space.edge_cases.size(); ++e) {
      if (space.edge_cases[e].weight > 0) last_positive_ = static_cast<int>(e);
    }
    double remaining = space.edge_weight();
    for (std::size_t e = 0; e < space.edge_cases.size(); ++e) {
      const double w = space.edge_cases[e].weight;
      std::uint64_t share = 0;
      if (w > 0) share = static_cast<int>(e) == last_positive_ ? kOne : ToFixed(w / remaining);
      shares_.push_back(share);
      remaining -= w;
    }
  }

  Assignment Assign(std::uint32_t variant) const {
    const std::uint64_t v = variant;
    const std::uint64_t before = Hits(v, total_fixed_, offsets_[0]) - Hits(0, total_fixed_, offsets_[0]);
    const bool edge = Hits(v + 1, total_fixed_, offsets_[0]) > Hits(v, total_fixed_, offsets_[0]);
    if (!edge || last_positive_ < 0) return Assignment{0, static_cast<std::uint32_t>(v - before)};
    // The edge variants, numbered 0, 1, ... in variant order, are split among the edge cases in turn: edge case e
    // takes its share of those the earlier ones left.
    std::uint64_t r = before;
    for (std::size_t e = 0; e < shares_.size(); ++e) {
      const std::uint32_t o = offsets_[e + 1];
      const std::uint64_t hits_before = Hits(r, shares_[e], o) - Hits(0, shares_[e], o);
      if (Hits(r + 1, shares_[e], o) > Hits(r, shares_[e], o)) {
        return Assignment{static_cast<int>(e) + 1, static_cast<std::uint32_t>(hits_before)};
      }
      r -= hits_before;
    }
    throw std::logic_error("EdgeCaseAssigner: an edge variant fell through every edge case");
  }

  // How many of variants [0, n) fall in each stratum (index as in Assignment::stratum).
  std::vector<std::uint32_t> Counts(std::uint64_t n) const {
    std::vector<std::uint32_t> counts(space_.edge_cases.size() + 1, 0);
    std::uint64_t edges =
        last_positive_ < 0 ? 0 : Hits(n, total_fixed_, offsets_[0]) - Hits(0, total_fixed_, offsets_[0]);
    counts[0] = static_cast<std::uint32_t>(n - edges);
    for (std::size_t e = 0; e < shares_.size(); ++e) {
      const std::uint32_t o = offsets_[e + 1];
      const std::uint64_t c = Hits(edges, shares_[e], o) - Hits(0, shares_[e], o);
      counts[e + 1] = static_cast<std::uint32_t>(c);
      edges -= c;
    }
    return counts;
  }

 private:
  const ConditionSpace& space_;
  std::vector<std::uint32_t> offsets_;  // level 0: edge vs nominal; level e + 1: edge case e vs the rest
  std::vector<std::uint64_t> shares_;   // edge case e's share of the edge variants not taken before it
  std::uint64_t total_fixed_ = 0;
  int last_positive_ = -1;
};

std::string StratumName(const ConditionSpace& space, int stratum) {
  return stratum == 0 ? "nominal" : "edge_case/" + space.edge_cases[static_cast<std::size_t>(stratum - 1)].name;
}

// A categorical override draws an index into its own labels; the axis's value is the index into the axis's.
Eigen::VectorXd ToAxisLabels(const ConditionAxis& axis, const Distribution& override_d, Eigen::VectorXd value) {
  if (!IsCategorical(axis.distribution)) return value;
  const auto& own = override_d.labels();
  const auto& labels = axis.distribution.labels();
  for (Eigen::Index i = 0; i < value.size(); ++i) {
    const std::string& label = own.at(static_cast<std::size_t>(value[i]));
    value[i] = static_cast<double>(std::find(labels.begin(), labels.end(), label) - labels.begin());
  }
  return value;
}

}  // namespace

std::string_view ConditionSamplerName(ConditionSampler sampler) {
  switch (sampler) {
    case ConditionSampler::kSobol:
      return "sobol";
    case ConditionSampler::kStratified:
      return "stratified";
    case ConditionSampler::kIid:
      return "iid";
  }
  return "unknown";
}

int ConditionSpace::dimension() const {
  int d = 0;
  for (const ConditionAxis& axis : axes) d += axis.distribution.dimension();
  return d;
}

double ConditionSpace::edge_weight() const {
  double w = 0;
  for (const EdgeCase& e : edge_cases) w += e.weight;
  return w;
}

const ConditionAxis* ConditionSpace::FindAxis(std::string_view name) const {
  for (const ConditionAxis& axis : axes) {
    if (axis.name == name) return &axis;
  }
  return nullptr;
}

ConditionSpace ParseConditionSpace(const std::filesystem::path& scene_yaml) {
  const yaml::Reader reader(scene_yaml);
  const YAML::Node root = yaml::LoadFile(scene_yaml);
  ConditionSpace space;
  if (!root.IsMap()) return space;  // the scene loader reports what a scene file must be
  const YAML::Node randomization = root["randomization"];
  if (!randomization.IsDefined() || randomization.IsNull()) return space;
  const yaml::Value randomization_value{randomization, "randomization", yaml::LineOf(randomization)};
  if (!randomization.IsMap()) {
    reader.Fail(randomization_value, "expected a map, found " + yaml::Describe(randomization));
  }
  const YAML::Node conditions = randomization["conditions"];
  if (!conditions.IsDefined() || conditions.IsNull()) return space;
  const yaml::Value conditions_value{conditions, "randomization.conditions", yaml::LineOf(conditions)};
  const yaml::Map section(reader, conditions_value, {"sampler", "axes", "edge_cases"});

  if (const auto sampler = section.Get("sampler")) space.sampler = ParseSampler(reader, *sampler);

  const yaml::Value axes_value = section.Require("axes");
  const yaml::Map axes(reader, axes_value, {});
  if (axes.entries().empty()) reader.Fail(axes_value, "no axes: a conditions section needs at least one");
  int coordinate = 0;
  for (const auto& [name, value] : axes.entries()) {
    Distribution d = ParseDistribution(reader, value);
    if (d.needs_nominal()) {
      reader.Fail(value,
                  "a scale/offset form needs a nominal value, which a condition axis has not; write the "
                  "distribution of the value itself");
    }
    const int dimension = d.dimension();
    space.axes.push_back(ConditionAxis{name, std::move(d), coordinate, Source(reader, value)});
    coordinate += dimension;
  }
  if (space.sampler == ConditionSampler::kSobol && space.dimension() > ScrambledSobol::kMaxDimension) {
    reader.Fail(axes_value, "the axes take " + std::to_string(space.dimension()) +
                                " coordinates, more than the Sobol sampler's " +
                                std::to_string(ScrambledSobol::kMaxDimension));
  }

  if (const auto edge_cases = section.Get("edge_cases")) {
    double total = 0;
    for (const yaml::Value& item : reader.List(*edge_cases)) {
      const yaml::Map entry(reader, item, {"name", "weight", "set"});
      const yaml::Value name_value = entry.Require("name");
      const std::string name = reader.String(name_value);
      if (name.empty()) reader.Fail(name_value, "an edge case needs a non-empty name");
      for (const EdgeCase& other : space.edge_cases) {
        if (other.name == name) reader.Fail(name_value, "duplicate edge case name '" + name + "'");
      }
      const yaml::Value weight_value = entry.Require("weight");
      const double weight = reader.Number(weight_value);
      if (weight < 0 || weight > 1) {
        std::ostringstream problem;
        problem << "weight " << weight << " outside [0, 1]";
        reader.Fail(weight_value, problem.str());
      }
      total += weight;
      if (total > 1 + kWeightSumTolerance) {
        std::ostringstream problem;
        problem << "edge-case weights sum to " << total << " with '" << name
                << "', above 1 (a weight is the fraction of variants in that edge case)";
        reader.Fail(weight_value, problem.str());
      }
      const yaml::Value set_value = entry.Require("set");
      const yaml::Map set(reader, set_value, {});
      if (set.entries().empty()) reader.Fail(set_value, "an edge case must set at least one axis");
      EdgeCase edge_case{name, weight, {}, Source(reader, item)};
      for (const auto& [axis_name, value] : set.entries()) {
        const ConditionAxis* axis = space.FindAxis(axis_name);
        if (!axis) reader.Fail(value, "unknown axis '" + axis_name + "'; the axes are: " + AxisList(space));
        Distribution d = ParseDistribution(reader, value);
        CheckOverride(reader, value, *axis, d);
        edge_case.set.emplace(axis_name, std::move(d));
      }
      space.edge_cases.push_back(std::move(edge_case));
    }
  }
  return space;
}

std::vector<ConditionDraw> DrawConditions(const ConditionSpace& space, std::uint64_t seed, std::uint32_t episode,
                                          std::uint32_t first_variant, std::uint32_t count,
                                          std::uint32_t variants_per_episode) {
  const std::uint64_t end = std::uint64_t{first_variant} + count;
  if (end > std::uint64_t{0xFFFFFFFFu} + 1) throw std::invalid_argument("DrawConditions: variant range past 2^32");
  if (space.sampler == ConditionSampler::kStratified) {
    if (variants_per_episode == 0) {
      throw std::invalid_argument("DrawConditions: the stratified sampler needs variants_per_episode (K)");
    }
    if (end > variants_per_episode) {
      throw std::invalid_argument("DrawConditions: variants [" + std::to_string(first_variant) + ", " +
                                  std::to_string(end) + ") past variants_per_episode " +
                                  std::to_string(variants_per_episode) + " of the stratified sampler");
    }
  }
  const int dimension = space.dimension();
  const EdgeCaseAssigner assigner(space, seed, episode);
  const std::size_t strata = space.edge_cases.size() + 1;

  // Each stratum's sequence, built on first use.
  std::vector<std::optional<ScrambledSobol>> sobol(strata);
  std::vector<std::optional<LatinHypercube>> hypercube(strata);
  std::vector<std::uint32_t> stratum_sizes;
  if (space.sampler == ConditionSampler::kStratified) stratum_sizes = assigner.Counts(variants_per_episode);

  std::vector<ConditionDraw> draws;
  draws.reserve(count);
  for (std::uint64_t v = first_variant; v < end; ++v) {
    const auto variant = static_cast<std::uint32_t>(v);
    ConditionDraw draw;
    draw.variant = variant;
    if (dimension == 0) {
      draws.push_back(std::move(draw));
      continue;
    }
    const Assignment a = assigner.Assign(variant);
    const auto s = static_cast<std::size_t>(a.stratum);
    if (a.stratum > 0) draw.edge_case = space.edge_cases[s - 1].name;
    draw.unit_point.resize(static_cast<std::size_t>(dimension));
    const StreamKey stratum_key{seed, episode, 0, StreamId("conditions/" + StratumName(space, a.stratum))};
    switch (space.sampler) {
      case ConditionSampler::kSobol:
        if (!sobol[s]) sobol[s].emplace(dimension, stratum_key);
        sobol[s]->Point(a.rank, draw.unit_point);
        break;
      case ConditionSampler::kStratified:
        if (!hypercube[s]) hypercube[s].emplace(dimension, stratum_sizes[s], stratum_key);
        hypercube[s]->Point(a.rank, draw.unit_point);
        break;
      case ConditionSampler::kIid: {
        const PhiloxKey key = DeriveKey(StreamKey{seed, episode, variant, StreamId("conditions/iid")});
        for (int j = 0; j < dimension; ++j) {
          draw.unit_point[static_cast<std::size_t>(j)] = U01(Philox(key, static_cast<std::uint32_t>(j), 0, 0, 0).w[0]);
        }
        break;
      }
    }
    for (const ConditionAxis& axis : space.axes) {
      const std::span<const double> u(draw.unit_point.data() + axis.first_coordinate,
                                      static_cast<std::size_t>(axis.distribution.dimension()));
      const Distribution* override_d = nullptr;
      if (a.stratum > 0) {
        const auto& set = space.edge_cases[s - 1].set;
        if (const auto it = set.find(axis.name); it != set.end()) override_d = &it->second;
      }
      draw.values.emplace(axis.name, override_d ? ToAxisLabels(axis, *override_d, override_d->FromUnit(u))
                                                : axis.distribution.FromUnit(u));
    }
    draws.push_back(std::move(draw));
  }
  return draws;
}

}  // namespace r2s::randomize

#include "randomize/distribution_yaml.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>

#include "sim/parameter_name.h"
#include "sim/params_overlay.h"
#include "sim/yaml_values.h"

namespace r2s::randomize {
namespace {

using sim::yaml::Map;
using sim::yaml::Reader;
using sim::yaml::Value;

// Where `posterior` gets its numbers.
struct PosteriorSource {
  const sim::ParamsFile* params = nullptr;
  std::filesystem::path file;
};

// A bound: a number, .inf or -.inf; NaN is refused.
double Bound(const Reader& r, const Value& v) {
  const double x = r.NumberOrSpecial(v);
  if (std::isnan(x)) r.Fail(v, "expected a number or .inf, found '" + v.node.Scalar() + "'");
  return x;
}

// A number or a list of numbers (any length, at least one).
Eigen::VectorXd NumberOrList(const Reader& r, const Value& v, bool bounds) {
  if (v.node.IsSequence()) {
    const auto items = r.List(v);
    if (items.empty()) r.Fail(v, "expected at least one number, found an empty list");
    Eigen::VectorXd out(static_cast<Eigen::Index>(items.size()));
    for (std::size_t i = 0; i < items.size(); ++i) {
      out[static_cast<Eigen::Index>(i)] = bounds ? Bound(r, items[i]) : r.Number(items[i]);
    }
    return out;
  }
  return Eigen::VectorXd::Constant(1, bounds ? Bound(r, v) : r.Number(v));
}

Eigen::VectorXd Pair(const Reader& r, const Value& v) {
  if (!v.node.IsSequence() || v.node.size() != 2) {
    r.Fail(v, "expected [min, max], found " +
                  (v.node.IsSequence() ? "a list of " + std::to_string(v.node.size()) : sim::yaml::Describe(v.node)));
  }
  return r.Numbers(v, 2);
}

// Calls a factory, turning its std::invalid_argument into an InputError at `where`.
template <typename F>
Distribution Build(const Reader& r, const Value& where, F&& make) {
  try {
    return make();
  } catch (const std::invalid_argument& e) {
    r.Fail(where, e.what());
  }
}

Distribution Parse(const Reader& r, const Value& v) {
  if (v.node.IsScalar()) {
    if (v.node.Scalar() == "posterior") {
      r.Fail(v, "'posterior' is only for physics parameters (randomization.physics), as a whole entry");
    }
    const double x = r.Number(v);  // a plain number is a constant
    return Distribution::Constant(x);
  }
  if (!v.node.IsMap()) {
    r.Fail(v, "expected a distribution ({uniform: [min, max]}, {normal: {mean: .., std: ..}}, ...), found " +
                  sim::yaml::Describe(v.node));
  }
  const Map forms(r, v,
                  {"constant", "uniform", "log_uniform", "normal", "truncated_normal", "categorical",
                   "multivariate_normal", "scale", "offset"});
  if (forms.entries().size() != 1) {
    r.Fail(v, "expected exactly one distribution form, found " + std::to_string(forms.entries().size()));
  }
  const auto& [form, x] = forms.entries().front();
  if (form == "constant") {
    const Eigen::VectorXd value = NumberOrList(r, x, false);
    return Build(r, x, [&] { return Distribution::Constant(value); });
  }
  if (form == "uniform") {
    if (x.node.IsMap()) {
      const Map m(r, x, {"min", "max"});
      const Eigen::VectorXd lo = NumberOrList(r, m.Require("min"), false);
      const Eigen::VectorXd hi = NumberOrList(r, m.Require("max"), false);
      return Build(r, x, [&] { return Distribution::Uniform(lo, hi); });
    }
    const Eigen::VectorXd p = Pair(r, x);
    return Build(r, x, [&] { return Distribution::Uniform(p[0], p[1]); });
  }
  if (form == "log_uniform") {
    const Eigen::VectorXd p = Pair(r, x);
    return Build(r, x, [&] { return Distribution::LogUniform(p[0], p[1]); });
  }
  if (form == "normal") {
    const Map m(r, x, {"mean", "std"});
    const double mean = r.Number(m.Require("mean"));
    const double std = r.Number(m.Require("std"));
    return Build(r, x, [&] { return Distribution::Normal(mean, std); });
  }
  if (form == "truncated_normal") {
    const Map m(r, x, {"mean", "std", "min", "max"});
    const double mean = r.Number(m.Require("mean"));
    const double std = r.Number(m.Require("std"));
    const auto lo_v = m.Get("min"), hi_v = m.Get("max");
    if (!lo_v && !hi_v) r.Fail(x, "expected min, max or both (use normal for no bounds)");
    const double lo = lo_v ? Bound(r, *lo_v) : -std::numeric_limits<double>::infinity();
    const double hi = hi_v ? Bound(r, *hi_v) : std::numeric_limits<double>::infinity();
    return Build(r, x, [&] { return Distribution::TruncatedNormal(mean, std, lo, hi); });
  }
  if (form == "categorical") {
    const Map m(r, x, {});
    if (m.entries().empty()) r.Fail(x, "expected at least one label: weight");
    std::vector<std::string> labels;
    std::vector<double> weights;
    for (const auto& [label, w] : m.entries()) {
      labels.push_back(label);
      weights.push_back(r.Number(w));
      if (!(weights.back() > 0)) r.Fail(w, "weight of '" + label + "' must be > 0, found " + w.node.Scalar());
    }
    return Build(r, x, [&] { return Distribution::Categorical(labels, weights); });
  }
  if (form == "multivariate_normal") {
    const Map m(r, x, {"mean", "covariance", "min", "max"});
    const Eigen::VectorXd mean = NumberOrList(r, m.Require("mean"), false);
    const auto n = static_cast<int>(mean.size());
    const Value cov_v = m.Require("covariance");
    const auto rows = r.List(cov_v);
    if (static_cast<int>(rows.size()) != n) {
      r.Fail(cov_v, "expected " + std::to_string(n) + " rows (the mean has " + std::to_string(n) + " values), found " +
                        std::to_string(rows.size()));
    }
    Eigen::MatrixXd cov(n, n);
    for (int i = 0; i < n; ++i) cov.row(i) = r.Numbers(rows[static_cast<std::size_t>(i)], n).transpose();
    Eigen::VectorXd lo = Eigen::VectorXd::Constant(n, -std::numeric_limits<double>::infinity());
    Eigen::VectorXd hi = Eigen::VectorXd::Constant(n, std::numeric_limits<double>::infinity());
    for (const char* key : {"min", "max"}) {
      if (auto b = m.Get(key)) {
        const Eigen::VectorXd bound = NumberOrList(r, *b, true);
        if (bound.size() != n) {
          r.Fail(*b, "expected " + std::to_string(n) + " values (the mean has " + std::to_string(n) + "), found " +
                         std::to_string(bound.size()));
        }
        (std::string_view(key) == "min" ? lo : hi) = bound;
      }
    }
    return Build(r, x, [&] { return Distribution::TruncatedMultivariateNormal(mean, cov, lo, hi); });
  }
  // scale / offset
  const Distribution inner = Parse(r, x);
  if (inner.needs_nominal())
    r.Fail(x, form + " of a " + (inner.kind() == Distribution::Kind::kScale ? "scale" : "offset") + " is not allowed");
  if (inner.kind() == Distribution::Kind::kCategorical) r.Fail(x, form + " needs numbers, not categorical labels");
  return form == "scale" ? Distribution::Scale(inner) : Distribution::Offset(inner);
}


// A parameter in params.yaml's covariance block. One marked identified: false is there only as a part of a sum the
// data identify (sysid's RecordIdentifiedSum): the block carries the sum's variance and the prior's across it.
bool InCovariance(const sim::ParamsFile& params, const std::string& name) {
  return std::find(params.covariance_names.begin(), params.covariance_names.end(), name) !=
         params.covariance_names.end();
}

const sim::ParameterEstimate& Posterior(const Reader& r, const Value& where, const PosteriorSource& source,
                                        const std::string& name) {
  if (!source.params) {
    r.Fail(where, "'posterior' for '" + name + "' needs a params.yaml from system identification (--params)");
  }
  const std::string params_name = source.file.empty() ? std::string("params.yaml") : source.file.string();
  for (const sim::ParameterEstimate& p : source.params->parameters) {
    if (p.name != name) continue;
    if (!p.identified && !InCovariance(*source.params, name)) {
      r.Fail(where, "'posterior' for '" + name + "': " + params_name +
                        (p.line > 0 ? " line " + std::to_string(p.line) : std::string()) +
                        " marks it identified: false (the data did not constrain it); give a distribution instead");
    }
    return p;
  }
  r.Fail(where, "'posterior' for '" + name + "': " + params_name + " has no such parameter");
}

Distribution PosteriorDistribution(const Reader& r, const Value& where, const PosteriorSource& source,
                                   const std::vector<std::string>& names) {
  for (const std::string& name : names) Posterior(r, where, source, name);  // every name is there, identified
  try {
    return PosteriorOf(*source.params, names);
  } catch (const std::invalid_argument& e) {
    const std::string params_name = source.file.empty() ? std::string("params.yaml") : source.file.string();
    r.Fail(where, std::string("posterior from ") + params_name + ": " + e.what());
  }
}

}  // namespace

Distribution PosteriorOf(const sim::ParamsFile& params, const std::vector<std::string>& names) {
  std::vector<const sim::ParameterEstimate*> ps;
  for (const std::string& name : names) {
    const auto it = std::find_if(params.parameters.begin(), params.parameters.end(),
                                 [&](const sim::ParameterEstimate& p) { return p.name == name; });
    if (it == params.parameters.end()) throw std::invalid_argument("no parameter '" + name + "'");
    ps.push_back(&*it);
  }
  if (ps.size() == 1) return Distribution::TruncatedNormal(ps[0]->estimate, ps[0]->std_dev, ps[0]->lower, ps[0]->upper);
  const auto n = static_cast<Eigen::Index>(ps.size());
  Eigen::VectorXd mean(n), lo(n), hi(n);
  Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(n, n);
  std::vector<int> index(ps.size(), -1);  // position in params' covariance, -1 if absent
  const auto& cn = params.covariance_names;
  for (Eigen::Index i = 0; i < n; ++i) {
    mean[i] = ps[i]->estimate;
    lo[i] = ps[i]->lower;
    hi[i] = ps[i]->upper;
    const auto it = std::find(cn.begin(), cn.end(), ps[i]->name);
    if (it != cn.end()) index[i] = static_cast<int>(it - cn.begin());
  }
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < n; ++j) {
      if (index[i] >= 0 && index[j] >= 0) {
        cov(i, j) = params.covariance(index[i], index[j]);
      } else if (i == j) {
        cov(i, j) = ps[i]->std_dev * ps[i]->std_dev;
      }
    }
  }
  return Distribution::TruncatedMultivariateNormal(mean, cov, lo, hi);
}

PhysicsRandomization WithPosterior(const PhysicsRandomization& scene, const sim::ParamsFile& params,
                                   const std::filesystem::path& params_file, std::vector<std::string>* replaced) {
  std::vector<std::string> identified;
  int first_line = 0;
  for (const sim::ParameterEstimate& p : params.parameters) {
    // identified: false yet in the covariance block: a part of an identified sum, drawn jointly with its partners.
    if ((!p.identified && !InCovariance(params, p.name)) || !sim::ParseParameterName(p.name)) continue;
    identified.push_back(p.name);
    if (first_line == 0) first_line = p.line;
  }
  const auto is_identified = [&](const std::string& name) {
    return std::find(identified.begin(), identified.end(), name) != identified.end();
  };
  PhysicsRandomization out;
  std::vector<std::string> posterior;  // identified parameters the scene does not keep
  for (const PhysicsRandomization::Entry& entry : scene.entries) {
    if (std::all_of(entry.parameters.begin(), entry.parameters.end(), is_identified)) {
      if (replaced) replaced->push_back(entry.source);
      continue;
    }
    out.entries.push_back(entry);  // a group only partly identified stays as the scene draws it
  }
  for (const std::string& name : identified) {
    const bool kept = std::any_of(out.entries.begin(), out.entries.end(), [&](const PhysicsRandomization::Entry& e) {
      return std::find(e.parameters.begin(), e.parameters.end(), name) != e.parameters.end();
    });
    if (!kept) posterior.push_back(name);
  }
  if (posterior.empty()) return out;
  PhysicsRandomization::Entry entry;
  entry.parameters = posterior;
  entry.source = params_file.string() + ":" + std::to_string(first_line) + ": posterior of the identified parameters";
  try {
    entry.distribution = PosteriorOf(params, posterior);
  } catch (const std::invalid_argument& e) {
    throw InputError(params_file.string(), "line " + std::to_string(first_line) + ": parameters",
                     std::string("the posterior of the identified parameters: ") + e.what());
  }
  out.entries.insert(out.entries.begin(), std::move(entry));
  return out;
}

Distribution ParseDistribution(const Reader& reader, const Value& value) { return Parse(reader, value); }

PhysicsRandomization ParsePhysicsRandomization(const std::filesystem::path& scene_yaml, const sim::ParamsFile* params,
                                               const std::filesystem::path& params_file) {
  const Reader r(scene_yaml);
  const YAML::Node root = sim::yaml::LoadFile(scene_yaml);
  PhysicsRandomization out;
  if (!root.IsMap()) return out;  // the scene loader reports what is wrong with the scene itself
  const Map top(r, Value{root, "", std::max(1, sim::yaml::LineOf(root))}, {});
  const auto randomization = top.Get("randomization");
  if (!randomization || randomization->node.IsNull()) return out;
  const auto physics = Map(r, *randomization, {}).Get("physics");
  if (!physics || physics->node.IsNull()) return out;

  const PosteriorSource source{params, params_file};
  std::set<std::string> seen;
  const auto check_name = [&](const Value& where, const std::string& name) {
    std::string why;
    if (!sim::ParseParameterName(name, &why)) {
      r.Fail(where, "is not a physics parameter: " + why + "; or a group {parameters: [...], distribution: ...}");
    }
    if (!seen.insert(name).second) r.Fail(where, "'" + name + "' is randomized twice");
  };

  const Map physics_map(r, *physics, {});
  for (const auto& [key, v] : physics_map.entries()) {
    PhysicsRandomization::Entry entry;
    entry.source = scene_yaml.string() + ":" + std::to_string(v.line) + ": " + v.path;
    Value dist_v = v;
    if (v.node.IsMap() && v.node["parameters"]) {  // a group
      const Map group(r, v, {"parameters", "distribution"});
      const Value names_v = group.Require("parameters");
      for (const Value& item : r.List(names_v)) {
        entry.parameters.push_back(r.String(item));
        check_name(item, entry.parameters.back());
      }
      if (entry.parameters.empty()) r.Fail(names_v, "expected at least one parameter name");
      dist_v = group.Require("distribution");
    } else {
      entry.parameters.push_back(key);
      check_name(v, key);
    }
    const auto n = static_cast<int>(entry.parameters.size());
    if (dist_v.node.IsScalar() && dist_v.node.Scalar() == "posterior") {
      entry.distribution = PosteriorDistribution(r, dist_v, source, entry.parameters);
    } else {
      entry.distribution = Parse(r, dist_v);
      const Distribution& d = entry.distribution;
      if (d.kind() == Distribution::Kind::kCategorical) {
        r.Fail(dist_v, "a physics parameter needs numbers; categorical draws labels");
      }
      const int dim = d.dimension();
      const bool broadcast = d.needs_nominal() && dim == 1;
      if (dim != n && !broadcast) {
        r.Fail(dist_v, "draws " + std::to_string(dim) + " values for " + std::to_string(n) + " parameter" +
                           (n == 1 ? "" : "s"));
      }
    }
    out.entries.push_back(std::move(entry));
  }
  return out;
}

}  // namespace r2s::randomize

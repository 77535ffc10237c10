#include "sim/params_overlay.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "episode/atomic_file.h"
#include "episode/input_error.h"
#include "sim/parameter_name.h"
#include "sim/yaml_values.h"

namespace r2s::sim {
namespace {

namespace fs = std::filesystem;
using yaml::Map;
using yaml::Reader;
using yaml::Value;

constexpr const char* kFormat = "real2sim.params/1";

std::string FormatDouble(double x) {
  if (std::isnan(x)) return ".nan";
  if (std::isinf(x)) return x > 0 ? ".inf" : "-.inf";
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), x);
  (void)error;
  std::string text(buffer, end);
  // Keep it a float for YAML readers that type plain scalars ("5" would read as an integer).
  if (text.find_first_of(".eE") == std::string::npos && text.find("inf") == std::string::npos) text += ".0";
  return text;
}

// YAML double-quoted scalar (JSON escapes are valid YAML).
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\x%02x", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

ParamsFile ReadParams(const fs::path& params_yaml) {
  std::error_code ec;
  if (!fs::is_regular_file(params_yaml, ec)) throw InputError(params_yaml.string(), "", "no such params file");
  const YAML::Node root = yaml::LoadFile(params_yaml);
  const Reader r(params_yaml);
  const Value top{root, "", std::max(1, yaml::LineOf(root))};
  Map m(r, top, {"format", "scene", "parameters", "covariance", "metrics"});
  ParamsFile params;
  const Value format = m.Require("format");
  if (r.String(format) != kFormat) {
    r.Fail(format, "is '" + r.String(format) + "', expected '" + kFormat + "'");
  }
  if (auto v = m.Get("scene")) params.scene = r.String(*v);
  std::set<std::string> names;
  for (const Value& item : r.List(m.Require("parameters"))) {
    Map p(r, item, {"name", "estimate", "std", "lower", "upper", "identified"});
    ParameterEstimate e;
    const Value name = p.Require("name");
    e.name = r.String(name);
    e.line = item.line;
    if (!names.insert(e.name).second) r.Fail(name, "parameter '" + e.name + "' is listed twice");
    e.estimate = r.Number(p.Require("estimate"));
    if (auto v = p.Get("std")) {
      e.std_dev = r.NumberOrSpecial(*v);
      if (!(e.std_dev >= 0) && !std::isnan(e.std_dev)) r.Fail(*v, "must be >= 0, found " + FormatDouble(e.std_dev));
    }
    if (auto v = p.Get("lower")) e.lower = r.NumberOrSpecial(*v);
    if (auto v = p.Get("upper")) e.upper = r.NumberOrSpecial(*v);
    if (std::isnan(e.lower) || std::isnan(e.upper) || e.lower > e.upper) {
      r.Fail(item, "bounds [" + FormatDouble(e.lower) + ", " + FormatDouble(e.upper) + "] are not an interval");
    }
    if (e.estimate < e.lower || e.estimate > e.upper) {
      r.Fail(item, "estimate " + FormatDouble(e.estimate) + " lies outside its bounds [" + FormatDouble(e.lower) +
                       ", " + FormatDouble(e.upper) + "]");
    }
    if (auto v = p.Get("identified")) e.identified = r.Bool(*v);
    params.parameters.push_back(std::move(e));
  }
  if (auto v = m.Get("covariance")) {
    Map c(r, *v, {"names", "matrix"});
    const Value names_value = c.Require("names");
    for (const Value& n : r.List(names_value)) {
      std::string name = r.String(n);
      if (!names.count(name)) r.Fail(n, "'" + name + "' is not one of the parameters");
      if (std::count(params.covariance_names.begin(), params.covariance_names.end(), name) > 0) r.Fail(n, "'" + name + "' is listed twice");
      params.covariance_names.push_back(std::move(name));
    }
    const int n = static_cast<int>(params.covariance_names.size());
    const Value matrix = c.Require("matrix");
    const auto rows = r.List(matrix);
    if (static_cast<int>(rows.size()) != n) {
      r.Fail(matrix, "has " + std::to_string(rows.size()) + " rows for " + std::to_string(n) + " names");
    }
    params.covariance.resize(n, n);
    for (int i = 0; i < n; ++i) params.covariance.row(i) = r.Numbers(rows[i], n).transpose();
    const double scale = n > 0 ? params.covariance.cwiseAbs().maxCoeff() : 0.0;
    if (n > 0 && !((params.covariance - params.covariance.transpose()).cwiseAbs().maxCoeff() <= 1e-9 * scale)) {
      r.Fail(matrix, "is not symmetric");
    }
    for (int i = 0; i < n; ++i) {
      if (params.covariance(i, i) < 0) r.Fail(rows[i], "has a negative variance on the diagonal");
    }
  }
  if (auto v = m.Get("metrics")) {
    Map metrics(r, *v, {});
    for (const auto& [key, value] : metrics.entries()) params.metrics[key] = r.NumberOrSpecial(value);
  }
  return params;
}

void WriteParams(const ParamsFile& params, const fs::path& out) {
  if (params.covariance.rows() != static_cast<int>(params.covariance_names.size()) ||
      params.covariance.cols() != params.covariance.rows()) {
    throw std::invalid_argument("WriteParams: covariance is " + std::to_string(params.covariance.rows()) + "x" +
                                std::to_string(params.covariance.cols()) + " for " +
                                std::to_string(params.covariance_names.size()) + " names");
  }
  std::string text = std::string("format: ") + kFormat + "\n";
  text += "scene: " + Quote(params.scene) + "\n";
  text += "parameters:\n";
  for (const ParameterEstimate& e : params.parameters) {
    text += "  - {name: " + Quote(e.name) + ", estimate: " + FormatDouble(e.estimate) +
            ", std: " + FormatDouble(e.std_dev) + ", lower: " + FormatDouble(e.lower) +
            ", upper: " + FormatDouble(e.upper) + ", identified: " + (e.identified ? "true" : "false") + "}\n";
  }
  if (params.parameters.empty()) text.replace(text.size() - 1, 1, " []\n");
  if (!params.covariance_names.empty()) {
    text += "covariance:\n  names: [";
    for (std::size_t i = 0; i < params.covariance_names.size(); ++i) {
      text += (i ? ", " : "") + Quote(params.covariance_names[i]);
    }
    text += "]\n  matrix:\n";
    for (int i = 0; i < params.covariance.rows(); ++i) {
      text += "    - [";
      for (int j = 0; j < params.covariance.cols(); ++j)
        text += (j ? ", " : "") + FormatDouble(params.covariance(i, j));
      text += "]\n";
    }
  }
  if (!params.metrics.empty()) {
    text += "metrics:\n";
    for (const auto& [key, value] : params.metrics) text += "  " + Quote(key) + ": " + FormatDouble(value) + "\n";
  }

  try {
    episode::WriteFileAtomically(out, text);
  } catch (const std::system_error& e) {
    throw InputError(out.string(), "", std::string("cannot be written: ") + e.what());
  }
}

void ApplyParams(const ParamsFile& params, const fs::path& params_file, SceneSpec& spec) {
  for (std::size_t i = 0; i < params.parameters.size(); ++i) {
    const ParameterEstimate& e = params.parameters[i];
    const SourceLoc where{params_file, e.line, "parameters[" + std::to_string(i) + "]", {}};
    std::string why;
    const auto name = ParseParameterName(e.name, &why);
    if (!name) where.Fail("name", why);
    const double x = e.estimate;
    if (!std::isfinite(x)) where.Fail("estimate", "'" + e.name + "' has a non-finite estimate");
    if (const std::string problem = ParameterValueProblem(*name, x); !problem.empty()) {
      where.Fail("estimate", "'" + e.name + "' " + problem);
    }
    const int k = name->field_index;
    switch (name->group) {
      case ParameterGroup::kLink: {
        if (!spec.robot) where.Fail("name", "'" + e.name + "' names the robot, but the scene has none");
        auto [it, created] = spec.robot->link_inertials.try_emplace(name->target);
        LinkInertialSpec& link = it->second;
        if (created) link.where = where;  // the compiler names this file and line if the link does not exist
        if (k == 0) link.mass_kg = x;
        if (k >= 1 && k <= 3) link.com_m[k - 1] = x;
        if (k >= 4) link.inertia_kgm2[k - 4] = x;
        break;
      }
      case ParameterGroup::kJoint: {
        if (!spec.robot) where.Fail("name", "'" + e.name + "' names the robot, but the scene has none");
        auto [it, created] = spec.robot->actuators.try_emplace(name->target);
        ActuatorSpec& a = it->second;
        if (created) a.where = where;  // the compiler names this file and line if the joint does not exist
        std::optional<double>* fields[] = {&a.kp,        &a.kd,           &a.effort_limit,
                                           &a.velocity_limit, &a.latency_s,    &a.coulomb_friction,
                                           &a.viscous_friction, &a.damping, &a.armature, &a.position_offset};
        *fields[k] = x;
        break;
      }
      case ParameterGroup::kObject: {
        auto object = std::find_if(spec.objects.begin(), spec.objects.end(),
                                   [&](const ObjectSpec& o) { return o.name == name->target; });
        if (object == spec.objects.end()) {
          std::string known;
          for (const auto& o : spec.objects) known += (known.empty() ? "" : ", ") + o.name;
          where.Fail("name", "'" + e.name + "': the scene has no free object '" + name->target +
                                 "' (objects: " + (known.empty() ? "none" : known) + ")");
        }
        if (name->field == "mass_kg") {
          // An explicit inertia was written for the nominal mass; it scales with the mass (same shape and density).
          if (object->inertia_kgm2 && object->mass_kg && *object->mass_kg > 0) {
            *object->inertia_kgm2 *= x / *object->mass_kg;
          }
          object->mass_kg = x;
          break;
        }
        std::optional<double>* fields[] = {nullptr, &object->contact.lateral_friction,
                                           &object->contact.rolling_friction, &object->contact.spinning_friction,
                                           &object->contact.restitution};
        *fields[k] = x;
        break;
      }
    }
  }
}

}  // namespace r2s::sim

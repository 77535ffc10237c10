#include "sim/params_overlay.h"

#include <charconv>
#include <cmath>
#include <set>

#include "episode/atomic_file.h"
#include "episode/input_error.h"
#include "sim/yaml_values.h"

namespace r2s::sim {
namespace {

namespace fs = std::filesystem;
using yaml::Map;
using yaml::Reader;
using yaml::Value;

constexpr const char* kFormat = "real2sim.params/1";

const char* const kJointFields[] = {
    "kp",      "kd",      "effort_limit", "velocity_limit", "latency_s", "coulomb_friction", "viscous_friction",
    "damping", "armature"};
// A link's inertial: mass, CoM in the link frame, inertia about the CoM in the link frame's axes.
const char* const kLinkFields[] = {"mass_kg",  "com_x_m",  "com_y_m",  "com_z_m",  "ixx_kgm2",
                                   "ixy_kgm2", "ixz_kgm2", "iyy_kgm2", "iyz_kgm2", "izz_kgm2"};
const char* const kObjectFields[] = {"mass_kg", "lateral_friction", "rolling_friction", "spinning_friction",
                                     "restitution"};

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

// "robot.panda_joint1.kp" -> {"robot", "panda_joint1", "kp"}; the middle may itself contain dots.
struct ParamName {
  std::string group, target, field;
};

std::optional<ParamName> SplitName(const std::string& name) {
  const auto first = name.find('.');
  const auto last = name.rfind('.');
  if (first == std::string::npos || last == first || last + 1 == name.size() || last == first + 1) {
    return std::nullopt;
  }
  return ParamName{name.substr(0, first), name.substr(first + 1, last - first - 1), name.substr(last + 1)};
}

bool Contains(const auto& list, const std::string& s) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
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
      if (Contains(params.covariance_names, name)) r.Fail(n, "'" + name + "' is listed twice");
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
    const auto name = SplitName(e.name);
    if (!name || (name->group != "robot" && name->group != "objects")) {
      where.Fail("name", "'" + e.name +
                             "' is not a parameter name: expected robot.<joint>.<field>, "
                             "robot.<link>.<inertial field> or objects.<name>.<field>");
    }
    const double x = e.estimate;
    if (!std::isfinite(x)) where.Fail("estimate", "'" + e.name + "' has a non-finite estimate");
    if (name->group == "robot") {
      if (!spec.robot) where.Fail("name", "'" + e.name + "' names the robot, but the scene has none");
      RobotSpec& robot = *spec.robot;
      if (Contains(kLinkFields, name->field)) {
        const auto k = std::find(std::begin(kLinkFields), std::end(kLinkFields), name->field) - std::begin(kLinkFields);
        if (k == 0 && !(x > 0)) where.Fail("estimate", "'" + e.name + "' must be > 0, found " + FormatDouble(x));
        if ((k == 4 || k == 7 || k == 9) && !(x >= 0)) {
          where.Fail("estimate", "'" + e.name + "' is a moment of inertia: must be >= 0, found " + FormatDouble(x));
        }
        auto [it, created] = robot.link_inertials.try_emplace(name->target);
        LinkInertialSpec& link = it->second;
        if (created) link.where = where;  // the compiler names this file and line if the link does not exist
        if (k == 0) link.mass_kg = x;
        if (k >= 1 && k <= 3) link.com_m[k - 1] = x;
        if (k >= 4) link.inertia_kgm2[k - 4] = x;
        continue;
      }
      if (!Contains(kJointFields, name->field)) {
        where.Fail("name", "'" + e.name + "': unknown robot parameter '" + name->field +
                               "' (kp, kd, effort_limit, velocity_limit, latency_s, coulomb_friction, "
                               "viscous_friction, damping, armature of a joint; mass_kg, com_x_m, com_y_m, "
                               "com_z_m, ixx_kgm2, ixy_kgm2, ixz_kgm2, iyy_kgm2, iyz_kgm2, izz_kgm2 of a link)");
      }
      const bool positive = name->field == "effort_limit" || name->field == "velocity_limit";
      if (positive ? !(x > 0) : !(x >= 0)) {
        where.Fail("estimate",
                   "'" + e.name + "' must be " + (positive ? "> 0" : ">= 0") + ", found " + FormatDouble(x));
      }
      auto [it, created] = robot.actuators.try_emplace(name->target);
      ActuatorSpec& a = it->second;
      if (created) a.where = where;  // the compiler names this file and line if the joint does not exist
      std::optional<double>* fields[] = {&a.kp,
                                         &a.kd,
                                         &a.effort_limit,
                                         &a.velocity_limit,
                                         &a.latency_s,
                                         &a.coulomb_friction,
                                         &a.viscous_friction,
                                         &a.damping,
                                         &a.armature};
      for (std::size_t k = 0; k < std::size(kJointFields); ++k) {
        if (name->field == kJointFields[k]) *fields[k] = x;
      }
      continue;
    }
    auto object = std::find_if(spec.objects.begin(), spec.objects.end(),
                               [&](const ObjectSpec& o) { return o.name == name->target; });
    if (object == spec.objects.end()) {
      std::string known;
      for (const auto& o : spec.objects) known += (known.empty() ? "" : ", ") + o.name;
      where.Fail("name", "'" + e.name + "': the scene has no free object '" + name->target +
                             "' (objects: " + (known.empty() ? "none" : known) + ")");
    }
    if (!Contains(kObjectFields, name->field)) {
      where.Fail("name", "'" + e.name + "': unknown object parameter '" + name->field +
                             "' (mass_kg, lateral_friction, rolling_friction, spinning_friction, restitution)");
    }
    if (name->field == "mass_kg" ? !(x > 0) : !(x >= 0)) {
      where.Fail("estimate", "'" + e.name + "' must be " + (name->field == "mass_kg" ? "> 0" : ">= 0") + ", found " +
                                 FormatDouble(x));
    }
    if (name->field == "restitution" && x > 1) {
      where.Fail("estimate", "'" + e.name + "' must be <= 1, found " + FormatDouble(x));
    }
    if (name->field == "mass_kg") {
      // An explicit inertia was written for the nominal mass; it scales with the mass (same shape and density).
      if (object->inertia_kgm2 && object->mass_kg && *object->mass_kg > 0) {
        *object->inertia_kgm2 *= x / *object->mass_kg;
      }
      object->mass_kg = x;
    } else if (name->field == "lateral_friction") {
      object->contact.lateral_friction = x;
    } else if (name->field == "rolling_friction") {
      object->contact.rolling_friction = x;
    } else if (name->field == "spinning_friction") {
      object->contact.spinning_friction = x;
    } else {
      object->contact.restitution = x;
    }
  }
}

}  // namespace r2s::sim

#include "amplify/generation_spec.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "randomize/distribution_yaml.h"
#include "sim/yaml_values.h"

namespace r2s::amplify {
namespace {

using randomize::Distribution;
using sim::yaml::Map;
using sim::yaml::Reader;
using sim::yaml::Value;

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Source(const Reader& r, const Value& v) {
  return r.file().string() + ":" + std::to_string(v.line) + ": " + v.path;
}

// The values a one-dimensional distribution can take.
std::pair<double, double> Support(const Distribution& d) {
  switch (d.kind()) {
    case Distribution::Kind::kConstant:
      return {d.mean()[0], d.mean()[0]};
    case Distribution::Kind::kUniform:
    case Distribution::Kind::kLogUniform:
    case Distribution::Kind::kTruncatedNormal:
      return {d.lo()[0], d.hi()[0]};
    case Distribution::Kind::kCategorical:
      return {0, static_cast<double>(d.labels().size() - 1)};
    default:
      return {-kInf, kInf};
  }
}

std::string Number(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", x);
  return buffer;
}

// A scalar distribution whose every value lies in [lo, hi].
Distribution Bounded(const Reader& r, const Value& v, double lo, double hi, const std::string& what) {
  Distribution d = randomize::ParseDistribution(r, v);
  if (d.dimension() != 1 || d.needs_nominal() || d.kind() == Distribution::Kind::kCategorical) {
    r.Fail(v, "expects a distribution of one number (" + what + "), found " + d.Describe());
  }
  const auto [a, b] = Support(d);
  if (a < lo || b > hi) {
    r.Fail(v, d.Describe() + " reaches outside [" + Number(lo) + ", " + Number(hi) + "] (" + what + ")");
  }
  return d;
}

int FindByName(const auto& items, const std::string& name) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string Names(const auto& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item.name;
  return out.empty() ? "none" : out;
}

ActionPerturbationSpec Actions(const Reader& r, const Value& v) {
  const Map m(r, v,
              {"noise_std", "time_warp", "time_warp_period_s", "latency_s", "drop_probability",
               "duplicate_probability"});
  ActionPerturbationSpec a;
  if (auto x = m.Get("noise_std")) a.noise_std = Bounded(r, *x, 0, kInf, "a standard deviation, rad or m");
  if (auto x = m.Get("time_warp")) a.time_warp = Bounded(r, *x, 0, 0.5, "the bound b of a rate 1 +- b");
  if (auto x = m.Get("time_warp_period_s")) {
    a.time_warp_period_s = r.Number(*x);
    if (!(a.time_warp_period_s > 0)) r.Fail(*x, "must be > 0, found " + Number(a.time_warp_period_s));
  }
  if (auto x = m.Get("latency_s")) a.latency_s = Bounded(r, *x, 0, 10, "seconds");
  if (auto x = m.Get("drop_probability")) a.drop_probability = Bounded(r, *x, 0, 1, "a probability");
  if (auto x = m.Get("duplicate_probability")) a.duplicate_probability = Bounded(r, *x, 0, 1, "a probability");
  return a;
}

ConditionTarget Target(const Reader& r, const std::string& axis_name, const Value& v, const sim::Model& model,
                       const randomize::ConditionSpace& conditions) {
  const randomize::ConditionAxis* axis = conditions.FindAxis(axis_name);
  if (axis == nullptr) {
    std::string known;
    for (const auto& a : conditions.axes) known += (known.empty() ? "" : ", ") + a.name;
    r.Fail(v, "'" + axis_name + "' is not an axis of randomization.conditions (axes: " +
                  (known.empty() ? "none" : known) + ")");
  }
  const Map m(r, v, {"target", "scale"});
  const Value target_value = m.Require("target");
  ConditionTarget t;
  t.axis = axis_name;
  t.target = r.String(target_value);
  t.source = Source(r, v);
  const std::string& path = t.target;
  const auto first = path.find('.');
  const auto last = path.rfind('.');
  if (first == std::string::npos || first == last) {
    r.Fail(target_value, "'" + path + "' is not a target: expected lights.<light>.<field>, environment.<body>.<field>, "
                                      "objects.<object>.<field> or cameras.<camera>.<field>");
  }
  const std::string group = path.substr(0, first);
  const std::string name = path.substr(first + 1, last - first - 1);
  const std::string field = path.substr(last + 1);
  const int dimension = axis->distribution.dimension();
  const bool categorical = axis->distribution.kind() == Distribution::Kind::kCategorical;
  auto need = [&](int n, const char* what) {
    if (dimension != n || (categorical && n != 0)) {
      r.Fail(target_value, "'" + path + "' takes " + what + "; axis '" + axis_name + "' is " +
                               axis->distribution.Describe());
    }
  };
  auto unknown_field = [&](const char* fields) {
    r.Fail(target_value, "'" + path + "': unknown field '" + field + "' (" + fields + ")");
  };
  if (auto x = m.Get("scale")) {
    t.scale = r.Number(*x);
    if (!(t.scale > 0)) r.Fail(*x, "must be > 0, found " + Number(t.scale));
  }
  if (group == "lights") {
    t.index = FindByName(model.lights, name);
    if (t.index < 0) r.Fail(target_value, "the scene has no light '" + name + "' (lights: " + Names(model.lights) + ")");
    if (field == "intensity") {
      t.kind = ConditionTarget::Kind::kLightIntensity;
      need(1, "one number");
    } else if (field == "color_temperature_k") {
      t.kind = ConditionTarget::Kind::kLightColorTemperature;
      need(1, "one number (kelvin)");
      const auto [lo, hi] = Support(axis->distribution);
      if (lo < 1000 || hi > 40000) {
        r.Fail(target_value, "'" + path + "' takes 1000 to 40000 K; axis '" + axis_name + "' is " +
                                 axis->distribution.Describe());
      }
    } else {
      unknown_field("intensity, color_temperature_k");
    }
  } else if (group == "environment" || group == "objects") {
    t.environment = group == "environment";
    t.index = t.environment ? FindByName(model.environment, name) : FindByName(model.objects, name);
    if (t.index < 0) {
      r.Fail(target_value, "the scene has no " + std::string(t.environment ? "environment body" : "free object") +
                               " '" + name + "' (" + Names(t.environment ? model.environment : model.objects) + ")");
    }
    if (field == "material") {
      t.kind = ConditionTarget::Kind::kMaterial;
      if (!categorical) {
        r.Fail(target_value, "'" + path + "' takes a categorical axis of material names; axis '" + axis_name +
                                 "' is " + axis->distribution.Describe());
      }
      for (const std::string& label : axis->distribution.labels()) {
        if (!model.materials.count(label)) {
          std::string known;
          for (const auto& [material, unused] : model.materials) known += (known.empty() ? "" : ", ") + material;
          r.Fail(target_value, "axis '" + axis_name + "' has the label '" + label +
                                   "', which is not a material of the scene (materials: " + known + ")");
        }
      }
    } else if (field == "position_xy_m") {
      t.kind = ConditionTarget::Kind::kObjectPositionXy;
      need(2, "two numbers (x, y)");
    } else if (field == "position_m") {
      t.kind = ConditionTarget::Kind::kObjectPosition;
      need(3, "three numbers (x, y, z)");
    } else if (field == "yaw_deg") {
      t.kind = ConditionTarget::Kind::kObjectYaw;
      need(1, "one number (degrees)");
    } else if (field == "shift_xy_m") {
      t.kind = ConditionTarget::Kind::kObjectShiftXy;
      need(2, "two numbers (dx, dy)");
    } else {
      unknown_field("position_xy_m, position_m, yaw_deg, shift_xy_m, material");
    }
  } else if (group == "cameras") {
    t.index = FindByName(model.cameras, name);
    if (t.index < 0) r.Fail(target_value, "the scene has no camera '" + name + "' (" + Names(model.cameras) + ")");
    t.kind = ConditionTarget::Kind::kCameraRotation;
    if (field == "yaw_deg") {
      t.component = 0;
    } else if (field == "pitch_deg") {
      t.component = 1;
    } else if (field == "roll_deg") {
      t.component = 2;
    } else {
      unknown_field("yaw_deg, pitch_deg, roll_deg");
    }
    need(1, "one number (degrees)");
  } else {
    r.Fail(target_value, "'" + path + "': unknown target group '" + group +
                             "' (lights, environment, objects, cameras)");
  }
  if (m.Get("scale") && t.kind != ConditionTarget::Kind::kLightIntensity) {
    r.Fail(*m.Get("scale"), "'scale' is only for a light's intensity");
  }
  return t;
}

struct FieldRange {
  const char* name;
  double lo, hi;
  const char* what;
};

// cuda/sensor.h's parameter ranges (ApplyCameraModel / ApplyDepthModel refuse values outside them).
const FieldRange kCameraFields[] = {
    {"exposure", 0, kInf, "a gain"},
    {"shot_noise_gain", 0, kInf, "DN per electron"},
    {"read_noise_std_dn", 0, kInf, "DN"},
    {"input_gamma", 0.1, 10, "an exponent"},
    {"gamma", 0.1, 10, "an exponent"},
    {"brightness", 0, kInf, "a factor"},
    {"contrast", 0, kInf, "a factor"},
    {"saturation", 0, kInf, "a factor"},
    {"hue_shift_rad", -kInf, kInf, "radians"},
    {"white_balance_r", 0, kInf, "a gain"},
    {"white_balance_g", 0, kInf, "a gain"},
    {"white_balance_b", 0, kInf, "a gain"},
    {"vignetting", 0, 0.999, "a fraction"},
    {"blur_sigma_px", 0, 10, "pixels"},
    {"motion_blur_length_px", 0, 63, "pixels"},
    {"motion_blur_angle_rad", -kInf, kInf, "radians"},
    {"jpeg_quality", 0, 100, "0 (off) or 1..100"},
};
const FieldRange kDepthFields[] = {
    {"noise_std_m", 0, kInf, "metres"},
    {"noise_std_per_m", 0, kInf, "per metre"},
    {"quantization_step_m", 0, kInf, "metres"},
    {"edge_jump_m", 0, kInf, "metres"},
    {"max_incidence_rad", 0, 1.5707963267948966, "radians"},
    {"min_range_m", 0, kInf, "metres"},
    {"max_range_m", 0, kInf, "metres"},
};

std::vector<std::string_view> FieldNames(std::span<const FieldRange> fields) {
  std::vector<std::string_view> names;
  for (const FieldRange& f : fields) names.emplace_back(f.name);
  return names;
}

std::map<std::string, Distribution> Fields(const Reader& r, const Value& v, std::span<const FieldRange> fields,
                                           std::vector<std::string_view> extra = {}) {
  std::vector<std::string_view> allowed = FieldNames(fields);
  allowed.insert(allowed.end(), extra.begin(), extra.end());
  const Map m(r, v, allowed);
  std::map<std::string, Distribution> out;
  for (const auto& [key, value] : m.entries()) {
    if (std::find(extra.begin(), extra.end(), key) != extra.end()) continue;
    const FieldRange& f = *std::find_if(fields.begin(), fields.end(), [&](const FieldRange& x) { return key == x.name; });
    out.emplace(key, Bounded(r, value, f.lo, f.hi, f.what));
  }
  return out;
}

SensorSpec Sensor(const Reader& r, const std::string& camera, const Value& v, const sim::Model& model) {
  SensorSpec s;
  s.camera = FindByName(model.cameras, camera);
  if (s.camera < 0) r.Fail(v, "the scene has no camera '" + camera + "' (" + Names(model.cameras) + ")");
  s.source = Source(r, v);
  const Map m(r, v, {"camera", "depth"});
  if (auto x = m.Get("camera")) s.camera_fields = Fields(r, *x, kCameraFields);
  if (auto x = m.Get("depth")) {
    s.depth_fields = Fields(r, *x, kDepthFields, {"quantization"});
    const Map depth(r, *x, {});
    if (auto q = depth.Get("quantization")) {
      const std::string text = r.String(*q);
      if (text != "none" && text != "uniform" && text != "disparity") {
        r.Fail(*q, "'" + text + "' is not none, uniform or disparity");
      }
      s.depth_quantization = text;
    }
  }
  return s;
}

}  // namespace

const std::vector<std::string>& CameraModelFieldNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const FieldRange& f : kCameraFields) out.emplace_back(f.name);
    return out;
  }();
  return names;
}

const std::vector<std::string>& DepthModelFieldNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const FieldRange& f : kDepthFields) out.emplace_back(f.name);
    return out;
  }();
  return names;
}

GenerationSpec ParseGenerationSpec(const std::filesystem::path& scene_yaml, const sim::Model& model,
                                   const randomize::ConditionSpace& conditions) {
  const Reader r(scene_yaml);
  const YAML::Node root = sim::yaml::LoadFile(scene_yaml);
  GenerationSpec spec;
  const Value top{root, "", std::max(1, sim::yaml::LineOf(root))};
  const Map file(r, top, {});
  const auto randomization = file.Get("randomization");
  if (!randomization || randomization->node.IsNull()) return spec;
  const Map sections(r, *randomization, {});
  if (auto v = sections.Get("actions"); v && !v->node.IsNull()) spec.actions = Actions(r, *v);
  if (auto v = sections.Get("apply"); v && !v->node.IsNull()) {
    const Map apply(r, *v, {});
    for (const auto& [axis, value] : apply.entries()) {
      ConditionTarget t = Target(r, axis, value, model, conditions);
      for (const ConditionTarget& other : spec.targets) {
        if (other.target == t.target) r.Fail(value, "'" + t.target + "' is already set by axis '" + other.axis + "'");
      }
      spec.targets.push_back(std::move(t));
    }
  }
  if (auto v = sections.Get("sensors"); v && !v->node.IsNull()) {
    const Map sensors(r, *v, {});
    for (const auto& [camera, value] : sensors.entries()) spec.sensors.push_back(Sensor(r, camera, value, model));
  }
  return spec;
}

}  // namespace r2s::amplify

#include "sim/lerobot_calibration.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "episode/input_error.h"
#include "sim/yaml_values.h"

namespace r2s::sim {
namespace {

std::string Num(double x) {
  std::ostringstream s;
  s.precision(10);
  s << x;
  return s.str();
}

}  // namespace

std::optional<NormMode> ParseNormMode(const std::string& name) {
  if (name == "range_m100_100") return NormMode::kRangeM100To100;
  if (name == "range_0_100") return NormMode::kRange0To100;
  if (name == "degrees") return NormMode::kDegrees;
  return std::nullopt;
}

LeRobotMap NormalizedToRadians(const LeRobotMotor& motor, NormMode mode, double ticks_per_revolution) {
  const double span = motor.range_max - motor.range_min;
  const double direction = motor.drive_mode ? -1.0 : 1.0;
  const double rad_per_tick = 2 * M_PI / ticks_per_revolution;
  switch (mode) {
    case NormMode::kRangeM100To100:
      return {direction * span / 200 * rad_per_tick, 0.0};
    case NormMode::kRange0To100: {
      const double factor = direction * span / 100 * rad_per_tick;
      return {factor, -50 * factor};
    }
    case NormMode::kDegrees:
      return {(ticks_per_revolution - 1) / 360 * rad_per_tick, 0.0};
  }
  return {};
}

// yaml-cpp reads JSON (a subset of YAML) and gives lines for errors.
std::map<std::string, LeRobotMotor> ReadLeRobotCalibration(const std::filesystem::path& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::ParserException& e) {
    throw InputError(file.string(), e.mark.is_null() ? "" : "line " + std::to_string(e.mark.line + 1),
                     "malformed JSON: " + e.msg);
  } catch (const YAML::BadFile&) {
    throw InputError(file.string(), "", "cannot be opened");
  }
  const yaml::Reader r(file);
  const yaml::Value top{root, "", std::max(1, yaml::LineOf(root))};
  if (!root.IsMap() || root.size() == 0) {
    r.Fail(top, "expected LeRobot's calibration, an object {motor: {id, drive_mode, homing_offset, range_min, "
                "range_max}}, found " + yaml::Describe(root));
  }
  std::map<std::string, LeRobotMotor> motors;
  const yaml::Map entries(r, top, {});
  for (const auto& [name, value] : entries.entries()) {
    const yaml::Map m(r, value, {"id", "drive_mode", "homing_offset", "range_min", "range_max"});
    r.Integer(m.Require("id"));
    r.Integer(m.Require("homing_offset"));
    LeRobotMotor motor;
    const yaml::Value drive_mode = m.Require("drive_mode");
    motor.drive_mode = r.Integer(drive_mode);
    if (motor.drive_mode != 0 && motor.drive_mode != 1) {
      r.Fail(drive_mode, "must be 0 or 1, found " + std::to_string(motor.drive_mode));
    }
    motor.range_min = r.Integer(m.Require("range_min"));
    const yaml::Value range_max = m.Require("range_max");
    motor.range_max = r.Integer(range_max);
    if (!(motor.range_min < motor.range_max)) {
      r.Fail(range_max, "the calibrated range [" + Num(motor.range_min) + ", " + Num(motor.range_max) +
                            "] is empty: range_max must exceed range_min");
    }
    motors.emplace(name, motor);
  }
  return motors;
}

}  // namespace r2s::sim

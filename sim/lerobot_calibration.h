#pragma once
// LeRobot's per-motor calibration files and its normalized joint values, as a scene binding reads them
// (`calibration:` and `normalization:`, docs/scenes.md): what a LeRobot SO-101 dataset's -100..100 and 0..100 mean
// in radians. Re-implemented from the contract of LeRobot's motors_bus.py (_normalize / _unnormalize).

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace r2s::sim {

// One motor of LeRobot's calibration JSON, {motor: {id, drive_mode, homing_offset, range_min, range_max}}.
// Positions are in the motor's ticks after the servo has applied homing_offset itself, so the map to radians needs
// only the range and the drive mode.
struct LeRobotMotor {
  int drive_mode = 0;  // 1: the motor's direction is inverted
  double range_min = 0, range_max = 0;
};

enum class NormMode { kRangeM100To100, kRange0To100, kDegrees };  // LeRobot's MotorNormMode

// "range_m100_100", "range_0_100", "degrees"; std::nullopt for anything else.
std::optional<NormMode> ParseNormMode(const std::string& name);

// normalized -> joint angle: rad = factor * normalized + offset.
struct LeRobotMap {
  double factor = 1, offset = 0;
};

// LeRobot's _unnormalize (normalized -> ticks), without its clamping to the range and its rounding to whole ticks,
// followed by ticks -> rad about the middle of the calibrated range: rad = (ticks - mid) 2 pi / ticks_per_rev with
// mid = (range_min + range_max) / 2. That middle is LeRobot's own zero in degrees mode and the pose calibration
// asks the arm to be held in; a scene takes it for the URDF's zero (a binding's offset moves it). With
// span = range_max - range_min and d = -1 when drive_mode is set, else 1:
//   range_m100_100: ticks = (d n + 100) / 200 span + min          -> rad = d n span / 200 * 2 pi / tpr
//   range_0_100:    ticks = (50 + d (n - 50)) / 100 span + min    -> rad = d (n - 50) span / 100 * 2 pi / tpr
//   degrees:        ticks = n (tpr - 1) / 360 + mid (no drive mode) -> rad = n (tpr - 1) / 360 * 2 pi / tpr
// (LeRobot's degrees take tpr - 1 ticks per turn, its "max_res").
LeRobotMap NormalizedToRadians(const LeRobotMotor& motor, NormMode mode, double ticks_per_revolution);

// Reads a LeRobot calibration JSON. Throws InputError(file, "line N: motor.field", ...) for malformed JSON, a
// missing or mistyped field, or an empty range.
std::map<std::string, LeRobotMotor> ReadLeRobotCalibration(const std::filesystem::path& file);

}  // namespace r2s::sim

#pragma once
// The editable scene: what scene.yaml says, as written. Paths stay strings (relative to the scene folder), optional
// fields stay std::optional, and every item remembers where it was declared so that the compiler, which validates
// and resolves the spec into a sim::Model (scene_compiler.h), can name the file, the line and the key at fault.
// A spec can also be built or edited in code; the compiler checks it the same way.

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "sim/actuator_params.h"
#include "sim/geometry.h"
#include "sim/model.h"

namespace r2s::sim {

// Where an item was declared: its file, line (1-based; 0 when unknown, as for items built in code) and key path
// from the file's root ("robot.bindings[2]"), plus the line of each key read below it ("joints[1]", "kp").
struct SourceLoc {
  std::filesystem::path file;
  int line = 0;
  std::string path;
  std::map<std::string, int> key_lines;

  // "line 12: robot.bindings[2].joints[1]" for key "joints[1]"; the item itself for an empty key.
  std::string Field(const std::string& key = "") const;
  // Throws InputError(file, Field(key), problem).
  [[noreturn]] void Fail(const std::string& key, const std::string& problem) const;
};

// A dataset feature, optionally sliced: "observation.state[0:7]" is {observation.state, 0, 7}.
struct FeatureRef {
  std::string name;
  std::optional<int> begin;  // both set, or neither (then the slice starts at 0 and spans what it needs)
  std::optional<int> end;
};
// Parses "name" or "name[begin:end]"; std::nullopt when malformed (empty name, bad brackets, begin >= end).
std::optional<FeatureRef> ParseFeatureRef(const std::string& text);

// position_m plus at most one orientation: rpy_rad (URDF convention, R = Rz(yaw) Ry(pitch) Rx(roll)),
// quaternion_xyzw, or, for cameras only, look_at_m (+ up).
struct PoseSpec {
  Eigen::Vector3d position_m = Eigen::Vector3d::Zero();
  std::optional<Eigen::Vector3d> rpy_rad;
  std::optional<Eigen::Vector4d> quaternion_xyzw;
  std::optional<Eigen::Vector3d> look_at_m;
  std::optional<Eigen::Vector3d> up;  // with look_at_m; default +z
  SourceLoc where;
};

struct ShapeSpec {
  ShapeKind kind = ShapeKind::kBox;
  Eigen::Vector3d box_size_m = Eigen::Vector3d::Zero();
  double radius_m = 0;
  double length_m = 0;
  Eigen::Vector3d plane_normal = Eigen::Vector3d::UnitZ();
  std::string mesh;  // relative to the scene folder
  Eigen::Vector3d mesh_scale = Eigen::Vector3d::Ones();
  MeshCollision mesh_collision = MeshCollision::kConvexHull;
  std::optional<PoseSpec> pose;  // in the owner's frame
  SourceLoc where;
};

// Unset fields take the defaults of sim::Material.
struct MaterialSpec {
  std::string name;
  std::optional<Eigen::Vector4d> rgba;
  std::optional<double> lateral_friction;
  std::optional<double> rolling_friction;
  std::optional<double> spinning_friction;
  std::optional<double> restitution;
  std::optional<double> roughness;
  std::optional<std::string> texture;  // relative to the scene folder
  SourceLoc where;
};

// An object's own contact values, overriding its material's.
struct ContactOverrides {
  std::optional<double> lateral_friction;
  std::optional<double> rolling_friction;
  std::optional<double> spinning_friction;
  std::optional<double> restitution;
  bool any() const { return lateral_friction || rolling_friction || spinning_friction || restitution; }
};

// Unset fields keep the value from the level below (URDF -> default -> joint).
struct ActuatorSpec {
  std::optional<double> kp, kd, effort_limit, velocity_limit, latency_s, coulomb_friction, viscous_friction, damping,
      armature;
  // Not an actuator field but a joint's: the encoder offset (RobotModel::position_offset). Only params.yaml sets it.
  std::optional<double> position_offset;
  SourceLoc where;
};

// A joint binding and how its values convert to SI (JointBinding in model.h has the convention). Each conversion
// field is empty (its default), one value for every joint, or one value per joint of `joints`; the compiler checks
// them. where.key_lines has "units", "scale", ... and, for list items, "scale[2]".
struct BindingSpec {
  FeatureRef feature;
  JointSignal signal = JointSignal::kPosition;
  std::vector<std::string> joints;
  std::vector<std::string> units;             // rad, deg, rev, ticks, m, mm, N_m, N; default: the SI unit
  std::vector<double> ticks_per_revolution;   // with units: ticks, or a calibration (default 4096, Feetech STS3215)
  std::vector<double> scale;                  // default 1; nonzero
  std::vector<double> sign;                   // default +1; +1 or -1
  std::vector<double> gear_ratio;             // default 1; > 0, motor turns per joint turn
  std::vector<double> offset;                 // default 0; SI (rad or m), position signals only
  std::string calibration;                    // a LeRobot calibration JSON, relative to the scene folder
  std::vector<std::string> normalization;     // with a calibration: range_m100_100, range_0_100 or degrees
  std::vector<std::string> motors;            // the calibration's motor names; default: the joint names
  SourceLoc where;
};

// A link's inertial from params.yaml (robot.<link>.mass_kg, com_x_m, com_y_m, com_z_m, ixx_kgm2 ... izz_kgm2, the
// inertia about the CoM in the link frame's axes): each field given replaces the URDF's. A mass given without any
// inertia field scales the URDF's inertia tensor with it (same shape and density).
struct LinkInertialSpec {
  std::optional<double> mass_kg;
  std::array<std::optional<double>, 3> com_m;         // x, y, z
  std::array<std::optional<double>, 6> inertia_kgm2;  // xx, xy, xz, yy, yz, zz
  SourceLoc where;                                    // the link's first params.yaml entry
};

// A group of joints driven together by as many motors (robot.transmission[i]): motor a's position in joint units
// is sum_b coupling[a][b] q(joints[b]); motor a is joints[a]'s actuator. where.key_lines has "joints[b]" and
// "coupling[a]".
struct TransmissionSpec {
  std::vector<std::string> joints;
  std::vector<std::vector<double>> coupling;
  SourceLoc where;
};

struct RobotSpec {
  std::string urdf;  // relative to the scene folder
  std::optional<PoseSpec> base_pose;
  std::map<std::string, double> initial_q;  // joint -> value; where.key_lines["initial_q.<joint>"] has the line
  ControlMode control_mode = ControlMode::kPosition;
  std::optional<ActuatorSpec> default_actuator;
  std::map<std::string, ActuatorSpec> actuators;           // joint -> override
  std::map<std::string, LinkInertialSpec> link_inertials;  // link -> inertial (params overlay only)
  std::vector<BindingSpec> bindings;
  std::vector<TransmissionSpec> transmission;
  SourceLoc where;
};

// A free object (objects:) or a static body (environment:).
struct ObjectSpec {
  std::string name;
  std::vector<ShapeSpec> shapes;
  std::optional<double> mass_kg;                // free objects only; required there
  std::optional<Eigen::Matrix3d> inertia_kgm2;  // about the centre of mass; computed from the shapes when unset
  std::optional<Eigen::Vector3d> com_m;         // in the object frame; the shapes' centroid when unset
  std::string material;                         // a key of materials (scene or URDF); empty: the default
  ContactOverrides contact;
  std::optional<PoseSpec> pose;  // initial_pose (objects) or pose (environment)
  std::optional<FeatureRef> pose_feature;
  std::optional<FeatureRef> linear_velocity_feature;   // 3 values: the object frame origin's velocity, world frame
  std::optional<FeatureRef> angular_velocity_feature;  // 3 values, in angular_velocity_frame
  std::string angular_velocity_frame;                  // "world" (the default) or "body"
  SourceLoc where;
};

struct CameraSpec {
  std::string name;
  PoseSpec pose;
  std::string attached_link;
  int width_px = 0;
  int height_px = 0;
  std::optional<double> fx_px, fy_px, cx_px, cy_px;  // all four, or
  std::optional<double> fov_y_deg;                   // square pixels and the image centre as principal point
  double near_m = 0.01;
  double far_m = 10.0;
  SourceLoc where;
};

struct LightSpec {
  std::string name;
  LightModel::Kind kind = LightModel::Kind::kDirectional;
  std::optional<Eigen::Vector3d> direction;
  std::optional<Eigen::Vector3d> position_m;
  Eigen::Vector3d color_rgb = Eigen::Vector3d::Ones();
  double intensity = 1.0;
  bool shadows = true;
  SourceLoc where;
};

struct SuccessSpec {
  SuccessCondition::Kind kind = SuccessCondition::Kind::kObjectInRegion;
  std::string subject;  // object, or joint for kJointReached
  std::string frame;    // kObjectInRegion: a body's name, or empty for the world
  Eigen::Vector3d min_m = Eigen::Vector3d::Zero();
  Eigen::Vector3d max_m = Eigen::Vector3d::Zero();
  double height_m = 0;
  double target = 0;
  double tolerance = 0;
  SourceLoc where;
};

struct SimulationSpec {
  double time_step_s = 1.0 / 240.0;
  int substeps_per_frame = 0;
  int solver_iterations = 50;
  Eigen::Vector3d gravity_mps2 = Eigen::Vector3d(0, 0, -9.81);
  SourceLoc where;
};

// rendering: unset fields take the defaults of sim::RenderSettings.
struct RenderingSpec {
  std::optional<bool> shadows;
  std::optional<RenderSettings::ShadowCasters> shadow_casters;
  std::optional<int> shadow_map_px;
  SourceLoc where;
};

struct SceneSpec {
  std::string name;
  std::filesystem::path scene_file;  // as given (scene.yaml)
  std::filesystem::path scene_dir;   // the folder holding it; assets resolve against it
  SimulationSpec simulation;
  std::map<std::string, MaterialSpec> materials;
  std::optional<RobotSpec> robot;
  std::vector<ObjectSpec> objects;
  std::vector<ObjectSpec> environment;
  std::vector<CameraSpec> cameras;
  std::vector<LightSpec> lights;
  std::vector<SuccessSpec> success;
  RenderingSpec rendering;
  SourceLoc where;
};

}  // namespace r2s::sim

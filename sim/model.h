#pragma once
// The compiled scene: everything a simulated world is built from, read-only once compiled and shared by every
// thread (MuJoCo's mjModel). Each worker owns its own sim::World built from it.
//
// Conventions: SI units, Z up, right-handed. A link's frame is its URDF joint frame; its inertial is given in
// that frame. Quaternions in datasets are (x, y, z, w).

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "sim/actuator_params.h"
#include "sim/geometry.h"

namespace r2s::sim {

enum class JointType { kFixed, kRevolute, kPrismatic };

class CollisionGeometry;  // Bullet's shapes of a model's collision Shapes: sim/world.h, BuildCollisionGeometry

struct Inertial {
  double mass_kg = 0;
  Eigen::Vector3d com_m = Eigen::Vector3d::Zero();         // in the link's frame
  Eigen::Matrix3d inertia_kgm2 = Eigen::Matrix3d::Zero();  // about the CoM, in the link frame's axes
};

// A robot link and the joint that attaches it to its parent (Featherstone's numbering: one joint per link).
struct Link {
  std::string name;
  int parent = -1;  // index into RobotModel::links; -1 for the root link, which is fixed to the world

  std::string joint_name;  // empty for the root
  JointType joint_type = JointType::kFixed;
  Eigen::Isometry3d joint_origin = Eigen::Isometry3d::Identity();  // parent link frame -> this link frame at q = 0
  Eigen::Vector3d joint_axis = Eigen::Vector3d::UnitZ();           // unit, in this link's frame
  double lower_limit = -std::numeric_limits<double>::infinity();   // rad or m; infinite when unlimited
  double upper_limit = std::numeric_limits<double>::infinity();
  int dof = -1;  // index into the joint vector q for revolute and prismatic joints; -1 for fixed joints

  Inertial inertial;
  std::vector<Shape> collisions;
  std::vector<Shape> visuals;
};

struct RobotModel {
  std::string name;
  std::filesystem::path urdf;
  Eigen::Isometry3d base_pose = Eigen::Isometry3d::Identity();  // root link frame in the world
  std::vector<Link> links;                                      // parents before children; links[0] is the root
  std::vector<int> dof_links;                                   // dof i -> index of its link
  std::vector<ActuatorParams> actuators;  // one per dof; effort and velocity limits start from the URDF
  ControlMode control_mode = ControlMode::kPosition;
  Eigen::VectorXd initial_q;  // one per dof; zeros unless the scene says otherwise
  // One per dof (rad or m), params.yaml's robot.<joint>.position_offset: the encoder's zero against the joint's,
  // physical = measured + offset, for measured positions and position targets alike. Zeros unless params say
  // otherwise. The compiler folds it into the offset of every position and position-target JointBinding, so
  // whoever reads a binding gets physical positions; SetModelParameter keeps the two in step.
  Eigen::VectorXd position_offset;
  // The transmission between motors and joints (docs/scenes.md, "Transmission"): motor coordinates u = T q, with
  // T = transmission (dofs x dofs), in joint units (a gearbox's ratio is the bindings' business, not T's). Motor k
  // is dof k's actuator: its ActuatorParams (gains, limits, friction, damping, armature), its command delay and
  // its Coulomb friction act on u_k, and the joints feel T^T tau_u; a command's positions and velocities are
  // u = T q too, its torques tau_u = T^-T tau. A wrist whose motor 6 turns with joint 5 has u_6 = q_6 + c q_5.
  // Empty (the usual case): the identity, every motor drives its own joint.
  Eigen::MatrixXd transmission;

  bool coupled() const { return transmission.size() != 0; }
  // T, the identity when not coupled.
  Eigen::MatrixXd Transmission() const;

  int num_dofs() const { return static_cast<int>(dof_links.size()); }
  const Link& dof_link(int dof) const { return links[dof_links[dof]]; }
  int FindLink(const std::string& name) const;       // -1 when absent
  int FindDof(const std::string& joint_name) const;  // -1 when absent or not movable
};

// What a joint-indexed slice of a dataset feature holds.
enum class JointSignal {
  kPosition,           // measured joint positions
  kVelocity,           // measured joint velocities
  kEffort,             // measured joint torques (forces for prismatic joints)
  kPositionTarget,     // commanded positions (ControlMode::kPosition)
  kVelocityTarget,     // commanded velocities (kVelocity, or the velocity reference of kPosition)
  kTorqueTarget,       // commanded torques (kTorque)
  kTorqueFeedforward,  // a torque added to the controller's output
};

// feature[begin:end] holds `signal` for the dofs listed, in order (end - begin == dofs.size()), in the dataset's
// own units (degrees, ticks, LeRobot's -100..100, motor side of a gearbox...). Dataset ("raw") and joint-side SI
// values (rad, m, rad/s, m/s, N m, N) map affinely, per listed joint k:
//   si = factor[k] * raw + offset[k]          raw = (si - offset[k]) / factor[k]
// The scene's conversion fields compile into it (docs/scenes.md, "Units and conversions"), with U the unit's map
// (linear; affine for a LeRobot calibration) and N the gear ratio (motor turns per joint turn):
//   position, position_target:        si = sign * scale * U(raw) / N + offset + RobotModel::position_offset
//   velocity, velocity_target:        si = sign * scale * U(raw) / N           (U's slope; no offset)
//   effort, torque_target, feedforward: si = sign * scale * U(raw) * N           (no offset)
// Every reader and writer of a bound joint value goes through SiFromRaw / RawFromSi.
struct JointBinding {
  std::string source;  // where the scene declares it ("scene.yaml:23: robot.bindings[0]"), for later errors
  std::string feature;
  int begin = 0;
  int end = 0;
  JointSignal signal = JointSignal::kPosition;
  std::vector<int> dofs;
  std::vector<double> factor;  // one per dof, finite and nonzero; empty: 1 (a binding built in code, SI data)
  std::vector<double> offset;  // one per dof, SI; empty: 0

  double SiFromRaw(std::size_t k, double raw) const {
    return (factor.empty() ? raw : factor[k] * raw) + (offset.empty() ? 0.0 : offset[k]);
  }
  double RawFromSi(std::size_t k, double si) const {
    const double shifted = si - (offset.empty() ? 0.0 : offset[k]);
    return factor.empty() ? shifted : shifted / factor[k];
  }
};

// feature[begin:begin+7] holds an object's pose: x, y, z (m), qx, qy, qz, qw.
struct PoseBinding {
  std::string source;  // where the scene declares it, for later errors
  std::string feature;
  int begin = 0;
};

// feature[begin:begin+3] holds a vector per frame (an object's velocity).
struct VectorBinding {
  std::string source;  // where the scene declares it, for later errors
  std::string feature;
  int begin = 0;
};

// A free rigid body (a cube to push), or a static one (a table) when is_static.
struct ObjectModel {
  std::string name;
  bool is_static = false;
  std::vector<Shape> collisions;  // in the object's frame
  std::vector<Shape> visuals;
  Inertial inertial;     // mass 0 for static bodies
  std::string material;  // contact properties: a key of Model::materials
  Eigen::Isometry3d initial_pose = Eigen::Isometry3d::Identity();
  std::optional<PoseBinding> pose_feature;  // where a dataset records this object's pose per frame
  // Where it records the object's velocities: linear (m/s, of the frame origin, world axes) and angular (rad/s,
  // world axes, or the body's own axes when angular_velocity_in_body_frame).
  std::optional<VectorBinding> linear_velocity_feature;
  std::optional<VectorBinding> angular_velocity_feature;
  bool angular_velocity_in_body_frame = false;
};

// A pinhole camera. Its frame follows OpenCV: +z along the optical axis, +x right, +y down in the image.
struct CameraModel {
  std::string name;
  std::string attached_link;  // a robot link name, or empty for a camera fixed in the world
  Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();  // camera frame in the world (or in the link)
  int width_px = 0;
  int height_px = 0;
  double fx_px = 0, fy_px = 0, cx_px = 0, cy_px = 0;
  double near_m = 0.01;
  double far_m = 10.0;
};

struct LightModel {
  enum class Kind { kDirectional, kPoint };
  std::string name;
  Kind kind = Kind::kDirectional;
  Eigen::Vector3d position_m = Eigen::Vector3d::Zero();   // kPoint
  Eigen::Vector3d direction = -Eigen::Vector3d::UnitZ();  // kDirectional: where the light travels, unit
  Eigen::Vector3d color_rgb = Eigen::Vector3d::Ones();
  double intensity = 1.0;
  bool casts_shadows = true;
};

// The task's success predicate, evaluated on the final frame; a scene's conditions must all hold.
struct SuccessCondition {
  enum class Kind { kObjectInRegion, kObjectAboveHeight, kJointReached };
  Kind kind = Kind::kObjectInRegion;
  std::string subject;  // object name, or joint name for kJointReached
  // kObjectInRegion: the body whose frame the region is in (an environment body or another free object), so that
  // a region inside a bin follows the bin wherever a variant puts it; empty: the world frame.
  std::string frame;
  Eigen::Vector3d region_min_m = Eigen::Vector3d::Zero();  // in `frame`
  Eigen::Vector3d region_max_m = Eigen::Vector3d::Zero();
  double height_m = 0;
  double target = 0;     // rad or m
  double tolerance = 0;  // rad or m
};

struct SimSettings {
  double time_step_s = 1.0 / 240.0;  // fixed physics step
  int substeps_per_frame = 0;        // physics steps per dataset frame; 0: from the dataset's fps and time_step_s
  int solver_iterations = 50;
  Eigen::Vector3d gravity_mps2 = Eigen::Vector3d(0, 0, -9.81);
};

// How cameras are rendered where exactness trades against speed: scene.yaml's `rendering:` section
// (docs/scenes.md, "Rendering"); the command line's --shadows, --shadow-casters and --shadow-map-px override it.
// render::ApplyRendering turns it into render::RendererOptions.
struct RenderSettings {
  static constexpr int kMinShadowMapPx = 16;
  static constexpr int kMaxShadowMapPx = 16384;
  enum class ShadowCasters {
    kVisual,     // the bodies' visual meshes: exact shadows
    kCollision,  // their collision shapes where they have any (coarser; the Panda's ~4k triangles against 100k)
  };
  bool shadows = true;  // false: no light casts a shadow, whatever its own `shadows` says
  ShadowCasters shadow_casters = ShadowCasters::kCollision;
  int shadow_map_px = 1024;  // side of each light's shadow map, kMinShadowMapPx to kMaxShadowMapPx
};

struct Model {
  std::string name;
  std::filesystem::path scene_file;  // absolute
  std::filesystem::path scene_dir;   // absolute; every asset lies inside it
  SimSettings sim;
  std::optional<RobotModel> robot;
  std::vector<JointBinding> joint_bindings;
  std::vector<ObjectModel> objects;      // free bodies
  std::vector<ObjectModel> environment;  // static bodies: floor, table, walls
  std::map<std::string, Material> materials;
  std::vector<CameraModel> cameras;
  std::vector<LightModel> lights;
  std::vector<SuccessCondition> success;
  RenderSettings rendering;
  // The collision Shapes above as Bullet shapes, built once when the scene compiles and shared, read-only, by
  // every World of this model and of its copies (a World builds any Shape it does not find here itself). Null:
  // each World builds its own.
  std::shared_ptr<const CollisionGeometry> collision_geometry;

  int FindObject(const std::string& name) const;              // index into objects, -1 when absent
  const Material& MaterialOf(const std::string& name) const;  // the default material for "" or an unknown name
};

}  // namespace r2s::sim

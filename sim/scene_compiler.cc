#include "sim/scene_compiler.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <Eigen/SVD>

#include "episode/input_error.h"
#include "sim/convex_decomposition.h"
#include "sim/lerobot_calibration.h"
#include "sim/mass_properties.h"
#include "sim/mesh_loader.h"
#include "sim/params_overlay.h"
#include "sim/rigid_body_dynamics.h"
#include "sim/scene_loader.h"
#include "sim/urdf_loader.h"
#include "sim/world.h"

namespace r2s::sim {
namespace {

namespace fs = std::filesystem;

std::string Num(double x) {
  std::ostringstream s;
  s.precision(10);
  s << x;
  return s.str();
}

std::string Vec(const Eigen::VectorXd& v) {
  std::string out = "[";
  for (int i = 0; i < v.size(); ++i) out += (i ? ", " : "") + Num(v[i]);
  return out + "]";
}

constexpr int kMaxCameraSidePx = 16384;  // the renderer's (render/view_request.cc)

void CheckFinite(const SourceLoc& loc, const std::string& key, const Eigen::VectorXd& v) {
  if (!v.allFinite()) loc.Fail(key, "expected finite numbers, found " + Vec(v));
}
void CheckNonNegative(const SourceLoc& loc, const std::string& key, double x) {
  if (!(x >= 0) || !std::isfinite(x)) loc.Fail(key, "must be a finite number >= 0, found " + Num(x));
}
void CheckPositive(const SourceLoc& loc, const std::string& key, double x) {
  if (!(x > 0) || !std::isfinite(x)) loc.Fail(key, "must be a finite number > 0, found " + Num(x));
}
void CheckUnit(const SourceLoc& loc, const std::string& key, double x) {
  if (!(x >= 0 && x <= 1)) loc.Fail(key, "must lie in [0, 1], found " + Num(x));
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

// "scene.yaml:23: robot.bindings[0]", for errors the replay raises later against a dataset.
std::string SourceLine(const SourceLoc& loc) {
  return loc.file.filename().string() + ":" + std::to_string(loc.line) + ": " + loc.path;
}

class Compiler {
 public:
  explicit Compiler(const SceneSpec& spec) : spec_(spec) {}

  std::shared_ptr<const Model> Compile() {
    auto model = std::make_shared<Model>();
    std::error_code ec;
    root_ = fs::weakly_canonical(fs::absolute(spec_.scene_dir.empty() ? fs::path(".") : spec_.scene_dir), ec);
    model->scene_dir = root_;
    model->scene_file = fs::weakly_canonical(fs::absolute(spec_.scene_file), ec);
    if (spec_.name.empty()) spec_.where.Fail("name", "the scene needs a non-empty name");
    model->name = spec_.name;
    model->sim = Simulation(spec_.simulation);
    for (const auto& [name, m] : spec_.materials) model->materials[name] = CompileMaterial(name, m);
    if (spec_.robot) model->robot = Robot(*spec_.robot, *model);
    std::set<std::string> body_names;
    for (const ObjectSpec& o : spec_.objects) {
      if (!body_names.insert(o.name).second) o.where.Fail("name", "duplicate body name '" + o.name + "'");
      model->objects.push_back(Object(o, /*is_static=*/false, *model));
    }
    for (const ObjectSpec& o : spec_.environment) {
      if (!body_names.insert(o.name).second) o.where.Fail("name", "duplicate body name '" + o.name + "'");
      model->environment.push_back(Object(o, /*is_static=*/true, *model));
    }
    std::set<std::string> camera_names;
    for (const CameraSpec& c : spec_.cameras) {
      if (!camera_names.insert(c.name).second) c.where.Fail("name", "duplicate camera name '" + c.name + "'");
      model->cameras.push_back(Camera(c, *model));
    }
    std::set<std::string> light_names;
    for (const LightSpec& l : spec_.lights) {
      if (!light_names.insert(l.name).second) l.where.Fail("name", "duplicate light name '" + l.name + "'");
      model->lights.push_back(Light(l));
    }
    for (const SuccessSpec& s : spec_.success) model->success.push_back(Success(s, *model));
    model->rendering = Rendering(spec_.rendering);
    // Once per compiled model: every World of it, and of its parameter-changed copies, shares these shapes.
    model->collision_geometry = BuildCollisionGeometry(*model);
    return model;
  }

 private:
  RenderSettings Rendering(const RenderingSpec& s) {
    RenderSettings out;
    if (s.shadows) out.shadows = *s.shadows;
    if (s.shadow_casters) out.shadow_casters = *s.shadow_casters;
    if (s.shadow_map_px) {
      if (*s.shadow_map_px < RenderSettings::kMinShadowMapPx || *s.shadow_map_px > RenderSettings::kMaxShadowMapPx) {
        s.where.Fail("shadow_map_px", "must lie in [" + std::to_string(RenderSettings::kMinShadowMapPx) + ", " +
                                          std::to_string(RenderSettings::kMaxShadowMapPx) + "] pixels, found " +
                                          std::to_string(*s.shadow_map_px));
      }
      out.shadow_map_px = *s.shadow_map_px;
    }
    return out;
  }

  SimSettings Simulation(const SimulationSpec& s) {
    SimSettings out;
    CheckPositive(s.where, "time_step_s", s.time_step_s);
    // Bullet's solver is built for steps of about 1e-4 to 1e-2 s: a microsecond step means millions of steps per
    // second of episode (a unit mistake, usually), and beyond 0.1 s no contact is resolved.
    if (s.time_step_s < 1e-6 || s.time_step_s > 0.1) {
      s.where.Fail("time_step_s", "must lie in [1e-6, 0.1] s, found " + Num(s.time_step_s));
    }
    if (s.substeps_per_frame < 0) {
      s.where.Fail("substeps_per_frame",
                   "must be >= 0 (0: from the dataset's fps), found " + std::to_string(s.substeps_per_frame));
    }
    if (s.solver_iterations < 1) {
      s.where.Fail("solver_iterations", "must be >= 1, found " + std::to_string(s.solver_iterations));
    }
    CheckFinite(s.where, "gravity_mps2", s.gravity_mps2);
    out.time_step_s = s.time_step_s;
    out.substeps_per_frame = s.substeps_per_frame;
    out.solver_iterations = s.solver_iterations;
    out.gravity_mps2 = s.gravity_mps2;
    return out;
  }

  // An asset path, relative to the scene folder (or absolute), that must resolve inside it and exist.
  fs::path Asset(const std::string& path, const SourceLoc& loc, const std::string& key) {
    if (path.empty()) loc.Fail(key, "the path is empty");
    const fs::path given(path);
    const fs::path full = given.is_absolute() ? given : root_ / given;
    std::error_code ec;
    const fs::path resolved = fs::weakly_canonical(full, ec);
    if (ec) loc.Fail(key, "'" + path + "' cannot be resolved: " + ec.message());
    const auto [root_end, unused] = std::mismatch(root_.begin(), root_.end(), resolved.begin(), resolved.end());
    if (root_end != root_.end()) {
      loc.Fail(key, "'" + path + "' resolves to " + resolved.string() + ", outside the scene folder " + root_.string() +
                        "; copy the asset into the scene folder");
    }
    if (!fs::exists(resolved, ec)) loc.Fail(key, "'" + path + "': no such file (" + resolved.string() + ")");
    if (!fs::is_regular_file(resolved, ec)) loc.Fail(key, "'" + path + "' is not a regular file");
    return resolved;
  }

  Material CompileMaterial(const std::string& name, const MaterialSpec& m) {
    Material out;
    out.name = name;
    if (m.rgba) {
      if (!((m.rgba->array() >= 0).all() && (m.rgba->array() <= 1).all())) {
        m.where.Fail("rgba", "each component must lie in [0, 1], found " + Vec(*m.rgba));
      }
      out.rgba = *m.rgba;
    }
    ApplyContact(m.where, m.lateral_friction, m.rolling_friction, m.spinning_friction, m.restitution, out);
    if (m.roughness) {
      CheckUnit(m.where, "roughness", *m.roughness);
      out.roughness = *m.roughness;
    }
    if (m.texture) out.texture = Asset(*m.texture, m.where, "texture").string();
    return out;
  }

  static void ApplyContact(const SourceLoc& loc, const std::optional<double>& lateral,
                           const std::optional<double>& rolling, const std::optional<double>& spinning,
                           const std::optional<double>& restitution, Material& out) {
    if (lateral) CheckNonNegative(loc, "lateral_friction", *lateral), out.lateral_friction = *lateral;
    if (rolling) CheckNonNegative(loc, "rolling_friction", *rolling), out.rolling_friction = *rolling;
    if (spinning) CheckNonNegative(loc, "spinning_friction", *spinning), out.spinning_friction = *spinning;
    if (restitution) CheckUnit(loc, "restitution", *restitution), out.restitution = *restitution;
  }

  Eigen::Isometry3d Pose(const PoseSpec& p, bool camera) {
    Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
    CheckFinite(p.where, "position_m", p.position_m);
    pose.translation() = p.position_m;
    const int orientations = (p.rpy_rad ? 1 : 0) + (p.quaternion_xyzw ? 1 : 0) + (p.look_at_m ? 1 : 0);
    if (orientations > 1) p.where.Fail("", "give one of rpy_rad, quaternion_xyzw or look_at_m, not several");
    if (p.rpy_rad) {
      CheckFinite(p.where, "rpy_rad", *p.rpy_rad);
      const Eigen::Vector3d& rpy = *p.rpy_rad;
      pose.linear() =
          (Eigen::AngleAxisd(rpy.z(), Eigen::Vector3d::UnitZ()) * Eigen::AngleAxisd(rpy.y(), Eigen::Vector3d::UnitY()) *
           Eigen::AngleAxisd(rpy.x(), Eigen::Vector3d::UnitX()))
              .toRotationMatrix();
    }
    if (p.quaternion_xyzw) {
      const Eigen::Vector4d& q = *p.quaternion_xyzw;
      CheckFinite(p.where, "quaternion_xyzw", q);
      // Hand-written unit quaternions carry a few digits; anything further off is a mistake, not rounding.
      if (!(std::abs(q.norm() - 1.0) <= 1e-3)) {
        p.where.Fail("quaternion_xyzw",
                     "is not a unit quaternion (x, y, z, w): " + Vec(q) + " has norm " + Num(q.norm()));
      }
      pose.linear() = Eigen::Quaterniond(q[3], q[0], q[1], q[2]).normalized().toRotationMatrix();
    }
    if (p.look_at_m) {
      if (!camera) p.where.Fail("look_at_m", "only cameras can use look_at_m");
      CheckFinite(p.where, "look_at_m", *p.look_at_m);
      const Eigen::Vector3d up = p.up.value_or(Eigen::Vector3d::UnitZ());
      CheckFinite(p.where, "up", up);
      const Eigen::Vector3d forward = *p.look_at_m - p.position_m;
      if (forward.norm() < 1e-9) p.where.Fail("look_at_m", "is the camera's own position " + Vec(p.position_m));
      // OpenCV camera frame: z along the optical axis, x right, y down in the image.
      const Eigen::Vector3d z = forward.normalized();
      const Eigen::Vector3d x_raw = z.cross(up);
      if (x_raw.norm() < 1e-9 * std::max(1.0, up.norm())) {
        p.where.Fail("look_at_m",
                     "the viewing direction " + Vec(z) + " is parallel to up " + Vec(up) + "; give another 'up'");
      }
      const Eigen::Vector3d x = x_raw.normalized();
      pose.linear().col(0) = x;
      pose.linear().col(1) = z.cross(x);
      pose.linear().col(2) = z;
    }
    return pose;
  }

  std::vector<std::string> MovableJoints(const RobotModel& robot) {
    std::vector<std::string> names;
    for (int dof = 0; dof < robot.num_dofs(); ++dof) names.push_back(robot.dof_link(dof).joint_name);
    return names;
  }

  // The dof of a joint the scene names, or an error that lists the movable joints.
  int Dof(const RobotModel& robot, const std::string& joint, const SourceLoc& loc, const std::string& key) {
    const int dof = robot.FindDof(joint);
    if (dof >= 0) return dof;
    for (const Link& link : robot.links) {
      if (link.joint_name == joint) {
        loc.Fail(key, "joint '" + joint + "' is fixed; only revolute and prismatic joints qualify (" +
                          JoinNames(MovableJoints(robot)) + ")");
      }
    }
    loc.Fail(key, "unknown joint '" + joint + "'; the URDF's movable joints are: " + JoinNames(MovableJoints(robot)));
  }

  static void ApplyActuator(const ActuatorSpec& a, ActuatorParams& out) {
    const std::pair<const char*, std::pair<const std::optional<double>*, double*>> fields[] = {
        {"kp", {&a.kp, &out.kp}},
        {"kd", {&a.kd, &out.kd}},
        {"latency_s", {&a.latency_s, &out.latency_s}},
        {"coulomb_friction", {&a.coulomb_friction, &out.coulomb_friction}},
        {"viscous_friction", {&a.viscous_friction, &out.viscous_friction}},
        {"damping", {&a.damping, &out.damping}},
        {"armature", {&a.armature, &out.armature}},
    };
    for (const auto& [key, field] : fields) {
      if (*field.first) {
        CheckNonNegative(a.where, key, **field.first);
        *field.second = **field.first;
      }
    }
    if (a.effort_limit) CheckPositive(a.where, "effort_limit", *a.effort_limit), out.effort_limit = *a.effort_limit;
    if (a.velocity_limit) {
      CheckPositive(a.where, "velocity_limit", *a.velocity_limit);
      out.velocity_limit = *a.velocity_limit;
    }
  }

  // params.yaml's inertial fields over the URDF's; the result must be a real mass distribution (Bullet takes the
  // principal moments, and RigidBodyDynamics the tensor as given).
  static void ApplyLinkInertial(const std::string& link_name, const LinkInertialSpec& spec, Inertial& inertial) {
    const bool any_inertia = std::any_of(spec.inertia_kgm2.begin(), spec.inertia_kgm2.end(),
                                         [](const std::optional<double>& v) { return v.has_value(); });
    if (spec.mass_kg) {
      CheckPositive(spec.where, "estimate", *spec.mass_kg);
      // Same shape and density: without inertia fields, the tensor scales with the mass.
      if (!any_inertia && inertial.mass_kg > 0) inertial.inertia_kgm2 *= *spec.mass_kg / inertial.mass_kg;
      inertial.mass_kg = *spec.mass_kg;
    }
    for (int k = 0; k < 3; ++k) {
      if (spec.com_m[k]) inertial.com_m[k] = *spec.com_m[k];
    }
    static constexpr int kRow[6] = {0, 0, 0, 1, 1, 2}, kCol[6] = {0, 1, 2, 1, 2, 2};
    for (int k = 0; k < 6; ++k) {
      if (!spec.inertia_kgm2[k]) continue;
      inertial.inertia_kgm2(kRow[k], kCol[k]) = inertial.inertia_kgm2(kCol[k], kRow[k]) = *spec.inertia_kgm2[k];
    }
    const Eigen::Vector3d moments = Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d>(inertial.inertia_kgm2).eigenvalues();
    const double tolerance = 1e-9 * std::max(1e-12, moments.cwiseAbs().maxCoeff());
    const bool triangle = moments[2] <= moments[0] + moments[1] + tolerance;  // ascending: the largest is [2]
    if (moments[0] < -tolerance || !triangle) {
      std::ostringstream text;
      text << "link '" << link_name << "': the overlaid inertia about the CoM has principal moments " << moments[0]
           << ", " << moments[1] << ", " << moments[2]
           << " kg m^2; a real body's are >= 0, each at most the sum of the other two";
      spec.where.Fail("estimate", text.str());
    }
  }

  RobotModel Robot(const RobotSpec& r, Model& model) {
    const fs::path urdf = Asset(r.urdf, r.where, "urdf");
    UrdfRobot loaded = LoadUrdf(urdf, UrdfLoadOptions{.asset_root = root_}, meshes_);
    RobotModel robot = std::move(loaded.robot);
    for (auto& [name, material] : loaded.materials) model.materials.emplace(name, std::move(material));
    if (r.base_pose) robot.base_pose = Pose(*r.base_pose, false);
    robot.control_mode = r.control_mode;
    robot.actuators.resize(robot.num_dofs());

    if (r.default_actuator) {
      for (auto& a : robot.actuators) ApplyActuator(*r.default_actuator, a);
    }
    for (const auto& [joint, a] : r.actuators) {
      ApplyActuator(a, robot.actuators[Dof(robot, joint, a.where, "")]);
    }
    for (const auto& [link_name, spec] : r.link_inertials) {
      const int link = robot.FindLink(link_name);
      if (link < 0) spec.where.Fail("name", "unknown link '" + link_name + "' in robot." + link_name + ".*");
      ApplyLinkInertial(link_name, spec, robot.links[link].inertial);
    }

    robot.position_offset = Eigen::VectorXd::Zero(robot.num_dofs());
    if (r.default_actuator && r.default_actuator->position_offset) {
      CheckFinite(r.default_actuator->where, "position_offset",
                  Eigen::Matrix<double, 1, 1>(*r.default_actuator->position_offset));
      robot.position_offset.setConstant(*r.default_actuator->position_offset);
    }
    for (const auto& [joint, a] : r.actuators) {
      if (!a.position_offset) continue;
      CheckFinite(a.where, "position_offset", Eigen::Matrix<double, 1, 1>(*a.position_offset));
      robot.position_offset[Dof(robot, joint, a.where, "")] = *a.position_offset;
    }

    robot.initial_q = Eigen::VectorXd::Zero(robot.num_dofs());
    for (const auto& [joint, value] : r.initial_q) {
      const std::string key = "initial_q." + joint;
      const int dof = Dof(robot, joint, r.where, key);
      const Link& link = robot.dof_link(dof);
      if (!std::isfinite(value) || value < link.lower_limit - 1e-9 || value > link.upper_limit + 1e-9) {
        r.where.Fail(key, Num(value) + " lies outside the joint's limits [" + Num(link.lower_limit) + ", " +
                              Num(link.upper_limit) + "]");
      }
      robot.initial_q[dof] = value;
    }

    for (const BindingSpec& b : r.bindings) {
      JointBinding out;
      out.source = SourceLine(b.where);
      out.feature = b.feature.name;
      out.signal = b.signal;
      if (b.feature.name.empty()) b.where.Fail("feature", "the feature name is empty");
      if (b.joints.empty()) b.where.Fail("joints", "lists no joints");
      std::set<int> seen;
      for (std::size_t i = 0; i < b.joints.size(); ++i) {
        const std::string key = "joints[" + std::to_string(i) + "]";
        const int dof = Dof(robot, b.joints[i], b.where, key);
        if (!seen.insert(dof).second) b.where.Fail(key, "joint '" + b.joints[i] + "' is listed twice");
        out.dofs.push_back(dof);
      }
      const int n = static_cast<int>(b.joints.size());
      if (b.feature.begin.has_value() != b.feature.end.has_value()) b.where.Fail("feature", "half a slice");
      out.begin = b.feature.begin.value_or(0);
      out.end = b.feature.end.value_or(n);
      if (out.begin < 0 || out.end <= out.begin) {
        b.where.Fail("feature",
                     "slice [" + std::to_string(out.begin) + ":" + std::to_string(out.end) + "] is empty or negative");
      }
      if (out.end - out.begin != n) {
        b.where.Fail("feature", "slice " + b.feature.name + "[" + std::to_string(out.begin) + ":" +
                                    std::to_string(out.end) + "] holds " + std::to_string(out.end - out.begin) +
                                    " values but " + std::to_string(n) + " joints are listed");
      }
      CompileConversion(b, robot, out);
      model.joint_bindings.push_back(std::move(out));
    }
    CompileTransmission(r, robot);
    CheckExplicitStability(robot, r, model.sim);
    return robot;
  }

  // robot.transmission: each group's coupling into the dofs x dofs map, left empty when it is the identity.
  void CompileTransmission(const RobotSpec& r, RobotModel& robot) {
    if (r.transmission.empty()) return;
    Eigen::MatrixXd t = Eigen::MatrixXd::Identity(robot.num_dofs(), robot.num_dofs());
    std::map<int, std::string> grouped;  // dof -> where it was grouped
    for (const TransmissionSpec& g : r.transmission) {
      if (g.joints.empty()) g.where.Fail("joints", "lists no joints");
      const auto n = static_cast<Eigen::Index>(g.joints.size());
      std::vector<int> dofs;
      for (std::size_t i = 0; i < g.joints.size(); ++i) {
        const std::string key = "joints[" + std::to_string(i) + "]";
        const int dof = Dof(robot, g.joints[i], g.where, key);
        if (const auto it = grouped.find(dof); it != grouped.end()) {
          g.where.Fail(key, "joint '" + g.joints[i] + "' is already in " + it->second +
                                "; a joint belongs to one transmission group");
        }
        grouped[dof] = g.where.Field();
        dofs.push_back(dof);
      }
      if (static_cast<Eigen::Index>(g.coupling.size()) != n) {
        g.where.Fail("coupling", "has " + std::to_string(g.coupling.size()) + " rows for " + std::to_string(n) +
                                     " joints: one row per motor, one motor per joint");
      }
      Eigen::MatrixXd block(n, n);
      for (Eigen::Index a = 0; a < n; ++a) {
        const std::string key = "coupling[" + std::to_string(a) + "]";
        const auto& row = g.coupling[static_cast<std::size_t>(a)];
        if (static_cast<Eigen::Index>(row.size()) != n) {
          g.where.Fail(key, "has " + std::to_string(row.size()) + " entries for " + std::to_string(n) + " joints");
        }
        for (Eigen::Index b = 0; b < n; ++b) {
          if (!std::isfinite(row[static_cast<std::size_t>(b)])) {
            g.where.Fail(key, "entry " + std::to_string(b) + " is " + Num(row[static_cast<std::size_t>(b)]) +
                                  "; it must be finite");
          }
          block(a, b) = row[static_cast<std::size_t>(b)];
        }
      }
      // Motor and joint motion must determine each other: an invertible, reasonably conditioned coupling.
      const Eigen::JacobiSVD<Eigen::MatrixXd> svd(block);
      const Eigen::VectorXd sv = svd.singularValues();
      if (!(sv[n - 1] > 1e-9 * sv[0])) {
        g.where.Fail("coupling", "is singular (singular values " + Num(sv[0]) + " ... " + Num(sv[n - 1]) +
                                     "): the motors' positions must determine the joints'");
      }
      for (Eigen::Index a = 0; a < n; ++a) {
        for (Eigen::Index b = 0; b < n; ++b) t(dofs[a], dofs[b]) = block(a, b);
      }
    }
    if (!t.isIdentity(0.0)) robot.transmission = t;
  }

  // A binding's conversion fields: empty (the default for every joint), one value for every joint, or one per
  // joint. Returns one value per joint and the key naming value k in errors ("scale" or "scale[2]").
  template <typename T>
  static std::vector<T> PerJoint(const std::vector<T>& given, const T& fallback, const char* key,
                                 const BindingSpec& b) {
    const std::size_t n = b.joints.size();
    if (given.empty()) return std::vector<T>(n, fallback);
    if (given.size() == 1) return std::vector<T>(n, given[0]);
    if (given.size() != n) {
      b.where.Fail(key, "has " + std::to_string(given.size()) + " values for " + std::to_string(n) +
                            " joints: give one value for every joint, or one per joint of 'joints'");
    }
    return given;
  }
  static std::string KeyOf(const char* key, std::size_t given, std::size_t k) {
    return given > 1 ? std::string(key) + "[" + std::to_string(k) + "]" : std::string(key);
  }

  // The binding's dataset -> SI map (JointBinding in model.h): si = sign * scale * U(raw) / N + offset for
  // positions (plus the joint's encoder offset), the same slope for velocities, times N instead for efforts.
  void CompileConversion(const BindingSpec& b, const RobotModel& robot, JointBinding& out) {
    const std::size_t n = b.joints.size();
    const bool is_position = b.signal == JointSignal::kPosition || b.signal == JointSignal::kPositionTarget;
    const bool is_velocity = b.signal == JointSignal::kVelocity || b.signal == JointSignal::kVelocityTarget;
    const bool is_effort = !is_position && !is_velocity;
    const bool calibrated = !b.calibration.empty();

    const auto units = PerJoint<std::string>(b.units, "", "units", b);
    const auto ticks = PerJoint(b.ticks_per_revolution, 4096.0, "ticks_per_revolution", b);
    const auto scale = PerJoint(b.scale, 1.0, "scale", b);
    const auto sign = PerJoint(b.sign, 1.0, "sign", b);
    const auto gear = PerJoint(b.gear_ratio, 1.0, "gear_ratio", b);
    const auto offset = PerJoint(b.offset, 0.0, "offset", b);
    const auto normalization = PerJoint<std::string>(b.normalization, "", "normalization", b);
    const auto motors = PerJoint<std::string>(b.motors, "", "motors", b);

    if (calibrated && !b.units.empty()) {
      b.where.Fail("units", "give 'units' or 'calibration', not both: a LeRobot calibration maps its normalized "
                            "values to radians itself");
    }
    if (!calibrated && !b.normalization.empty()) {
      b.where.Fail("normalization", "only goes with 'calibration' (a LeRobot calibration file)");
    }
    if (!calibrated && !b.motors.empty()) {
      b.where.Fail("motors", "only goes with 'calibration' (a LeRobot calibration file)");
    }
    if (!b.offset.empty() && !is_position) {
      b.where.Fail("offset", "applies to position signals (position, position_target) only: velocities and efforts "
                             "convert with the position's slope and no offset");
    }
    std::map<std::string, LeRobotMotor> calibration;
    fs::path calibration_file;
    if (calibrated) {
      if (!is_position) {
        b.where.Fail("calibration", "LeRobot normalizes positions and position targets only; this binding's signal "
                                    "is another");
      }
      calibration_file = Asset(b.calibration, b.where, "calibration");
      calibration = ReadLeRobotCalibration(calibration_file);
    }
    bool uses_ticks = calibrated;
    for (std::size_t k = 0; k < n; ++k) {
      const Link& link = robot.dof_link(out.dofs[k]);
      const bool prismatic = link.joint_type == JointType::kPrismatic;
      const auto fail = [&](const char* key, std::size_t given, const std::string& problem) {
        b.where.Fail(KeyOf(key, given, k), problem);
      };
      if (!std::isfinite(scale[k]) || scale[k] == 0) {
        fail("scale", b.scale.size(), "must be a finite nonzero number, found " + Num(scale[k]));
      }
      if (sign[k] != 1 && sign[k] != -1) fail("sign", b.sign.size(), "must be 1 or -1, found " + Num(sign[k]));
      if (!(gear[k] > 0) || !std::isfinite(gear[k])) {
        fail("gear_ratio", b.gear_ratio.size(),
             "must be a finite number > 0 (motor turns per joint turn; use sign to mirror), found " + Num(gear[k]));
      }
      if (!std::isfinite(offset[k])) fail("offset", b.offset.size(), "must be finite, found " + Num(offset[k]));
      if (!(ticks[k] > 1) || !std::isfinite(ticks[k])) {
        fail("ticks_per_revolution", b.ticks_per_revolution.size(),
             "must be a finite number > 1, found " + Num(ticks[k]));
      }

      // U(raw) = unit_factor * raw + unit_offset, in rad, m, N m or N.
      double unit_factor = 1, unit_offset = 0;
      if (calibrated) {
        if (prismatic) {
          fail("calibration", 0, "joint '" + link.joint_name + "' is prismatic; a LeRobot calibration maps to radians");
        }
        const std::string motor = motors[k].empty() ? link.joint_name : motors[k];
        const auto it = calibration.find(motor);
        if (it == calibration.end()) {
          std::vector<std::string> known;
          for (const auto& [name, unused] : calibration) known.push_back(name);
          fail(b.motors.empty() ? "joints" : "motors", b.motors.empty() ? n : b.motors.size(),
               "motor '" + motor + "' is not in " + calibration_file.filename().string() + " (motors: " +
                   JoinNames(known) + ")" + (b.motors.empty() ? "; name the motors with 'motors:'" : ""));
        }
        const auto mode = ParseNormMode(normalization[k]);
        if (!mode) {
          fail("normalization", b.normalization.size(),
               normalization[k].empty() ? "missing: a calibrated binding needs the LeRobot normalization mode of each "
                                          "joint (range_m100_100, range_0_100 or degrees)"
                                        : "'" + normalization[k] +
                                              "' is not a LeRobot normalization mode (range_m100_100, range_0_100 "
                                              "or degrees)");
        }
        const LeRobotMap map = NormalizedToRadians(it->second, *mode, ticks[k]);
        unit_factor = map.factor;
        unit_offset = map.offset;
      } else {
        const std::string& unit = units[k];
        const char* expected = is_effort ? (prismatic ? "N" : "N_m") : (prismatic ? "m, mm" : "rad, deg, rev, ticks");
        const auto bad_unit = [&] {
          fail("units", b.units.size(),
               "'" + unit + "' is not a unit of " + (is_effort ? "effort" : is_velocity ? "velocity" : "position") +
                   " for " + (prismatic ? "prismatic" : "revolute") + " joint '" + link.joint_name + "' (" +
                   expected + (is_velocity ? ", per second" : "") + ")");
        };
        if (unit.empty()) {
          unit_factor = 1;
        } else if (is_effort) {
          if (unit != (prismatic ? "N" : "N_m")) bad_unit();
        } else if (prismatic) {
          if (unit == "m") {
            unit_factor = 1;
          } else if (unit == "mm") {
            unit_factor = 1e-3;
          } else {
            bad_unit();
          }
        } else if (unit == "rad") {
          unit_factor = 1;
        } else if (unit == "deg") {
          unit_factor = M_PI / 180.0;
        } else if (unit == "rev") {
          unit_factor = 2 * M_PI;
        } else if (unit == "ticks") {
          if (b.ticks_per_revolution.empty()) {
            fail("units", b.units.size(), "'ticks' needs ticks_per_revolution (the encoder's counts per turn)");
          }
          unit_factor = 2 * M_PI / ticks[k];
          uses_ticks = true;
        } else {
          bad_unit();
        }
      }
      const double slope = sign[k] * scale[k] * unit_factor;
      const double intercept = sign[k] * scale[k] * unit_offset;
      if (is_effort) {
        out.factor.push_back(slope * gear[k]);
        out.offset.push_back(0.0);
      } else if (is_velocity) {
        out.factor.push_back(slope / gear[k]);
        out.offset.push_back(0.0);
      } else {
        out.factor.push_back(slope / gear[k]);
        out.offset.push_back(intercept / gear[k] + offset[k] + robot.position_offset[out.dofs[k]]);
      }
      if (!(std::isfinite(out.factor.back()) && out.factor.back() != 0 && std::isfinite(out.offset.back()))) {
        b.where.Fail("", "joint '" + link.joint_name + "': the conversion to SI is degenerate (factor " +
                             Num(out.factor.back()) + ", offset " + Num(out.offset.back()) + ")");
      }
    }
    if (!b.ticks_per_revolution.empty() && !uses_ticks) {
      b.where.Fail("ticks_per_revolution", "only goes with units: ticks or a calibration");
    }
  }

  // The World applies PD and damping torques explicitly, once per step. Semi-implicit Euler on
  // I q'' = -kp q - c q' is stable only while (kp dt^2 + 2 c dt) / I < 4; past half that, a joint rings or
  // diverges (a light wrist link with Franka's gains at 1 ms does). Refuse such a scene up front, with the step
  // that would work, instead of replaying garbage. I is the joint's diagonal mass-matrix entry at initial_q.
  static void CheckExplicitStability(const RobotModel& robot, const RobotSpec& r, const SimSettings& sim) {
    if (robot.num_dofs() == 0) return;
    Eigen::MatrixXd mass = RigidBodyDynamics(robot, sim.gravity_mps2).MassMatrix(robot.initial_q);
    if (robot.coupled()) {
      // The gains act on motor coordinates u = T q: the inertia each motor sees is T^-T M T^-1's diagonal.
      const Eigen::MatrixXd t_inverse = robot.transmission.inverse();
      mass = t_inverse.transpose() * mass * t_inverse;
    }
    const double dt = sim.time_step_s;
    for (int dof = 0; dof < robot.num_dofs(); ++dof) {
      const ActuatorParams& a = robot.actuators[dof];
      const double kp = robot.control_mode == ControlMode::kPosition ? a.kp : 0.0;
      const double c = (robot.control_mode == ControlMode::kTorque ? 0.0 : a.kd) + a.viscous_friction + a.damping;
      const double inertia = mass(dof, dof);
      // Without PD or damping torques nothing is integrated explicitly on this joint: nothing to check.
      if (kp == 0 && c == 0) continue;
      if (!(inertia > 0) || !std::isfinite(inertia)) {
        // A massless link (and nothing it carries has mass) would make the ratio 0/0; Bullet cannot move it either.
        r.where.Fail("urdf", "joint '" + robot.dof_link(dof).joint_name + "' has an effective inertia of " +
                                 Num(inertia) + " kg m^2 at initial_q: the links it moves have no inertia about "
                                 "its axis (URDF <inertial>, or params.yaml's robot.<link>.* overlay); give them "
                                 "some, or the joint some armature");
      }
      const double ratio = (kp * dt * dt + 2 * c * dt) / inertia;
      if (ratio <= 2.0) continue;
      // The largest dt with (kp dt^2 + 2 c dt) / I <= 2.
      const double dt_max = kp > 0 ? (-c + std::sqrt(c * c + 2 * kp * inertia)) / kp : inertia / c;
      const std::string& joint = robot.dof_link(dof).joint_name;
      const auto it = r.actuators.find(joint);
      const SourceLoc& where = it != r.actuators.end() ? it->second.where
                               : r.default_actuator    ? r.default_actuator->where
                                                       : r.where;
      std::ostringstream problem;
      problem.precision(3);
      problem << "kp " << kp << ", damping " << c << " (kd + viscous_friction + damping) at time_step_s " << dt
              << " on " << joint << "'s effective inertia of " << inertia
              << " kg m^2 are past what explicit PD integrates stably ((kp dt^2 + 2 c dt) / I = " << ratio
              << " > 2): make simulation.time_step_s at most " << dt_max << ", lower the gains, or add armature";
      where.Fail(it != r.actuators.end() || r.default_actuator ? "kd" : "actuators", problem.str());
    }
  }

  Shape CompileShape(const ShapeSpec& s, bool is_static) {
    Shape out;
    out.kind = s.kind;
    switch (s.kind) {
      case ShapeKind::kBox:
        if (!(s.box_size_m.array() > 0).all() || !s.box_size_m.allFinite()) {
          s.where.Fail("box", "box sizes must be > 0, found " + Vec(s.box_size_m));
        }
        out.box_size_m = s.box_size_m;
        break;
      case ShapeKind::kSphere:
        CheckPositive(s.where, "sphere", s.radius_m);
        out.radius_m = s.radius_m;
        break;
      case ShapeKind::kCylinder:
        CheckPositive(s.where, "cylinder", s.radius_m);
        CheckPositive(s.where, "cylinder", s.length_m);
        out.radius_m = s.radius_m;
        out.length_m = s.length_m;
        break;
      case ShapeKind::kPlane:
        if (!is_static) s.where.Fail("plane", "a plane is infinite: only environment bodies can be planes");
        CheckFinite(s.where, "plane", s.plane_normal);
        if (s.plane_normal.norm() < 1e-9) s.where.Fail("plane", "the plane normal is zero");
        out.plane_normal = s.plane_normal.normalized();
        break;
      case ShapeKind::kMesh: {
        if (!(s.mesh_scale.array() > 0).all() || !s.mesh_scale.allFinite()) {
          s.where.Fail("scale", "mesh scale must be > 0 on every axis, found " + Vec(s.mesh_scale));
        }
        const fs::path file = Asset(s.mesh, s.where, "mesh");
        out.mesh = meshes_.Get(file, s.mesh_scale, spec_.scene_file.string(), s.where.Field("mesh"));
        out.mesh_collision = s.mesh_collision;
        if (out.mesh_collision == MeshCollision::kConvexDecomposition) {
          out.convex_pieces =
              std::make_shared<const std::vector<std::vector<Eigen::Vector3d>>>(DecomposeConvex(*out.mesh));
        }
        break;
      }
    }
    if (s.pose) out.origin = Pose(*s.pose, false);
    return out;
  }

  ObjectModel Object(const ObjectSpec& o, bool is_static, Model& model) {
    ObjectModel out;
    if (o.name.empty()) o.where.Fail("name", "a body needs a non-empty name");
    out.name = o.name;
    out.is_static = is_static;
    if (o.shapes.empty()) o.where.Fail("shape", "'" + o.name + "' has no shape");
    for (const ShapeSpec& s : o.shapes) out.collisions.push_back(CompileShape(s, is_static));

    if (!o.material.empty() && !model.materials.count(o.material)) {
      std::vector<std::string> known;
      for (const auto& [name, m] : model.materials) known.push_back(name);
      o.where.Fail("material", "unknown material '" + o.material + "'; materials: " + JoinNames(known));
    }
    out.material = o.material;
    if (o.contact.any()) {
      // The object's own contact values: a material of its own, derived from the named one.
      Material derived = model.MaterialOf(o.material);
      ApplyContact(o.where, o.contact.lateral_friction, o.contact.rolling_friction, o.contact.spinning_friction,
                   o.contact.restitution, derived);
      derived.name = (is_static ? "environment/" : "objects/") + o.name;
      out.material = derived.name;
      model.materials[derived.name] = derived;
    }
    for (Shape& s : out.collisions) s.material = out.material;
    out.visuals = out.collisions;

    if (is_static) {
      if (o.mass_kg) o.where.Fail("mass_kg", "a static body has no mass");
    } else {
      if (!o.mass_kg) o.where.Fail("mass_kg", "missing: a free object needs mass_kg");
      CheckPositive(o.where, "mass_kg", *o.mass_kg);
      if (o.inertia_kgm2) {
        out.inertial.mass_kg = *o.mass_kg;
        out.inertial.inertia_kgm2 = CheckedInertia(*o.inertia_kgm2, o.where);
        out.inertial.com_m = ComputeInertial(out.collisions, *o.mass_kg).com_m;
      } else {
        out.inertial = ComputeInertial(out.collisions, *o.mass_kg);
      }
      if (o.com_m) {
        CheckFinite(o.where, "com_m", *o.com_m);
        out.inertial.com_m = *o.com_m;
      }
    }
    if (o.pose) out.initial_pose = Pose(*o.pose, false);
    if (o.pose_feature) {
      if (is_static) o.where.Fail("pose_feature", "a static body does not move");
      const FeatureRef& f = *o.pose_feature;
      if (f.name.empty()) o.where.Fail("pose_feature", "the feature name is empty");
      const int begin = f.begin.value_or(0);
      const int end = f.end.value_or(begin + 7);
      if (begin < 0 || end - begin != 7) {
        o.where.Fail("pose_feature", "slice [" + std::to_string(begin) + ":" + std::to_string(end) +
                                         "] must hold 7 values (x, y, z, qx, qy, qz, qw)");
      }
      out.pose_feature = PoseBinding{SourceLine(o.where) + ".pose_feature", f.name, begin};
    }
    const auto velocity = [&](const std::optional<FeatureRef>& ref, const char* key) -> std::optional<VectorBinding> {
      if (!ref) return std::nullopt;
      const int begin = ref->begin.value_or(0);
      const int end = ref->end.value_or(begin + 3);
      if (ref->name.empty()) o.where.Fail(key, "the feature name is empty");
      if (begin < 0 || end - begin != 3) {
        o.where.Fail(key, "slice [" + std::to_string(begin) + ":" + std::to_string(end) + "] must hold 3 values");
      }
      return VectorBinding{SourceLine(o.where) + "." + key, ref->name, begin};
    };
    out.linear_velocity_feature = velocity(o.linear_velocity_feature, "linear_velocity_feature");
    out.angular_velocity_feature = velocity(o.angular_velocity_feature, "angular_velocity_feature");
    out.angular_velocity_in_body_frame = o.angular_velocity_frame == "body";
    if (!o.angular_velocity_frame.empty() && !o.angular_velocity_feature) {
      o.where.Fail("angular_velocity_frame", "is given without an angular_velocity_feature");
    }
    return out;
  }

  static Eigen::Matrix3d CheckedInertia(const Eigen::Matrix3d& inertia, const SourceLoc& loc) {
    std::ostringstream text;
    text << inertia.format(Eigen::IOFormat(Eigen::StreamPrecision, Eigen::DontAlignCols, ", ", "; ", "", "", "[", "]"));
    if (!inertia.allFinite()) loc.Fail("inertia_kgm2", "expected finite numbers, found " + text.str());
    const double scale = inertia.cwiseAbs().maxCoeff();
    if ((inertia - inertia.transpose()).cwiseAbs().maxCoeff() > 1e-9 * scale) {
      loc.Fail("inertia_kgm2", "is not symmetric: " + text.str());
    }
    const Eigen::Vector3d moments = Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d>(inertia).eigenvalues();
    if (!(moments.minCoeff() > 0)) {
      loc.Fail("inertia_kgm2", "is not positive definite (principal moments " + Vec(moments) + "): " + text.str());
    }
    // A real body's principal moments satisfy the triangle inequality.
    if (moments[0] + moments[1] < moments[2] * (1 - 1e-9)) {
      loc.Fail("inertia_kgm2", "no rigid body has these principal moments " + Vec(moments) +
                                   " (the two smaller must add up to at least the largest)");
    }
    return inertia;
  }

  CameraModel Camera(const CameraSpec& c, const Model& model) {
    CameraModel out;
    if (c.name.empty()) c.where.Fail("name", "a camera needs a non-empty name");
    out.name = c.name;
    if (!c.attached_link.empty()) {
      if (!model.robot) c.where.Fail("attached_link", "the scene has no robot to attach camera '" + c.name + "' to");
      if (model.robot->FindLink(c.attached_link) < 0) {
        std::vector<std::string> links;
        for (const Link& l : model.robot->links) links.push_back(l.name);
        c.where.Fail("attached_link",
                     "unknown link '" + c.attached_link + "'; the URDF's links are: " + JoinNames(links));
      }
    }
    out.attached_link = c.attached_link;
    out.pose = Pose(c.pose, /*camera=*/true);
    if (c.width_px <= 0 || c.height_px <= 0) {
      c.where.Fail("resolution",
                   "must be positive, found [" + std::to_string(c.width_px) + ", " + std::to_string(c.height_px) + "]");
    }
    // The renderer's limit (render/view_request.cc), checked here so that no command starts writing output for a
    // camera it cannot render: a 100000 x 100000 camera used to get past generate's checks to bad_alloc.
    if (c.width_px > kMaxCameraSidePx || c.height_px > kMaxCameraSidePx) {
      c.where.Fail("resolution", "must be at most " + std::to_string(kMaxCameraSidePx) + " pixels a side, found [" +
                                     std::to_string(c.width_px) + ", " + std::to_string(c.height_px) + "]");
    }
    out.width_px = c.width_px;
    out.height_px = c.height_px;
    if (c.fov_y_deg) {
      if (c.fx_px || c.fy_px || c.cx_px || c.cy_px) c.where.Fail("fov_y_deg", "give fx/fy/cx/cy or fov_y_deg");
      if (!(*c.fov_y_deg > 0 && *c.fov_y_deg < 180)) {
        c.where.Fail("fov_y_deg", "must lie in (0, 180) degrees, found " + Num(*c.fov_y_deg));
      }
      out.fy_px = 0.5 * c.height_px / std::tan(0.5 * *c.fov_y_deg * M_PI / 180.0);
      out.fx_px = out.fy_px;
      out.cx_px = 0.5 * c.width_px;
      out.cy_px = 0.5 * c.height_px;
    } else {
      if (!c.fx_px || !c.fy_px || !c.cx_px || !c.cy_px) c.where.Fail("intrinsics", "needs fx, fy, cx and cy");
      CheckPositive(c.where, "fx", *c.fx_px);
      CheckPositive(c.where, "fy", *c.fy_px);
      CheckFinite(c.where, "cx", Eigen::Matrix<double, 1, 1>(*c.cx_px));
      CheckFinite(c.where, "cy", Eigen::Matrix<double, 1, 1>(*c.cy_px));
      out.fx_px = *c.fx_px;
      out.fy_px = *c.fy_px;
      out.cx_px = *c.cx_px;
      out.cy_px = *c.cy_px;
    }
    CheckPositive(c.where, "near_m", c.near_m);
    CheckPositive(c.where, "far_m", c.far_m);
    if (!(c.near_m < c.far_m)) {
      c.where.Fail(c.where.key_lines.count("far_m") ? "far_m" : "near_m",
                   "near_m " + Num(c.near_m) + " must be less than far_m " + Num(c.far_m));
    }
    out.near_m = c.near_m;
    out.far_m = c.far_m;
    return out;
  }

  LightModel Light(const LightSpec& l) {
    LightModel out;
    if (l.name.empty()) l.where.Fail("name", "a light needs a non-empty name");
    out.name = l.name;
    out.kind = l.kind;
    if (l.kind == LightModel::Kind::kDirectional) {
      const Eigen::Vector3d d = l.direction.value_or(-Eigen::Vector3d::UnitZ());
      CheckFinite(l.where, "direction", d);
      if (d.norm() < 1e-9) l.where.Fail("direction", "is zero");
      out.direction = d.normalized();
    } else {
      if (!l.position_m) l.where.Fail("position_m", "a point light needs position_m");
      CheckFinite(l.where, "position_m", *l.position_m);
      out.position_m = *l.position_m;
    }
    CheckFinite(l.where, "color_rgb", l.color_rgb);
    if (!(l.color_rgb.array() >= 0).all()) l.where.Fail("color_rgb", "must be >= 0, found " + Vec(l.color_rgb));
    out.color_rgb = l.color_rgb;
    CheckNonNegative(l.where, "intensity", l.intensity);
    out.intensity = l.intensity;
    out.casts_shadows = l.shadows;
    return out;
  }

  SuccessCondition Success(const SuccessSpec& s, const Model& model) {
    SuccessCondition out;
    out.kind = s.kind;
    out.subject = s.subject;
    if (s.kind == SuccessCondition::Kind::kJointReached) {
      if (!model.robot) s.where.Fail("joint", "the scene has no robot");
      Dof(*model.robot, s.subject, s.where, "joint");
      CheckFinite(s.where, "target", Eigen::Matrix<double, 1, 1>(s.target));
      CheckNonNegative(s.where, "tolerance", s.tolerance);
      out.target = s.target;
      out.tolerance = s.tolerance;
      return out;
    }
    if (model.FindObject(s.subject) < 0) {
      std::vector<std::string> names;
      for (const auto& o : model.objects) names.push_back(o.name);
      s.where.Fail("object", "unknown object '" + s.subject + "'; the free objects are: " + JoinNames(names));
    }
    if (s.kind == SuccessCondition::Kind::kObjectInRegion) {
      CheckFinite(s.where, "min_m", s.min_m);
      CheckFinite(s.where, "max_m", s.max_m);
      if (!(s.min_m.array() <= s.max_m.array()).all()) {
        s.where.Fail("max_m", "the region is empty: min_m " + Vec(s.min_m) + " exceeds max_m " + Vec(s.max_m));
      }
      out.region_min_m = s.min_m;
      out.region_max_m = s.max_m;
      if (!s.frame.empty()) {
        const bool environment = std::any_of(model.environment.begin(), model.environment.end(),
                                             [&](const ObjectModel& e) { return e.name == s.frame; });
        if (!environment && model.FindObject(s.frame) < 0) {
          std::vector<std::string> names;
          for (const auto& e : model.environment) names.push_back(e.name);
          for (const auto& o : model.objects) names.push_back(o.name);
          s.where.Fail("frame", "unknown body '" + s.frame + "'; the environment bodies and free objects are: " +
                                    JoinNames(names));
        }
        if (s.frame == s.subject) s.where.Fail("frame", "'" + s.frame + "' is the object itself");
        out.frame = s.frame;
      }
    } else {
      CheckFinite(s.where, "height_m", Eigen::Matrix<double, 1, 1>(s.height_m));
      out.height_m = s.height_m;
    }
    return out;
  }

  const SceneSpec& spec_;
  fs::path root_;
  MeshCache meshes_;
};

}  // namespace

std::shared_ptr<const Model> CompileScene(const SceneSpec& spec) { return Compiler(spec).Compile(); }

std::shared_ptr<const Model> LoadScene(const fs::path& scene, const std::optional<fs::path>& params) {
  SceneSpec spec = LoadSceneSpec(scene);
  if (params) ApplyParams(ReadParams(*params), *params, spec);
  return CompileScene(spec);
}

}  // namespace r2s::sim

#include "sim/scene_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "episode/input_error.h"
#include "sim/yaml_values.h"

namespace r2s::sim {
namespace {

namespace fs = std::filesystem;
using yaml::Map;
using yaml::Reader;
using yaml::Value;

class SceneParser {
 public:
  explicit SceneParser(const fs::path& file) : r_(file) {}

  SceneSpec Parse(const YAML::Node& root) {
    SceneSpec spec;
    const Value top{root, "", std::max(1, yaml::LineOf(root))};
    if (!root.IsMap())
      r_.Fail(top, "expected a map of scene keys (name, simulation, robot, ...), found " + yaml::Describe(root));
    spec.where = r_.Loc(top);
    Map m(r_, top,
          {"name", "simulation", "materials", "robot", "objects", "environment", "cameras", "lights", "success",
           "randomization", "retarget", "rendering"},
          &spec.where);
    spec.name = r_.String(m.Require("name"));
    if (auto v = m.Get("simulation")) spec.simulation = Simulation(*v);
    if (auto v = m.Get("materials")) {
      Map materials(r_, *v, {});
      for (const auto& [name, value] : materials.entries()) spec.materials.emplace(name, Material(name, value));
    }
    if (auto v = m.Get("robot")) spec.robot = Robot(*v);
    if (auto v = m.Get("objects")) {
      for (const Value& item : r_.List(*v)) spec.objects.push_back(Object(item, /*is_static=*/false));
    }
    if (auto v = m.Get("environment")) {
      for (const Value& item : r_.List(*v)) spec.environment.push_back(Object(item, /*is_static=*/true));
    }
    if (auto v = m.Get("cameras")) {
      for (const Value& item : r_.List(*v)) spec.cameras.push_back(Camera(item));
    }
    if (auto v = m.Get("lights")) {
      for (const Value& item : r_.List(*v)) spec.lights.push_back(Light(item));
    }
    // randomization: is read by randomize/ (physics, conditions) and amplify/ (actions, apply, sensors), which
    // report errors inside their sections; a misspelled section name is caught here, where the whole file is
    // checked. retarget: is amplify/'s too.
    if (auto v = m.Get("randomization")) Map(r_, *v, {"physics", "conditions", "actions", "apply", "sensors"});
    if (auto v = m.Get("success")) {
      for (const Value& item : r_.List(*v)) spec.success.push_back(Success(item));
    }
    if (auto v = m.Get("rendering")) spec.rendering = Rendering(*v);
    return spec;
  }

 private:
  SimulationSpec Simulation(const Value& v) {
    SimulationSpec s;
    s.where = r_.Loc(v);
    Map m(r_, v, {"time_step_s", "substeps_per_frame", "solver_iterations", "gravity_mps2"}, &s.where);
    if (auto x = m.Get("time_step_s")) s.time_step_s = r_.Number(*x);
    if (auto x = m.Get("substeps_per_frame")) s.substeps_per_frame = r_.Integer(*x);
    if (auto x = m.Get("solver_iterations")) s.solver_iterations = r_.Integer(*x);
    if (auto x = m.Get("gravity_mps2")) s.gravity_mps2 = r_.Vec3(*x);
    return s;
  }

  RenderingSpec Rendering(const Value& v) {
    RenderingSpec s;
    s.where = r_.Loc(v);
    Map m(r_, v, {"shadows", "shadow_casters", "shadow_map_px"}, &s.where);
    if (auto x = m.Get("shadows")) s.shadows = r_.Bool(*x);
    if (auto x = m.Get("shadow_casters")) {
      const std::string casters = r_.String(*x);
      if (casters == "visual") {
        s.shadow_casters = RenderSettings::ShadowCasters::kVisual;
      } else if (casters == "collision") {
        s.shadow_casters = RenderSettings::ShadowCasters::kCollision;
      } else {
        r_.Fail(*x, "'" + casters + "' is not a kind of shadow caster (visual or collision)");
      }
    }
    if (auto x = m.Get("shadow_map_px")) s.shadow_map_px = r_.Integer(*x);
    return s;
  }

  MaterialSpec Material(const std::string& name, const Value& v) {
    MaterialSpec s;
    s.name = name;
    s.where = r_.Loc(v);
    Map m(r_, v,
          {"rgba", "lateral_friction", "rolling_friction", "spinning_friction", "restitution", "roughness", "texture"},
          &s.where);
    if (auto x = m.Get("rgba")) s.rgba = r_.Numbers(*x, 4);
    if (auto x = m.Get("lateral_friction")) s.lateral_friction = r_.Number(*x);
    if (auto x = m.Get("rolling_friction")) s.rolling_friction = r_.Number(*x);
    if (auto x = m.Get("spinning_friction")) s.spinning_friction = r_.Number(*x);
    if (auto x = m.Get("restitution")) s.restitution = r_.Number(*x);
    if (auto x = m.Get("roughness")) s.roughness = r_.Number(*x);
    if (auto x = m.Get("texture")) s.texture = r_.String(*x);
    return s;
  }

  PoseSpec Pose(const Value& v, bool camera) {
    PoseSpec p;
    p.where = r_.Loc(v);
    std::vector<std::string_view> keys = {"position_m", "rpy_rad", "quaternion_xyzw"};
    if (camera) keys.insert(keys.end(), {"look_at_m", "up"});
    Map m(r_, v, keys, &p.where);
    if (auto x = m.Get("position_m")) p.position_m = r_.Vec3(*x);
    if (auto x = m.Get("rpy_rad")) p.rpy_rad = r_.Vec3(*x);
    if (auto x = m.Get("quaternion_xyzw")) p.quaternion_xyzw = r_.Numbers(*x, 4);
    if (auto x = m.Get("look_at_m")) p.look_at_m = r_.Vec3(*x);
    if (auto x = m.Get("up")) {
      if (!p.look_at_m) r_.Fail(*x, "'up' only goes with 'look_at_m'");
      p.up = r_.Vec3(*x);
    }
    const int orientations = (p.rpy_rad ? 1 : 0) + (p.quaternion_xyzw ? 1 : 0) + (p.look_at_m ? 1 : 0);
    if (orientations > 1) {
      r_.Fail(Value{v.node, v.path, v.line}, camera ? "give one of rpy_rad, quaternion_xyzw or look_at_m, not several"
                                                    : "give one of rpy_rad or quaternion_xyzw, not both");
    }
    return p;
  }

  ShapeSpec Shape(const Value& v, bool allow_pose) {
    ShapeSpec s;
    s.where = r_.Loc(v);
    std::vector<std::string_view> keys = {"box", "sphere", "cylinder", "plane", "mesh", "scale", "collision"};
    if (allow_pose) keys.push_back("pose");
    Map m(r_, v, keys, &s.where);
    int kinds = 0;
    if (auto x = m.Get("box")) {
      ++kinds;
      s.kind = ShapeKind::kBox;
      s.box_size_m = r_.Vec3(*x);
    }
    if (auto x = m.Get("sphere")) {
      ++kinds;
      s.kind = ShapeKind::kSphere;
      s.radius_m = r_.Number(*x);
    }
    if (auto x = m.Get("cylinder")) {
      ++kinds;
      s.kind = ShapeKind::kCylinder;
      Map c(r_, *x, {"radius", "length"}, &s.where);
      s.radius_m = r_.Number(c.Require("radius"));
      s.length_m = r_.Number(c.Require("length"));
    }
    if (auto x = m.Get("plane")) {
      ++kinds;
      s.kind = ShapeKind::kPlane;
      s.plane_normal = r_.Vec3(*x);
    }
    if (auto x = m.Get("mesh")) {
      ++kinds;
      s.kind = ShapeKind::kMesh;
      s.mesh = r_.String(*x);
    }
    if (kinds != 1) {
      r_.Fail(v, kinds == 0 ? "a shape needs one of box, sphere, cylinder, plane or mesh"
                            : "a shape has exactly one of box, sphere, cylinder, plane or mesh");
    }
    if (auto x = m.Get("scale")) {
      if (s.kind != ShapeKind::kMesh) r_.Fail(*x, "'scale' only applies to a mesh");
      if (x->node.IsScalar()) {
        s.mesh_scale = Eigen::Vector3d::Constant(r_.Number(*x));
      } else {
        s.mesh_scale = r_.Vec3(*x);
      }
    }
    if (auto x = m.Get("collision")) {
      if (s.kind != ShapeKind::kMesh) r_.Fail(*x, "'collision' only applies to a mesh");
      const std::string mode = r_.String(*x);
      if (mode == "convex_hull") {
        s.mesh_collision = MeshCollision::kConvexHull;
      } else if (mode == "decomposition") {
        s.mesh_collision = MeshCollision::kConvexDecomposition;
      } else {
        r_.Fail(*x, "'" + mode + "' is not a collision mode (convex_hull or decomposition)");
      }
    }
    if (auto x = m.Get("pose")) s.pose = Pose(*x, false);
    return s;
  }

  ActuatorSpec Actuator(const Value& v) {
    ActuatorSpec a;
    a.where = r_.Loc(v);
    Map m(r_, v,
          {"kp", "kd", "effort_limit", "velocity_limit", "latency_s", "coulomb_friction", "viscous_friction", "damping",
           "armature"},
          &a.where);
    const std::pair<const char*, std::optional<double> ActuatorSpec::*> fields[] = {
        {"kp", &ActuatorSpec::kp},
        {"kd", &ActuatorSpec::kd},
        {"effort_limit", &ActuatorSpec::effort_limit},
        {"velocity_limit", &ActuatorSpec::velocity_limit},
        {"latency_s", &ActuatorSpec::latency_s},
        {"coulomb_friction", &ActuatorSpec::coulomb_friction},
        {"viscous_friction", &ActuatorSpec::viscous_friction},
        {"damping", &ActuatorSpec::damping},
        {"armature", &ActuatorSpec::armature},
    };
    for (const auto& [key, member] : fields) {
      if (auto x = m.Get(key)) a.*member = r_.Number(*x);
    }
    return a;
  }

  FeatureRef Feature(const Value& v) {
    const std::string text = r_.String(v);
    auto ref = ParseFeatureRef(text);
    if (!ref) {
      r_.Fail(v,
              "'" + text + "' is not a feature reference: expected 'name' or 'name[begin:end]' with 0 <= begin < end");
    }
    return *ref;
  }

  // A conversion field: one value, or a list of them (one per joint; the compiler checks the count). Records the
  // line of each list item as "key[i]".
  std::vector<Value> ScalarOrList(const Value& v, const std::string& key, SourceLoc& where) {
    if (v.node.IsScalar()) return {v};
    const std::vector<Value> items = r_.List(v);
    if (items.empty()) r_.Fail(v, "the list is empty: give one value for every joint, or one per joint");
    for (std::size_t i = 0; i < items.size(); ++i) where.key_lines[key + "[" + std::to_string(i) + "]"] = items[i].line;
    return items;
  }

  RobotSpec Robot(const Value& v) {
    RobotSpec robot;
    robot.where = r_.Loc(v);
    Map m(r_, v, {"urdf", "base_pose", "initial_q", "control_mode", "actuators", "bindings", "transmission"},
          &robot.where);
    robot.urdf = r_.String(m.Require("urdf"));
    if (auto x = m.Get("base_pose")) robot.base_pose = Pose(*x, false);
    if (auto x = m.Get("initial_q")) {
      Map q(r_, *x, {});
      for (const auto& [joint, value] : q.entries()) {
        robot.initial_q[joint] = r_.Number(value);
        robot.where.key_lines["initial_q." + joint] = value.line;
      }
    }
    if (auto x = m.Get("control_mode")) {
      const std::string mode = r_.String(*x);
      if (mode == "position") {
        robot.control_mode = ControlMode::kPosition;
      } else if (mode == "velocity") {
        robot.control_mode = ControlMode::kVelocity;
      } else if (mode == "torque") {
        robot.control_mode = ControlMode::kTorque;
      } else {
        r_.Fail(*x, "'" + mode + "' is not a control mode (position, velocity or torque)");
      }
    }
    if (auto x = m.Get("actuators")) {
      Map actuators(r_, *x, {});
      for (const auto& [joint, value] : actuators.entries()) {
        if (joint == "default") {
          robot.default_actuator = Actuator(value);
        } else {
          robot.actuators.emplace(joint, Actuator(value));
        }
      }
    }
    if (auto x = m.Get("bindings")) {
      for (const Value& item : r_.List(*x)) {
        BindingSpec b;
        b.where = r_.Loc(item);
        Map bm(r_, item,
               {"feature", "signal", "joints", "units", "ticks_per_revolution", "scale", "sign", "gear_ratio", "offset",
                "calibration", "normalization", "motors"},
               &b.where);
        b.feature = Feature(bm.Require("feature"));
        const Value signal = bm.Require("signal");
        const std::string name = r_.String(signal);
        static const std::pair<const char*, JointSignal> kSignals[] = {
            {"position", JointSignal::kPosition},
            {"velocity", JointSignal::kVelocity},
            {"effort", JointSignal::kEffort},
            {"position_target", JointSignal::kPositionTarget},
            {"velocity_target", JointSignal::kVelocityTarget},
            {"torque_target", JointSignal::kTorqueTarget},
            {"torque_feedforward", JointSignal::kTorqueFeedforward},
        };
        auto it =
            std::find_if(std::begin(kSignals), std::end(kSignals), [&](const auto& s) { return name == s.first; });
        if (it == std::end(kSignals)) {
          r_.Fail(signal, "'" + name +
                              "' is not a signal (position, velocity, effort, position_target, velocity_target, "
                              "torque_target or torque_feedforward)");
        }
        b.signal = it->second;
        const auto joints = r_.List(bm.Require("joints"));
        for (std::size_t i = 0; i < joints.size(); ++i) {
          b.joints.push_back(r_.String(joints[i]));
          b.where.key_lines["joints[" + std::to_string(i) + "]"] = joints[i].line;
        }
        const std::pair<const char*, std::vector<double> BindingSpec::*> numbers[] = {
            {"ticks_per_revolution", &BindingSpec::ticks_per_revolution},
            {"scale", &BindingSpec::scale},
            {"sign", &BindingSpec::sign},
            {"gear_ratio", &BindingSpec::gear_ratio},
            {"offset", &BindingSpec::offset},
        };
        for (const auto& [key, member] : numbers) {
          if (auto x = bm.Get(key)) {
            for (const Value& one : ScalarOrList(*x, key, b.where)) (b.*member).push_back(r_.Number(one));
          }
        }
        const std::pair<const char*, std::vector<std::string> BindingSpec::*> names[] = {
            {"units", &BindingSpec::units},
            {"normalization", &BindingSpec::normalization},
            {"motors", &BindingSpec::motors},
        };
        for (const auto& [key, member] : names) {
          if (auto x = bm.Get(key)) {
            for (const Value& one : ScalarOrList(*x, key, b.where)) (b.*member).push_back(r_.String(one));
          }
        }
        if (auto x = bm.Get("calibration")) b.calibration = r_.String(*x);
        robot.bindings.push_back(std::move(b));
      }
    }
    if (auto x = m.Get("transmission")) {
      for (const Value& item : r_.List(*x)) {
        TransmissionSpec t;
        t.where = r_.Loc(item);
        Map tm(r_, item, {"joints", "coupling"}, &t.where);
        const auto joints = r_.List(tm.Require("joints"));
        for (std::size_t i = 0; i < joints.size(); ++i) {
          t.joints.push_back(r_.String(joints[i]));
          t.where.key_lines["joints[" + std::to_string(i) + "]"] = joints[i].line;
        }
        const auto rows = r_.List(tm.Require("coupling"));
        for (std::size_t i = 0; i < rows.size(); ++i) {
          t.where.key_lines["coupling[" + std::to_string(i) + "]"] = rows[i].line;
          std::vector<double> row;
          for (const Value& one : r_.List(rows[i])) row.push_back(r_.Number(one));
          t.coupling.push_back(std::move(row));
        }
        robot.transmission.push_back(std::move(t));
      }
    }
    return robot;
  }

  ObjectSpec Object(const Value& v, bool is_static) {
    ObjectSpec o;
    o.where = r_.Loc(v);
    std::vector<std::string_view> keys = {
        "name",       "shape", "shapes", "material", "lateral_friction", "rolling_friction", "spinning_friction",
        "restitution"};
    if (is_static) {
      keys.push_back("pose");
    } else {
      keys.insert(keys.end(), {"mass_kg", "inertia_kgm2", "com_m", "initial_pose", "pose_feature",
                               "linear_velocity_feature", "angular_velocity_feature", "angular_velocity_frame"});
    }
    Map m(r_, v, keys, &o.where);
    o.name = r_.String(m.Require("name"));
    const auto shape = m.Get("shape");
    const auto shapes = m.Get("shapes");
    if (shape && shapes) r_.Fail(*shapes, "give 'shape' or 'shapes', not both");
    if (!shape && !shapes) r_.Fail(m.Require("shape"), "missing: an object needs 'shape' (or a list 'shapes')");
    if (shape) o.shapes.push_back(Shape(*shape, /*allow_pose=*/true));
    if (shapes) {
      for (const Value& item : r_.List(*shapes)) o.shapes.push_back(Shape(item, /*allow_pose=*/true));
      if (o.shapes.empty()) r_.Fail(*shapes, "the list of shapes is empty");
    }
    if (!is_static) o.mass_kg = r_.Number(m.Require("mass_kg"));
    if (auto x = m.Get("inertia_kgm2")) o.inertia_kgm2 = Inertia(*x);
    if (auto x = m.Get("com_m")) o.com_m = r_.Vec3(*x);
    if (auto x = m.Get("material")) o.material = r_.String(*x);
    if (auto x = m.Get("lateral_friction")) o.contact.lateral_friction = r_.Number(*x);
    if (auto x = m.Get("rolling_friction")) o.contact.rolling_friction = r_.Number(*x);
    if (auto x = m.Get("spinning_friction")) o.contact.spinning_friction = r_.Number(*x);
    if (auto x = m.Get("restitution")) o.contact.restitution = r_.Number(*x);
    if (auto x = m.Get(is_static ? "pose" : "initial_pose")) o.pose = Pose(*x, false);
    if (auto x = m.Get("pose_feature")) o.pose_feature = Feature(*x);
    if (auto x = m.Get("linear_velocity_feature")) o.linear_velocity_feature = Feature(*x);
    if (auto x = m.Get("angular_velocity_feature")) o.angular_velocity_feature = Feature(*x);
    if (auto x = m.Get("angular_velocity_frame")) {
      o.angular_velocity_frame = r_.String(*x);
      if (o.angular_velocity_frame != "world" && o.angular_velocity_frame != "body") {
        r_.Fail(*x, "'" + o.angular_velocity_frame + "' is not world or body");
      }
    }
    return o;
  }

  Eigen::Matrix3d Inertia(const Value& v) {
    const auto rows = r_.List(v);
    if (rows.size() == 3 && std::all_of(rows.begin(), rows.end(), [](const Value& x) { return x.node.IsScalar(); })) {
      return r_.Vec3(v).asDiagonal();
    }
    if (rows.size() != 3) {
      r_.Fail(v, "expected a diagonal [ixx, iyy, izz] or a 3x3 nested list, found " + std::to_string(rows.size()) +
                     " entries");
    }
    Eigen::Matrix3d inertia;
    for (int i = 0; i < 3; ++i) inertia.row(i) = r_.Vec3(rows[i]).transpose();
    return inertia;
  }

  CameraSpec Camera(const Value& v) {
    CameraSpec c;
    c.where = r_.Loc(v);
    Map m(r_, v, {"name", "pose", "attached_link", "resolution", "intrinsics", "fov_y_deg", "near_m", "far_m"},
          &c.where);
    c.name = r_.String(m.Require("name"));
    c.pose = Pose(m.Require("pose"), /*camera=*/true);
    if (auto x = m.Get("attached_link")) c.attached_link = r_.String(*x);
    const Value resolution = m.Require("resolution");
    const auto wh = r_.List(resolution);
    if (wh.size() != 2)
      r_.Fail(resolution, "expected [width, height] in pixels, found " + std::to_string(wh.size()) + " entries");
    c.width_px = r_.Integer(wh[0]);
    c.height_px = r_.Integer(wh[1]);
    if (auto x = m.Get("intrinsics")) {
      Map in(r_, *x, {"fx", "fy", "cx", "cy", "fov_y_deg"}, &c.where);
      if (auto f = in.Get("fov_y_deg")) {
        if (in.Get("fx") || in.Get("fy") || in.Get("cx") || in.Get("cy")) {
          r_.Fail(*f, "give fx, fy, cx, cy or fov_y_deg, not both");
        }
        c.fov_y_deg = r_.Number(*f);
      } else {
        c.fx_px = r_.Number(in.Require("fx"));
        c.fy_px = r_.Number(in.Require("fy"));
        c.cx_px = r_.Number(in.Require("cx"));
        c.cy_px = r_.Number(in.Require("cy"));
      }
    }
    if (auto x = m.Get("fov_y_deg")) {
      if (m.Get("intrinsics")) r_.Fail(*x, "give 'intrinsics' or 'fov_y_deg', not both");
      c.fov_y_deg = r_.Number(*x);
    }
    if (!c.fov_y_deg && !c.fx_px)
      r_.Fail(m.Require("intrinsics"), "missing: a camera needs 'intrinsics' or 'fov_y_deg'");
    if (auto x = m.Get("near_m")) c.near_m = r_.Number(*x);
    if (auto x = m.Get("far_m")) c.far_m = r_.Number(*x);
    return c;
  }

  LightSpec Light(const Value& v) {
    LightSpec l;
    l.where = r_.Loc(v);
    Map m(r_, v, {"name", "type", "direction", "position_m", "color_rgb", "intensity", "shadows"}, &l.where);
    l.name = r_.String(m.Require("name"));
    const Value type = m.Require("type");
    const std::string kind = r_.String(type);
    if (kind == "directional") {
      l.kind = LightModel::Kind::kDirectional;
    } else if (kind == "point") {
      l.kind = LightModel::Kind::kPoint;
    } else {
      r_.Fail(type, "'" + kind + "' is not a light type (directional or point)");
    }
    if (auto x = m.Get("direction")) {
      if (l.kind != LightModel::Kind::kDirectional) r_.Fail(*x, "'direction' only applies to a directional light");
      l.direction = r_.Vec3(*x);
    }
    if (auto x = m.Get("position_m")) {
      if (l.kind != LightModel::Kind::kPoint) r_.Fail(*x, "'position_m' only applies to a point light");
      l.position_m = r_.Vec3(*x);
    }
    if (l.kind == LightModel::Kind::kPoint && !l.position_m) r_.Fail(m.Require("position_m"), "missing");
    if (auto x = m.Get("color_rgb")) l.color_rgb = r_.Vec3(*x);
    if (auto x = m.Get("intensity")) l.intensity = r_.Number(*x);
    if (auto x = m.Get("shadows")) l.shadows = r_.Bool(*x);
    return l;
  }

  SuccessSpec Success(const Value& v) {
    SuccessSpec s;
    Map outer(r_, v, {"object_in_region", "object_above_height", "joint_reached"});
    if (outer.entries().size() != 1) {
      r_.Fail(v, "expected one condition (object_in_region, object_above_height or joint_reached), found " +
                     std::to_string(outer.entries().size()));
    }
    const auto& [kind, body] = outer.entries().front();
    s.where = r_.Loc(body);
    if (kind == "object_in_region") {
      s.kind = SuccessCondition::Kind::kObjectInRegion;
      Map m(r_, body, {"object", "frame", "min_m", "max_m"}, &s.where);
      s.subject = r_.String(m.Require("object"));
      if (auto x = m.Get("frame")) s.frame = r_.String(*x);
      s.min_m = r_.Vec3(m.Require("min_m"));
      s.max_m = r_.Vec3(m.Require("max_m"));
    } else if (kind == "object_above_height") {
      s.kind = SuccessCondition::Kind::kObjectAboveHeight;
      Map m(r_, body, {"object", "height_m"}, &s.where);
      s.subject = r_.String(m.Require("object"));
      s.height_m = r_.Number(m.Require("height_m"));
    } else {
      s.kind = SuccessCondition::Kind::kJointReached;
      Map m(r_, body, {"joint", "target", "tolerance"}, &s.where);
      s.subject = r_.String(m.Require("joint"));
      s.target = r_.Number(m.Require("target"));
      s.tolerance = r_.Number(m.Require("tolerance"));
    }
    return s;
  }

  Reader r_;
};

}  // namespace

SceneSpec LoadSceneSpec(const fs::path& scene) {
  fs::path file = scene;
  std::error_code ec;
  if (fs::is_directory(scene, ec)) file = scene / "scene.yaml";
  if (!fs::is_regular_file(file, ec)) {
    throw InputError(file.string(), "", fs::exists(file, ec) ? "is not a regular file" : "no such scene file");
  }
  const YAML::Node root = yaml::LoadFile(file);
  SceneSpec spec = SceneParser(file).Parse(root);
  spec.scene_file = file;
  spec.scene_dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  return spec;
}

}  // namespace r2s::sim

#include "sim/urdf_loader.h"

#include <cmath>
#include <fstream>
#include <mutex>
#include <sstream>

#include <console_bridge/console.h>
#include <urdf_parser/urdf_parser.h>
#include <Eigen/Eigenvalues>

#include "episode/input_error.h"

namespace r2s::sim {
namespace {

namespace fs = std::filesystem;

// urdfdom reports why it rejects a file only through console_bridge's process-wide output handler. Capture
// it for the duration of one parse so the reason lands in our error message instead of on stderr; the mutex
// keeps concurrent loads from swapping each other's handler.
class ConsoleCapture : public console_bridge::OutputHandler {
 public:
  ConsoleCapture() : lock_(Mutex()) { console_bridge::useOutputHandler(this); }
  ~ConsoleCapture() override { console_bridge::restorePreviousOutputHandler(); }
  void log(const std::string& text, console_bridge::LogLevel level, const char*, int) override {
    if (level >= console_bridge::CONSOLE_BRIDGE_LOG_ERROR) {
      if (!errors_.empty()) errors_ += "; ";
      errors_ += text;
    }
  }
  const std::string& errors() const { return errors_; }

 private:
  static std::mutex& Mutex() {
    static std::mutex mutex;
    return mutex;
  }
  std::lock_guard<std::mutex> lock_;
  std::string errors_;
};

Eigen::Isometry3d ToIsometry(const urdf::Pose& pose) {
  Eigen::Isometry3d t = Eigen::Isometry3d::Identity();
  t.translation() = Eigen::Vector3d(pose.position.x, pose.position.y, pose.position.z);
  Eigen::Quaterniond q(pose.rotation.w, pose.rotation.x, pose.rotation.y, pose.rotation.z);
  t.linear() = q.normalized().toRotationMatrix();
  return t;
}

bool IsInside(const fs::path& file, const fs::path& root) {
  std::error_code ec;
  const fs::path f = fs::weakly_canonical(file, ec);
  const fs::path r = fs::weakly_canonical(root, ec);
  auto [root_end, file_it] = std::mismatch(r.begin(), r.end(), f.begin(), f.end());
  return root_end == r.end();
}

class UrdfReader {
 public:
  UrdfReader(const fs::path& urdf_file, const UrdfLoadOptions& options, MeshCache& meshes)
      : file_(urdf_file), dir_(urdf_file.parent_path()), options_(options), meshes_(meshes) {}

  UrdfRobot Read() {
    std::ifstream in(file_);
    if (!in) throw InputError(file_.string(), "(file)", "URDF file does not exist or cannot be read");
    std::stringstream text;
    text << in.rdbuf();
    urdf::ModelInterfaceSharedPtr urdf;
    std::string reason;
    {
      ConsoleCapture capture;
      urdf = urdf::parseURDF(text.str());
      reason = capture.errors();
    }
    // urdfdom logs a malformed element (a mass of "nan", an axis of two numbers) as an error and goes on with a
    // default in its place: a model that is not what the file says. Every error it logs is bad input.
    if (!urdf || !reason.empty()) {
      throw InputError(file_.string(), "(document)",
                       "not a valid URDF: " + (reason.empty() ? std::string("urdfdom rejected it") : reason));
    }
    result_.robot.name = urdf->getName();
    result_.robot.urdf = fs::absolute(file_);
    ReadMaterials(*urdf);
    AddLink(*urdf->getRoot(), nullptr, -1);
    result_.robot.initial_q = Eigen::VectorXd::Zero(result_.robot.num_dofs());
    CheckEveryJointMovesSomething();
    return std::move(result_);
  }

 private:
  fs::path ResolveAsset(const std::string& filename, const std::string& field) const {
    std::string name = filename;
    if (name.rfind("file://", 0) == 0) name = name.substr(7);
    fs::path path;
    if (name.rfind("package://", 0) == 0) {
      const std::string rest = name.substr(10);
      path = dir_ / rest;
      const auto slash = rest.find('/');
      if (!fs::exists(path) && slash != std::string::npos) path = dir_ / rest.substr(slash + 1);
    } else {
      path = fs::path(name).is_absolute() ? fs::path(name) : dir_ / name;
    }
    if (!options_.asset_root.empty() && !IsInside(path, options_.asset_root)) {
      throw InputError(file_.string(), field,
                       "asset '" + filename + "' lies outside the scene folder '" + options_.asset_root.string() + "'");
    }
    return path;
  }

  void ReadMaterials(const urdf::ModelInterface& urdf) {
    for (const auto& [name, material] : urdf.materials_) {
      if (!material) continue;
      Material m;
      m.name = result_.robot.name + "/" + name;
      m.rgba = Eigen::Vector4d(material->color.r, material->color.g, material->color.b, material->color.a);
      if (!material->texture_filename.empty()) {
        m.texture = ResolveAsset(material->texture_filename, "material '" + name + "'").string();
      }
      result_.materials[m.name] = m;
    }
  }

  Shape ReadGeometry(const urdf::Geometry& geometry, const urdf::Pose& origin, const std::string& field) {
    Shape shape;
    shape.origin = ToIsometry(origin);
    switch (geometry.type) {
      case urdf::Geometry::BOX: {
        const auto& box = static_cast<const urdf::Box&>(geometry);
        shape.kind = ShapeKind::kBox;
        shape.box_size_m = Eigen::Vector3d(box.dim.x, box.dim.y, box.dim.z);
        break;
      }
      case urdf::Geometry::SPHERE:
        shape.kind = ShapeKind::kSphere;
        shape.radius_m = static_cast<const urdf::Sphere&>(geometry).radius;
        break;
      case urdf::Geometry::CYLINDER: {
        const auto& cylinder = static_cast<const urdf::Cylinder&>(geometry);
        shape.kind = ShapeKind::kCylinder;
        shape.radius_m = cylinder.radius;
        shape.length_m = cylinder.length;
        break;
      }
      case urdf::Geometry::MESH: {
        const auto& mesh = static_cast<const urdf::Mesh&>(geometry);
        shape.kind = ShapeKind::kMesh;
        const Eigen::Vector3d scale(mesh.scale.x, mesh.scale.y, mesh.scale.z);
        shape.mesh = meshes_.Get(ResolveAsset(mesh.filename, field), scale, file_.string(), field);
        break;
      }
      default:
        throw InputError(file_.string(), field, "unsupported geometry type");
    }
    return shape;
  }

  // A joint whose links (its own and every one below it) have no inertia about its axis (no mass for a prismatic
  // joint) would accelerate without bound under any torque: the simulation fills with NaN. A massless link is fine
  // where others carry the joint (a frame, a dummy link between two joints); a joint that carries nothing is not.
  // Checked at q = 0, in the joint's frame, with the parallel-axis terms.
  void CheckEveryJointMovesSomething() const {
    const std::vector<Link>& links = result_.robot.links;
    std::vector<Eigen::Isometry3d> pose(links.size(), Eigen::Isometry3d::Identity());
    for (std::size_t i = 1; i < links.size(); ++i) {
      pose[i] = pose[static_cast<std::size_t>(links[i].parent)] * links[i].joint_origin;
    }
    for (std::size_t j = 0; j < links.size(); ++j) {
      if (links[j].joint_type == JointType::kFixed) continue;
      std::vector<bool> below(links.size(), false);
      below[j] = true;
      double mass = 0;
      Eigen::Matrix3d inertia = Eigen::Matrix3d::Zero();  // about the joint frame's origin, in its axes
      for (std::size_t i = j; i < links.size(); ++i) {
        if (i > j) below[i] = links[i].parent >= 0 && below[static_cast<std::size_t>(links[i].parent)];
        if (!below[i]) continue;
        const Inertial& in = links[i].inertial;
        const Eigen::Isometry3d link_in_joint = pose[j].inverse() * pose[i];
        const Eigen::Matrix3d r = link_in_joint.linear();
        const Eigen::Vector3d c = link_in_joint * in.com_m;
        inertia += r * in.inertia_kgm2 * r.transpose() +
                   in.mass_kg * (c.squaredNorm() * Eigen::Matrix3d::Identity() - c * c.transpose());
        mass += in.mass_kg;
      }
      const Eigen::Vector3d& axis = links[j].joint_axis;
      const bool revolute = links[j].joint_type == JointType::kRevolute;
      const double carried = revolute ? axis.dot(inertia * axis) : mass;
      if (!(carried > 1e-12)) {
        throw InputError(file_.string(), "joint '" + links[j].joint_name + "'",
                         std::string("moves nothing: link '") + links[j].name + "' and the links below it have " +
                             (revolute ? "no inertia about the joint's axis" : "no mass") +
                             " (give them an <inertial> with mass and inertia)");
      }
    }
  }

  Inertial ReadInertial(const urdf::Link& link) const {
    Inertial inertial;
    if (!link.inertial) return inertial;
    const urdf::Inertial& in = *link.inertial;
    const std::string field = "link '" + link.name + "' <inertial>";
    if (!std::isfinite(in.mass) || in.mass < 0) {
      throw InputError(file_.string(), field, "mass " + std::to_string(in.mass) + " kg is negative or not finite");
    }
    Eigen::Matrix3d inertia;
    inertia << in.ixx, in.ixy, in.ixz, in.ixy, in.iyy, in.iyz, in.ixz, in.iyz, in.izz;
    if (!inertia.allFinite()) throw InputError(file_.string(), field, "inertia has a non-finite entry");
    const Eigen::Vector3d eigenvalues = Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d>(inertia).eigenvalues();
    if (eigenvalues.minCoeff() < -1e-12 * std::max(1.0, eigenvalues.maxCoeff())) {
      std::ostringstream problem;
      problem << "inertia is not positive semi-definite (eigenvalues " << eigenvalues.transpose() << ")";
      throw InputError(file_.string(), field, problem.str());
    }
    // The principal moments of a real body satisfy the triangle inequality (each at most the sum of the other two);
    // CAD exporters round, so a relative slack of 1e-3 of the largest is allowed.
    const double slack = 1e-3 * eigenvalues.maxCoeff();
    if (eigenvalues(0) + eigenvalues(1) < eigenvalues(2) - slack) {
      std::ostringstream problem;
      problem << "no rigid body has these principal moments [" << eigenvalues.transpose()
              << "] kg m^2 (the two smaller must add up to at least the largest)";
      throw InputError(file_.string(), field, problem.str());
    }
    const Eigen::Isometry3d frame = ToIsometry(in.origin);
    inertial.mass_kg = in.mass;
    inertial.com_m = frame.translation();
    inertial.inertia_kgm2 = frame.linear() * inertia * frame.linear().transpose();
    return inertial;
  }

  void AddLink(const urdf::Link& link, const urdf::Joint* joint, int parent) {
    Link out;
    out.name = link.name;
    out.parent = parent;
    out.inertial = ReadInertial(link);
    if (joint != nullptr) {
      const std::string field = "joint '" + joint->name + "'";
      out.joint_name = joint->name;
      out.joint_origin = ToIsometry(joint->parent_to_joint_origin_transform);
      switch (joint->type) {
        case urdf::Joint::FIXED:
          out.joint_type = JointType::kFixed;
          break;
        case urdf::Joint::REVOLUTE:
        case urdf::Joint::CONTINUOUS:
          out.joint_type = JointType::kRevolute;
          break;
        case urdf::Joint::PRISMATIC:
          out.joint_type = JointType::kPrismatic;
          break;
        default:
          throw InputError(file_.string(), field, "floating and planar joints are not supported");
      }
      if (out.joint_type != JointType::kFixed) {
        Eigen::Vector3d axis(joint->axis.x, joint->axis.y, joint->axis.z);
        if (!axis.allFinite() || axis.norm() < 1e-9) throw InputError(file_.string(), field, "axis is zero");
        out.joint_axis = axis.normalized();
        ActuatorParams actuator;
        if (joint->limits) {
          if (joint->type != urdf::Joint::CONTINUOUS) {
            if (joint->limits->lower > joint->limits->upper) {
              throw InputError(
                  file_.string(), field + " <limit>",
                  "lower " + std::to_string(joint->limits->lower) + " > upper " + std::to_string(joint->limits->upper));
            }
            out.lower_limit = joint->limits->lower;
            out.upper_limit = joint->limits->upper;
          }
          if (joint->limits->effort > 0) actuator.effort_limit = joint->limits->effort;
          if (joint->limits->velocity > 0) actuator.velocity_limit = joint->limits->velocity;
        }
        if (joint->dynamics) {
          actuator.damping = joint->dynamics->damping;
          actuator.coulomb_friction = joint->dynamics->friction;
        }
        out.dof = result_.robot.num_dofs();
        result_.robot.dof_links.push_back(static_cast<int>(result_.robot.links.size()));
        result_.robot.actuators.push_back(actuator);
      }
    }
    for (std::size_t i = 0; i < link.collision_array.size(); ++i) {
      const auto& collision = link.collision_array[i];
      if (!collision || !collision->geometry) continue;
      out.collisions.push_back(ReadGeometry(*collision->geometry, collision->origin,
                                            "link '" + link.name + "' <collision> " + std::to_string(i)));
    }
    if (options_.load_visuals) {
      for (std::size_t i = 0; i < link.visual_array.size(); ++i) {
        const auto& visual = link.visual_array[i];
        if (!visual || !visual->geometry) continue;
        Shape shape =
            ReadGeometry(*visual->geometry, visual->origin, "link '" + link.name + "' <visual> " + std::to_string(i));
        if (!visual->material_name.empty()) {
          const std::string key = result_.robot.name + "/" + visual->material_name;
          if (!result_.materials.count(key) && visual->material) {
            Material m;
            m.name = key;
            m.rgba = Eigen::Vector4d(visual->material->color.r, visual->material->color.g, visual->material->color.b,
                                     visual->material->color.a);
            result_.materials[key] = m;
          }
          shape.material = key;
        }
        out.visuals.push_back(std::move(shape));
      }
    }
    const int index = static_cast<int>(result_.robot.links.size());
    result_.robot.links.push_back(std::move(out));
    // urdfdom keeps child joints in name order, which makes the numbering independent of file order quirks.
    for (const auto& child_joint : link.child_joints) {
      const auto child = std::find_if(link.child_links.begin(), link.child_links.end(),
                                      [&](const auto& l) { return l->name == child_joint->child_link_name; });
      if (child != link.child_links.end()) AddLink(**child, child_joint.get(), index);
    }
  }

  fs::path file_;
  fs::path dir_;
  const UrdfLoadOptions& options_;
  MeshCache& meshes_;
  UrdfRobot result_;
};

}  // namespace

UrdfRobot LoadUrdf(const std::filesystem::path& urdf_file, const UrdfLoadOptions& options, MeshCache& meshes) {
  return UrdfReader(urdf_file, options, meshes).Read();
}

}  // namespace r2s::sim

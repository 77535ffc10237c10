#include "sysid/reference_model.h"

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "episode/input_error.h"

namespace r2s::sysid {
namespace {

using nlohmann::json;

class JsonReader {
 public:
  explicit JsonReader(std::filesystem::path file) : file_(std::move(file)) {}

  [[noreturn]] void Fail(const std::string& key, const std::string& problem) const {
    throw InputError(file_.string(), key, problem);
  }

  const json& Require(const json& object, const std::string& key, const std::string& path) const {
    if (!object.is_object() || !object.contains(key)) Fail(path + key, "is missing");
    return object.at(key);
  }

  std::vector<double> Numbers(const json& value, const std::string& path, std::size_t size) const {
    if (!value.is_array()) Fail(path, "is not a list of numbers");
    if (size != 0 && value.size() != size) {
      Fail(path, "has " + std::to_string(value.size()) + " entries, expected " + std::to_string(size));
    }
    std::vector<double> out;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_number()) Fail(path + "[" + std::to_string(i) + "]", "is not a number");
      out.push_back(value[i].get<double>());
      if (!std::isfinite(out.back())) Fail(path + "[" + std::to_string(i) + "]", "is not finite");
    }
    return out;
  }

 private:
  std::filesystem::path file_;
};

}  // namespace

ReferenceModel ReferenceModel::Load(const std::filesystem::path& file) {
  const JsonReader r(file);
  std::ifstream in(file);
  if (!in) r.Fail("", "cannot be opened");
  json root;
  try {
    root = json::parse(in);
  } catch (const json::exception& e) {
    r.Fail("", std::string("is not valid JSON: ") + e.what());
  }

  const std::string dh_key = "kinematics_modified_DH_Craig";
  const json& dh = r.Require(root, dh_key, "");
  const std::vector<double> a = r.Numbers(r.Require(dh, "a_m", dh_key + "."), dh_key + ".a_m", 0);
  const std::size_t n = a.size();
  if (n == 0) r.Fail(dh_key + ".a_m", "is empty");
  const std::vector<double> d = r.Numbers(r.Require(dh, "d_m", dh_key + "."), dh_key + ".d_m", n);
  const std::vector<double> alpha = r.Numbers(r.Require(dh, "alpha_rad", dh_key + "."), dh_key + ".alpha_rad", n);

  const std::string link_key = "link_params_p_hat_TableVIII_IX";
  const json& links = r.Require(root, link_key, "");
  const std::vector<double> mass = r.Numbers(r.Require(links, "mass_kg", link_key + "."), link_key + ".mass_kg", n);
  const std::string com_key = "com_m_in_link_frame";
  const std::string inertia_key = "inertia_about_CoM_kgm2_[xx,xy,xz,yy,yz,zz]";
  const json& com = r.Require(links, com_key, link_key + ".");
  const json& inertia = r.Require(links, inertia_key, link_key + ".");
  if (!com.is_array() || com.size() != n) r.Fail(link_key + "." + com_key, "needs " + std::to_string(n) + " rows");
  if (!inertia.is_array() || inertia.size() != n) {
    r.Fail(link_key + "." + inertia_key, "needs " + std::to_string(n) + " rows");
  }

  sim::RobotModel robot;
  robot.name = file.stem().string();
  robot.links.emplace_back();
  robot.links[0].name = "base";
  for (std::size_t i = 0; i < n; ++i) {
    const std::string row = "[" + std::to_string(i) + "]";
    sim::Link link;
    link.name = "link" + std::to_string(i + 1);
    link.parent = static_cast<int>(i);
    link.joint_name = "joint" + std::to_string(i + 1);
    link.joint_type = sim::JointType::kRevolute;
    link.dof = static_cast<int>(i);
    // RotZ(q) TransZ(d) = TransZ(d) RotZ(q): the joint origin carries the whole fixed part.
    const Eigen::Matrix3d rotation = Eigen::AngleAxisd(alpha[i], Eigen::Vector3d::UnitX()).toRotationMatrix();
    link.joint_origin.linear() = rotation;
    link.joint_origin.translation() = rotation * Eigen::Vector3d(a[i], 0, d[i]);
    link.joint_axis = Eigen::Vector3d::UnitZ();
    if (!(mass[i] > 0)) r.Fail(link_key + ".mass_kg" + row, "must be > 0, found " + std::to_string(mass[i]));
    link.inertial.mass_kg = mass[i];
    const std::vector<double> c = r.Numbers(com[i], link_key + "." + com_key + row, 3);
    link.inertial.com_m = Eigen::Vector3d(c[0], c[1], c[2]);
    const std::vector<double> v = r.Numbers(inertia[i], link_key + "." + inertia_key + row, 6);
    link.inertial.inertia_kgm2 << v[0], v[1], v[2], v[1], v[3], v[4], v[2], v[4], v[5];
    robot.dof_links.push_back(static_cast<int>(robot.links.size()));
    robot.links.push_back(std::move(link));
  }

  ReferenceModel model;
  model.dynamics_.emplace(robot, Eigen::Vector3d(0, 0, -9.81));
  if (root.contains("joint_names")) {
    const json& names = root["joint_names"];
    if (!names.is_array() || names.size() != n) r.Fail("joint_names", "needs " + std::to_string(n) + " names");
    for (const json& name : names) {
      if (!name.is_string()) r.Fail("joint_names", "holds a value that is not a string");
      model.joint_names_.push_back(name.get<std::string>());
    }
  }
  std::string friction_name;
  if (root.contains("friction_sigmoid_TableI")) {
    const std::string key = "friction_sigmoid_TableI";
    const json& f = root[key];
    const auto phi1 = r.Numbers(r.Require(f, "phi1_Nm", key + "."), key + ".phi1_Nm", n);
    const auto phi2 = r.Numbers(r.Require(f, "phi2_s_per_rad", key + "."), key + ".phi2_s_per_rad", n);
    const auto phi3 = r.Numbers(r.Require(f, "phi3_rad_per_s", key + "."), key + ".phi3_rad_per_s", n);
    for (std::size_t i = 0; i < n; ++i) model.friction_.emplace_back(phi1[i], phi2[i], phi3[i]);
    friction_name = "sigmoid friction (Table I)";
  } else {
    const std::string key = "friction_linear_TableIII_CLS";
    const json& f = r.Require(root, key, "");
    const auto fv = r.Numbers(r.Require(f, "fv_Nm_s_per_rad", key + "."), key + ".fv_Nm_s_per_rad", n);
    const auto fc = r.Numbers(r.Require(f, "fc_Nm", key + "."), key + ".fc_Nm", n);
    const auto fo = r.Numbers(r.Require(f, "fo_Nm", key + "."), key + ".fo_Nm", n);
    for (std::size_t i = 0; i < n; ++i) model.friction_.emplace_back(fv[i], fc[i], fo[i]);
    model.sigmoid_ = false;
    friction_name = "linear friction (Table III)";
  }
  const std::string source =
      root.contains("source") && root["source"].is_string() ? root["source"].get<std::string>() + " " : std::string();
  model.description_ = source + "(" + file.filename().string() + "): its rigid body and " + friction_name;
  return model;
}

double ReferenceModel::Friction(int joint, double qd) const {
  const Eigen::Vector3d& p = friction_.at(joint);
  if (sigmoid_) return p[0] / (1 + std::exp(-p[1] * (qd + p[2]))) - p[0] / (1 + std::exp(-p[1] * p[2]));
  return p[0] * qd + p[1] * (qd > 0 ? 1.0 : qd < 0 ? -1.0 : 0.0) + p[2];
}

Eigen::VectorXd ReferenceModel::Torque(const Eigen::VectorXd& q, const Eigen::VectorXd& qd,
                                       const Eigen::VectorXd& qdd) const {
  Eigen::VectorXd tau = dynamics_->InverseDynamics(q, qd, qdd);
  for (int j = 0; j < num_joints(); ++j) tau[j] += Friction(j, qd[j]);
  return tau;
}

}  // namespace r2s::sysid

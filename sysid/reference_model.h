#pragma once
// A published joint-torque model to measure a fit against: its own kinematics and inertials (a rigid body) plus
// per-joint friction, evaluated on the same samples as the fit. The bundled one is Gaz et al. 2019's Panda
// (scenes/panda_sysid/reference/published_params.json).
//
// File layout (JSON; the keys of published_params.json):
//   kinematics_modified_DH_Craig: {a_m: [...], d_m: [...], alpha_rad: [...]}    one entry per joint, Craig's
//       modified DH: T_{i-1,i} = RotX(alpha_{i-1}) TransX(a_{i-1}) RotZ(q_i) TransZ(d_i); gravity -9.81 m/s^2
//       along the base z axis
//   link_params_p_hat_TableVIII_IX: {mass_kg: [...], com_m_in_link_frame: [[x, y, z], ...],
//       "inertia_about_CoM_kgm2_[xx,xy,xz,yy,yz,zz]": [[...], ...]}                 link i in DH frame i
//   friction_sigmoid_TableI: {phi1_Nm, phi2_s_per_rad, phi3_rad_per_s}             tau_f = phi1 / (1 + exp(-phi2
//       (qd + phi3))) - phi1 / (1 + exp(-phi2 phi3)); or, without it,
//   friction_linear_TableIII_CLS: {fv_Nm_s_per_rad, fc_Nm, fo_Nm}                   tau_f = fv qd + fc sign(qd) + fo
//   joint_names: [...]   optional; without it joint i is the i-th joint whose torque the episodes record

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "sim/rigid_body_dynamics.h"

namespace r2s::sysid {

class ReferenceModel {
 public:
  // Throws InputError(json, key, problem) for a missing or malformed key, lists of unequal length, a non-positive
  // mass or a non-finite number.
  static ReferenceModel Load(const std::filesystem::path& json);

  int num_joints() const { return dynamics_->num_dofs(); }
  const std::vector<std::string>& joint_names() const { return joint_names_; }  // empty: by order
  // "Gaz et al., RA-L 2019, ... (published_params.json): rigid body + sigmoid friction"
  const std::string& description() const { return description_; }

  // Joint torques at (q, qd, qdd) of the model's joints, in its order.
  Eigen::VectorXd Torque(const Eigen::VectorXd& q, const Eigen::VectorXd& qd, const Eigen::VectorXd& qdd) const;
  // Its friction torque on joint j at velocity qd.
  double Friction(int joint, double qd) const;

 private:
  ReferenceModel() = default;

  std::optional<sim::RigidBodyDynamics> dynamics_;
  std::vector<std::string> joint_names_;
  std::string description_;
  bool sigmoid_ = true;
  // Sigmoid: (phi1, phi2, phi3); linear: (fv, fc, fo).
  std::vector<Eigen::Vector3d> friction_;
};

}  // namespace r2s::sysid

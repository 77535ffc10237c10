#include "sim/rigid_body_dynamics.h"

#include <stdexcept>

#include <Eigen/Cholesky>

namespace r2s::sim {
namespace {

using Eigen::Matrix3d;
using Eigen::Vector3d;
using Matrix6d = Eigen::Matrix<double, 6, 6>;
using Vector6d = Eigen::Matrix<double, 6, 1>;
using Block6x10 = Eigen::Matrix<double, 6, 10>;

Matrix3d Skew(const Vector3d& v) {
  Matrix3d m;
  m << 0, -v.z(), v.y(), v.z(), 0, -v.x(), -v.y(), v.x(), 0;
  return m;
}

// I * x as a linear map of (Ixx, Ixy, Ixz, Iyy, Iyz, Izz).
Eigen::Matrix<double, 3, 6> InertiaTimes(const Vector3d& x) {
  Eigen::Matrix<double, 3, 6> m;
  m << x.x(), x.y(), x.z(), 0, 0, 0,  //
      0, x.x(), 0, x.y(), x.z(), 0,   //
      0, 0, x.x(), 0, x.y(), x.z();
  return m;
}

// Per-link kinematic state of one pass, in the link's frame. Spatial velocity (w, v) and spatial acceleration
// (alpha, a) are Featherstone's: v and a belong to the body point at the link origin (a is not that point's
// classical acceleration; a + w x v is).
}  // namespace

struct RigidBodyDynamics::LinkState {
  Matrix3d rotation;     // link axes in parent coordinates
  Vector3d translation;  // link origin in parent coordinates
  Vector3d w, v, alpha, a;
  Vector3d n, f;  // net wrench the link's joint transmits, about the link origin
};

void RigidBodyDynamics::PropagateMotion(const Eigen::VectorXd& q, const Eigen::VectorXd& qd, const Eigen::VectorXd* qdd,
                                        bool with_gravity, std::vector<LinkState>& s) const {
  const std::size_t num_links = links_.size();
  s.resize(num_links);
  // The fixed root accelerates upwards at g: gravity then acts on every link through the recursion.
  s[0].w.setZero();
  s[0].v.setZero();
  s[0].alpha.setZero();
  s[0].a = with_gravity ? Vector3d(-gravity_root_mps2_) : Vector3d::Zero();
  s[0].n.setZero();
  s[0].f.setZero();
  for (std::size_t i = 1; i < num_links; ++i) {
    const LinkData& l = links_[i];
    LinkState& c = s[i];
    const LinkState& p = s[l.parent];
    const ParentTransform t = TransformToParent(l, q);
    c.rotation = t.rotation;
    c.translation = t.translation;
    const Matrix3d e = t.rotation.transpose();  // parent coordinates -> link coordinates
    c.w = e * p.w;
    c.v = e * (p.v + p.w.cross(t.translation));
    c.alpha = e * p.alpha;
    c.a = e * (p.a + p.alpha.cross(t.translation));
    if (l.joint != JointType::kFixed) {
      const double rate = qd[l.dof];
      const double accel = qdd != nullptr ? (*qdd)[l.dof] : 0.0;
      const Vector3d s_qd = l.axis * rate;
      if (l.joint == JointType::kRevolute) {
        c.w += s_qd;
        c.alpha += l.axis * accel + c.w.cross(s_qd);
        c.a += c.v.cross(s_qd);
      } else {
        c.v += s_qd;
        c.a += l.axis * accel + c.w.cross(s_qd);
      }
    }
  }
}

RigidBodyDynamics::RigidBodyDynamics(const RobotModel& robot, const Eigen::Vector3d& gravity_mps2)
    : num_dofs_(robot.num_dofs()), base_pose_(robot.base_pose) {
  if (robot.links.empty()) throw std::invalid_argument("RigidBodyDynamics: robot '" + robot.name + "' has no links");
  if (robot.links[0].parent != -1 || robot.links[0].dof != -1) {
    throw std::invalid_argument("RigidBodyDynamics: root link '" + robot.links[0].name + "' must be fixed");
  }
  const auto num_links = robot.links.size();
  links_.resize(num_links);
  link_names_.resize(num_links);
  std::vector<int> dof_seen(num_dofs_, 0);
  for (std::size_t i = 0; i < num_links; ++i) {
    const Link& in = robot.links[i];
    LinkData& out = links_[i];
    link_names_[i] = in.name;
    if (i > 0 && (in.parent < 0 || in.parent >= static_cast<int>(i))) {
      throw std::invalid_argument("RigidBodyDynamics: link '" + in.name + "' has parent " + std::to_string(in.parent) +
                                  ", not an earlier link");
    }
    out.parent = in.parent;
    out.origin_rotation = in.joint_origin.linear();
    out.origin_translation = in.joint_origin.translation();
    if (i > 0 && in.joint_type != JointType::kFixed) {
      if (in.dof < 0 || in.dof >= num_dofs_ || dof_seen[in.dof]++) {
        throw std::invalid_argument("RigidBodyDynamics: link '" + in.name + "' has dof " + std::to_string(in.dof) +
                                    " (the robot has " + std::to_string(num_dofs_) + ", each used once)");
      }
      out.joint = in.joint_type;
      out.dof = in.dof;
      const double norm = in.joint_axis.norm();
      if (!(norm > 0)) throw std::invalid_argument("RigidBodyDynamics: joint '" + in.joint_name + "' has a zero axis");
      out.axis = in.joint_axis / norm;
    }
    const Inertial& inertial = in.inertial;
    const Vector3d& c = inertial.com_m;
    out.mass_kg = inertial.mass_kg;
    out.first_moment_kgm = inertial.mass_kg * c;
    out.inertia_origin_kgm2 =
        inertial.inertia_kgm2 + inertial.mass_kg * (c.squaredNorm() * Matrix3d::Identity() - c * c.transpose());
  }
  for (int d = 0; d < num_dofs_; ++d) {
    if (!dof_seen[d]) throw std::invalid_argument("RigidBodyDynamics: no link moves dof " + std::to_string(d));
  }
  armature_ = Eigen::VectorXd::Zero(num_dofs_);
  if (!robot.actuators.empty()) {
    if (static_cast<int>(robot.actuators.size()) != num_dofs_) {
      throw std::invalid_argument("RigidBodyDynamics: " + std::to_string(robot.actuators.size()) + " actuators for " +
                                  std::to_string(num_dofs_) + " dofs");
    }
    for (int d = 0; d < num_dofs_; ++d) armature_[d] = robot.actuators[d].armature;
  }
  if (robot.coupled() && !armature_.isZero(0.0)) {
    if (robot.transmission.rows() != num_dofs_ || robot.transmission.cols() != num_dofs_) {
      throw std::invalid_argument("RigidBodyDynamics: the transmission is " + std::to_string(robot.transmission.rows()) +
                                  " x " + std::to_string(robot.transmission.cols()) + " for " +
                                  std::to_string(num_dofs_) + " dofs");
    }
    armature_matrix_ = robot.transmission.transpose() * armature_.asDiagonal() * robot.transmission;
    armature_.setZero();
  }
  gravity_root_mps2_ = base_pose_.linear().transpose() * gravity_mps2;
}

void RigidBodyDynamics::CheckSize(const Eigen::VectorXd& v, const char* what) const {
  if (v.size() != num_dofs_) {
    throw std::invalid_argument(std::string("RigidBodyDynamics: ") + what + " has " + std::to_string(v.size()) +
                                " entries, the robot " + std::to_string(num_dofs_) + " dofs");
  }
}

RigidBodyDynamics::ParentTransform RigidBodyDynamics::TransformToParent(const LinkData& link,
                                                                        const Eigen::VectorXd& q) const {
  switch (link.joint) {
    case JointType::kRevolute:
      return {link.origin_rotation * Eigen::AngleAxisd(q[link.dof], link.axis).toRotationMatrix(),
              link.origin_translation};
    case JointType::kPrismatic:
      return {link.origin_rotation, link.origin_translation + link.origin_rotation * (link.axis * q[link.dof])};
    case JointType::kFixed:
      break;
  }
  return {link.origin_rotation, link.origin_translation};
}

std::vector<Eigen::Isometry3d> RigidBodyDynamics::LinkPoses(const Eigen::VectorXd& q) const {
  CheckSize(q, "q");
  std::vector<Eigen::Isometry3d> poses(links_.size());
  poses[0] = base_pose_;
  for (std::size_t i = 1; i < links_.size(); ++i) {
    const ParentTransform t = TransformToParent(links_[i], q);
    Eigen::Isometry3d local = Eigen::Isometry3d::Identity();
    local.linear() = t.rotation;
    local.translation() = t.translation;
    poses[i] = poses[links_[i].parent] * local;
  }
  return poses;
}

Eigen::Matrix<double, 6, Eigen::Dynamic> RigidBodyDynamics::Jacobian(const Eigen::VectorXd& q, int link,
                                                                     const Eigen::Vector3d& point_in_link_m) const {
  if (link < 0 || link >= num_links()) {
    throw std::invalid_argument("RigidBodyDynamics::Jacobian: link " + std::to_string(link) + " out of range [0, " +
                                std::to_string(num_links()) + ")");
  }
  const std::vector<Eigen::Isometry3d> poses = LinkPoses(q);
  const Vector3d point_world = poses[link] * point_in_link_m;
  Eigen::Matrix<double, 6, Eigen::Dynamic> jacobian = Eigen::Matrix<double, 6, Eigen::Dynamic>::Zero(6, num_dofs_);
  for (int k = link; k > 0; k = links_[k].parent) {
    const LinkData& l = links_[k];
    if (l.joint == JointType::kFixed) continue;
    // The joint axis passes through the link origin: the link frame is the joint frame.
    const Vector3d axis_world = poses[k].linear() * l.axis;
    if (l.joint == JointType::kRevolute) {
      jacobian.col(l.dof).head<3>() = axis_world.cross(point_world - poses[k].translation());
      jacobian.col(l.dof).tail<3>() = axis_world;
    } else {
      jacobian.col(l.dof).head<3>() = axis_world;
    }
  }
  return jacobian;
}

Eigen::VectorXd RigidBodyDynamics::Rnea(const Eigen::VectorXd& q, const Eigen::VectorXd& qd, const Eigen::VectorXd* qdd,
                                        bool with_gravity) const {
  CheckSize(q, "q");
  CheckSize(qd, "qd");
  if (qdd != nullptr) CheckSize(*qdd, "qdd");
  const std::size_t num_links = links_.size();
  std::vector<LinkState> s;
  PropagateMotion(q, qd, qdd, with_gravity, s);
  for (std::size_t i = 1; i < num_links; ++i) {
    const LinkData& l = links_[i];
    LinkState& c = s[i];
    const Vector3d classical = c.a + c.w.cross(c.v);  // the link origin's classical acceleration
    const Vector3d& h = l.first_moment_kgm;
    c.n = l.inertia_origin_kgm2 * c.alpha + c.w.cross(l.inertia_origin_kgm2 * c.w) + h.cross(classical);
    c.f = l.mass_kg * classical + c.alpha.cross(h) + c.w.cross(c.w.cross(h));
  }
  Eigen::VectorXd tau = Eigen::VectorXd::Zero(num_dofs_);
  for (std::size_t i = num_links - 1; i >= 1; --i) {
    const LinkData& l = links_[i];
    LinkState& c = s[i];
    if (l.joint == JointType::kRevolute) tau[l.dof] = l.axis.dot(c.n);
    if (l.joint == JointType::kPrismatic) tau[l.dof] = l.axis.dot(c.f);
    LinkState& p = s[l.parent];
    const Vector3d f_parent = c.rotation * c.f;
    p.f += f_parent;
    p.n += c.rotation * c.n + c.translation.cross(f_parent);
  }
  if (qdd != nullptr) {
    tau += armature_.cwiseProduct(*qdd);
    if (armature_matrix_.size() != 0) tau += armature_matrix_ * *qdd;
  }
  return tau;
}

Eigen::VectorXd RigidBodyDynamics::InverseDynamics(const Eigen::VectorXd& q, const Eigen::VectorXd& qd,
                                                   const Eigen::VectorXd& qdd) const {
  return Rnea(q, qd, &qdd, /*with_gravity=*/true);
}

Eigen::VectorXd RigidBodyDynamics::BiasForces(const Eigen::VectorXd& q, const Eigen::VectorXd& qd) const {
  return Rnea(q, qd, nullptr, /*with_gravity=*/true);
}

Eigen::MatrixXd RigidBodyDynamics::MassMatrix(const Eigen::VectorXd& q) const {
  CheckSize(q, "q");
  const std::size_t num_links = links_.size();
  // Composite rigid-body algorithm: Ic_i, the inertia of link i's subtree in link i's frame.
  std::vector<Matrix6d> composite(num_links);
  std::vector<Matrix6d> to_parent(num_links);  // force transform, link -> parent (X^T of the motion transform)
  for (std::size_t i = 0; i < num_links; ++i) {
    const LinkData& l = links_[i];
    const Matrix3d h = Skew(l.first_moment_kgm);
    composite[i] << l.inertia_origin_kgm2, h, h.transpose(), l.mass_kg * Matrix3d::Identity();
    if (i == 0) continue;
    const ParentTransform t = TransformToParent(l, q);
    to_parent[i] << t.rotation, Skew(t.translation) * t.rotation, Matrix3d::Zero(), t.rotation;
  }
  for (std::size_t i = num_links - 1; i >= 1; --i) {
    composite[links_[i].parent] += to_parent[i] * composite[i] * to_parent[i].transpose();
  }
  const auto motion_subspace = [](const LinkData& l) {
    Vector6d s = Vector6d::Zero();
    if (l.joint == JointType::kRevolute) s.head<3>() = l.axis;
    if (l.joint == JointType::kPrismatic) s.tail<3>() = l.axis;
    return s;
  };
  Eigen::MatrixXd mass = Eigen::MatrixXd::Zero(num_dofs_, num_dofs_);
  for (std::size_t i = 1; i < num_links; ++i) {
    const LinkData& l = links_[i];
    if (l.joint == JointType::kFixed) continue;
    Vector6d force = composite[i] * motion_subspace(l);
    mass(l.dof, l.dof) = motion_subspace(l).dot(force) + armature_[l.dof];
    for (int j = static_cast<int>(i); links_[j].parent > 0;) {
      force = to_parent[j] * force;
      j = links_[j].parent;
      if (links_[j].joint == JointType::kFixed) continue;
      mass(l.dof, links_[j].dof) = mass(links_[j].dof, l.dof) = motion_subspace(links_[j]).dot(force);
    }
  }
  if (armature_matrix_.size() != 0) mass += armature_matrix_;
  return mass;
}

Eigen::VectorXd RigidBodyDynamics::ForwardDynamics(const Eigen::VectorXd& q, const Eigen::VectorXd& qd,
                                                   const Eigen::VectorXd& tau) const {
  CheckSize(tau, "tau");
  const Eigen::LLT<Eigen::MatrixXd> mass(MassMatrix(q));
  if (mass.info() != Eigen::Success) {
    throw std::logic_error("RigidBodyDynamics::ForwardDynamics: the mass matrix is not positive definite");
  }
  return mass.solve(tau - BiasForces(q, qd));
}

Eigen::MatrixXd RigidBodyDynamics::Regressor(const Eigen::VectorXd& q, const Eigen::VectorXd& qd,
                                             const Eigen::VectorXd& qdd) const {
  CheckSize(q, "q");
  CheckSize(qd, "qd");
  CheckSize(qdd, "qdd");
  const std::size_t num_links = links_.size();
  std::vector<LinkState> s;
  PropagateMotion(q, qd, &qdd, /*with_gravity=*/true, s);
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(num_dofs_, 10 * static_cast<Eigen::Index>(num_links));
  for (std::size_t i = 1; i < num_links; ++i) {
    const LinkState& c = s[i];
    // The link's wrench about its origin, linear in (m, h, I_origin): rows [moment; force].
    //   n = I alpha + w x (I w) + h x a_c,   f = m a_c + alpha x h + w x (w x h),   a_c = a + w x v.
    const Vector3d classical = c.a + c.w.cross(c.v);
    Block6x10 wrench = Block6x10::Zero();
    wrench.block<3, 3>(0, 1) = -Skew(classical);
    wrench.block<3, 6>(0, 4) = InertiaTimes(c.alpha) + Skew(c.w) * InertiaTimes(c.w);
    wrench.block<3, 1>(3, 0) = classical;
    wrench.block<3, 3>(3, 1) = Skew(c.alpha) + Skew(c.w) * Skew(c.w);
    // Every joint between the link and the root carries this wrench.
    for (int k = static_cast<int>(i); k > 0; k = links_[k].parent) {
      const LinkData& lk = links_[k];
      if (lk.joint == JointType::kRevolute) y.block<1, 10>(lk.dof, 10 * i) = lk.axis.transpose() * wrench.topRows<3>();
      if (lk.joint == JointType::kPrismatic) {
        y.block<1, 10>(lk.dof, 10 * i) = lk.axis.transpose() * wrench.bottomRows<3>();
      }
      if (lk.parent <= 0) break;
      const Eigen::Matrix<double, 3, 10> force = s[k].rotation * wrench.bottomRows<3>();
      wrench.topRows<3>() = s[k].rotation * wrench.topRows<3>() + Skew(s[k].translation) * force;
      wrench.bottomRows<3>() = force;
    }
  }
  return y;
}

Eigen::VectorXd RigidBodyDynamics::InertialParameters() const {
  Eigen::VectorXd parameters(10 * static_cast<Eigen::Index>(links_.size()));
  for (std::size_t i = 0; i < links_.size(); ++i) {
    const LinkData& l = links_[i];
    const Matrix3d& in = l.inertia_origin_kgm2;
    parameters.segment<10>(10 * i) << l.mass_kg, l.first_moment_kgm, in(0, 0), in(0, 1), in(0, 2), in(1, 1), in(1, 2),
        in(2, 2);
  }
  return parameters;
}

std::vector<std::string> RigidBodyDynamics::InertialParameterNames() const {
  static constexpr const char* kSuffixes[10] = {"m", "mcx", "mcy", "mcz", "Ixx", "Ixy", "Ixz", "Iyy", "Iyz", "Izz"};
  std::vector<std::string> names;
  names.reserve(10 * link_names_.size());
  for (const std::string& link : link_names_) {
    for (const char* suffix : kSuffixes) names.push_back(link + "." + suffix);
  }
  return names;
}

RigidBodyDynamics RigidBodyDynamics::WithInertialParameters(const Eigen::VectorXd& parameters) const {
  if (parameters.size() != 10 * static_cast<Eigen::Index>(links_.size())) {
    throw std::invalid_argument("RigidBodyDynamics::WithInertialParameters: " + std::to_string(parameters.size()) +
                                " parameters for " + std::to_string(links_.size()) + " links (10 each)");
  }
  RigidBodyDynamics out = *this;
  for (std::size_t i = 0; i < links_.size(); ++i) {
    LinkData& l = out.links_[i];
    const auto p = parameters.segment<10>(10 * i);
    l.mass_kg = p[0];
    l.first_moment_kgm = p.segment<3>(1);
    l.inertia_origin_kgm2 << p[4], p[5], p[6], p[5], p[7], p[8], p[6], p[8], p[9];
  }
  return out;
}

}  // namespace r2s::sim

#include "sim/world.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <BulletCollision/CollisionShapes/btShapeHull.h>
#include <BulletDynamics/Featherstone/btMultiBody.h>
#include <BulletDynamics/Featherstone/btMultiBodyConstraintSolver.h>
#include <BulletDynamics/Featherstone/btMultiBodyDynamicsWorld.h>
#include <BulletDynamics/Featherstone/btMultiBodyJointLimitConstraint.h>
#include <BulletDynamics/Featherstone/btMultiBodyJointMotor.h>
#include <BulletDynamics/Featherstone/btMultiBodyLinkCollider.h>
#include <btBulletDynamicsCommon.h>
#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include "sim/actuator.h"
#include "sim/convex_decomposition.h"
#include "sim/rigid_body_dynamics.h"

#ifndef BT_USE_DOUBLE_PRECISION
#error "world.cc must be compiled with BT_USE_DOUBLE_PRECISION (link Bullet::Float64)"
#endif

namespace r2s::sim {
namespace {

// The island of a multibody: its base's or its first link's collider (as btMultiBodyJointMotor finds it).
int IslandOf(const btMultiBody* body) {
  if (const btMultiBodyLinkCollider* base = body->getBaseCollider()) return base->getIslandTag();
  for (int i = 0; i < body->getNumLinks(); ++i) {
    if (const btMultiBodyLinkCollider* collider = body->getLink(i).m_collider) return collider->getIslandTag();
  }
  return -1;
}

// Coulomb friction of a motor that turns several joints (RobotModel::transmission): one velocity-0 row along the
// motor coordinate u_k = sum_j T_kj q_j, whose impulse is bounded by coulomb_friction * dt, as btMultiBodyJointMotor
// is for a single joint. The solver thus holds the motor still below the bound (stiction) and applies the bound
// along u_k otherwise, which the joints feel as T_k^T times it.
class MotorFrictionConstraint final : public btMultiBodyConstraint {
 public:
  // weights: (Bullet link, T_kj) for every joint j the motor turns; `link` is one of them.
  MotorFrictionConstraint(btMultiBody* body, int link, std::vector<std::pair<int, double>> weights,
                          double max_impulse)
      : btMultiBodyConstraint(body, body, link, body->getLink(link).m_parent, 1, true,
                              MULTIBODY_CONSTRAINT_1DOF_JOINT_MOTOR),
        weights_(std::move(weights)) {
    m_maxAppliedImpulse = max_impulse;
  }

  void finalizeMultiDof() override {
    allocateJacobiansMultiDof();
    for (const auto& [bullet_link, weight] : weights_) {
      jacobianA(0)[6 + m_bodyA->getLink(bullet_link).m_dofOffset] = weight;
    }
    m_numDofsFinalized = m_jacSizeBoth;
  }
  int getIslandIdA() const override { return IslandOf(m_bodyA); }
  int getIslandIdB() const override { return IslandOf(m_bodyB); }

  void createConstraintRows(btMultiBodyConstraintArray& rows, btMultiBodyJacobianData& data,
                            const btContactSolverInfo& info) override {
    if (m_numDofsFinalized != m_jacSizeBoth) finalizeMultiDof();
    if (m_numDofsFinalized != m_jacSizeBoth || m_maxAppliedImpulse == 0) return;
    btMultiBodySolverConstraint& row = rows.expandNonInitializing();
    const btVector3 zero(0, 0, 0);
    fillMultiBodyConstraint(row, data, jacobianA(0), jacobianB(0), zero, zero, zero, zero, /*posError=*/0, info,
                            -m_maxAppliedImpulse, m_maxAppliedImpulse, /*angConstraint=*/false, /*relaxation=*/1,
                            /*isFriction=*/false, /*desiredVelocity=*/0);
    row.m_orgConstraint = this;
    row.m_orgDofIndex = 0;
    // Only the multibody Jacobian matters; the rigid-body fields stay zero.
    row.m_contactNormal1.setZero();
    row.m_contactNormal2.setZero();
    row.m_relpos1CrossNormal.setZero();
    row.m_relpos2CrossNormal.setZero();
  }
  void debugDraw(btIDebugDraw*) override {}

 private:
  std::vector<std::pair<int, double>> weights_;
};

// Collision margin of convex shapes, as PyBullet's URDF importer sets it. Bullet's default (4 cm) would shrink
// the implicit part of a small box to nothing, and would inflate every convex hull by 4 cm.
constexpr double kCollisionMargin = 0.001;
// Hulls with more vertices than this are reduced with btShapeHull (collision cost grows with the vertex count).
constexpr int kMaxHullVertices = 256;
// Joint limit bounds standing in for an infinite one (rad or m): a limit row with an infinite bound would put
// an infinite error into the solver.
constexpr double kUnboundedLimit = 1e6;

btVector3 ToBt(const Eigen::Vector3d& v) { return btVector3(v.x(), v.y(), v.z()); }
Eigen::Vector3d FromBt(const btVector3& v) { return Eigen::Vector3d(v.x(), v.y(), v.z()); }

btMatrix3x3 ToBtMatrix(const Eigen::Matrix3d& m) {
  return btMatrix3x3(m(0, 0), m(0, 1), m(0, 2), m(1, 0), m(1, 1), m(1, 2), m(2, 0), m(2, 1), m(2, 2));
}
Eigen::Matrix3d FromBt(const btMatrix3x3& m) {
  Eigen::Matrix3d out;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) out(r, c) = m[r][c];
  }
  return out;
}

btQuaternion ToBtQuaternion(const Eigen::Matrix3d& rotation) {
  btQuaternion q;
  ToBtMatrix(rotation).getRotation(q);
  return q;
}

btTransform ToBtTransform(const Eigen::Isometry3d& t) {
  return btTransform(ToBtMatrix(Eigen::Matrix3d(t.linear())), ToBt(Eigen::Vector3d(t.translation())));
}
Eigen::Isometry3d FromBt(const btTransform& t) {
  Eigen::Isometry3d out = Eigen::Isometry3d::Identity();
  out.linear() = FromBt(t.getBasis());
  out.translation() = FromBt(t.getOrigin());
  return out;
}

// A body as Bullet sees it: the frame at its centre of mass along the principal axes of its inertia (Bullet takes
// inertia as a diagonal), given in the owner's frame (URDF link or object frame).
struct BodyFrame {
  Eigen::Isometry3d frame = Eigen::Isometry3d::Identity();  // owner frame -> principal frame
  double mass_kg = 0;
  Eigen::Vector3d principal_inertia = Eigen::Vector3d::Zero();
};

BodyFrame PrincipalFrame(double mass_kg, const Eigen::Vector3d& com_m, const Eigen::Matrix3d& inertia_kgm2) {
  BodyFrame body;
  body.mass_kg = mass_kg;
  body.frame.translation() = com_m;
  const Eigen::Matrix3d inertia = 0.5 * (inertia_kgm2 + inertia_kgm2.transpose());
  const bool diagonal = inertia(0, 1) == 0 && inertia(0, 2) == 0 && inertia(1, 2) == 0;
  if (diagonal) {
    // Keep the owner's axes when they are principal already, rather than the eigen-solver's ordering.
    body.principal_inertia = inertia.diagonal();
  } else {
    Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> solver(inertia);
    Eigen::Matrix3d axes = solver.eigenvectors();
    if (axes.determinant() < 0) axes.col(2) = -axes.col(2);  // a rotation, not a reflection
    body.frame.linear() = axes;
    body.principal_inertia = solver.eigenvalues().cwiseMax(0.0);
  }
  return body;
}

const char* JointTypeName(btMultibodyLink::eFeatherstoneJointType type) {
  switch (type) {
    case btMultibodyLink::eRevolute:
      return "revolute";
    case btMultibodyLink::ePrismatic:
      return "prismatic";
    case btMultibodyLink::eFixed:
      return "fixed";
    default:
      return "other";
  }
}

// What a Shape's Bullet shapes are built from, compared bit for bit: equal keys build identical shapes. Meshes and
// decompositions are compared by address; CollisionGeometry keeps them alive, so an address is never reused.
struct ShapeKey {
  ShapeKind kind = ShapeKind::kBox;
  MeshCollision mesh_collision = MeshCollision::kConvexHull;
  std::uintptr_t mesh = 0;
  std::uintptr_t pieces = 0;
  std::array<std::uint64_t, 3> size{};  // box extents; radius and length; plane normal
  auto operator<=>(const ShapeKey&) const = default;
};

ShapeKey KeyOf(const Shape& shape) {
  ShapeKey key;
  key.kind = shape.kind;
  const auto bits = [](double x) { return std::bit_cast<std::uint64_t>(x); };
  switch (shape.kind) {
    case ShapeKind::kBox:
      key.size = {bits(shape.box_size_m.x()), bits(shape.box_size_m.y()), bits(shape.box_size_m.z())};
      break;
    case ShapeKind::kSphere:
      key.size = {bits(shape.radius_m), 0, 0};
      break;
    case ShapeKind::kCylinder:
      key.size = {bits(shape.radius_m), bits(shape.length_m), 0};
      break;
    case ShapeKind::kPlane:
      key.size = {bits(shape.plane_normal.x()), bits(shape.plane_normal.y()), bits(shape.plane_normal.z())};
      break;
    case ShapeKind::kMesh:
      key.mesh_collision = shape.mesh_collision;
      key.mesh = reinterpret_cast<std::uintptr_t>(shape.mesh.get());
      if (shape.mesh_collision == MeshCollision::kConvexDecomposition) {
        key.pieces = reinterpret_cast<std::uintptr_t>(shape.convex_pieces.get());
      }
      break;
  }
  return key;
}

btConvexHullShape* BuildHull(const std::vector<Eigen::Vector3d>& points,
                             std::vector<std::unique_ptr<btCollisionShape>>& owned) {
  auto hull = std::make_unique<btConvexHullShape>();
  for (const auto& p : points) hull->addPoint(ToBt(p), false);
  hull->recalcLocalAabb();
  hull->optimizeConvexHull();
  if (hull->getNumPoints() > kMaxHullVertices) {
    hull->setMargin(0);  // btShapeHull samples support points with the margin (Bullet's 4 cm default) added
    btShapeHull reducer(hull.get());
    reducer.buildHull(0);
    auto reduced = std::make_unique<btConvexHullShape>();
    for (int i = 0; i < reducer.numVertices(); ++i) reduced->addPoint(reducer.getVertexPointer()[i], false);
    hull = std::move(reduced);
  }
  hull->setMargin(kCollisionMargin);
  hull->recalcLocalAabb();
  owned.push_back(std::move(hull));
  return static_cast<btConvexHullShape*>(owned.back().get());
}

}  // namespace

// The Bullet shapes of a model's collision Shapes, each distinct Shape once. Built single-threaded, then only read:
// Bullet's collision detection reads leaf shapes (support points, cached local bounds, margins) and never writes
// them, so Worlds on several threads share one. Compounds, which do hold per-use state, stay in each World.
class CollisionGeometry {
 public:
  // A Shape's leaves: its convex pieces (one for a primitive or a mesh's hull, several for a decomposition), or
  // one btStaticPlaneShape for a plane.
  struct Entry {
    std::shared_ptr<const TriangleMesh> mesh;  // kept alive: the key holds its address
    std::shared_ptr<const std::vector<std::vector<Eigen::Vector3d>>> pieces;
    std::vector<btCollisionShape*> leaves;
  };

  const Entry* Find(const Shape& shape) const {
    const auto it = entries_.find(KeyOf(shape));
    return it == entries_.end() ? nullptr : &it->second;
  }

  // Builds `shape`'s leaves unless an equal Shape's are here already; `owner` names the link or body for errors.
  const Entry& Add(const Shape& shape, const std::string& owner) {
    const ShapeKey key = KeyOf(shape);
    if (const auto it = entries_.find(key); it != entries_.end()) return it->second;
    Entry entry;
    switch (shape.kind) {
      case ShapeKind::kBox: {
        auto box = std::make_unique<btBoxShape>(ToBt(Eigen::Vector3d(0.5 * shape.box_size_m)));
        box->setMargin(std::min(kCollisionMargin, 0.5 * shape.box_size_m.minCoeff()));
        entry.leaves.push_back(Own(std::move(box)));
        break;
      }
      case ShapeKind::kSphere:
        entry.leaves.push_back(Own(std::make_unique<btSphereShape>(shape.radius_m)));
        break;
      case ShapeKind::kCylinder: {
        auto cylinder =
            std::make_unique<btCylinderShapeZ>(btVector3(shape.radius_m, shape.radius_m, 0.5 * shape.length_m));
        cylinder->setMargin(std::min({kCollisionMargin, shape.radius_m, 0.5 * shape.length_m}));
        entry.leaves.push_back(Own(std::move(cylinder)));
        break;
      }
      case ShapeKind::kMesh:
        if (!shape.mesh) throw std::invalid_argument("World: a mesh shape of '" + owner + "' has no mesh");
        entry.mesh = shape.mesh;
        if (shape.mesh_collision == MeshCollision::kConvexDecomposition) {
          // Compiled scenes carry the decomposition (done once per model); a hand-built model gets it here.
          entry.pieces = shape.convex_pieces;
          const auto pieces = shape.convex_pieces ? *shape.convex_pieces : DecomposeConvex(*shape.mesh);
          for (const auto& piece : pieces) entry.leaves.push_back(BuildHull(piece, owned_));
        } else {
          entry.leaves.push_back(BuildHull(shape.mesh->vertices_m, owned_));
        }
        break;
      case ShapeKind::kPlane:
        entry.leaves.push_back(
            Own(std::make_unique<btStaticPlaneShape>(ToBt(Eigen::Vector3d(shape.plane_normal.normalized())), 0.0)));
        break;
    }
    return entries_.emplace(key, std::move(entry)).first->second;
  }

 private:
  btCollisionShape* Own(std::unique_ptr<btCollisionShape> shape) {
    owned_.push_back(std::move(shape));
    return owned_.back().get();
  }

  std::map<ShapeKey, Entry> entries_;
  std::vector<std::unique_ptr<btCollisionShape>> owned_;
};

std::shared_ptr<const CollisionGeometry> BuildCollisionGeometry(const Model& model) {
  auto geometry = std::make_shared<CollisionGeometry>();
  if (model.robot) {
    for (const Link& link : model.robot->links) {
      for (const Shape& shape : link.collisions) geometry->Add(shape, link.name);
    }
  }
  for (const auto* bodies : {&model.objects, &model.environment}) {
    for (const ObjectModel& body : *bodies) {
      for (const Shape& shape : body.collisions) geometry->Add(shape, body.name);
    }
  }
  return geometry;
}

namespace {

// A World's own shapes: the compounds that place shared leaves by its links' and objects' inertial frames, and the
// leaves of Shapes the model's geometry does not hold. Compounds refer to their children without owning them.
class ShapeStore {
 public:
  explicit ShapeStore(std::shared_ptr<const CollisionGeometry> shared) : shared_(std::move(shared)) {}

  template <typename T, typename... Args>
  T* Make(Args&&... args) {
    auto shape = std::make_unique<T>(std::forward<Args>(args)...);
    T* raw = shape.get();
    shapes_.push_back(std::move(shape));
    return raw;
  }

  // `shape`'s leaves, from the model's geometry when it has them, else built here.
  const std::vector<btCollisionShape*>& Leaves(const Shape& shape, const std::string& owner) {
    if (shared_) {
      if (const CollisionGeometry::Entry* entry = shared_->Find(shape)) {
        ++use_.shared_shapes;
        return entry->leaves;
      }
    }
    ++use_.built_shapes;
    if (!own_) own_ = std::make_unique<CollisionGeometry>();
    return own_->Add(shape, owner).leaves;
  }

  // Adds the convex pieces of `shape` to `compound`, placed by `placement` (owner frame -> compound frame).
  void AddToCompound(const Shape& shape, const Eigen::Isometry3d& placement, btCompoundShape* compound,
                     const std::string& owner) {
    if (shape.kind == ShapeKind::kPlane) {
      throw std::invalid_argument("World: '" + owner + "' has a plane, which only static environment bodies may have");
    }
    const btTransform local = ToBtTransform(placement * shape.origin);
    // Bullet's compound takes non-const children; it and the collision algorithms only read them.
    for (btCollisionShape* leaf : Leaves(shape, owner)) compound->addChildShape(local, leaf);
  }

  CollisionGeometryUse use() const {
    CollisionGeometryUse use = use_;
    if (use.shared_shapes > 0) use.shared = shared_.get();
    return use;
  }

 private:
  std::shared_ptr<const CollisionGeometry> shared_;
  std::unique_ptr<CollisionGeometry> own_;
  std::vector<std::unique_ptr<btCollisionShape>> shapes_;
  CollisionGeometryUse use_;
};

void ApplyMaterial(const Material& material, btCollisionObject* object) {
  object->setFriction(material.lateral_friction);
  object->setRollingFriction(material.rolling_friction);
  object->setSpinningFriction(material.spinning_friction);
  object->setRestitution(material.restitution);
}

// The contact material of a robot link: that of its first collision shape that names one, else the default.
const Material& LinkMaterial(const Model& model, const Link& link) {
  for (const Shape& shape : link.collisions) {
    if (!shape.material.empty()) return model.MaterialOf(shape.material);
  }
  return model.MaterialOf("");
}

}  // namespace

struct World::Impl {
  // --- built once from the model, kept across Reset ---
  const Model* model = nullptr;
  double dt = 0;
  ShapeStore shapes;
  std::vector<BodyFrame> link_bodies;         // per robot link
  std::vector<btCompoundShape*> link_shapes;  // per robot link; nullptr when it has no collision shape
  btEmptyShape* empty_shape = nullptr;        // for the colliders of links without collision shapes
  std::vector<int> dof_bullet_link;           // dof -> Bullet link index
  // Armature (world.h): the robot's rigid-body dynamics without armature, and the armature per dof; both empty
  // when every armature is zero.
  std::optional<RigidBodyDynamics> rigid_dynamics;
  Eigen::VectorXd armature;
  // A coupled transmission (RobotModel::transmission): T and T^-T, and the armature T^T diag(armature) T; all
  // empty when every motor drives its own joint.
  Eigen::MatrixXd transmission, transmission_inverse_transpose, armature_matrix;
  // Without a coupled transmission, the dofs with armature and those without (a gripper's jaw, say): the
  // accelerations of the latter are taken as measured in the last step rather than predicted (ArmatureTorques).
  std::vector<int> armature_dofs, rigid_dofs;
  std::vector<BodyFrame> object_bodies;         // per free object
  std::vector<btCompoundShape*> object_shapes;  // per free object
  struct StaticPart {
    int environment = 0;                                          // index into Model::environment
    Eigen::Isometry3d placement = Eigen::Isometry3d::Identity();  // in the environment body's frame
    btCollisionShape* shape = nullptr;
  };
  std::vector<StaticPart> static_parts;

  // --- rebuilt by Reset; declared so that the world goes before what it refers to, and after its bodies ---
  std::unique_ptr<btDefaultCollisionConfiguration> configuration;
  std::unique_ptr<btCollisionDispatcher> dispatcher;
  std::unique_ptr<btDbvtBroadphase> broadphase;
  std::unique_ptr<btMultiBodyConstraintSolver> solver;
  std::unique_ptr<btMultiBody> robot;
  std::vector<std::unique_ptr<btMultiBodyLinkCollider>> colliders;  // per robot link; null where no shape
  std::vector<std::unique_ptr<btMultiBodyConstraint>> constraints;  // limits and Coulomb motors
  std::vector<btMultiBodyJointLimitConstraint*> limits;             // per robot link; null when unlimited
  // Per motor (dof): a btMultiBodyJointMotor, or a MotorFrictionConstraint for a motor that turns several joints;
  // null when it has no Coulomb friction.
  std::vector<btMultiBodyConstraint*> coulomb_motors;
  std::vector<std::unique_ptr<btRigidBody>> objects;
  std::vector<std::unique_ptr<btRigidBody>> statics;
  std::unique_ptr<btMultiBodyDynamicsWorld> world;

  // --- per-step state ---
  long long steps = 0;
  std::vector<CommandDelay> delays;           // per dof
  Eigen::VectorXd last_applied;               // per dof
  Eigen::VectorXd coulomb_scale;              // per dof: the Coulomb motor's impulse bound over coulomb_friction * dt
  Eigen::VectorXd step_q, step_qd, step_tau;  // per dof: the state and drive torques of the step being taken
  Eigen::VectorXd previous_step_qd;           // per dof: step_qd of the step before; empty before the first step
  Eigen::VectorXd motor_u, motor_ud, motor_tau;  // per motor, with a coupled transmission: u = T q, T qd, tau_u
  // Armature's per-step factorizations and the diagonals of their inverses, kept so that a step reuses their storage.
  Eigen::LLT<Eigen::MatrixXd> mass_llt, rigid_llt;
  Eigen::MatrixXd unit_columns;  // identity, dofs x dofs
  Eigen::VectorXd inverse_diagonal, rigid_inverse_diagonal;
  btAlignedObjectArray<btQuaternion> scratch_rotations;
  btAlignedObjectArray<btVector3> scratch_origins;

  explicit Impl(const Model& m) : model(&m), dt(m.sim.time_step_s), shapes(m.collision_geometry) {
    if (!(dt > 0) || !std::isfinite(dt)) {
      throw std::invalid_argument("World: time_step_s = " + std::to_string(dt) + " must be positive");
    }
    if (m.sim.solver_iterations < 1) {
      throw std::invalid_argument("World: solver_iterations = " + std::to_string(m.sim.solver_iterations) +
                                  " must be at least 1");
    }
    empty_shape = shapes.Make<btEmptyShape>();
    if (m.robot) BuildRobotShapes(*m.robot);
    for (std::size_t i = 0; i < m.objects.size(); ++i) {
      const ObjectModel& object = m.objects[i];
      if (!(object.inertial.mass_kg > 0)) {
        throw std::invalid_argument("World: free object '" + object.name + "' has mass " +
                                    std::to_string(object.inertial.mass_kg) + " kg; it must be positive");
      }
      object_bodies.push_back(
          PrincipalFrame(object.inertial.mass_kg, object.inertial.com_m, object.inertial.inertia_kgm2));
      auto* compound = shapes.Make<btCompoundShape>();
      const Eigen::Isometry3d placement = object_bodies.back().frame.inverse();
      for (const Shape& shape : object.collisions) shapes.AddToCompound(shape, placement, compound, object.name);
      object_shapes.push_back(compound);
    }
    for (std::size_t e = 0; e < m.environment.size(); ++e) {
      btCompoundShape* compound = nullptr;
      for (const Shape& shape : m.environment[e].collisions) {
        if (shape.kind == ShapeKind::kPlane) {
          // An infinite plane cannot be a compound's child (its bounding box is infinite): a body of its own.
          static_parts.push_back({static_cast<int>(e), shape.origin, shapes.Leaves(shape, m.environment[e].name)[0]});
          continue;
        }
        if (compound == nullptr) {
          compound = shapes.Make<btCompoundShape>();
          static_parts.push_back({static_cast<int>(e), Eigen::Isometry3d::Identity(), compound});
        }
        shapes.AddToCompound(shape, Eigen::Isometry3d::Identity(), compound, m.environment[e].name);
      }
    }
  }

  ~Impl() { TearDown(); }

  void BuildRobotShapes(const RobotModel& r) {
    if (r.links.empty()) throw std::invalid_argument("World: robot '" + r.name + "' has no links");
    if (static_cast<int>(r.actuators.size()) != r.num_dofs()) {
      throw std::invalid_argument("World: robot '" + r.name + "' has " + std::to_string(r.actuators.size()) +
                                  " actuators for " + std::to_string(r.num_dofs()) + " dofs");
    }
    if (r.initial_q.size() != 0 && r.initial_q.size() != r.num_dofs()) {
      throw std::invalid_argument("World: robot '" + r.name + "' initial_q has " + std::to_string(r.initial_q.size()) +
                                  " entries for " + std::to_string(r.num_dofs()) + " dofs");
    }
    for (std::size_t i = 0; i < r.links.size(); ++i) {
      const Link& link = r.links[i];
      if (i > 0 && (link.parent < 0 || link.parent >= static_cast<int>(i))) {
        throw std::invalid_argument("World: link '" + link.name + "' does not come after its parent");
      }
      link_bodies.push_back(PrincipalFrame(link.inertial.mass_kg, link.inertial.com_m, link.inertial.inertia_kgm2));
      btCompoundShape* compound = nullptr;
      if (!link.collisions.empty()) {
        compound = shapes.Make<btCompoundShape>();
        const Eigen::Isometry3d placement = link_bodies.back().frame.inverse();
        for (const Shape& shape : link.collisions) shapes.AddToCompound(shape, placement, compound, link.name);
      }
      link_shapes.push_back(compound);
    }
    for (int dof = 0; dof < r.num_dofs(); ++dof) dof_bullet_link.push_back(r.dof_links[dof] - 1);
    Eigen::VectorXd dof_armature(r.num_dofs());
    for (int dof = 0; dof < r.num_dofs(); ++dof) {
      dof_armature[dof] = r.actuators[dof].armature;
      if (!(dof_armature[dof] >= 0) || !std::isfinite(dof_armature[dof])) {
        throw std::invalid_argument("World: joint '" + r.dof_link(dof).joint_name + "' has armature " +
                                    std::to_string(dof_armature[dof]) + "; it must be finite and >= 0");
      }
    }
    if (r.coupled()) {
      if (r.transmission.rows() != r.num_dofs() || r.transmission.cols() != r.num_dofs()) {
        throw std::invalid_argument("World: robot '" + r.name + "' has a " + std::to_string(r.transmission.rows()) +
                                    " x " + std::to_string(r.transmission.cols()) + " transmission for " +
                                    std::to_string(r.num_dofs()) + " dofs");
      }
      const Eigen::FullPivLU<Eigen::MatrixXd> lu(r.transmission);
      if (!lu.isInvertible() || !r.transmission.allFinite()) {
        throw std::invalid_argument("World: robot '" + r.name + "' has a singular transmission");
      }
      transmission = r.transmission;
      transmission_inverse_transpose = lu.inverse().transpose();
    }
    if (dof_armature.size() > 0 && dof_armature.maxCoeff() > 0) {
      RobotModel rigid = r;
      rigid.actuators.clear();  // no armature: Bullet's multibody has none either
      rigid_dynamics.emplace(rigid, model->sim.gravity_mps2);
      armature = dof_armature;
      if (r.coupled()) {
        armature_matrix = transmission.transpose() * armature.asDiagonal() * transmission;
      } else {
        for (int dof = 0; dof < r.num_dofs(); ++dof) (armature[dof] > 0 ? armature_dofs : rigid_dofs).push_back(dof);
      }
    }
  }

  // The extra joint torques -A qdd* that make Bullet's step give qdd* = (M + A)^-1 (tau - C) (world.h), from the
  // state and drive torques in step_q, step_qd, step_tau; also sets the Coulomb motors' impulse bounds.
  Eigen::VectorXd ArmatureTorques() {
    Eigen::MatrixXd mass = rigid_dynamics->MassMatrix(step_q);
    const bool friction = std::any_of(coulomb_motors.begin(), coulomb_motors.end(), [](auto* m) { return m; });
    if (friction) rigid_llt.compute(mass);
    if (armature_matrix.size() != 0) {
      mass += armature_matrix;
    } else {
      mass.diagonal() += armature;
    }
    mass_llt.compute(mass);
    if (mass_llt.info() != Eigen::Success) {
      throw std::logic_error("World: the joint-space inertia of robot '" + model->robot->name +
                             "' with armature is not positive definite");
    }
    if (friction) {
      const auto n = armature.size();
      if (unit_columns.rows() != n) unit_columns = Eigen::MatrixXd::Identity(n, n);
      if (transmission.size() != 0) {
        // A motor's friction row is T_k: its response is T_k (M + A)^-1 T_k^T against Bullet's T_k M^-1 T_k^T.
        inverse_diagonal = (transmission * mass_llt.solve(transmission.transpose())).diagonal();
        rigid_inverse_diagonal = rigid_llt.info() == Eigen::Success
                                     ? Eigen::VectorXd((transmission * rigid_llt.solve(transmission.transpose())).diagonal())
                                     : inverse_diagonal;
      } else {
        inverse_diagonal = mass_llt.solve(unit_columns).diagonal();
        rigid_inverse_diagonal = rigid_llt.info() == Eigen::Success
                                     ? Eigen::VectorXd(rigid_llt.solve(unit_columns).diagonal())
                                     : inverse_diagonal;
      }
      for (int dof = 0; dof < n; ++dof) {
        btMultiBodyConstraint* motor = coulomb_motors[dof];
        if (motor == nullptr) continue;
        coulomb_scale[dof] = inverse_diagonal[dof] / rigid_inverse_diagonal[dof];
        motor->setMaxAppliedImpulse(model->robot->actuators[dof].coulomb_friction * dt * coulomb_scale[dof]);
      }
    }
    const Eigen::VectorXd rhs = step_tau - rigid_dynamics->BiasForces(step_q, step_qd);
    if (armature_matrix.size() != 0) return -armature_matrix * mass_llt.solve(rhs);
    if (rigid_dofs.empty()) return -armature.cwiseProduct(mass_llt.solve(rhs));
    // Dofs without armature take the acceleration they had in the last step, and only the others are predicted:
    // (M + A)_aa qdd_a = rhs_a - M_ar qdd_r. A prediction of all of them would count a jaw's drive torque as
    // accelerating the jaw even while the jaw is blocked by what it grips, and the armature torques of the
    // joints that carry it (-A qdd*) would then push the arm with the reaction of a jaw that does not move; a
    // measured acceleration is 0 there. Where the jaw moves freely its light inertia makes the one-step lag
    // negligible.
    Eigen::VectorXd rigid_qdd = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(rigid_dofs.size()));
    if (previous_step_qd.size() == step_qd.size()) {
      rigid_qdd = (step_qd(rigid_dofs) - previous_step_qd(rigid_dofs)) / dt;
    }
    previous_step_qd = step_qd;
    const Eigen::VectorXd armature_qdd =
        mass(armature_dofs, armature_dofs).llt().solve(rhs(armature_dofs) - mass(armature_dofs, rigid_dofs) * rigid_qdd);
    Eigen::VectorXd extra = Eigen::VectorXd::Zero(rhs.size());
    extra(armature_dofs) = -armature(armature_dofs).cwiseProduct(armature_qdd);
    return extra;
  }

  // The drive and viscous torques of every motor, each on its own joint; the step's state into step_*.
  void StepDrives(const RobotModel& r, double now) {
    for (int dof = 0; dof < r.num_dofs(); ++dof) {
      const int link = dof_bullet_link[dof];
      const ActuatorParams& params = r.actuators[dof];
      const double q = robot->getJointPos(link);
      const double qd = robot->getJointVel(link);
      const double torque = DriveTorque(params, r.control_mode, delays[dof].At(now), q, qd) + ViscousTorque(params, qd);
      robot->addJointTorque(link, torque);
      last_applied[dof] = torque;  // the Coulomb impulse is added once the solver has applied it
      step_q[dof] = q;
      step_qd[dof] = qd;
      step_tau[dof] = torque;
    }
  }

  // The same through a coupled transmission: each motor's torques from its coordinates u = T q, u' = T qd, and
  // the joints' torques T^T tau_u.
  void StepCoupledDrives(const RobotModel& r, double now) {
    for (int dof = 0; dof < r.num_dofs(); ++dof) {
      step_q[dof] = robot->getJointPos(dof_bullet_link[dof]);
      step_qd[dof] = robot->getJointVel(dof_bullet_link[dof]);
    }
    motor_u.noalias() = transmission * step_q;
    motor_ud.noalias() = transmission * step_qd;
    for (int motor = 0; motor < r.num_dofs(); ++motor) {
      const ActuatorParams& params = r.actuators[motor];
      motor_tau[motor] = DriveTorque(params, r.control_mode, delays[motor].At(now), motor_u[motor], motor_ud[motor]) +
                         ViscousTorque(params, motor_ud[motor]);
    }
    step_tau.noalias() = transmission.transpose() * motor_tau;
    for (int dof = 0; dof < r.num_dofs(); ++dof) robot->addJointTorque(dof_bullet_link[dof], step_tau[dof]);
    last_applied = step_tau;  // the Coulomb impulses are added once the solver has applied them
  }

  void TearDown() {
    if (world) {
      for (auto& c : constraints) world->removeMultiBodyConstraint(c.get());
      if (robot) world->removeMultiBody(robot.get());
      for (auto& c : colliders) {
        if (c) world->removeCollisionObject(c.get());
      }
      for (auto& b : objects) world->removeRigidBody(b.get());
      for (auto& b : statics) world->removeRigidBody(b.get());
    }
    world.reset();
    constraints.clear();
    limits.clear();
    coulomb_motors.clear();
    colliders.clear();
    robot.reset();
    objects.clear();
    statics.clear();
    solver.reset();
    broadphase.reset();
    dispatcher.reset();
    configuration.reset();
  }

  void Build() {
    TearDown();
    btDefaultCollisionConstructionInfo info;
    info.m_defaultMaxPersistentManifoldPoolSize = 1024;
    info.m_defaultMaxCollisionAlgorithmPoolSize = 1024;
    configuration = std::make_unique<btDefaultCollisionConfiguration>(info);
    // Convex-vs-plane and convex-vs-convex collisions find one contact point per step unless told to perturb the
    // pair for more; with one, a box sliding on a plane sinks by millimetres, rocks and spins, and its friction
    // is off by percents. Three perturbations (Bullet's recommended setting) give full manifolds.
    configuration->setPlaneConvexMultipointIterations(3, 3);
    configuration->setConvexConvexMultipointIterations(3, 3);
    dispatcher = std::make_unique<btCollisionDispatcher>(configuration.get());
    broadphase = std::make_unique<btDbvtBroadphase>();
    solver = std::make_unique<btMultiBodyConstraintSolver>();
    world = std::make_unique<btMultiBodyDynamicsWorld>(dispatcher.get(), broadphase.get(), solver.get(),
                                                       configuration.get());
    world->setGravity(ToBt(model->sim.gravity_mps2));
    // PyBullet's solver settings (PhysicsServerCommandProcessor), so that behaviour and speed compare with it.
    btContactSolverInfo& solver_info = world->getSolverInfo();
    solver_info.m_numIterations = model->sim.solver_iterations;
    solver_info.m_erp2 = 0.08;
    solver_info.m_frictionERP = 0.2;
    solver_info.m_linearSlop = 0.00001;
    solver_info.m_minimumSolverBatchSize = 0;
    solver_info.m_warmstartingFactor = 0.1;
    solver_info.m_leastSquaresResidualThreshold = 1e-7;

    if (model->robot) BuildRobot(*model->robot);
    for (std::size_t i = 0; i < model->objects.size(); ++i) BuildObject(static_cast<int>(i));
    for (const StaticPart& part : static_parts) {
      const ObjectModel& env = model->environment[part.environment];
      btRigidBody::btRigidBodyConstructionInfo body_info(0.0, nullptr, part.shape, btVector3(0, 0, 0));
      body_info.m_startWorldTransform = ToBtTransform(env.initial_pose * part.placement);
      auto body = std::make_unique<btRigidBody>(body_info);
      ApplyMaterial(model->MaterialOf(env.material), body.get());
      world->addRigidBody(body.get());
      statics.push_back(std::move(body));
    }
    steps = 0;
    delays.clear();
    const int dofs = model->robot ? model->robot->num_dofs() : 0;
    // With the step, a latency between whole steps blends the two bracketing whole-step delays (CommandDelay).
    for (int dof = 0; dof < dofs; ++dof) delays.emplace_back(model->robot->actuators[dof].latency_s, dt);
    last_applied = Eigen::VectorXd::Zero(dofs);
    coulomb_scale = Eigen::VectorXd::Ones(dofs);
    step_q.resize(dofs);
    step_qd.resize(dofs);
    step_tau.resize(dofs);
    previous_step_qd.resize(0);
    motor_u.resize(dofs);
    motor_ud.resize(dofs);
    motor_tau.resize(dofs);
  }

  void BuildRobot(const RobotModel& r) {
    const int num_links = static_cast<int>(r.links.size()) - 1;
    const BodyFrame& root = link_bodies[0];
    robot = std::make_unique<btMultiBody>(num_links, root.mass_kg, ToBt(root.principal_inertia), /*fixedBase=*/true,
                                          /*canSleep=*/false);
    robot->setBaseWorldTransform(ToBtTransform(r.base_pose * root.frame));
    for (int i = 1; i <= num_links; ++i) {
      const Link& link = r.links[i];
      const BodyFrame& body = link_bodies[i];
      const BodyFrame& parent = link_bodies[link.parent];
      // As Bullet's URDF importer: joint frame in the parent's principal frame, and this principal frame.
      const Eigen::Isometry3d offset_in_parent = parent.frame.inverse() * link.joint_origin;
      const Eigen::Isometry3d offset_in_this = body.frame.inverse();
      const btQuaternion rot_parent_to_this =
          ToBtQuaternion(offset_in_this.linear() * offset_in_parent.linear().transpose());
      const btVector3 parent_com_to_pivot = ToBt(Eigen::Vector3d(offset_in_parent.translation()));
      const btVector3 pivot_to_com = ToBt(Eigen::Vector3d(-offset_in_this.translation()));
      const btVector3 axis = ToBt(Eigen::Vector3d(offset_in_this.linear() * link.joint_axis));
      const btVector3 inertia = ToBt(body.principal_inertia);
      switch (link.joint_type) {
        case JointType::kRevolute:
          robot->setupRevolute(i - 1, body.mass_kg, inertia, link.parent - 1, rot_parent_to_this, axis,
                               parent_com_to_pivot, pivot_to_com, /*disableParentCollision=*/true);
          break;
        case JointType::kPrismatic:
          robot->setupPrismatic(i - 1, body.mass_kg, inertia, link.parent - 1, rot_parent_to_this, axis,
                                parent_com_to_pivot, pivot_to_com, /*disableParentCollision=*/true);
          break;
        case JointType::kFixed:
          robot->setupFixed(i - 1, body.mass_kg, inertia, link.parent - 1, rot_parent_to_this, parent_com_to_pivot,
                            pivot_to_com);
          break;
      }
    }
    robot->finalizeMultiDof();
    robot->setHasSelfCollision(false);
    robot->setLinearDamping(0);
    robot->setAngularDamping(0);
    robot->setUseGyroTerm(true);
    robot->setCanSleep(false);
    world->addMultiBody(robot.get());

    for (int dof = 0; dof < r.num_dofs(); ++dof) {
      const double q = r.initial_q.size() ? r.initial_q[dof] : 0.0;
      robot->setJointPos(dof_bullet_link[dof], q);
      robot->setJointVel(dof_bullet_link[dof], 0.0);
    }
    UpdateRobotKinematics();

    colliders.resize(r.links.size());
    for (std::size_t i = 0; i < r.links.size(); ++i) {
      const int bullet_index = static_cast<int>(i) - 1;
      if (link_shapes[i] == nullptr && bullet_index < 0) continue;
      auto collider = std::make_unique<btMultiBodyLinkCollider>(robot.get(), bullet_index);
      collider->setWorldTransform(ToBtTransform(ComPose(static_cast<int>(i))));
      collider->setActivationState(DISABLE_DEACTIVATION);
      if (link_shapes[i] == nullptr) {
        // A link without geometry still needs a collider: Bullet solves a joint's limit and motor constraints in
        // the simulation island of the link's collider, and drops them when there is none. This one collides with
        // nothing.
        collider->setCollisionShape(empty_shape);
        collider->setCollisionFlags(collider->getCollisionFlags() | btCollisionObject::CF_NO_CONTACT_RESPONSE);
        world->addCollisionObject(collider.get(), 0, 0);
        robot->getLink(bullet_index).m_collider = collider.get();
        colliders[i] = std::move(collider);
        continue;
      }
      collider->setCollisionShape(link_shapes[i]);
      ApplyMaterial(LinkMaterial(*model, r.links[i]), collider.get());
      if (bullet_index < 0) {
        // The fixed base is static: it need not collide with the (static) environment, as in PyBullet.
        collider->setCollisionFlags(collider->getCollisionFlags() | btCollisionObject::CF_STATIC_OBJECT);
        world->addCollisionObject(collider.get(), btBroadphaseProxy::StaticFilter,
                                  btBroadphaseProxy::AllFilter ^ btBroadphaseProxy::StaticFilter);
        robot->setBaseCollider(collider.get());
      } else {
        world->addCollisionObject(collider.get(), btBroadphaseProxy::DefaultFilter, btBroadphaseProxy::AllFilter);
        robot->getLink(bullet_index).m_collider = collider.get();
      }
      colliders[i] = std::move(collider);
    }

    limits.assign(r.links.size(), nullptr);
    coulomb_motors.assign(r.num_dofs(), nullptr);
    for (int dof = 0; dof < r.num_dofs(); ++dof) {
      const int link_index = r.dof_links[dof];
      const Link& link = r.links[link_index];
      const int bullet_index = dof_bullet_link[dof];
      if (std::isfinite(link.lower_limit) || std::isfinite(link.upper_limit)) {
        const double lower = std::isfinite(link.lower_limit) ? link.lower_limit : -kUnboundedLimit;
        const double upper = std::isfinite(link.upper_limit) ? link.upper_limit : kUnboundedLimit;
        auto limit = std::make_unique<btMultiBodyJointLimitConstraint>(robot.get(), bullet_index, lower, upper);
        limit->finalizeMultiDof();  // sizes the constraint's rows now, not lazily in the first step
        limits[link_index] = limit.get();
        world->addMultiBodyConstraint(limit.get());
        constraints.push_back(std::move(limit));
      }
      const double coulomb = r.actuators[dof].coulomb_friction;
      if (coulomb > 0 && transmission.size() != 0 && transmission.row(dof) != Eigen::RowVectorXd::Unit(r.num_dofs(), dof)) {
        // The motor turns more than its own joint (or through a ratio): a row along u_k.
        std::vector<std::pair<int, double>> weights;
        for (int j = 0; j < r.num_dofs(); ++j) {
          if (transmission(dof, j) != 0) weights.emplace_back(dof_bullet_link[j], transmission(dof, j));
        }
        auto motor = std::make_unique<MotorFrictionConstraint>(robot.get(), bullet_index, std::move(weights), coulomb * dt);
        motor->finalizeMultiDof();
        coulomb_motors[dof] = motor.get();
        world->addMultiBodyConstraint(motor.get());
        constraints.push_back(std::move(motor));
      } else if (coulomb > 0) {
        // A velocity-0 motor whose impulse per step is bounded by the friction torque: the solver finds the torque
        // that stops the joint when it is below the bound (stiction), and applies the bound otherwise.
        auto motor = std::make_unique<btMultiBodyJointMotor>(robot.get(), bullet_index, 0.0, coulomb * dt);
        motor->finalizeMultiDof();
        coulomb_motors[dof] = motor.get();
        world->addMultiBodyConstraint(motor.get());
        constraints.push_back(std::move(motor));
      }
    }
  }

  void BuildObject(int index) {
    const ObjectModel& object = model->objects[index];
    const BodyFrame& body = object_bodies[index];
    btRigidBody::btRigidBodyConstructionInfo info(body.mass_kg, nullptr, object_shapes[index],
                                                  ToBt(body.principal_inertia));
    info.m_startWorldTransform = ToBtTransform(object.initial_pose * body.frame);
    info.m_linearDamping = 0;
    info.m_angularDamping = 0;
    auto rigid = std::make_unique<btRigidBody>(info);
    ApplyMaterial(model->MaterialOf(object.material), rigid.get());
    rigid->setActivationState(DISABLE_DEACTIVATION);
    world->addRigidBody(rigid.get());
    objects.push_back(std::move(rigid));
  }

  void UpdateRobotKinematics() {
    robot->forwardKinematics(scratch_rotations, scratch_origins);
    robot->updateCollisionObjectWorldTransforms(scratch_rotations, scratch_origins);
  }

  // World pose of robot link `link`'s principal (Bullet) frame.
  Eigen::Isometry3d ComPose(int link) const {
    if (link == 0) return FromBt(robot->getBaseWorldTransform());
    Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
    pose.linear() = FromBt(robot->localFrameToWorld(link - 1, btMatrix3x3::getIdentity()));
    pose.translation() = FromBt(robot->localPosToWorld(link - 1, btVector3(0, 0, 0)));
    return pose;
  }

  void CheckObject(int object) const {
    if (object < 0 || object >= static_cast<int>(objects.size())) {
      throw std::out_of_range("World: object index " + std::to_string(object) + " out of range [0, " +
                              std::to_string(objects.size()) + ")");
    }
  }
};

World::World(std::shared_ptr<const Model> model) : model_(std::move(model)) {
  if (!model_) throw std::invalid_argument("World: null model");
  impl_ = std::make_unique<Impl>(*model_);
  impl_->Build();
}

World::~World() = default;
World::World(World&&) noexcept = default;
World& World::operator=(World&&) noexcept = default;

double World::time_s() const { return static_cast<double>(impl_->steps) * impl_->dt; }

void World::Reset() { impl_->Build(); }

Eigen::VectorXd World::joint_positions() const {
  if (!impl_->robot) return {};
  Eigen::VectorXd q(impl_->dof_bullet_link.size());
  for (int dof = 0; dof < q.size(); ++dof) q[dof] = impl_->robot->getJointPos(impl_->dof_bullet_link[dof]);
  return q;
}

Eigen::VectorXd World::joint_velocities() const {
  if (!impl_->robot) return {};
  Eigen::VectorXd qd(impl_->dof_bullet_link.size());
  for (int dof = 0; dof < qd.size(); ++dof) qd[dof] = impl_->robot->getJointVel(impl_->dof_bullet_link[dof]);
  return qd;
}

void World::SetJointState(const Eigen::VectorXd& q, const Eigen::VectorXd& qd) {
  if (!impl_->robot) return;
  const int dofs = static_cast<int>(impl_->dof_bullet_link.size());
  if (q.size() != dofs || (qd.size() != 0 && qd.size() != dofs)) {
    throw std::invalid_argument("World::SetJointState: " + std::to_string(q.size()) + " positions and " +
                                std::to_string(qd.size()) + " velocities for " + std::to_string(dofs) + " dofs");
  }
  for (int dof = 0; dof < dofs; ++dof) {
    impl_->robot->setJointPos(impl_->dof_bullet_link[dof], q[dof]);
    impl_->robot->setJointVel(impl_->dof_bullet_link[dof], qd.size() ? qd[dof] : 0.0);
  }
  impl_->UpdateRobotKinematics();
}

Eigen::VectorXd World::applied_torques() const { return impl_->last_applied; }

Eigen::Isometry3d World::LinkPose(int link) const {
  if (!impl_->robot) throw std::logic_error("World::LinkPose: the model has no robot");
  if (link < 0 || link >= static_cast<int>(impl_->link_bodies.size())) {
    throw std::out_of_range("World::LinkPose: link index " + std::to_string(link) + " out of range");
  }
  return impl_->ComPose(link) * impl_->link_bodies[link].frame.inverse();
}

void World::SetCommand(const RobotCommand& command) {
  if (!impl_->robot) return;
  const int dofs = static_cast<int>(impl_->dof_bullet_link.size());
  const auto check = [&](const Eigen::VectorXd& v, const char* name) {
    if (v.size() != 0 && v.size() != dofs) {
      throw std::invalid_argument(std::string("World::SetCommand: ") + name + " has " + std::to_string(v.size()) +
                                  " entries for " + std::to_string(dofs) + " dofs");
    }
  };
  check(command.position, "position");
  check(command.velocity, "velocity");
  check(command.torque, "torque");
  check(command.feedforward, "feedforward");
  const auto at = [](const Eigen::VectorXd& v, int i) { return v.size() ? v[i] : 0.0; };
  const double now = time_s();
  if (impl_->transmission.size() != 0) {
    // Each motor's controller gets its own command: u = T q for positions and velocities, T^-T tau for torques.
    const Eigen::MatrixXd& t = impl_->transmission;
    const Eigen::MatrixXd& t_inverse_transpose = impl_->transmission_inverse_transpose;
    const auto map = [](const Eigen::MatrixXd& m, const Eigen::VectorXd& v) {
      return v.size() ? Eigen::VectorXd(m * v) : Eigen::VectorXd();
    };
    const Eigen::VectorXd position = map(t, command.position), velocity = map(t, command.velocity),
                          torque = map(t_inverse_transpose, command.torque),
                          feedforward = map(t_inverse_transpose, command.feedforward);
    for (int motor = 0; motor < dofs; ++motor) {
      impl_->delays[motor].Push(now, JointCommand{at(position, motor), at(velocity, motor), at(torque, motor),
                                                  at(feedforward, motor)});
    }
    return;
  }
  for (int dof = 0; dof < dofs; ++dof) {
    impl_->delays[dof].Push(now, JointCommand{at(command.position, dof), at(command.velocity, dof),
                                              at(command.torque, dof), at(command.feedforward, dof)});
  }
}

MultiBodySummary World::DescribeRobot() const {
  MultiBodySummary summary;
  if (!impl_->robot) return summary;
  const btMultiBody& mb = *impl_->robot;
  const RobotModel& r = *model_->robot;
  summary.num_links = mb.getNumLinks();
  summary.num_dofs = mb.getNumDofs();
  summary.fixed_base = mb.hasFixedBase();
  summary.self_collision = mb.hasSelfCollision();
  for (int i = 0; i <= summary.num_links; ++i) {
    MultiBodySummary::LinkInfo info;
    info.name = r.links[i].name;
    info.bullet_index = i - 1;
    if (i == 0) {
      info.joint_type = "base";
      info.mass_kg = mb.getBaseMass();
      info.principal_inertia_kgm2 = FromBt(mb.getBaseInertia());
    } else {
      info.parent_bullet_index = mb.getParent(i - 1);
      info.joint_type = JointTypeName(mb.getLink(i - 1).m_jointType);
      info.mass_kg = mb.getLinkMass(i - 1);
      info.principal_inertia_kgm2 = FromBt(mb.getLinkInertia(i - 1));
    }
    if (const auto* limit = impl_->limits.empty() ? nullptr : impl_->limits[i]) {
      info.has_limit = true;
      info.lower_limit = limit->getLowerBound();
      info.upper_limit = limit->getUpperBound();
    }
    const int dof = r.links[i].dof;
    info.has_coulomb_motor = dof >= 0 && impl_->coulomb_motors[dof] != nullptr;
    if (impl_->link_shapes[i]) info.num_collision_shapes = impl_->link_shapes[i]->getNumChildShapes();
    summary.links.push_back(std::move(info));
  }
  return summary;
}

CollisionGeometryUse World::collision_geometry_use() const { return impl_->shapes.use(); }

Eigen::Isometry3d World::ObjectPose(int object) const {
  impl_->CheckObject(object);
  return FromBt(impl_->objects[object]->getWorldTransform()) * impl_->object_bodies[object].frame.inverse();
}

void World::SetObjectPose(int object, const Eigen::Isometry3d& pose) {
  impl_->CheckObject(object);
  btRigidBody& body = *impl_->objects[object];
  const btTransform t = ToBtTransform(pose * impl_->object_bodies[object].frame);
  body.setWorldTransform(t);
  body.setInterpolationWorldTransform(t);
  impl_->world->updateSingleAabb(&body);
}

void World::SetObjectVelocity(int object, const Eigen::Vector3d& linear_mps, const Eigen::Vector3d& angular_radps) {
  impl_->CheckObject(object);
  btRigidBody& body = *impl_->objects[object];
  // Bullet's linear velocity is the centre of mass'; ours is the object frame origin's.
  const Eigen::Vector3d origin_to_com = FromBt(body.getWorldTransform().getOrigin()) - ObjectPose(object).translation();
  const btVector3 v = ToBt(Eigen::Vector3d(linear_mps + angular_radps.cross(origin_to_com)));
  const btVector3 w = ToBt(angular_radps);
  body.setLinearVelocity(v);
  body.setAngularVelocity(w);
  body.setInterpolationLinearVelocity(v);
  body.setInterpolationAngularVelocity(w);
}

Eigen::Vector3d World::ObjectLinearVelocity(int object) const {
  impl_->CheckObject(object);
  const btRigidBody& body = *impl_->objects[object];
  const Eigen::Vector3d com_to_origin = ObjectPose(object).translation() - FromBt(body.getWorldTransform().getOrigin());
  return FromBt(body.getLinearVelocity()) + FromBt(body.getAngularVelocity()).cross(com_to_origin);
}

Eigen::Vector3d World::ObjectAngularVelocity(int object) const {
  impl_->CheckObject(object);
  return FromBt(impl_->objects[object]->getAngularVelocity());
}

void World::Step() {
  Impl& s = *impl_;
  if (s.robot) {
    const RobotModel& r = *model_->robot;
    const double now = time_s();
    if (s.transmission.size() != 0) {
      s.StepCoupledDrives(r, now);
    } else {
      s.StepDrives(r, now);
    }
    if (s.rigid_dynamics) {
      const Eigen::VectorXd extra = s.ArmatureTorques();
      for (int dof = 0; dof < r.num_dofs(); ++dof) s.robot->addJointTorque(s.dof_bullet_link[dof], extra[dof]);
    }
  }
  s.world->stepSimulation(s.dt, 0);  // maxSubSteps 0: exactly one step of dt, no interpolation
  ++s.steps;
  if (s.robot) {
    for (int motor = 0; motor < s.last_applied.size(); ++motor) {
      // With armature the bound was scaled (world.h); the torque on the motor is the impulse over the scale, and
      // a coupled motor's reaches the joints through T_k^T.
      btMultiBodyConstraint* friction = s.coulomb_motors[motor];
      if (friction == nullptr) continue;
      const double torque = friction->getAppliedImpulse(0) / (s.dt * s.coulomb_scale[motor]);
      if (s.transmission.size() != 0) {
        s.last_applied += s.transmission.row(motor).transpose() * torque;
      } else {
        s.last_applied[motor] += torque;
      }
    }
  }
}

void World::Step(int n) {
  for (int i = 0; i < n; ++i) Step();
}

}  // namespace r2s::sim

#pragma once
// The joint-dynamics fit's torque model (private to sysid; the model itself is written out in joint_dynamics.h):
// the parameter vector's layout, the smooth-sign friction with its derivatives, the thinned training samples, the
// normalised torque residual Ceres fits and the linear least-squares start.

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <ceres/ceres.h>
#include <Eigen/Core>

namespace r2s::sysid::joint_dynamics {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum FrictionField { kCoulomb, kViscous, kOffset, kCoulombVelocity, kStribeck, kStribeckVelocity, kFrictionFields };

struct Parameter {
  std::string name;
  std::string unit;
  double nominal = 0;
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
  double scale = 1;  // a typical size: the column scaling of the identifiability analysis
  bool overlays = false;
  bool free = true;
  std::string why_fixed;  // when !free
};

// p = [beta (r) | per measured joint: fc, fv, fo, vc, fs, vs]; without Stribeck fs = 0 and vs fixed.
struct Layout {
  int base = 0;
  int joints = 0;
  bool stribeck = false;
  std::vector<Parameter> parameters;
  int friction(int joint, FrictionField field) const { return base + kFrictionFields * joint + field; }
};

struct Friction {
  double value = 0;
  std::array<double, kFrictionFields> d{};  // d value / d field
};

// The friction of one motor at velocity v, and its derivatives, from its fields f (kFrictionFields values).
inline Friction EvaluateFriction(const double* f, double v, bool stribeck) {
  Friction out;
  const double u = v / f[kCoulombVelocity];
  const double sign = std::tanh(u);
  const double sech2 = 1 - sign * sign;
  double coulomb = f[kCoulomb];
  out.d[kCoulomb] = sign;
  out.d[kViscous] = v;
  out.d[kOffset] = 1;
  out.value = f[kCoulomb] * sign + f[kViscous] * v + f[kOffset];
  if (stribeck) {
    const double w = v / f[kStribeckVelocity];
    const double e = std::exp(-w * w);
    out.value += f[kStribeck] * e * sign;
    out.d[kStribeck] = e * sign;
    out.d[kStribeckVelocity] = f[kStribeck] * sign * e * 2 * w * w / f[kStribeckVelocity];
    coulomb += f[kStribeck] * e;
  }
  out.d[kCoulombVelocity] = -coulomb * sech2 * u / f[kCoulombVelocity];
  return out;
}

// The thinned training samples in the form the residuals read.
struct FitData {
  int joints = 0;
  RowMatrix y;              // (samples * joints) x base: row s * joints + j
  Eigen::MatrixXd qd, tau;  // samples x joints; qd holds the motors' velocities (T qd) with a coupled transmission
  // Per joint j: the motors k whose friction it feels, with T_kj; {(j, 1)} without a coupled transmission.
  std::vector<std::vector<std::pair<int, double>>> motors_of_joint;
  Eigen::VectorXd sigma;    // per joint: the robust noise level residuals are divided by
  std::vector<std::int64_t> sample_group;  // per sample: its episode (training part)
  Eigen::Index samples() const { return qd.rows(); }
};

// The most motors one joint's torque may feel through a coupled transmission (a wrist's differential couples 2 or
// 3); FitJointDynamics refuses more.
constexpr std::size_t kMaxCoupledMotors = 8;

// Maps the free parameters (Ceres's x) and the fixed ones onto the full vector.
struct FreeMap {
  std::vector<int> free_index;  // per full parameter: its index in x, or -1
  std::vector<int> full_index;  // per x entry: its full parameter
  Eigen::VectorXd fixed;        // the full vector (free entries overwritten from x)
};

FreeMap MakeFreeMap(const Layout& layout, const Eigen::VectorXd& p);

// One joint's torque at one sample, normalised by the joint's noise level: (tau - predicted) / sigma.
class TorqueResidual final : public ceres::CostFunction {
 public:
  TorqueResidual(const FitData& data, const Layout& layout, const FreeMap& map, Eigen::Index sample, int joint)
      : data_(data), layout_(layout), map_(map), sample_(sample), joint_(joint) {
    set_num_residuals(1);
    mutable_parameter_block_sizes()->push_back(static_cast<int>(map.full_index.size()));
  }

  bool Evaluate(double const* const* parameters, double* residuals, double** jacobians) const override;

 private:
  const FitData& data_;
  const Layout& layout_;
  const FreeMap& map_;
  Eigen::Index sample_;
  int joint_;
};

// The linear part of the model (beta, fc, fv, fo, fs) by least squares with vc and vs held: the start for Ceres.
// Returns the residuals (samples x joints).
Eigen::MatrixXd LinearStart(const FitData& data, const Layout& layout, Eigen::VectorXd& p);

}  // namespace r2s::sysid::joint_dynamics

#include "sysid/object_start_state.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/QR>

#include "sysid/object_pose_residuals.h"

namespace r2s::sysid::objects {
namespace {

constexpr double kFreeFlightMargin_m = 0.005;    // above the resting height: surely out of contact
constexpr int kMaxStartWindow = 40;              // frames of the start fit (~0.27 s at 148 Hz)
constexpr double kMaxStartAngle_rad = 2.5;       // rotation vectors stay unwrapped within the window
constexpr double kBallisticTolerance_m = 0.002;  // a ballistic fit worse than this was not free flight

// Height along `up` of the lowest point of the object's collision shapes at `pose`.
double LowestPoint(const sim::ObjectModel& object, const Eigen::Isometry3d& pose, const Eigen::Vector3d& up) {
  double lowest = std::numeric_limits<double>::infinity();
  for (const sim::Shape& shape : object.collisions) {
    const Eigen::Isometry3d at = pose * shape.origin;
    const double centre = up.dot(at.translation());
    switch (shape.kind) {
      case sim::ShapeKind::kBox:
        for (int corner = 0; corner < 8; ++corner) {
          const Eigen::Vector3d local(corner & 1 ? 0.5 : -0.5, corner & 2 ? 0.5 : -0.5, corner & 4 ? 0.5 : -0.5);
          lowest = std::min(lowest, up.dot(at * local.cwiseProduct(shape.box_size_m)));
        }
        break;
      case sim::ShapeKind::kSphere:
        lowest = std::min(lowest, centre - shape.radius_m);
        break;
      case sim::ShapeKind::kCylinder: {
        const double axial = std::abs(up.dot(at.linear().col(2)));
        lowest = std::min(lowest, centre - 0.5 * shape.length_m * axial -
                                      shape.radius_m * std::sqrt(std::max(0.0, 1 - axial * axial)));
        break;
      }
      case sim::ShapeKind::kMesh:
        if (shape.mesh) {
          for (const Eigen::Vector3d& v : shape.mesh->vertices_m) lowest = std::min(lowest, up.dot(at * v));
        }
        break;
      case sim::ShapeKind::kPlane:
        break;
    }
  }
  return std::isfinite(lowest) ? lowest : 0.0;
}

// Least squares of y_i ~ sum_k c_k t_i^k (k < order) over the rows given; returns the coefficients (order x 3).
Eigen::MatrixXd PolynomialFit(const std::vector<double>& t, const std::vector<Eigen::Vector3d>& y, int count,
                              int order) {
  Eigen::MatrixXd a(count, order), b(count, 3);
  for (int i = 0; i < count; ++i) {
    double power = 1;
    for (int k = 0; k < order; ++k, power *= t[i]) a(i, k) = power;
    b.row(i) = y[i].transpose();
  }
  return a.colPivHouseholderQr().solve(b);
}

}  // namespace

std::array<Eigen::Isometry3d, 3> SmoothStart(const std::vector<Eigen::Isometry3d>& poses, const std::vector<double>& t,
                                             const Eigen::Vector3d& com_m, const sim::ObjectModel& object,
                                             const Eigen::Vector3d& gravity, double time_step_s, std::string& method) {
  const auto frames = static_cast<int>(poses.size());
  const Eigen::Vector3d up = gravity.norm() > 0 ? Eigen::Vector3d(-gravity.normalized()) : Eigen::Vector3d::UnitZ();
  double rest = std::numeric_limits<double>::infinity();
  std::vector<double> lowest(frames);
  for (int i = 0; i < frames; ++i) rest = std::min(rest, lowest[i] = LowestPoint(object, poses[i], up));
  int free = 0;
  while (free < frames && lowest[free] > rest + kFreeFlightMargin_m) ++free;
  std::vector<Eigen::Vector3d> com(frames), rotation(frames);
  const Eigen::Matrix3d r0 = poses[0].linear();
  int window = std::min(frames, kMaxStartWindow);
  for (int i = 0; i < window; ++i) {
    com[i] = poses[i] * com_m;
    rotation[i] = RotationVector(poses[i].linear() * r0.transpose());
    if (rotation[i].norm() > kMaxStartAngle_rad) window = i;
  }
  const double h = (t[2] - t[0]) / 2;
  Eigen::Vector3d c0, v0, a0;
  const int ballistic = std::min(free, window);
  bool fitted = false;
  if (ballistic >= 4) {
    // Centre of mass in free flight: p0 + v0 t + g t^2 / 2.
    std::vector<Eigen::Vector3d> y(ballistic);
    for (int i = 0; i < ballistic; ++i) y[i] = com[i] - 0.5 * gravity * t[i] * t[i];
    const Eigen::MatrixXd c = PolynomialFit(t, y, ballistic, 2);
    double sum = 0;
    for (int i = 0; i < ballistic; ++i)
      sum += (y[i] - c.row(0).transpose() - c.row(1).transpose() * t[i]).squaredNorm();
    if (std::sqrt(sum / ballistic) < kBallisticTolerance_m) {
      c0 = c.row(0).transpose();
      v0 = c.row(1).transpose();
      a0 = gravity;
      window = ballistic;
      fitted = true;
      method = "ballistic fit of frames 0-" + std::to_string(ballistic - 1);
    }
  }
  if (!fitted) {
    // In contact from the start (a push, a slide): a local quadratic over the first frames.
    window = std::min(window, 6);
    const Eigen::MatrixXd c = PolynomialFit(t, com, window, 3);
    c0 = c.row(0).transpose();
    v0 = c.row(1).transpose();
    a0 = 2 * c.row(2).transpose();
    method = "local quadratic fit of frames 0-" + std::to_string(window - 1);
  }
  // Bullet integrates semi-implicitly (v += a dt, then x += v dt), so a body started with velocity v follows
  // x0 + (v + a dt / 2) t + a t^2 / 2 at the steps: starting it with v0 - a dt / 2 puts it on the fitted curve (at
  // 1 ms, g dt / 2 is 5 mm/s, enough to send a tumbling cube onto another face).
  v0 -= 0.5 * a0 * time_step_s;
  // Orientation: R(t) = exp(w t) exp(d) R0, by a straight-line fit of the rotation vectors.
  const Eigen::MatrixXd r = PolynomialFit(t, rotation, window, 2);
  const Eigen::Vector3d offset = r.row(0).transpose(), omega = r.row(1).transpose();
  const Eigen::Matrix3d start = FromRotationVector(offset) * r0;
  std::array<Eigen::Isometry3d, 3> out;
  for (int k = 0; k < 3; ++k) {
    const double tk = k * h;
    Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
    pose.linear() = FromRotationVector(omega * tk) * start;
    pose.translation() = c0 + v0 * tk + 0.5 * a0 * tk * tk - pose.linear() * com_m;
    out[k] = pose;
  }
  return out;
}

}  // namespace r2s::sysid::objects

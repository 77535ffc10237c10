#include "sysid/object_pose_residuals.h"

#include <cmath>
#include <limits>

#include <Eigen/Eigenvalues>

namespace r2s::sysid::objects {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

Eigen::Vector3d RotationVector(const Eigen::Matrix3d& rotation) {
  const Eigen::AngleAxisd aa(rotation);
  return aa.axis() * aa.angle();
}

Eigen::Matrix3d FromRotationVector(const Eigen::Vector3d& v) {
  const double angle = v.norm();
  if (angle < 1e-300) return Eigen::Matrix3d::Identity();
  return Eigen::AngleAxisd(angle, v / angle).toRotationMatrix();
}

double AngleBetween(const Eigen::Matrix3d& a, const Eigen::Matrix3d& b) {
  return Eigen::AngleAxisd(a.transpose() * b).angle();
}

void FrameResiduals(const Tracked& tracked, const Eigen::Isometry3d& measured, const Eigen::Isometry3d& simulated,
                    double* out) {
  const Eigen::Vector3d dp = simulated * tracked.com_m - measured * tracked.com_m;
  const Eigen::Vector3d dr = tracked.gyration_m * RotationVector(measured.linear().transpose() * simulated.linear());
  for (int j = 0; j < 3; ++j) {
    out[j] = dp[j];
    out[3 + j] = dr[j];
  }
}

ChannelFit PositionFit(const std::string& channel, const PoseErrors& e) {
  ChannelFit fit;
  fit.channel = channel;
  fit.unit = "m";
  fit.samples = static_cast<std::int64_t>(e.measured_p.size());
  if (e.measured_p.empty()) {
    fit.rms = fit.r2 = kNaN;
    return fit;
  }
  Eigen::Vector3d mean = Eigen::Vector3d::Zero();
  for (const auto& p : e.measured_p) mean += p;
  mean /= static_cast<double>(e.measured_p.size());
  double sse = 0, sst = 0;
  for (std::size_t i = 0; i < e.measured_p.size(); ++i) {
    sse += (e.predicted_p[i] - e.measured_p[i]).squaredNorm();
    sst += (e.measured_p[i] - mean).squaredNorm();
  }
  fit.rms = std::sqrt(sse / static_cast<double>(fit.samples));
  fit.r2 = sst > 0 ? 1 - sse / sst : kNaN;
  return fit;
}

ChannelFit OrientationFit(const std::string& channel, const PoseErrors& e) {
  ChannelFit fit;
  fit.channel = channel;
  fit.unit = "deg";
  fit.samples = static_cast<std::int64_t>(e.angle_deg.size());
  if (e.angle_deg.empty()) {
    fit.rms = fit.r2 = kNaN;
    return fit;
  }
  // R^2 about the measured orientations' mean (the dominant eigenvector of the summed quaternion outer products).
  Eigen::Matrix4d sum = Eigen::Matrix4d::Zero();
  for (const auto& r : e.measured_r) {
    const Eigen::Vector4d q = Eigen::Quaterniond(r).coeffs();
    sum += q * q.transpose();
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix4d> eigen(sum);
  const Eigen::Vector4d m = eigen.eigenvectors().col(3);
  const Eigen::Matrix3d mean = Eigen::Quaterniond(m[3], m[0], m[1], m[2]).normalized().toRotationMatrix();
  double sse = 0, sst = 0;
  for (std::size_t i = 0; i < e.angle_deg.size(); ++i) {
    sse += e.angle_deg[i] * e.angle_deg[i];
    const double a = AngleBetween(mean, e.measured_r[i]) * 180 / M_PI;
    sst += a * a;
  }
  fit.rms = std::sqrt(sse / static_cast<double>(fit.samples));
  fit.r2 = sst > 0 ? 1 - sse / sst : kNaN;
  return fit;
}

}  // namespace r2s::sysid::objects

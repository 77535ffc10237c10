#pragma once
// How far a simulated object is from its tracked pose (private to sysid): the object fit's residuals of one frame
// (see the top of object_fit.cc), the fit measures of its predictions, and the rotation helpers they share.

#include <string>
#include <vector>

#include <Eigen/Geometry>

#include "sysid/fit_result.h"
#include "sysid/object_simulator.h"

namespace r2s::sysid::objects {

Eigen::Vector3d RotationVector(const Eigen::Matrix3d& rotation);
Eigen::Matrix3d FromRotationVector(const Eigen::Vector3d& v);
double AngleBetween(const Eigen::Matrix3d& a, const Eigen::Matrix3d& b);  // rad

// Six residuals per tracked object and frame (see the top of object_fit.cc): the centre of mass's displacement (m)
// and the rotation error times sqrt(I / m), into out[0, 6).
void FrameResiduals(const Tracked& tracked, const Eigen::Isometry3d& measured, const Eigen::Isometry3d& simulated,
                    double* out);

// Position (m, distance of the object's frame) and orientation (deg) fit over frames [begin(e), end(e)).
struct PoseErrors {
  std::vector<Eigen::Vector3d> measured_p, predicted_p;
  std::vector<Eigen::Matrix3d> measured_r;
  std::vector<double> angle_deg;
};

ChannelFit PositionFit(const std::string& channel, const PoseErrors& e);
ChannelFit OrientationFit(const std::string& channel, const PoseErrors& e);

}  // namespace r2s::sysid::objects

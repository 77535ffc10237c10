#pragma once
// The object fit's start state (private to sysid): the poses ReplayEpisode starts an object from, smoothed from
// its first tracked frames. A second-order difference of three noisy frames amplifies tracking noise several hundred
// times at 148 Hz; the top of object_fit.cc says how the fit here avoids it.

#include <array>
#include <string>
#include <vector>

#include <Eigen/Geometry>

#include "sim/model.h"

namespace r2s::sysid::objects {

// The poses ReplayEpisode should see at t0, t0 + h, t0 + 2h (h = half of t2 - t0) so that its second-order
// difference gives the fitted initial velocity: a ballistic fit of the object's first frames while it is in free
// flight, else a local quadratic (`method` says which, and over which frames). com_m: the centre of mass in the
// object's frame.
std::array<Eigen::Isometry3d, 3> SmoothStart(const std::vector<Eigen::Isometry3d>& poses, const std::vector<double>& t,
                                             const Eigen::Vector3d& com_m, const sim::ObjectModel& object,
                                             const Eigen::Vector3d& gravity, double time_step_s, std::string& method);

}  // namespace r2s::sysid::objects

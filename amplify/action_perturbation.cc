#include "amplify/action_perturbation.h"

#include <algorithm>
#include <cmath>

#include "randomize/stream.h"

namespace r2s::amplify {
namespace {

// Linear interpolation of columns given at `times` (ascending), at time t (clamped to the ends).
Eigen::VectorXd Interpolate(const Eigen::MatrixXd& columns, const std::vector<double>& times, double t) {
  if (t <= times.front()) return columns.col(0);
  if (t >= times.back()) return columns.col(static_cast<Eigen::Index>(times.size() - 1));
  const auto upper = std::upper_bound(times.begin(), times.end(), t);
  const auto i = static_cast<Eigen::Index>(upper - times.begin());
  const double t0 = times[static_cast<std::size_t>(i - 1)], t1 = times[static_cast<std::size_t>(i)];
  const double w = t1 > t0 ? (t - t0) / (t1 - t0) : 0.0;
  return (1 - w) * columns.col(i - 1) + w * columns.col(i);
}

}  // namespace

TimeWarp DrawTimeWarp(const std::vector<double>& time_s, double bound, double period_s, std::uint64_t seed,
                      std::uint32_t episode, std::uint32_t variant) {
  TimeWarp warp;
  warp.warped_time_s = time_s;
  warp.rate.assign(time_s.size(), 1.0);
  if (bound <= 0 || time_s.size() < 2) return warp;
  const double end = time_s.back();
  const int knots = static_cast<int>(std::ceil(end / period_s)) + 1;
  randomize::Stream stream(seed, episode, variant, "time_warp");
  std::vector<double> s(static_cast<std::size_t>(knots));
  for (double& x : s) x = 2 * stream.Uniform01() - 1;
  auto rate = [&](double t) {
    const double k = std::clamp(t / period_s, 0.0, static_cast<double>(knots - 1));
    const auto i = std::min(static_cast<int>(k), knots - 2);
    const double w = k - i;
    return 1 + bound * ((1 - w) * s[i] + w * s[i + 1]);
  };
  // The integral of a piecewise-linear rate, by the trapezoid rule on the frame times (exact between knots, and
  // the frames are far denser than the knots).
  std::vector<double> tau(time_s.size(), 0.0);
  for (std::size_t i = 1; i < time_s.size(); ++i) {
    tau[i] = tau[i - 1] + 0.5 * (rate(time_s[i - 1]) + rate(time_s[i])) * (time_s[i] - time_s[i - 1]);
  }
  const double scale = tau.back() > 0 ? end / tau.back() : 1.0;
  for (std::size_t i = 0; i < time_s.size(); ++i) {
    warp.warped_time_s[i] = time_s[0] + tau[i] * scale;
    warp.rate[i] = rate(time_s[i]) * scale;
  }
  return warp;
}

std::vector<bool> PerturbDrive(const ActionPerturbation& p, const sim::FrameClock& clock, std::uint64_t seed,
                               std::uint32_t episode, std::uint32_t variant, sim::ReplayDrive* drive) {
  const auto frames = static_cast<Eigen::Index>(clock.time_s.size());
  std::vector<bool> duplicated(static_cast<std::size_t>(frames), false);
  if (frames == 0) return duplicated;
  const Eigen::Index dofs = drive->position.rows();

  if (p.time_warp > 0 && frames > 1 && dofs > 0) {
    const TimeWarp warp = DrawTimeWarp(clock.time_s, p.time_warp, p.time_warp_period_s, seed, episode, variant);
    const sim::ReplayDrive source = *drive;
    for (Eigen::Index i = 0; i < frames; ++i) {
      const double t = warp.warped_time_s[static_cast<std::size_t>(i)];
      drive->position.col(i) = Interpolate(source.position, clock.time_s, t);
      drive->velocity.col(i) = Interpolate(source.velocity, clock.time_s, t) * warp.rate[static_cast<std::size_t>(i)];
      drive->torque.col(i) = Interpolate(source.torque, clock.time_s, t);
      drive->feedforward.col(i) = Interpolate(source.feedforward, clock.time_s, t);
    }
  }
  if (p.noise_std > 0 && dofs > 0) {
    randomize::Stream noise(seed, episode, variant, "action_noise");
    for (Eigen::Index i = 0; i < frames; ++i) {
      for (Eigen::Index d = 0; d < dofs; ++d) drive->position(d, i) += p.noise_std * noise.Normal();
    }
  }
  // Two uniforms per frame whatever the probabilities, so the faults of one kind do not shift the other's.
  randomize::Stream faults(seed, episode, variant, "frame_faults");
  for (Eigen::Index i = 1; i < frames; ++i) {
    const double drop = faults.Uniform01(), duplicate = faults.Uniform01();
    if (drop < p.drop_probability && dofs > 0) {
      drive->position.col(i) = drive->position.col(i - 1);
      drive->velocity.col(i) = drive->velocity.col(i - 1);
      drive->torque.col(i) = drive->torque.col(i - 1);
      drive->feedforward.col(i) = drive->feedforward.col(i - 1);
    }
    duplicated[static_cast<std::size_t>(i)] = duplicate < p.duplicate_probability;
  }
  return duplicated;
}

}  // namespace r2s::amplify

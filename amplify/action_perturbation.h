#pragma once
// Action perturbations on a replay drive, the way real logs go wrong: the operator's timing (a time warp within a
// bound), noise on the commands, commands that never arrived (dropped frames) and observations logged twice
// (duplicated frames). Every random number comes from the variant's own Philox streams ("time_warp",
// "action_noise", "frame_faults"), so a variant perturbs alike in any run.

#include <cstdint>
#include <vector>

#include "amplify/variant_draw.h"
#include "sim/replay.h"

namespace r2s::amplify {

// The time map of a warp: the command of output frame i is the source's at warped_time_s[i]. The playback rate is
// 1 + b s(t), s linear between knots one period apart and drawn uniformly in [-1, 1], rescaled so that the warped
// episode ends where the source ends (the rate then stays within [(1 - b) / (1 + b), (1 + b) / (1 - b)]).
// b = 0 gives warped_time_s == time_s.
struct TimeWarp {
  std::vector<double> warped_time_s;
  std::vector<double> rate;  // d warped / d t at each frame
};
TimeWarp DrawTimeWarp(const std::vector<double>& time_s, double bound, double period_s, std::uint64_t seed,
                      std::uint32_t episode, std::uint32_t variant);

// Perturbs `drive` in place: time warp (every command column resampled at the warped times by linear
// interpolation, velocity references scaled by the rate), additive Gaussian noise of std p.noise_std on every
// position target, then dropped frames (a frame's command replaced by the one before it). Returns, per frame,
// whether its logged observation repeats the previous frame's (frame 0 never does). The robot's and objects'
// start is left alone.
std::vector<bool> PerturbDrive(const ActionPerturbation& p, const sim::FrameClock& clock, std::uint64_t seed,
                               std::uint32_t episode, std::uint32_t variant, sim::ReplayDrive* drive);

}  // namespace r2s::amplify

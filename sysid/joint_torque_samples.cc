#include "sysid/joint_torque_samples.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "episode/input_error.h"
#include "sysid/fit_result.h"
#include "sysid/signal_filter.h"

namespace r2s::sysid::joint_dynamics {
namespace {

constexpr std::int64_t kMinPartFrames = 8;  // the filter's one-sided differences need a few

std::string Num(double x, int precision = 4) { return FormatNumber(x, precision); }

// Column `c` of a [T, width] float column, as doubles; throws InputError on NaN/Inf naming frame and joint.
Eigen::VectorXd ReadSignal(const ProblemInput& input, std::int64_t episode_index, const episode::Episode& episode,
                           const Slice& slice, const std::string& what) {
  const std::string field =
      "episode " + std::to_string(episode_index) + ": " + slice.feature + "[" + std::to_string(slice.column) + "]";
  const episode::Column* column = episode.Find(slice.feature);
  if (column == nullptr) throw InputError(input.dataset_file, field, "is missing (" + what + ")");
  const episode::Array& a = column->data;
  const std::int64_t frames = column->num_frames();
  const std::int64_t width = frames > 0 ? a.size() / frames : 0;
  if (slice.column >= width) {
    throw InputError(input.dataset_file, field,
                     "is out of range: the feature has " + std::to_string(width) + " values per frame (" + what + ")");
  }
  Eigen::VectorXd out(frames);
  const auto read = [&](auto values) {
    for (std::int64_t i = 0; i < frames; ++i) {
      const double raw = static_cast<double>(values[i * width + slice.column]);
      out[i] = slice.binding ? slice.binding->SiFromRaw(slice.index, raw) : raw;
    }
  };
  if (a.dtype == episode::DType::kFloat64) {
    read(a.values<double>());
  } else if (a.dtype == episode::DType::kFloat32) {
    read(a.values<float>());
  } else {
    throw InputError(input.dataset_file, field, "is not float32 or float64 (" + what + ")");
  }
  for (std::int64_t i = 0; i < frames; ++i) {
    if (!std::isfinite(out[i])) {
      throw InputError(input.dataset_file, field,
                       "is " + Num(out[i]) + " at frame " + std::to_string(i) + " (" + what + ")");
    }
  }
  return out;
}

// Seconds from the episode's first frame: its timestamp column, else frame / fps.
Eigen::VectorXd ReadTimes(const ProblemInput& input, std::int64_t episode_index, const episode::Episode& episode,
                          std::int64_t frames) {
  Eigen::VectorXd t(frames);
  const std::string field = "episode " + std::to_string(episode_index) + ": timestamp";
  if (const episode::Column* column = episode.Find("timestamp")) {
    t = ReadSignal(input, episode_index, episode, Slice{"timestamp", 0}, "time");
    if (t.size() != frames) throw InputError(input.dataset_file, field, "has another length than the signals");
    const double t0 = t[0];
    t.array() -= t0;
    for (std::int64_t i = 1; i < frames; ++i) {
      if (!(t[i] > t[i - 1])) {
        throw InputError(input.dataset_file, field,
                         "does not increase at frame " + std::to_string(i) + " (" + Num(t[i - 1], 10) + " s then " +
                             Num(t[i], 10) + " s)");
      }
    }
    (void)column;
    return t;
  }
  if (!input.plan.fps() || !(*input.plan.fps() > 0)) {
    throw InputError(input.dataset_file, field, "is missing and the dataset declares no fps");
  }
  for (std::int64_t i = 0; i < frames; ++i) t[i] = static_cast<double>(i) / *input.plan.fps();
  return t;
}

Part SlicePart(const Part& p, std::int64_t begin, std::int64_t end) {
  Part out;
  out.episode = p.episode;
  const std::int64_t n = end - begin;
  out.t = p.t.segment(begin, n);
  out.q = p.q.middleRows(begin, n);
  out.qd = p.qd.middleRows(begin, n);
  out.qdd = p.qdd.middleRows(begin, n);
  out.tau = p.tau.middleRows(begin, n);
  return out;
}

Part MakePart(const Sources& s, const Eigen::VectorXd& q_fixed, std::int64_t episode, const Eigen::VectorXd& t,
              const std::map<int, Eigen::VectorXd>& position, const std::map<int, Eigen::VectorXd>& velocity,
              const std::vector<Eigen::VectorXd>& effort, std::int64_t begin, std::int64_t end,
              const SmoothingOptions& smoothing, bool measured_velocity) {
  Part p;
  p.episode = episode;
  const std::int64_t n = end - begin;
  const auto dofs = q_fixed.size();
  p.t = t.segment(begin, n);
  p.q = q_fixed.transpose().replicate(n, 1);
  p.qd = Eigen::MatrixXd::Zero(n, dofs);
  p.qdd = Eigen::MatrixXd::Zero(n, dofs);
  Eigen::MatrixXd raw_q(n, s.moving.size());
  for (std::size_t k = 0; k < s.moving.size(); ++k) raw_q.col(k) = position.at(s.moving[k]).segment(begin, n);
  const SmoothedSignals q = SmoothAndDifferentiate(p.t, raw_q, smoothing);
  // A measured velocity is differentiated once rather than the position twice: one difference less of noise.
  std::vector<int> with_velocity;
  for (int dof : s.moving) {
    if (measured_velocity && velocity.count(dof)) with_velocity.push_back(dof);
  }
  Eigen::MatrixXd raw_qd(n, with_velocity.size());
  for (std::size_t k = 0; k < with_velocity.size(); ++k)
    raw_qd.col(k) = velocity.at(with_velocity[k]).segment(begin, n);
  SmoothedSignals qd;
  if (!with_velocity.empty()) qd = SmoothAndDifferentiate(p.t, raw_qd, smoothing);
  for (std::size_t k = 0; k < s.moving.size(); ++k) {
    const int dof = s.moving[k];
    p.q.col(dof) = q.value.col(k);
    const auto it = std::find(with_velocity.begin(), with_velocity.end(), dof);
    if (it != with_velocity.end()) {
      const auto v = it - with_velocity.begin();
      p.qd.col(dof) = qd.value.col(v);
      p.qdd.col(dof) = qd.rate.col(v);
    } else {
      p.qd.col(dof) = q.rate.col(k);
      p.qdd.col(dof) = q.acceleration.col(k);
    }
  }
  p.tau.resize(n, s.measured.size());
  for (std::size_t j = 0; j < s.measured.size(); ++j) p.tau.col(j) = effort[j].segment(begin, n);
  return p;
}

}  // namespace

Sources FindSources(const ProblemInput& input) {
  const sim::RobotModel& robot = *input.model->robot;
  Sources s;
  for (const sim::JointBinding& b : input.plan.joint_bindings()) {
    std::map<int, Slice>* target = nullptr;
    if (b.signal == sim::JointSignal::kPosition) target = &s.position;
    if (b.signal == sim::JointSignal::kVelocity) target = &s.velocity;
    if (b.signal == sim::JointSignal::kEffort) target = &s.effort;
    if (target == nullptr) continue;
    for (std::size_t k = 0; k < b.dofs.size(); ++k) {
      if (target->count(b.dofs[k])) continue;  // the first binding of a signal wins
      (*target)[b.dofs[k]] = Slice{b.feature, b.begin + static_cast<int>(k), &b, k};
      if (b.signal == sim::JointSignal::kEffort) s.measured.push_back(b.dofs[k]);
    }
  }
  const auto joint = [&](int dof) { return robot.dof_link(dof).joint_name; };
  if (s.measured.empty()) {
    throw InputError(input.dataset_file, "features",
                     "joint dynamics needs measured joint torques (a binding with signal: effort in " +
                         input.scene_file + "); the dataset feeds none");
  }
  std::string missing;
  for (int dof : s.measured) {
    if (!s.position.count(dof)) missing += (missing.empty() ? "" : ", ") + joint(dof) + " position";
  }
  if (!missing.empty()) {
    throw InputError(input.dataset_file, "features",
                     "joint dynamics needs measured positions of every joint with a measured torque; missing: " +
                         missing + " (signal: position bindings in " + input.scene_file + ")");
  }
  for (const auto& [dof, slice] : s.position) s.moving.push_back(dof);
  return s;
}

EpisodeParts ReadEpisodeParts(const ProblemInput& input, const Sources& sources, const Eigen::VectorXd& q_fixed,
                              std::int64_t index, const JointDynamicsOptions& options,
                              std::vector<std::string>& warnings) {
  const sim::RobotModel& robot = *input.model->robot;
  const episode::Episode& episode = input.episodes[static_cast<std::size_t>(index)];
  std::map<int, Eigen::VectorXd> position, velocity;
  std::vector<Eigen::VectorXd> effort;
  for (int dof : sources.moving) {
    position[dof] =
        ReadSignal(input, index, episode, sources.position.at(dof), robot.dof_link(dof).joint_name + " position");
    if (sources.velocity.count(dof)) {
      velocity[dof] =
          ReadSignal(input, index, episode, sources.velocity.at(dof), robot.dof_link(dof).joint_name + " velocity");
    }
  }
  for (int dof : sources.measured) {
    effort.push_back(ReadSignal(input, index, episode, sources.effort.at(dof), robot.dof_link(dof).joint_name +
                                                                                   " effort"));
  }
  const std::int64_t frames = effort[0].size();
  const std::int64_t split = HeldOutSplit(frames, options.common.held_out_fraction);
  if (split < kMinPartFrames) {
    throw InputError(input.dataset_file, "episode " + std::to_string(index),
                     "has " + std::to_string(frames) + " frames, " + std::to_string(split) +
                         " of them to fit; joint dynamics needs at least " + std::to_string(kMinPartFrames));
  }
  const Eigen::VectorXd t = ReadTimes(input, index, episode, frames);
  SmoothingOptions smoothing = options.smoothing;
  {
    std::vector<double> periods(frames - 1);
    for (std::int64_t i = 0; i + 1 < frames; ++i) periods[i] = t[i + 1] - t[i];
    const double nyquist_hz = 0.5 / Median(periods);
    if (smoothing.cutoff_hz > 0.4 * nyquist_hz) {
      smoothing.cutoff_hz = 0.4 * nyquist_hz;
      warnings.push_back("episode " + std::to_string(index) + ": sampled at " + Num(2 * nyquist_hz, 3) +
                         " Hz, too slow for the " + Num(options.smoothing.cutoff_hz, 3) +
                         " Hz low-pass; filtered at " + Num(smoothing.cutoff_hz, 3) + " Hz instead");
    }
  }
  // The whole episode is filtered at once: q and qd are inputs, never targets, and a cut at the split would put
  // two more filter edges (where qdd is least certain) into the data. The fit skips the episode's first and
  // last 2 / cutoff seconds: at the ends the filter extrapolates.
  const Part whole = MakePart(sources, q_fixed, index, t, position, velocity, effort, 0, frames, smoothing,
                              options.measured_velocity);
  const double edge_s = 2.0 / smoothing.cutoff_hz;
  std::int64_t first = 0, last = split;
  while (first < split / 4 && t[first] < edge_s) ++first;
  while (last > 3 * split / 4 && t[last - 1] > t[frames - 1] - edge_s) --last;
  EpisodeParts parts;
  parts.train = SlicePart(whole, first, last);
  if (frames > split) parts.held_out = SlicePart(whole, split, frames);
  return parts;
}

double Median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

}  // namespace r2s::sysid::joint_dynamics

#pragma once
// Zero-phase low-pass filtering and differentiation of signals sampled at irregular times (a robot log at "about
// 1 kHz": 0.7 to 8.8 ms between samples).
//
// Why this filter: the rigid-body regressor needs q, qd and qdd that carry the motion (below a few Hz in an
// identification run) and little of the sensor noise, and all three must be delayed by exactly nothing, or the
// inertial terms fit a phase error. So: linear interpolation onto a uniform grid at the median sampling period,
// a Butterworth low-pass (maximally flat pass band: the motion passes unchanged) run forward and backward (zero
// phase, squared magnitude), central differences on the grid, and linear interpolation back to the sample times.
// Gaz et al. 2019 filtered this way (4th order, 20 Hz) for the published Panda model. A Savitzky-Golay fit on the
// raw times would also be zero phase, but its side lobes pass high-frequency noise into qdd that a Butterworth
// stops; resampling costs nothing here (the grid is as fine as the samples and the signals are smooth).

#include <vector>

#include <Eigen/Core>

namespace r2s::sysid {

// y[n] = b0 x[n] + b1 x[n-1] + b2 x[n-2] - a1 y[n-1] - a2 y[n-2] (a first-order section has b2 = a2 = 0).
struct SecondOrderSection {
  double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
};

// A digital Butterworth low-pass of `order` (>= 1) with its -3 dB point at cutoff_hz (0 < cutoff < rate / 2):
// bilinear transform with pre-warping, as second-order sections of unit DC gain. Throws std::invalid_argument.
std::vector<SecondOrderSection> ButterworthLowPass(int order, double cutoff_hz, double sample_rate_hz);

// One pass of the cascade over each column of x (rows are samples), starting at rest.
Eigen::MatrixXd FilterForward(const std::vector<SecondOrderSection>& sections, const Eigen::MatrixXd& x);

// Forward-backward filtering of each column of uniformly sampled x (as scipy.signal.sosfiltfilt): each end extended
// by `pad` samples (clamped to rows - 1) that continue a cubic fitted there, with the odd reflection of what
// it leaves, and each pass started in its steady state, so that the ends carry no start-up transient and keep
// their curvature. The result has zero phase and the squared magnitude response.
Eigen::MatrixXd FiltFilt(const std::vector<SecondOrderSection>& sections, const Eigen::MatrixXd& x, Eigen::Index pad);

struct SmoothingOptions {
  double cutoff_hz = 10;     // of each pass (-6 dB forward-backward)
  int order = 4;             // of the Butterworth (the forward-backward response has twice the roll-off)
  double grid_period_s = 0;  // of the uniform grid; 0: the median sampling period
};

struct SmoothedSignals {
  Eigen::MatrixXd value;         // low-passed x at the sample times
  Eigen::MatrixXd rate;          // its time derivative
  Eigen::MatrixXd acceleration;  // its second time derivative
};

// Low-passes every column of x (rows: samples at the strictly increasing times t_s, at least 3) with zero phase and
// differentiates it twice. Throws std::invalid_argument on sizes, times that do not increase or are not finite,
// or a cutoff at or above the grid's Nyquist frequency.
SmoothedSignals SmoothAndDifferentiate(const Eigen::VectorXd& t_s, const Eigen::MatrixXd& x,
                                       const SmoothingOptions& options = {});

}  // namespace r2s::sysid

#pragma once
// Problem 1: joint dynamics from measured torque (q, qd, tau): the robot's base inertial parameters, per-joint
// friction and armature, fitted to measured joint torques with a robust loss.
//
// The model of joint j's torque:
//   tau_j = Y_B(q, qd, qdd)_j beta + fc_j tanh(qd_j / vc_j) + fv_j qd_j + fo_j
//           [+ fs_j exp(-(qd_j / vs_j)^2) tanh(qd_j / vc_j)]                   (Stribeck, when options.stribeck)
// (with a coupled transmission T, RobotModel::transmission, friction and armature are the motors': motor k's
// friction is evaluated at u_k' = (T qd)_k and reaches joint j as T_kj times it, its armature as T_kj (T qdd)_k;
// a coupled group's torques must be measured together)
// with beta the base parameters (base_parameters.h; independent armatures among them), q and qd from the
// measurements and qdd from them, all low-passed with zero phase (signal_filter.h). tanh is the smooth sign: the
// measured friction of a geared joint turns over within ~0.1 rad/s, and a sharp sign would fit that band badly.
//
// Stages:
//   1. base parameters of the scene's robot for the measured joints (kinematics only);
//   2. a linear least-squares start (fixed vc), then Ceres (Levenberg-Marquardt, dense QR) with a Huber loss on
//      each residual normalised by its joint's robust noise level (1.4826 MAD of the start's residuals): torque
//      spikes lose their pull and quiet wrist joints weigh as much as loud shoulder ones;
//   3. identifiability and covariance (uncertainty.h) at the solution; what the data cannot see is held at its
//      nominal value, the rest re-fitted;
//   4. the physically consistent link inertials (mass > 0, the pseudo-inertia positive definite: log-Cholesky
//      parameters) closest to the scene's nominal ones that reproduce the fitted base parameters' torques on the
//      training samples. These are what the scene takes (robot.<link>.mass_kg, com_*_m, i**_kgm2); they are not
//      individually identified (only the base combinations are), and say so.
// The fit sees the first 1 - held_out_fraction of each episode; the rest is predicted (the base-parameter model),
// beside the reference model's prediction on the same samples when options.baseline names one.

#include <filesystem>
#include <optional>
#include <string>

#include "sysid/base_parameters.h"
#include "sysid/fit_result.h"
#include "sysid/problem_input.h"
#include "sysid/signal_filter.h"
#include "sysid/uncertainty.h"

namespace r2s::sysid {

struct JointDynamicsOptions {
  CommonFitOptions common;
  // A published model (reference_model.h, e.g. scenes/panda_sysid/reference/published_params.json) evaluated on
  // the same samples: ChannelFit::baseline_rms and HeldOutSeries::baseline. Empty: no baseline.
  std::optional<std::filesystem::path> baseline;
  // q, qd (and qdd) low-pass. The motion of an identification run lies below ~1 Hz; 10 Hz keeps its harmonics
  // and drops the 20-50 Hz structural ringing a torque sensor sees, which no rigid-body model predicts.
  SmoothingOptions smoothing;
  bool measured_velocity = true;
  double fit_rate_hz = 200;  // training samples are thinned to about this rate: the filtered kinematics vary slowly
  bool stribeck = false;     // add a Stribeck term per joint
  double huber_threshold = 1.345;  // in robust standard deviations of each joint's residual; <= 0: plain least squares
  int max_iterations = 100;
  // A joint whose training range is below this barely moves: its friction is not identified (held at nominal).
  double min_range_rad = 0.035;
  double smooth_sign_velocity = 0.05;  // rad/s (m/s): vc's start, and its value where held
  bool standard_parameters = true;     // stage 4 (the overlay's link inertials); off: base parameters only
  BaseParameterOptions base;
  UncertaintyOptions uncertainty;

  // Throws std::invalid_argument naming the field and value ("JointDynamicsOptions::fit_rate_hz = 0, expected a
  // finite rate > 0"). FitJointDynamics calls it first.
  void Validate() const;
  // Whether Validate() passes; else *why (when given) names the field and value. Validate() throws that as
  // std::invalid_argument.
  bool IsValid(std::string* why = nullptr) const;
};

// Throws InputError (the dataset file, the feature, the value) for episodes that lack measured positions or
// torques of the robot's joints, NaN or infinite samples, timestamps that do not increase, or too few samples;
// and naming the baseline file when it does not load or has another joint count. A fit that does not converge
// returns with converged = false and Ceres's termination message.
FitResult FitJointDynamics(const ProblemInput& input, const JointDynamicsOptions& options);

}  // namespace r2s::sysid

#pragma once
// Physically consistent link inertials for the joint-dynamics fit (private to sysid), by the log-Cholesky
// parametrisation of Rucker & Wensing (2022): every parameter vector maps to a real mass distribution, so an
// unconstrained solver searches only physical inertials. Step 4 of joint_dynamics.h: the consistent inertials
// closest to the scene's nominal ones that reproduce the fitted base parameters' torques.

#include <string>
#include <vector>

#include <Eigen/Core>

namespace r2s::sysid::joint_dynamics {

// theta (10) -> (m, m c, I about the origin: xx, xy, xz, yy, yz, zz), the regressor's layout. The pseudo-inertia
// J = U U^T with U upper triangular, positive diagonal, is positive definite for every theta: a real mass
// distribution (positive mass, positive principal moments obeying the triangle inequality).
template <typename T>
void StandardFromLogCholesky(const T* th, T* pi) {
  using std::exp;
  const T e = exp(th[0]);
  // U = e^alpha [[e^d1, s12, s13, t1], [0, e^d2, s23, t2], [0, 0, e^d3, t3], [0, 0, 0, 1]]
  const T u00 = e * exp(th[1]), u01 = e * th[4], u02 = e * th[6], u03 = e * th[7];
  const T u11 = e * exp(th[2]), u12 = e * th[5], u13 = e * th[8];
  const T u22 = e * exp(th[3]), u23 = e * th[9];
  const T u33 = e;
  // J = U U^T: Sigma = J[0:3, 0:3] (second moments), h = J[0:3, 3], m = J[3, 3].
  const T s00 = u00 * u00 + u01 * u01 + u02 * u02 + u03 * u03;
  const T s01 = u01 * u11 + u02 * u12 + u03 * u13;
  const T s02 = u02 * u22 + u03 * u23;
  const T s11 = u11 * u11 + u12 * u12 + u13 * u13;
  const T s12 = u12 * u22 + u13 * u23;
  const T s22 = u22 * u22 + u23 * u23;
  pi[0] = u33 * u33;
  pi[1] = u03 * u33;
  pi[2] = u13 * u33;
  pi[3] = u23 * u33;
  // I = tr(Sigma) 1 - Sigma.
  pi[4] = s11 + s22;
  pi[5] = -s01;
  pi[6] = -s02;
  pi[7] = s00 + s22;
  pi[8] = -s12;
  pi[9] = s00 + s11;
}

// The log-Cholesky parameters of a physically consistent pi; a thin rod of its mass at its CoM where pi is not.
Eigen::Matrix<double, 10, 1> LogCholeskyFromStandard(const Eigen::Matrix<double, 10, 1>& pi_in);

// (m, m c, I about the origin) -> the scene's form: (m, c, I about the CoM: xx, xy, xz, yy, yz, zz), link frame.
template <typename T>
void SceneFromStandard(const T* pi, T* out) {
  const T m = pi[0];
  const T cx = pi[1] / m, cy = pi[2] / m, cz = pi[3] / m;
  const T c2 = cx * cx + cy * cy + cz * cz;
  // I_com = I_origin - m (|c|^2 1 - c c^T)
  out[0] = m;
  out[1] = cx;
  out[2] = cy;
  out[3] = cz;
  out[4] = pi[4] - m * (c2 - cx * cx);
  out[5] = pi[5] + m * cx * cy;
  out[6] = pi[6] + m * cx * cz;
  out[7] = pi[7] - m * (c2 - cy * cy);
  out[8] = pi[8] + m * cy * cz;
  out[9] = pi[9] - m * (c2 - cz * cz);
}

// How far the consistency step may move field k of a link's scene-form inertial (mass, CoM, inertia about the CoM)
// from its nominal value: the prior's spread, and the reported std of these unidentified values.
double PriorSpread(int k, double nominal_mass_kg);

// The consistent inertials of `links`: standard (10 per link, in the regressor's layout, then the armatures; in:
// the nominal values with the fitted armatures) gets, for each of them, the physically consistent values closest
// to standard_nominal's whose base combinations (the rows of `combination`) reproduce the fitted base parameters
// `beta`, a mismatch weighted by `gram` (the base regressor's Gram matrix over the training samples, each joint
// divided by its noise level, so that it costs what it would cost in torque). Adds a warning when Ceres's solution
// is not usable.
void FitConsistentInertials(const Eigen::MatrixXd& combination, const Eigen::MatrixXd& gram,
                            const Eigen::VectorXd& beta, const std::vector<int>& links,
                            const Eigen::VectorXd& standard_nominal, int max_iterations, Eigen::VectorXd& standard,
                            std::vector<std::string>& warnings);

}  // namespace r2s::sysid::joint_dynamics

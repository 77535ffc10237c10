#pragma once
// The joint-dynamics fit's data (private to sysid): where the dataset holds each joint's position, velocity and
// torque, and each episode read, checked and low-passed into the training and held-out parts the fit and the
// predictions use.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "sim/model.h"
#include "sysid/joint_dynamics.h"
#include "sysid/problem_input.h"

namespace r2s::sysid::joint_dynamics {

struct Slice {
  std::string feature;
  int column = 0;
  const sim::JointBinding* binding = nullptr;  // converts the dataset's units to SI; none for timestamps
  std::size_t index = 0;                       // the column's joint within the binding
};

// Where the dataset holds each dof's position, velocity and torque.
struct Sources {
  std::vector<int> measured;  // dofs with a torque, in binding order: the fit's joints
  std::vector<int> moving;    // dofs with a position (measured among them): their motion enters the dynamics
  std::map<int, Slice> position, velocity, effort;
};

// Throws InputError when the dataset feeds no torque, or no position of a joint whose torque it feeds.
Sources FindSources(const ProblemInput& input);

// One episode's training or held-out frames, low-passed. q, qd, qdd hold every dof of the robot (the ones not
// recorded at their scene value, at rest); tau the measured joints' raw torques.
struct Part {
  std::int64_t episode = 0;
  Eigen::VectorXd t;
  Eigen::MatrixXd q, qd, qdd;
  Eigen::MatrixXd tau;
  std::int64_t frames() const { return t.size(); }
};

struct EpisodeParts {
  Part train;
  std::optional<Part> held_out;  // none when the episode holds nothing out
};

// Reads, checks and low-passes episode `index` of the input (the dofs without a recorded position at q_fixed): its
// training part, less the filter's edges, and its held-out part. Adds a warning when the episode is sampled too
// slowly for options.smoothing's cutoff (it is then filtered lower). Throws InputError naming the episode, the
// feature and the frame for missing, non-finite or out-of-order samples and for an episode too short to fit.
EpisodeParts ReadEpisodeParts(const ProblemInput& input, const Sources& sources, const Eigen::VectorXd& q_fixed,
                              std::int64_t index, const JointDynamicsOptions& options,
                              std::vector<std::string>& warnings);

// The upper median; NaN when empty.
double Median(std::vector<double> values);

}  // namespace r2s::sysid::joint_dynamics

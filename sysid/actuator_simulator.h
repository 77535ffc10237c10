#pragma once
// The actuator fit's simulator (private to sysid): the values it fits per joint, an episode's signals as the
// simulation reads them, and the runs of the scene's robot driven by the recorded commands. How an episode runs is
// said at the top of actuator_fit.cc.

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "episode/episode.h"
#include "sim/actuator_params.h"
#include "sim/model.h"
#include "sysid/problem_input.h"

namespace r2s::sysid::actuators {

// The values of one joint, in the order the result lists them.
enum class Kind {
  kKp,
  kKd,
  kEffortLimit,
  kVelocityLimit,
  kLatency,
  kCoulomb,
  kViscous,
  kDamping,
  kArmature,
  kPositionOffset,
};
constexpr Kind kKinds[] = {Kind::kKp,       Kind::kKd,      Kind::kEffortLimit, Kind::kVelocityLimit,
                           Kind::kLatency,  Kind::kCoulomb, Kind::kViscous,     Kind::kDamping,
                           Kind::kArmature, Kind::kPositionOffset};

const char* KindName(Kind kind);                   // "kp", "latency_s", "position_offset", ...
std::string KindUnit(Kind kind, bool prismatic);   // "N m/rad" or "N/m", ...
inline bool IsLimit(Kind kind) { return kind == Kind::kEffortLimit || kind == Kind::kVelocityLimit; }

// One joint's values of every kind: the actuator's fields and the encoder offset.
struct JointValues {
  sim::ActuatorParams actuator;
  double offset = 0;

  double Get(Kind kind) const;
  void Set(Kind kind, double value);
};

// An episode's bound signals, per dof (rows) and frame (columns), NaN where a dof's signal is not bound.
struct PreparedEpisode {
  std::int64_t index = 0;
  std::int64_t frames = 0;
  std::int64_t split = 0;             // frames [0, split) are fitted
  std::vector<double> time_s;         // from the first frame
  std::vector<std::int64_t> step_of;  // physics step of each frame
  Eigen::MatrixXd q_meas, qd_meas, q_cmd, qd_cmd, tau_cmd, tau_ff;
};

// Reads and checks one episode: its times, the physics step of each frame and every bound joint signal in SI
// units, measured and commanded positions less the scene's encoder offset. Throws InputError naming the dataset,
// the feature, the episode and the frame.
PreparedEpisode PrepareEpisode(const ProblemInput& input, const episode::Episode& source, double held_out_fraction);

// Runs episodes in worlds of the scene with given actuator values: thread-safe (every call builds its own world).
class Simulator {
 public:
  explicit Simulator(const sim::Model& scene);

  // Simulated positions (dofs x end) of an episode run from frame 0 to frame end - 1, in measured coordinates.
  Eigen::MatrixXd Run(const std::vector<JointValues>& values, const PreparedEpisode& ep, std::int64_t end) const;
  double time_step_s() const { return base_.sim.time_step_s; }  // the physics step: latency's kinks

 private:
  sim::Model base_;
};

}  // namespace r2s::sysid::actuators

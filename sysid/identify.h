#pragma once
// r2s sysid's engine: load the scene and the episodes, decide which identification problems the episodes
// support, run them, and turn their results into params.yaml.
//
// Which problems run is decided by the scene's bindings the dataset feeds:
//   joint dynamics  measured positions and torques (JointSignal::kEffort) for robot joints;
//   actuators       commanded positions (kPositionTarget) and measured positions, for a position-controlled robot;
//   objects         a pose feature for at least one free object.
// A problem the data do not support is listed with the signals it lacks, never silently dropped; no problem at
// all is an InputError naming the dataset and what each problem needs.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sim/params_overlay.h"
#include "sysid/actuator_fit.h"
#include "sysid/fit_result.h"
#include "sysid/joint_dynamics.h"
#include "sysid/object_fit.h"
#include "sysid/problem_input.h"

namespace r2s::sysid {

struct SysidOptions {
  CommonFitOptions common;  // replaces each problem's own `common`
  // A published reference model to compare joint dynamics with on the same held-out samples (reference_model.h).
  std::optional<std::filesystem::path> baseline;
  std::vector<Problem> only;  // empty: every problem the data support
  std::int64_t max_episodes = 0;  // 0: every episode of the dataset; else its first max_episodes
  // Each problem's own options (their `common` and the joint-dynamics baseline are set from the fields above).
  // actuators.joints names joints of the scene's robot; an unknown one is an InputError naming "SysidOptions.actuators.joints".
  JointDynamicsOptions joint_dynamics;
  ActuatorFitOptions actuators;
  ObjectFitOptions objects;
  // Progress over every problem run (fraction of them done, and what is running); may be empty.
  FitProgress progress;

  // Throws std::invalid_argument naming the field and value ("SysidOptions::actuators: ActuatorFitOptions::starts
  // = 0, expected at least 1"); Identify calls it first. The joints' names are checked against the scene there.
  void Validate() const;
  // Whether Validate() passes; else *why (when given) names the field and value.
  bool IsValid(std::string* why = nullptr) const;
};

struct SkippedProblem {
  Problem problem;
  std::string why;  // "needs commanded positions (kPositionTarget bindings); the dataset feeds none"
};

struct SysidRun {
  std::string scene_name;
  std::filesystem::path scene_file;
  std::filesystem::path dataset;
  std::int64_t episodes = 0;
  std::vector<FitResult> results;
  std::vector<SkippedProblem> skipped;
  double wall_s = 0;
};

// Throws InputError for a bad scene, params overlay or dataset, and for data that support no problem.
SysidRun Identify(const std::filesystem::path& scene, const std::optional<std::filesystem::path>& params,
                  const std::filesystem::path& dataset, const SysidOptions& options);

// The contract with later stages: every fitted parameter the scene can take, with std, bounds and the identified
// flag; the covariance (block-diagonal over the problems, which share no parameters); and fit metrics named
// "<problem>.<train|held_out>.<channel>.<rms|r2|baseline_rms>" (channel with spaces as underscores).
sim::ParamsFile ToParamsFile(const SysidRun& run);

}  // namespace r2s::sysid

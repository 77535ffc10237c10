#pragma once
// What every identification problem is given: the compiled scene, which of its bindings the dataset feeds, and
// the episodes themselves, already read.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "episode/episode.h"
#include "sim/model.h"
#include "sim/replay.h"

namespace r2s::sysid {

struct ProblemInput {
  std::shared_ptr<const sim::Model> model;  // the scene, with any --params overlay applied: the nominal values
  sim::ReplayPlan plan;                     // the scene's bindings the dataset feeds
  std::vector<episode::Episode> episodes;
  std::string dataset_file;  // for error messages
  std::string scene_file;    // for error messages
};

struct CommonFitOptions {
  double held_out_fraction = 0.3;  // the last 30 % of each episode is held out of the fit and predicted
  int threads = 1;                 // sim-in-the-loop evaluations run on this many threads
  std::uint64_t seed = 0;          // of the global searches: fits are deterministic
  bool quick = false;              // fewer global samples and iterations (tests of the plumbing, not of accuracy)

  // Throws std::invalid_argument naming the field and value, prefixed with `owner` ("JointDynamicsOptions").
  void Validate(const std::string& owner) const;
};

// Throws std::invalid_argument("<owner>::<field> = <value>, expected <expected>"): the options structs' one
// message shape.
[[noreturn]] void FailOption(const std::string& owner, const std::string& field, double value,
                             const std::string& expected);

// The frames [0, split) of an episode of `frames` are fitted, [split, frames) are held out.
std::int64_t HeldOutSplit(std::int64_t frames, double held_out_fraction);

}  // namespace r2s::sysid

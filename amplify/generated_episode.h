#pragma once
// One generated unit as the generator hands it over: the episode in the output schema, whether it succeeded and,
// when not, why.

#include <cstdint>
#include <string>
#include <vector>

#include "amplify/reject_reason.h"
#include "amplify/stage_times.h"
#include "episode/episode.h"

namespace r2s::amplify {

struct GeneratedEpisode {
  std::uint64_t unit = 0;            // source position * K + variant
  std::uint32_t source_position = 0;  // the source episode's position in the dataset
  std::uint32_t variant = 0;
  std::string edge_case;
  bool success = true;
  std::vector<std::string> failed;    // the success conditions that did not hold
  // Why it was not kept (rejection.h): set exactly when !success. A variant refused before simulating (out of
  // reach) has simulated false, no frames and no episode data: even --keep all cannot keep it.
  Rejection rejection;
  bool simulated = true;
  // Where the retarget object's start came from when the dataset does not record it: the inference's (or the
  // annotation's) one-line summary, the same for every variant of a source episode. Empty otherwise.
  std::string object_pose_note;
  episode::Episode episode;           // metadata.index is the unit until the writer numbers it
  StageTimes times;
  std::int64_t frames = 0;
  std::int64_t camera_frames = 0;     // rendered frames, all cameras
  std::int64_t physics_steps = 0;
};

}  // namespace r2s::amplify

#pragma once
// The JSON of stage times, as run records and summaries write them (run_folder.cc, generate_run.cc).

#include <nlohmann/json.hpp>

#include "amplify/stage_times.h"

namespace r2s::amplify {

nlohmann::json SecondsJson(const StageSeconds& t);
StageSeconds SecondsFrom(const nlohmann::json& j);  // absent fields read as 0

}  // namespace r2s::amplify

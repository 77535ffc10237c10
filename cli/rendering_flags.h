#pragma once
// The command line's flags for the renderer's overrides: the library names them by field (RenderingOverrides,
// GeneratorOptions::rendering), the user gave them as flags.

#include <map>
#include <string>

#include "episode/input_error.h"
#include "render/rendering_overrides.h"

namespace r2s::cli {

// "shadows" -> "--shadows", "shadow_casters" -> "--shadow-casters", "shadow_map_px" -> "--shadow-map-px"; another
// name as it is.
inline std::string RenderingFlag(const std::string& field) {
  static const std::map<std::string, std::string> kFlags = {
      {"shadows", "--shadows"}, {"shadow_casters", "--shadow-casters"}, {"shadow_map_px", "--shadow-map-px"}};
  const auto flag = kFlags.find(field);
  return flag != kFlags.end() ? flag->second : field;
}

}  // namespace r2s::cli

#include "cli/option_flags.h"

#include <array>
#include <string>
#include <string_view>
#include <utility>

namespace r2s::cli {
namespace {

// Qualified field -> flag. Longer names first where one is a prefix of another, so the text replacement below
// never rewrites half a name.
constexpr std::array<std::pair<std::string_view, std::string_view>, 19> kFlags = {{
    {"GeneratorOptions.max_source_episodes", "--max-episodes"},
    {"GeneratorOptions.rendering.shadow_casters", "--shadow-casters"},
    {"GeneratorOptions.rendering.shadow_map_px", "--shadow-map-px"},
    {"GeneratorOptions.rendering.shadows", "--shadows"},
    {"GeneratorOptions.object_poses", "--object-poses"},
    {"GeneratorOptions.variants", "--variants"},
    {"GeneratorOptions.threads", "--threads"},
    {"GeneratorOptions.cameras", "--cameras"},
    {"GeneratorOptions.streams", "--streams"},
    {"GeneratorOptions.device", "--device"},
    {"GeneratorOptions.shard", "--shard"},
    {"RenderingOverrides.shadow_casters", "--shadow-casters"},
    {"RenderingOverrides.shadow_map_px", "--shadow-map-px"},
    {"RenderingOverrides.shadows", "--shadows"},
    {"RunOptions.overwrite", "--overwrite"},
    {"RunOptions.out", "--out"},
    {"MergeShards.overwrite", "--overwrite"},
    {"MergeShards.out", "--out"},
    {"SysidOptions.actuators.joints", "--joints"},
}};

// "WriteOptions.overwrite" appears only in problems (a dataset writer's refusal), never as a field of its own.
constexpr std::pair<std::string_view, std::string_view> kWriteOverwrite = {"WriteOptions.overwrite", "--overwrite"};

std::string_view FlagOf(std::string_view field) {
  for (const auto& [name, flag] : kFlags) {
    if (name == field) return flag;
  }
  return {};
}

void ReplaceAll(std::string& text, std::string_view name, std::string_view flag) {
  for (std::size_t at = text.find(name); at != std::string::npos; at = text.find(name, at + flag.size())) {
    text.replace(at, name.size(), flag);
  }
}

}  // namespace

InputError InFlagTerms(const InputError& error) {
  std::string file = error.file();
  std::string field = error.field();
  // An options struct's own error: the struct's name is the file, the bare field its member.
  if (const std::string_view flag = FlagOf(error.file() + "." + error.field()); !flag.empty()) {
    file = "command line";
    field = flag;
  } else if (const std::string_view named = FlagOf(error.field()); !named.empty()) {
    field = named;  // a path the option gave (a run folder): the file stays the path
  }
  std::string problem = error.problem();
  for (const auto& [name, flag] : kFlags) ReplaceAll(problem, name, flag);
  ReplaceAll(problem, kWriteOverwrite.first, kWriteOverwrite.second);
  return InputError(std::move(file), std::move(field), std::move(problem));
}

}  // namespace r2s::cli

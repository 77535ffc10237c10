#pragma once
// LeRobot's path templates (info.json's data_path and video_path) are Python format strings:
//   v2.1 "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"
//   v3.0 "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
// This fills them in: {name} and {name:0Nd} (zero-padded integers) only, which is all LeRobot writes.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>

namespace r2s::episode::lerobot {

using TemplateValue = std::variant<std::int64_t, std::string>;

// Throws InputError naming `file` and `field` (where the template came from) on a name missing from `values`,
// an unterminated brace or an unsupported format spec.
std::string FormatPathTemplate(std::string_view path_template, const std::map<std::string, TemplateValue>& values,
                               const std::string& file, const std::string& field);

// LeRobot's chunking: which chunk a running number falls in (v2.1: episode_index / chunks_size).
inline std::int64_t ChunkOf(std::int64_t index, std::int64_t chunks_size) { return index / chunks_size; }

}  // namespace r2s::episode::lerobot

#pragma once
// LeRobot's .jsonl metadata (v2.1's episodes, tasks and per-episode stats; real2sim's provenance): each non-empty
// line one JSON object. One reader for all of them, so every caller refuses a bad line the same way.

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "episode/input_error.h"

namespace r2s::episode::lerobot {

// Each non-empty line of `path` as a JSON object (nlohmann::json, or ordered_json to keep key order when a line is
// written back), with its line number. InputError(file, "line N", the line) on a line that is not a JSON object,
// and (file, "", "no such file") when the file is missing.
template <class JsonT = nlohmann::json>
std::vector<std::pair<int, JsonT>> ReadJsonLines(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw InputError(file, "", "no such file");
  std::ifstream in(path, std::ios::binary);
  std::vector<std::pair<int, JsonT>> lines;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    JsonT value = JsonT::parse(line, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded() || !value.is_object()) {
      throw InputError(file, "line " + std::to_string(number),
                       "is not a JSON object: '" + line.substr(0, 80) + (line.size() > 80 ? "...'" : "'"));
    }
    lines.emplace_back(number, std::move(value));
  }
  return lines;
}

}  // namespace r2s::episode::lerobot

#include "sim/scene_spec.h"

#include <cctype>
#include <charconv>

#include "episode/input_error.h"

namespace r2s::sim {

std::string SourceLoc::Field(const std::string& key) const {
  int at = line;
  if (!key.empty()) {
    auto it = key_lines.find(key);
    if (it != key_lines.end()) at = it->second;
  }
  std::string full = path;
  if (!key.empty()) {
    if (!full.empty() && key.front() != '[') full += '.';
    full += key;
  }
  if (at <= 0) return full;
  return "line " + std::to_string(at) + ": " + full;
}

void SourceLoc::Fail(const std::string& key, const std::string& problem) const {
  throw InputError(file.string(), Field(key), problem);
}

namespace {

std::optional<int> ParseIndex(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<FeatureRef> ParseFeatureRef(const std::string& text) {
  FeatureRef ref;
  const auto open = text.find('[');
  if (open == std::string::npos) {
    if (text.empty() || text.find(']') != std::string::npos) return std::nullopt;
    ref.name = text;
    return ref;
  }
  if (open == 0 || text.back() != ']') return std::nullopt;
  ref.name = text.substr(0, open);
  const std::string_view inside(text.data() + open + 1, text.size() - open - 2);
  const auto colon = inside.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  ref.begin = ParseIndex(inside.substr(0, colon));
  ref.end = ParseIndex(inside.substr(colon + 1));
  if (!ref.begin || !ref.end || *ref.begin >= *ref.end) return std::nullopt;
  if (ref.name.find_first_of("[]") != std::string::npos) return std::nullopt;
  return ref;
}

}  // namespace r2s::sim

#include "episode/lerobot/path_template.h"

#include <cstdio>

#include "episode/input_error.h"

namespace r2s::episode::lerobot {

std::string FormatPathTemplate(std::string_view path_template, const std::map<std::string, TemplateValue>& values,
                               const std::string& file, const std::string& field) {
  const auto fail = [&](const std::string& why) {
    throw InputError(file, field, "is '" + std::string(path_template) + "': " + why);
  };
  std::string out;
  std::size_t i = 0;
  while (i < path_template.size()) {
    const char c = path_template[i];
    if (c != '{') {
      out += c;
      ++i;
      continue;
    }
    const std::size_t close = path_template.find('}', i);
    if (close == std::string_view::npos) fail("unterminated '{'");
    const std::string_view field_spec = path_template.substr(i + 1, close - i - 1);
    const std::size_t colon = field_spec.find(':');
    const std::string name(field_spec.substr(0, colon));
    const std::string_view spec = colon == std::string_view::npos ? std::string_view() : field_spec.substr(colon + 1);
    const auto value = values.find(name);
    if (value == values.end()) fail("names {" + name + "}, which is not known here");
    if (const auto* text = std::get_if<std::string>(&value->second)) {
      if (!spec.empty()) fail("format spec '" + std::string(spec) + "' on a text field {" + name + "}");
      out += *text;
    } else {
      const std::int64_t number = std::get<std::int64_t>(value->second);
      int width = 0;
      if (!spec.empty()) {
        // "0Nd": zero-padded to N digits; "d": plain.
        if (spec.back() != 'd') fail("unsupported format spec '" + std::string(spec) + "'");
        const std::string_view digits = spec.substr(0, spec.size() - 1);
        for (char d : digits) {
          if (d < '0' || d > '9') fail("unsupported format spec '" + std::string(spec) + "'");
          width = width * 10 + (d - '0');
          if (width > 32) fail("format width over 32");
        }
      }
      char buffer[64];
      std::snprintf(buffer, sizeof(buffer), "%0*lld", width, static_cast<long long>(number));
      out += buffer;
    }
    i = close + 1;
  }
  return out;
}

}  // namespace r2s::episode::lerobot

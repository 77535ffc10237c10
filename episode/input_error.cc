#include "episode/input_error.h"

#include <utility>

namespace r2s {
namespace {

// Control characters (a newline in a file name, say) are escaped so the message stays one line.
std::string Printable(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c >= 0x20 && c != 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out.append("\\x").push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string Compose(const std::string& file, const std::string& field, const std::string& problem) {
  std::string message;
  message.reserve(file.size() + field.size() + problem.size() + 4);
  message.append(Printable(file));
  if (!field.empty()) message.append(": ").append(Printable(field));
  message.append(": ").append(Printable(problem));
  return message;
}

}  // namespace

InputError::InputError(std::string file, std::string field, std::string problem)
    : std::runtime_error(Compose(file, field, problem)),
      file_(std::move(file)),
      field_(std::move(field)),
      problem_(std::move(problem)) {}

}  // namespace r2s

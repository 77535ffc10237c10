#include "episode/input_error.h"

#include <utility>

namespace r2s {
namespace {

std::string Compose(const std::string& file, const std::string& field, const std::string& problem) {
  std::string message;
  message.reserve(file.size() + field.size() + problem.size() + 4);
  message.append(file);
  if (!field.empty()) message.append(": ").append(field);
  message.append(": ").append(problem);
  return message;
}

}  // namespace

InputError::InputError(std::string file, std::string field, std::string problem)
    : std::runtime_error(Compose(file, field, problem)),
      file_(std::move(file)),
      field_(std::move(field)),
      problem_(std::move(problem)) {}

}  // namespace r2s

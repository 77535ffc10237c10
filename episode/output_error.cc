#include "episode/output_error.h"

#include <cerrno>
#include <utility>

namespace r2s {

OutputError::OutputError(std::string file, std::string problem)
    : std::runtime_error(file + ": cannot write: " + problem), file_(std::move(file)) {}

bool IsOutputFailure(const std::error_code& code) {
  if (code.category() != std::generic_category() && code.category() != std::system_category()) return false;
  switch (code.value()) {
    case ENOSPC:
    case EDQUOT:
    case EROFS:
    case EIO:
    case EFBIG:
      return true;
    default:
      return false;
  }
}

}  // namespace r2s

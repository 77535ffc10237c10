#include "render/render_error.h"

namespace r2s::render {

RenderError::RenderError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}

}  // namespace r2s::render

#pragma once
// What a renderer reports when Vulkan cannot do the work: no usable device, memory exhausted, a lost device, or a
// validation-layer message (tests and debug builds treat each of those as a failure).

#include <stdexcept>
#include <string>

namespace r2s::render {

class RenderError : public std::runtime_error {
 public:
  enum class Kind {
    kNoDevice,     // no Vulkan driver or no device with what the renderer needs (Vulkan 1.3, dynamic rendering)
    kOutOfMemory,  // device or host memory exhausted: fewer views per submission or smaller images help
    kDeviceLost,   // the driver gave up (GPU reset, driver crash)
    kValidation,   // the validation layer reported a misuse of Vulkan: a bug in the renderer
    kVulkan,       // any other Vulkan failure
  };

  RenderError(Kind kind, const std::string& message);
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

}  // namespace r2s::render

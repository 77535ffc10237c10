#include "episode/video/encode_options.h"

#include <stdexcept>
#include <string>

#include "common/options_check.h"

namespace r2s::episode::video {

bool EncodeOptions::IsValid(std::string* why) const { return IsValidByValidate(*this, why); }

void EncodeOptions::Validate() const {
  const auto fail = [](const std::string& field, const std::string& value, const std::string& expected) {
    throw std::invalid_argument("video::EncodeOptions::" + field + " = " + value + ", expected " + expected);
  };
  if (codec != "libsvtav1" && codec != "libx264" && codec != "libaom-av1") {
    fail("codec", "'" + codec + "'", "libsvtav1, libx264 or libaom-av1");
  }
  if (pix_fmt != "yuv420p") fail("pix_fmt", "'" + pix_fmt + "'", "yuv420p");
  const int max_crf = codec == "libx264" ? 51 : 63;
  if (crf < 0 || crf > max_crf) fail("crf", std::to_string(crf), "0.." + std::to_string(max_crf));
  if (preset < 0 || preset > 13) fail("preset", std::to_string(preset), "0..13");
  if (keyframe_interval < 1) fail("keyframe_interval", std::to_string(keyframe_interval), "at least 1");
  if (threads < 1) fail("threads", std::to_string(threads), "at least 1");
}

}  // namespace r2s::episode::video

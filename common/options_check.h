#pragma once
// The public options structs' IsValid(why), for those whose Validate() throws std::invalid_argument naming the
// field and value: one set of checks, two ways to ask.

#include <stdexcept>
#include <string>

namespace r2s {

template <typename Options>
bool IsValidByValidate(const Options& options, std::string* why) {
  try {
    options.Validate();
    return true;
  } catch (const std::invalid_argument& e) {
    if (why) *why = e.what();
    return false;
  }
}

}  // namespace r2s

#pragma once
// Whole-dataset reads and writes of typed arrays.

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "episode/array.h"

namespace r2s::episode::hdf5 {

Array ReadArray(hid_t dataset, DType dtype, const std::vector<std::int64_t>& dims, const std::string& file,
                const std::string& where);

struct ArrayStorage {
  bool image = false;  // chunk one frame per chunk, deflate at deflate_level
  int deflate_level = 4;
};

// Creates `path` below `location` (intermediate groups as needed) and writes `array` into it.
void WriteArray(hid_t location, const std::string& path, const Array& array, ArrayStorage storage,
                const std::string& file, const std::string& where);

}  // namespace r2s::episode::hdf5

#pragma once

#include <hdf5.h>

#include <cstdint>
#include <vector>

#include "episode/hdf5/handle.h"
#include "episode/hdf5/raw_value.h"

namespace r2s::episode {

class RawHdf5Value {
 public:
  hdf5::Handle type;             // a copy of the stored type
  std::vector<hsize_t> dims;     // {} for a scalar
  std::vector<std::byte> bytes;  // H5Tget_size(type) x elements
};

}  // namespace r2s::episode

#pragma once
// Attribute values of HDF5 types real2sim does not decode (compound, non-bool enum, array, opaque): the type,
// the dataspace dims and the bytes, written back as they were read.

#include <cstddef>
#include <string>
#include <vector>

#include "episode/attribute.h"

namespace r2s::episode {

std::string RawValueTypeName(const RawHdf5Value& value);  // "compound", "enum", ...
bool RawValuesEqual(const RawHdf5Value& a, const RawHdf5Value& b);

}  // namespace r2s::episode

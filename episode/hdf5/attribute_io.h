#pragma once
// Reads and writes every attribute of an HDF5 object, keeping each one's stored type.

#include <hdf5.h>

#include <string>

#include "episode/attribute.h"

namespace r2s::episode::hdf5 {

// Attributes of `object`, in name order. file/path name the object in errors.
Attributes ReadAttributes(hid_t object, const std::string& file, const std::string& path);

void WriteAttributes(hid_t object, const Attributes& attributes, const std::string& file, const std::string& path);

}  // namespace r2s::episode::hdf5

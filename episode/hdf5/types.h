#pragma once
// DType <-> HDF5 type mapping. Bools are stored as h5py stores numpy bools (an int8 enum FALSE=0, TRUE=1), so
// h5py reads ours as numpy bool and we read h5py's as kBool.

#include <hdf5.h>

#include <optional>
#include <string>

#include "episode/dtype.h"
#include "episode/hdf5/handle.h"

namespace r2s::episode::hdf5 {

// The DType of a stored numeric or bool type; nullopt for strings and everything else.
std::optional<DType> NumericDTypeOf(hid_t type);

// The in-memory (native) type for a numeric or bool dtype; also what real2sim writes to files.
Handle NativeTypeFor(DType dtype);

// "float64", "variable-length string", "compound", ... for messages.
std::string DescribeType(hid_t type);

}  // namespace r2s::episode::hdf5

#include "episode/hdf5/raw_value.h"

#include "episode/hdf5/raw_value_impl.h"

namespace r2s::episode {

std::string RawValueTypeName(const RawHdf5Value& value) {
  switch (H5Tget_class(value.type.get())) {
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "float";
    default:
      return "hdf5 type";
  }
}

bool RawValuesEqual(const RawHdf5Value& a, const RawHdf5Value& b) {
  return H5Tequal(a.type.get(), b.type.get()) > 0 && a.dims == b.dims && a.bytes == b.bytes;
}

}  // namespace r2s::episode

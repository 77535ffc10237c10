#include "episode/hdf5/types.h"

#include <cstdint>
#include <cstring>

namespace r2s::episode::hdf5 {
namespace {

bool IsBoolEnum(hid_t type) {
  if (H5Tget_class(type) != H5T_ENUM || H5Tget_nmembers(type) != 2 || H5Tget_size(type) != 1) return false;
  for (unsigned i = 0; i < 2; ++i) {
    char* name = H5Tget_member_name(type, i);
    std::int8_t value = -1;
    H5Tget_member_value(type, i, &value);
    const bool expected =
        name && ((std::strcmp(name, "FALSE") == 0 && value == 0) || (std::strcmp(name, "TRUE") == 0 && value == 1));
    H5free_memory(name);
    if (!expected) return false;
  }
  return true;
}

}  // namespace

std::optional<DType> NumericDTypeOf(hid_t type) {
  const std::size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: {
      const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
      switch (size) {
        case 1:
          return is_signed ? DType::kInt8 : DType::kUInt8;
        case 2:
          return is_signed ? DType::kInt16 : DType::kUInt16;
        case 4:
          return is_signed ? DType::kInt32 : DType::kUInt32;
        case 8:
          return is_signed ? DType::kInt64 : DType::kUInt64;
        default:
          return std::nullopt;
      }
    }
    case H5T_FLOAT:
      if (size == 4) return DType::kFloat32;
      if (size == 8) return DType::kFloat64;
      return std::nullopt;
    case H5T_ENUM:
      if (IsBoolEnum(type)) return DType::kBool;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

Handle NativeTypeFor(DType dtype) {
  hid_t base = -1;
  switch (dtype) {
    case DType::kBool: {
      Handle enum_type(H5Tenum_create(H5T_NATIVE_INT8));
      std::int8_t no = 0, yes = 1;
      H5Tenum_insert(enum_type.get(), "FALSE", &no);
      H5Tenum_insert(enum_type.get(), "TRUE", &yes);
      return enum_type;
    }
    case DType::kInt8:
      base = H5T_NATIVE_INT8;
      break;
    case DType::kInt16:
      base = H5T_NATIVE_INT16;
      break;
    case DType::kInt32:
      base = H5T_NATIVE_INT32;
      break;
    case DType::kInt64:
      base = H5T_NATIVE_INT64;
      break;
    case DType::kUInt8:
      base = H5T_NATIVE_UINT8;
      break;
    case DType::kUInt16:
      base = H5T_NATIVE_UINT16;
      break;
    case DType::kUInt32:
      base = H5T_NATIVE_UINT32;
      break;
    case DType::kUInt64:
      base = H5T_NATIVE_UINT64;
      break;
    case DType::kFloat32:
      base = H5T_NATIVE_FLOAT;
      break;
    case DType::kFloat64:
      base = H5T_NATIVE_DOUBLE;
      break;
    case DType::kString:
      return Handle();
  }
  return Handle(H5Tcopy(base));
}

std::string DescribeType(hid_t type) {
  if (auto dtype = NumericDTypeOf(type)) return std::string(DTypeName(*dtype));
  const std::size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_STRING:
      return H5Tis_variable_str(type) > 0 ? "variable-length string" : "string of " + std::to_string(size) + " bytes";
    case H5T_INTEGER:
      return std::to_string(size * 8) + "-bit integer";
    case H5T_FLOAT:
      return std::to_string(size * 8) + "-bit float";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array type";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_REFERENCE:
      return "reference";
    case H5T_VLEN:
      return "variable-length sequence";
    case H5T_BITFIELD:
      return "bitfield";
    default:
      return "unknown type";
  }
}

}  // namespace r2s::episode::hdf5

#pragma once
// Element types of features and attributes, named as numpy names them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace r2s::episode {

enum class DType : std::uint8_t {
  kBool,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kFloat32,
  kFloat64,
  kString,  // attributes only; a feature column is always numeric or bool
};

// "float32", "uint8", "bool", "string", ...
std::string_view DTypeName(DType dtype);
std::optional<DType> DTypeFromName(std::string_view name);

// Bytes per element; 0 for kString.
std::size_t DTypeSize(DType dtype);

bool IsFloating(DType dtype);
bool IsNumeric(DType dtype);  // bool counts as numeric (stored as one byte)

// The DType of a C++ element type, for typed views of columns.
template <class T>
constexpr DType DTypeOf();
template <> constexpr DType DTypeOf<bool>() { return DType::kBool; }
template <> constexpr DType DTypeOf<std::int8_t>() { return DType::kInt8; }
template <> constexpr DType DTypeOf<std::int16_t>() { return DType::kInt16; }
template <> constexpr DType DTypeOf<std::int32_t>() { return DType::kInt32; }
template <> constexpr DType DTypeOf<std::int64_t>() { return DType::kInt64; }
template <> constexpr DType DTypeOf<std::uint8_t>() { return DType::kUInt8; }
template <> constexpr DType DTypeOf<std::uint16_t>() { return DType::kUInt16; }
template <> constexpr DType DTypeOf<std::uint32_t>() { return DType::kUInt32; }
template <> constexpr DType DTypeOf<std::uint64_t>() { return DType::kUInt64; }
template <> constexpr DType DTypeOf<float>() { return DType::kFloat32; }
template <> constexpr DType DTypeOf<double>() { return DType::kFloat64; }

// Calls fn(T{}) with the C++ type of a numeric dtype, so generic code (statistics, checks) is written once.
template <class Fn>
decltype(auto) VisitNumeric(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kBool: return fn(std::uint8_t{});  // stored as 0/1 bytes
    case DType::kInt8: return fn(std::int8_t{});
    case DType::kInt16: return fn(std::int16_t{});
    case DType::kInt32: return fn(std::int32_t{});
    case DType::kInt64: return fn(std::int64_t{});
    case DType::kUInt8: return fn(std::uint8_t{});
    case DType::kUInt16: return fn(std::uint16_t{});
    case DType::kUInt32: return fn(std::uint32_t{});
    case DType::kUInt64: return fn(std::uint64_t{});
    case DType::kFloat32: return fn(float{});
    case DType::kFloat64: return fn(double{});
    case DType::kString: break;
  }
  return fn(double{});  // unreachable for numeric dtypes; callers check IsNumeric first
}

}  // namespace r2s::episode

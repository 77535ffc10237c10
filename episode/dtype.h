#pragma once
// Element types of features and attributes, named as numpy names them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

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
// clang-format off
template <class T>
constexpr DType DTypeOf() {
  if constexpr (std::is_same_v<T, bool>) return DType::kBool;
  else if constexpr (std::is_same_v<T, std::int8_t>) return DType::kInt8;
  else if constexpr (std::is_same_v<T, std::int16_t>) return DType::kInt16;
  else if constexpr (std::is_same_v<T, std::int32_t>) return DType::kInt32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return DType::kInt64;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return DType::kUInt8;
  else if constexpr (std::is_same_v<T, std::uint16_t>) return DType::kUInt16;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return DType::kUInt32;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return DType::kUInt64;
  else if constexpr (std::is_same_v<T, float>) return DType::kFloat32;
  else if constexpr (std::is_same_v<T, double>) return DType::kFloat64;
  else static_assert(sizeof(T) == 0, "no DType for this element type");
}
// clang-format on

// Calls fn(T{}) with the C++ type of a numeric dtype, so generic code (statistics, checks) is written once.
template <class Fn>
decltype(auto) VisitNumeric(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kBool:
      return fn(std::uint8_t{});  // stored as 0/1 bytes
    case DType::kInt8:
      return fn(std::int8_t{});
    case DType::kInt16:
      return fn(std::int16_t{});
    case DType::kInt32:
      return fn(std::int32_t{});
    case DType::kInt64:
      return fn(std::int64_t{});
    case DType::kUInt8:
      return fn(std::uint8_t{});
    case DType::kUInt16:
      return fn(std::uint16_t{});
    case DType::kUInt32:
      return fn(std::uint32_t{});
    case DType::kUInt64:
      return fn(std::uint64_t{});
    case DType::kFloat32:
      return fn(float{});
    case DType::kFloat64:
      return fn(double{});
    case DType::kString:
      break;
  }
  return fn(double{});  // unreachable for numeric dtypes; callers check IsNumeric first
}

}  // namespace r2s::episode

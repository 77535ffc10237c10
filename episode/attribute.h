#pragma once
// Attributes as stored on HDF5 groups and datasets. Values real2sim understands (numbers, bools, strings) are
// decoded; any other type is kept as raw bytes with its HDF5 type so that writing back is lossless.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "episode/array.h"

namespace r2s::episode {

struct StringFormat {
  enum class Padding : std::uint8_t { kNullTerminated, kNullPadded, kSpacePadded };
  bool variable_length = true;  // h5py writes Python str as variable-length UTF-8
  bool utf8 = true;
  std::size_t fixed_size = 0;  // bytes per string when !variable_length
  Padding padding = Padding::kNullTerminated;
  bool operator==(const StringFormat&) const = default;
};

// An HDF5 type real2sim does not decode (compound, non-bool enum, ...), with its value bytes. Defined by the
// HDF5 storage code; opaque here so HDF5 stays out of public headers.
class RawHdf5Value;

struct AttributeValue {
  enum class Kind : std::uint8_t { kNumeric, kString, kRaw };
  Kind kind = Kind::kNumeric;
  Array numeric;                            // kNumeric: dtype and shape ({} for a scalar)
  std::vector<std::string> strings;         // kString: one string per element
  std::vector<std::int64_t> string_shape;   // kString: {} for a scalar string
  StringFormat string_format;               // kString
  std::shared_ptr<const RawHdf5Value> raw;  // kRaw

  static AttributeValue Bool(bool value);
  static AttributeValue Int64(std::int64_t value);
  static AttributeValue Float64(double value);
  static AttributeValue String(std::string value, StringFormat format = {});
  static AttributeValue Numeric(Array array);

  // Scalar readings; nullopt when the value is not a scalar of a fitting kind.
  std::optional<std::int64_t> AsInt64() const;  // integer or bool scalar
  std::optional<double> AsDouble() const;       // any numeric scalar
  std::optional<bool> AsBool() const;           // bool or integer 0/1 scalar
  std::optional<std::string> AsString() const;  // string scalar

  // Short human-readable rendering for messages and `inspect` ("franka_panda", "False", "[1, 2, 3]").
  std::string ToString() const;

  // Equal kind, type, shape and value (raw values: equal HDF5 type and bytes).
  friend bool operator==(const AttributeValue& a, const AttributeValue& b);
};

struct NamedAttribute {
  std::string name;
  AttributeValue value;
  friend bool operator==(const NamedAttribute&, const NamedAttribute&) = default;
};
using Attributes = std::vector<NamedAttribute>;

const AttributeValue* FindAttribute(const Attributes& attributes, std::string_view name);

// Sets an attribute's value. An existing numeric attribute keeps its stored dtype (an int32 `num_samples`
// stays int32), so updating a value read from a file does not change its type.
void SetAttribute(Attributes& attributes, std::string_view name, AttributeValue value);

}  // namespace r2s::episode

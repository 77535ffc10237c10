#include "episode/attribute.h"

#include <cstring>
#include <sstream>

#include "episode/hdf5/raw_value.h"

namespace r2s::episode {
namespace {

template <class T>
AttributeValue NumericScalar(T value) {
  AttributeValue v;
  v.kind = AttributeValue::Kind::kNumeric;
  v.numeric = Array::Of<T>({}, std::span<const T>(&value, 1));
  return v;
}

// Reads element 0 of a numeric array as double.
double FirstAsDouble(const Array& array) {
  return VisitNumeric(array.dtype, [&](auto zero) -> double {
    using T = decltype(zero);
    T value;
    std::memcpy(&value, array.bytes.data(), sizeof(T));
    return static_cast<double>(value);
  });
}

bool IsScalarNumeric(const AttributeValue& v) {
  return v.kind == AttributeValue::Kind::kNumeric && v.numeric.shape.empty() && !v.numeric.bytes.empty();
}

}  // namespace

AttributeValue AttributeValue::Bool(bool value) {
  std::uint8_t byte = value ? 1 : 0;
  AttributeValue v = NumericScalar(byte);
  v.numeric.dtype = DType::kBool;
  return v;
}
AttributeValue AttributeValue::Int64(std::int64_t value) { return NumericScalar(value); }
AttributeValue AttributeValue::Float64(double value) { return NumericScalar(value); }

AttributeValue AttributeValue::String(std::string value, StringFormat format) {
  AttributeValue v;
  v.kind = Kind::kString;
  v.strings = {std::move(value)};
  v.string_format = format;
  return v;
}

AttributeValue AttributeValue::Numeric(Array array) {
  AttributeValue v;
  v.kind = Kind::kNumeric;
  v.numeric = std::move(array);
  return v;
}

std::optional<std::int64_t> AttributeValue::AsInt64() const {
  if (!IsScalarNumeric(*this) || IsFloating(numeric.dtype)) return std::nullopt;
  if (numeric.dtype == DType::kUInt64) {
    std::uint64_t u;
    std::memcpy(&u, numeric.bytes.data(), sizeof u);
    return static_cast<std::int64_t>(u);
  }
  return static_cast<std::int64_t>(FirstAsDouble(numeric));
}

std::optional<double> AttributeValue::AsDouble() const {
  if (!IsScalarNumeric(*this)) return std::nullopt;
  return FirstAsDouble(numeric);
}

std::optional<bool> AttributeValue::AsBool() const {
  auto i = AsInt64();
  if (!i || (*i != 0 && *i != 1)) return std::nullopt;
  return *i == 1;
}

std::optional<std::string> AttributeValue::AsString() const {
  if (kind != Kind::kString || !string_shape.empty() || strings.size() != 1) return std::nullopt;
  return strings[0];
}

std::string AttributeValue::ToString() const {
  std::ostringstream out;
  switch (kind) {
    case Kind::kString:
      if (auto s = AsString()) return *s;
      out << "[";
      for (std::size_t i = 0; i < strings.size(); ++i) out << (i ? ", " : "") << '"' << strings[i] << '"';
      out << "]";
      return out.str();
    case Kind::kRaw:
      return "<" + (raw ? RawValueTypeName(*raw) : std::string("raw")) + ">";
    case Kind::kNumeric:
      break;
  }
  const bool scalar = numeric.shape.empty();
  const std::int64_t n = numeric.size();
  if (!scalar) out << "[";
  const std::int64_t shown = std::min<std::int64_t>(n, 8);
  VisitNumeric(numeric.dtype, [&](auto zero) {
    using T = decltype(zero);
    for (std::int64_t i = 0; i < shown; ++i) {
      T value;
      std::memcpy(&value, numeric.bytes.data() + i * sizeof(T), sizeof(T));
      if (i) out << ", ";
      if (numeric.dtype == DType::kBool) {
        out << (value ? "True" : "False");
      } else if constexpr (sizeof(T) == 1) {
        out << static_cast<int>(value);
      } else {
        out << value;
      }
    }
    return 0;
  });
  if (shown < n) out << ", ... (" << n << " values)";
  if (!scalar) out << "]";
  return out.str();
}

bool operator==(const AttributeValue& a, const AttributeValue& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case AttributeValue::Kind::kNumeric:
      return a.numeric == b.numeric;
    case AttributeValue::Kind::kString:
      return a.strings == b.strings && a.string_shape == b.string_shape && a.string_format == b.string_format;
    case AttributeValue::Kind::kRaw:
      if (!a.raw || !b.raw) return a.raw == b.raw;
      return RawValuesEqual(*a.raw, *b.raw);
  }
  return false;
}

const AttributeValue* FindAttribute(const Attributes& attributes, std::string_view name) {
  for (const auto& attribute : attributes) {
    if (attribute.name == name) return &attribute.value;
  }
  return nullptr;
}

void SetAttribute(Attributes& attributes, std::string_view name, AttributeValue value) {
  for (auto& attribute : attributes) {
    if (attribute.name != name) continue;
    AttributeValue& old = attribute.value;
    if (IsScalarNumeric(old) && IsScalarNumeric(value) && old.numeric.dtype != value.numeric.dtype) {
      const double x = FirstAsDouble(value.numeric);
      VisitNumeric(old.numeric.dtype, [&](auto zero) {
        using T = decltype(zero);
        const T converted = static_cast<T>(x);
        std::memcpy(old.numeric.bytes.data(), &converted, sizeof(T));
        return 0;
      });
    } else {
      old = std::move(value);
    }
    return;
  }
  attributes.push_back({std::string(name), std::move(value)});
}

}  // namespace r2s::episode

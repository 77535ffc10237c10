#include "episode/lerobot/arrow_column.h"

#include <cstring>
#include <optional>
#include <span>

#include <arrow/api.h>

#include "episode/input_error.h"

namespace r2s::episode::lerobot {
namespace {

using Dims = std::span<const std::int64_t>;

arrow::Type::type ArrowTypeOf(DType dtype) {
  switch (dtype) {
    case DType::kBool:
      return arrow::Type::BOOL;
    case DType::kInt8:
      return arrow::Type::INT8;
    case DType::kInt16:
      return arrow::Type::INT16;
    case DType::kInt32:
      return arrow::Type::INT32;
    case DType::kInt64:
      return arrow::Type::INT64;
    case DType::kUInt8:
      return arrow::Type::UINT8;
    case DType::kUInt16:
      return arrow::Type::UINT16;
    case DType::kUInt32:
      return arrow::Type::UINT32;
    case DType::kUInt64:
      return arrow::Type::UINT64;
    case DType::kFloat32:
      return arrow::Type::FLOAT;
    case DType::kFloat64:
      return arrow::Type::DOUBLE;
    case DType::kString:
      break;
  }
  return arrow::Type::NA;
}

bool IsList(arrow::Type::type id) {
  return id == arrow::Type::LIST || id == arrow::Type::LARGE_LIST || id == arrow::Type::FIXED_SIZE_LIST;
}

// The list levels the column must have: one per axis of the frame shape, none for a scalar column of a shape
// [1] (or []) feature.
Dims Nesting(const arrow::DataType& type, const FeatureSpec& spec) {
  const bool scalar = spec.FrameSize() == 1 && spec.shape.size() <= 1 && !IsList(type.id());
  return scalar ? Dims() : Dims(spec.shape);
}

std::optional<std::string> TypeMismatch(const arrow::DataType& type, Dims dims, DType dtype) {
  if (dims.empty()) {
    if (type.id() == ArrowTypeOf(dtype)) return std::nullopt;
    return IsList(type.id()) ? "more list levels than the shape has axes"
                             : "elements of type " + type.ToString() + ", not " + std::string(DTypeName(dtype));
  }
  if (type.id() == arrow::Type::FIXED_SIZE_LIST) {
    const auto& list = static_cast<const arrow::FixedSizeListType&>(type);
    if (list.list_size() != dims[0]) {
      return "lists of " + std::to_string(list.list_size()) + " where the shape says " + std::to_string(dims[0]);
    }
    return TypeMismatch(*list.value_type(), dims.subspan(1), dtype);
  }
  if (type.id() == arrow::Type::LIST || type.id() == arrow::Type::LARGE_LIST) {
    return TypeMismatch(*static_cast<const arrow::BaseListType&>(type).value_type(), dims.subspan(1), dtype);
  }
  return "not a list where the shape has an axis of " + std::to_string(dims[0]);
}

std::string Declared(const FeatureSpec& spec) {
  return std::string(DTypeName(spec.dtype)) + " " + ShapeToString(spec.shape);
}

struct Sink {
  std::byte* out;  // nullptr: check only (widths and nulls), so nothing is allocated for data that is wrong
  std::size_t element_size;
  const std::string& file;
  const std::string& field;
};

// Appends elements [begin, end) of `array` (rows at the top level, inner list elements below it) to the sink.
void Append(const arrow::Array& array, std::int64_t begin, std::int64_t end, Dims dims, DType dtype, Sink& sink,
            std::int64_t first_row) {
  if (array.null_count() > 0) {
    for (std::int64_t i = begin; i < end; ++i) {
      if (array.IsNull(i)) {
        throw InputError(sink.file, sink.field,
                         first_row >= 0 ? "row " + std::to_string(first_row + i - begin) + " is null"
                                        : std::string("holds a null element inside a list"));
      }
    }
  }
  const std::int64_t n = end - begin;
  if (dims.empty()) {
    if (!sink.out) return;
    if (array.type_id() == arrow::Type::BOOL) {
      const auto& bools = static_cast<const arrow::BooleanArray&>(array);
      for (std::int64_t i = begin; i < end; ++i)
        *sink.out++ = std::byte{bools.Value(i) ? std::uint8_t{1} : std::uint8_t{0}};
      return;
    }
    const auto& values = static_cast<const arrow::PrimitiveArray&>(array);
    const std::size_t bytes = static_cast<std::size_t>(n) * sink.element_size;
    if (bytes > 0) {
      std::memcpy(sink.out,
                  values.values()->data() + static_cast<std::size_t>(array.offset() + begin) * sink.element_size,
                  bytes);
    }
    sink.out += bytes;
    return;
  }
  const auto check_widths = [&](const auto& list) {
    for (std::int64_t i = begin; i < end; ++i) {
      if (list.value_length(i) != dims[0]) {
        throw InputError(
            sink.file, sink.field,
            (first_row >= 0 ? "row " + std::to_string(first_row + i - begin) : std::string("an inner list")) + " has " +
                std::to_string(list.value_length(i)) + " values, the shape says " + std::to_string(dims[0]));
      }
    }
    Append(*list.values(), list.value_offset(begin), list.value_offset(end), dims.subspan(1), dtype, sink, -1);
  };
  switch (array.type_id()) {
    case arrow::Type::FIXED_SIZE_LIST: {
      const auto& list = static_cast<const arrow::FixedSizeListArray&>(array);
      Append(*list.values(), list.value_offset(begin), list.value_offset(end), dims.subspan(1), dtype, sink, -1);
      return;
    }
    case arrow::Type::LIST:
      check_widths(static_cast<const arrow::ListArray&>(array));
      return;
    case arrow::Type::LARGE_LIST:
      check_widths(static_cast<const arrow::LargeListArray&>(array));
      return;
    default:
      break;
  }
  throw InputError(sink.file, sink.field, "is " + array.type()->ToString() + ", expected a list");  // checked before
}

[[noreturn]] void WrongType(const arrow::ChunkedArray& column, const std::string& file, const std::string& name,
                            const std::string& expected) {
  throw InputError(file, "column '" + name + "'", "is " + column.type()->ToString() + ", expected " + expected);
}

void CheckNoNulls(const arrow::Array& chunk, std::int64_t row_base, const std::string& file, const std::string& name) {
  if (chunk.null_count() == 0) return;
  for (std::int64_t i = 0; i < chunk.length(); ++i) {
    if (chunk.IsNull(i))
      throw InputError(file, "column '" + name + "'", "row " + std::to_string(row_base + i) + " is null");
  }
}

template <class ArrowArray, class Out, class Fn>
void ForEachValue(const arrow::ChunkedArray& column, const std::string& file, const std::string& name, Fn&& fn) {
  std::int64_t row = 0;
  for (const auto& chunk : column.chunks()) {
    CheckNoNulls(*chunk, row, file, name);
    const auto& typed = static_cast<const ArrowArray&>(*chunk);
    for (std::int64_t i = 0; i < typed.length(); ++i) fn(typed, i);
    row += chunk->length();
  }
}

template <class Out, class ArrowArray>
void AppendNumbers(const arrow::ChunkedArray& column, const std::string& file, const std::string& name,
                   std::vector<Out>& out) {
  ForEachValue<ArrowArray, Out>(
      column, file, name, [&](const ArrowArray& a, std::int64_t i) { out.push_back(static_cast<Out>(a.Value(i))); });
}

template <class Out>
bool NumbersOf(const arrow::ChunkedArray& column, const std::string& file, const std::string& name,
               std::vector<Out>& out, bool allow_floating) {
  switch (column.type()->id()) {
    case arrow::Type::INT8:
      AppendNumbers<Out, arrow::Int8Array>(column, file, name, out);
      return true;
    case arrow::Type::INT16:
      AppendNumbers<Out, arrow::Int16Array>(column, file, name, out);
      return true;
    case arrow::Type::INT32:
      AppendNumbers<Out, arrow::Int32Array>(column, file, name, out);
      return true;
    case arrow::Type::INT64:
      AppendNumbers<Out, arrow::Int64Array>(column, file, name, out);
      return true;
    case arrow::Type::UINT8:
      AppendNumbers<Out, arrow::UInt8Array>(column, file, name, out);
      return true;
    case arrow::Type::UINT16:
      AppendNumbers<Out, arrow::UInt16Array>(column, file, name, out);
      return true;
    case arrow::Type::UINT32:
      AppendNumbers<Out, arrow::UInt32Array>(column, file, name, out);
      return true;
    case arrow::Type::UINT64:
      AppendNumbers<Out, arrow::UInt64Array>(column, file, name, out);
      return true;
    case arrow::Type::FLOAT:
      if (!allow_floating) return false;
      AppendNumbers<Out, arrow::FloatArray>(column, file, name, out);
      return true;
    case arrow::Type::DOUBLE:
      if (!allow_floating) return false;
      AppendNumbers<Out, arrow::DoubleArray>(column, file, name, out);
      return true;
    default:
      return false;
  }
}

template <class StringArray>
void AppendStringList(const arrow::Array& values, std::int64_t from, std::int64_t to, std::vector<std::string>& out) {
  const auto& strings = static_cast<const StringArray&>(values);
  for (std::int64_t j = from; j < to; ++j) out.push_back(strings.GetString(j));
}

}  // namespace

void CheckColumnType(const arrow::DataType& type, const FeatureSpec& spec, const std::string& file,
                     const std::string& column) {
  if (auto why = TypeMismatch(type, Nesting(type, spec), spec.dtype)) {
    throw InputError(file, "column '" + column + "'",
                     "is " + type.ToString() + " but meta/info.json declares " + Declared(spec) + ": " + *why);
  }
}

Array ColumnToArray(const arrow::ChunkedArray& column, const FeatureSpec& spec, const std::string& file,
                    const std::string& name) {
  const arrow::DataType& type = *column.type();
  CheckColumnType(type, spec, file, name);
  const std::string field = "column '" + name + "'";
  const Dims dims = Nesting(type, spec);
  const auto append_all = [&](std::byte* out) {
    Sink sink{out, DTypeSize(spec.dtype), file, field};
    std::int64_t row = 0;
    for (const auto& chunk : column.chunks()) {
      Append(*chunk, 0, chunk->length(), dims, spec.dtype, sink, row);
      row += chunk->length();
    }
  };
  // Checked before allocating: a shape in info.json that the rows do not have is an error, not a huge array.
  append_all(nullptr);
  std::vector<std::int64_t> shape = {column.length()};
  shape.insert(shape.end(), spec.shape.begin(), spec.shape.end());
  Array array = Array::Zeros(spec.dtype, std::move(shape));
  append_all(array.bytes.data());
  return array;
}

std::vector<std::int64_t> Int64Values(const arrow::ChunkedArray& column, const std::string& file,
                                      const std::string& name) {
  std::vector<std::int64_t> out;
  if (!NumbersOf(column, file, name, out, false)) WrongType(column, file, name, "an integer column");
  return out;
}

std::vector<double> DoubleValues(const arrow::ChunkedArray& column, const std::string& file, const std::string& name) {
  std::vector<double> out;
  if (!NumbersOf(column, file, name, out, true)) WrongType(column, file, name, "a number column");
  return out;
}

std::vector<std::string> StringValues(const arrow::ChunkedArray& column, const std::string& file,
                                      const std::string& name) {
  std::vector<std::string> out;
  const auto id = column.type()->id();
  if (id == arrow::Type::STRING) {
    ForEachValue<arrow::StringArray, std::string>(
        column, file, name, [&](const arrow::StringArray& a, std::int64_t i) { out.push_back(a.GetString(i)); });
  } else if (id == arrow::Type::LARGE_STRING) {
    ForEachValue<arrow::LargeStringArray, std::string>(
        column, file, name, [&](const arrow::LargeStringArray& a, std::int64_t i) { out.push_back(a.GetString(i)); });
  } else {
    WrongType(column, file, name, "a string column");
  }
  return out;
}

std::vector<std::vector<std::string>> StringListValues(const arrow::ChunkedArray& column, const std::string& file,
                                                       const std::string& name) {
  std::vector<std::vector<std::string>> out;
  const arrow::DataType& type = *column.type();
  const bool is_list = type.id() == arrow::Type::LIST || type.id() == arrow::Type::LARGE_LIST;
  const auto value_id = is_list ? static_cast<const arrow::BaseListType&>(type).value_type()->id() : arrow::Type::NA;
  if (!is_list || (value_id != arrow::Type::STRING && value_id != arrow::Type::LARGE_STRING)) {
    WrongType(column, file, name, "a list of strings");
  }
  const auto rows = [&](const auto& list) {
    for (std::int64_t i = 0; i < list.length(); ++i) {
      std::vector<std::string> strings;
      const std::int64_t from = list.value_offset(i), to = from + list.value_length(i);
      if (value_id == arrow::Type::STRING) {
        AppendStringList<arrow::StringArray>(*list.values(), from, to, strings);
      } else {
        AppendStringList<arrow::LargeStringArray>(*list.values(), from, to, strings);
      }
      out.push_back(std::move(strings));
    }
  };
  std::int64_t row = 0;
  for (const auto& chunk : column.chunks()) {
    CheckNoNulls(*chunk, row, file, name);
    if (type.id() == arrow::Type::LIST) {
      rows(static_cast<const arrow::ListArray&>(*chunk));
    } else {
      rows(static_cast<const arrow::LargeListArray&>(*chunk));
    }
    row += chunk->length();
  }
  return out;
}

}  // namespace r2s::episode::lerobot

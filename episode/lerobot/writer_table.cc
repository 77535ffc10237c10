#include "episode/lerobot/writer_table.h"

#include <cstring>
#include <system_error>

#include <arrow/io/file.h>
#include <arrow/util/io_util.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/writer.h>
#include <parquet/properties.h>

#include "episode/input_error.h"
#include "episode/output_error.h"

namespace r2s::episode::lerobot {
namespace {

template <class ArrowType>
std::shared_ptr<arrow::Array> Leaf(const Array& data, const std::string& file, const std::string& column) {
  using C = typename ArrowType::c_type;
  arrow::NumericBuilder<ArrowType> builder;
  Check(builder.Reserve(data.size()), file, column);
  VisitNumeric(data.dtype, [&](auto zero) {
    using T = decltype(zero);
    for (T v : data.values<T>()) builder.UnsafeAppend(static_cast<C>(v));
  });
  return Take(builder.Finish(), file, column);
}

std::shared_ptr<arrow::Array> LeafOf(const std::shared_ptr<arrow::DataType>& type, const Array& data,
                                     const std::string& file, const std::string& column) {
  switch (type->id()) {
    case arrow::Type::FLOAT:
      return Leaf<arrow::FloatType>(data, file, column);
    case arrow::Type::DOUBLE:
      return Leaf<arrow::DoubleType>(data, file, column);
    case arrow::Type::INT8:
      return Leaf<arrow::Int8Type>(data, file, column);
    case arrow::Type::INT16:
      return Leaf<arrow::Int16Type>(data, file, column);
    case arrow::Type::INT32:
      return Leaf<arrow::Int32Type>(data, file, column);
    case arrow::Type::INT64:
      return Leaf<arrow::Int64Type>(data, file, column);
    case arrow::Type::UINT8:
      return Leaf<arrow::UInt8Type>(data, file, column);
    case arrow::Type::UINT16:
      return Leaf<arrow::UInt16Type>(data, file, column);
    case arrow::Type::UINT32:
      return Leaf<arrow::UInt32Type>(data, file, column);
    case arrow::Type::UINT64:
      return Leaf<arrow::UInt64Type>(data, file, column);
    case arrow::Type::BOOL: {
      arrow::BooleanBuilder builder;
      VisitNumeric(data.dtype, [&](auto zero) {
        using T = decltype(zero);
        for (T v : data.values<T>()) Check(builder.Append(v != T{}), file, column);
      });
      return Take(builder.Finish(), file, column);
    }
    default:
      throw InputError(file, column, "has Arrow type " + type->ToString() + ", which the LeRobot writer cannot fill");
  }
}

// `rows` lists of `data`'s values, nested per axis of `dims`.
std::shared_ptr<arrow::Array> Build(const std::shared_ptr<arrow::DataType>& type, const Array& data, std::int64_t rows,
                                    std::vector<std::int64_t> dims, const std::string& file,
                                    const std::string& column) {
  const auto id = type->id();
  const bool list = id == arrow::Type::LIST || id == arrow::Type::LARGE_LIST;
  if (id != arrow::Type::FIXED_SIZE_LIST && !list) {
    std::int64_t per_row = 1;
    for (auto d : dims) per_row *= d;
    if (per_row != 1) {
      throw InputError(file, column,
                       "has the scalar type " + type->ToString() + " for frames of shape " + ShapeToString(dims));
    }
    return LeafOf(type, data, file, column);
  }
  if (dims.empty()) dims = {1};
  const std::int64_t width = dims.front();
  const std::vector<std::int64_t> inner(dims.begin() + 1, dims.end());
  const auto value_type = type->field(0)->type();
  auto values = Build(value_type, data, rows * width, inner, file, column);
  if (id == arrow::Type::FIXED_SIZE_LIST) {
    const auto& fixed = static_cast<const arrow::FixedSizeListType&>(*type);
    if (fixed.list_size() != width) {
      throw InputError(
          file, column,
          "is " + type->ToString() + " but frames have " + std::to_string(width) + " elements along that axis");
    }
    return Take(arrow::FixedSizeListArray::FromArrays(values, type), file, column);
  }
  if (id == arrow::Type::LIST) {
    arrow::Int32Builder offsets;
    for (std::int64_t r = 0; r <= rows; ++r) Check(offsets.Append(static_cast<std::int32_t>(r * width)), file, column);
    auto offsets_array = Take(offsets.Finish(), file, column);
    return Take(arrow::ListArray::FromArrays(type, *offsets_array, *values), file, column);
  }
  arrow::Int64Builder offsets;
  for (std::int64_t r = 0; r <= rows; ++r) Check(offsets.Append(r * width), file, column);
  auto offsets_array = Take(offsets.Finish(), file, column);
  return Take(arrow::LargeListArray::FromArrays(type, *offsets_array, *values), file, column);
}

void Flatten(const arrow::Array& array, std::int64_t row, std::vector<double>& out) {
  switch (array.type_id()) {
    case arrow::Type::LIST: {
      const auto& list = static_cast<const arrow::ListArray&>(array);
      const auto slice = list.value_slice(row);
      for (std::int64_t i = 0; i < slice->length(); ++i) Flatten(*slice, i, out);
      return;
    }
    case arrow::Type::LARGE_LIST: {
      const auto& list = static_cast<const arrow::LargeListArray&>(array);
      const auto slice = list.value_slice(row);
      for (std::int64_t i = 0; i < slice->length(); ++i) Flatten(*slice, i, out);
      return;
    }
    case arrow::Type::FIXED_SIZE_LIST: {
      const auto& list = static_cast<const arrow::FixedSizeListArray&>(array);
      const auto slice = list.value_slice(row);
      for (std::int64_t i = 0; i < slice->length(); ++i) Flatten(*slice, i, out);
      return;
    }
    case arrow::Type::DOUBLE:
      out.push_back(static_cast<const arrow::DoubleArray&>(array).Value(row));
      return;
    case arrow::Type::FLOAT:
      out.push_back(static_cast<const arrow::FloatArray&>(array).Value(row));
      return;
    case arrow::Type::INT64:
      out.push_back(static_cast<double>(static_cast<const arrow::Int64Array&>(array).Value(row)));
      return;
    default:
      throw std::invalid_argument("FlattenRow: unsupported type " + array.type()->ToString());
  }
}

}  // namespace

void Check(const arrow::Status& status, const std::string& file, const std::string& what) {
  if (status.ok()) return;
  // A write the disk refused (ENOSPC, ...) is not the input's fault.
  if (const int error = arrow::internal::ErrnoFromStatus(status);
      error != 0 && IsOutputFailure(std::error_code(error, std::generic_category()))) {
    throw OutputError(file, std::string(std::strerror(error)) + " (" + what + ")");
  }
  throw InputError(file, what, status.ToString());
}

std::shared_ptr<arrow::Array> BuildColumn(const std::shared_ptr<arrow::DataType>& type, const Array& data,
                                          const std::vector<std::int64_t>& frame_shape, const std::string& file,
                                          const std::string& column) {
  const std::int64_t rows = data.shape.empty() ? 0 : data.shape[0];
  std::vector<std::int64_t> dims = frame_shape;
  if (dims.size() == 1 && dims[0] == 1 && type->id() != arrow::Type::FIXED_SIZE_LIST &&
      type->id() != arrow::Type::LIST && type->id() != arrow::Type::LARGE_LIST) {
    dims.clear();  // LeRobot stores shape [1] as a scalar column
  }
  return Build(type, data, rows, dims, file, column);
}

std::shared_ptr<arrow::DataType> LeRobotArrowType(const FeatureSpec& spec) {
  std::shared_ptr<arrow::DataType> type;
  switch (spec.dtype) {
    case DType::kBool:
      type = arrow::boolean();
      break;
    case DType::kInt8:
      type = arrow::int8();
      break;
    case DType::kInt16:
      type = arrow::int16();
      break;
    case DType::kInt32:
      type = arrow::int32();
      break;
    case DType::kInt64:
      type = arrow::int64();
      break;
    case DType::kUInt8:
      type = arrow::uint8();
      break;
    case DType::kUInt16:
      type = arrow::uint16();
      break;
    case DType::kUInt32:
      type = arrow::uint32();
      break;
    case DType::kUInt64:
      type = arrow::uint64();
      break;
    case DType::kFloat32:
      type = arrow::float32();
      break;
    default:
      type = arrow::float64();
      break;
  }
  if (spec.shape.size() == 1 && spec.shape[0] == 1) return type;
  for (auto it = spec.shape.rbegin(); it != spec.shape.rend(); ++it) {
    type = arrow::fixed_size_list(type, static_cast<std::int32_t>(*it));  // child "item", as datasets names it
  }
  return type;
}

ParquetFileWriter::ParquetFileWriter(const std::filesystem::path& file, std::shared_ptr<arrow::Schema> schema)
    : file_(file) {
  std::filesystem::create_directories(file.parent_path());
  sink_ = Take(arrow::io::FileOutputStream::Open(file.string()), file.string(), "open");
  // pyarrow.parquet.ParquetWriter's defaults as LeRobot calls it: snappy, dictionary encoding, statistics,
  // the Arrow schema stored in the footer.
  auto properties = parquet::WriterProperties::Builder().compression(parquet::Compression::SNAPPY)->build();
  auto arrow_properties = parquet::ArrowWriterProperties::Builder().store_schema()->build();
  writer_ =
      Take(parquet::arrow::FileWriter::Open(*schema, arrow::default_memory_pool(), sink_, properties, arrow_properties),
           file.string(), "parquet writer");
}

ParquetFileWriter::~ParquetFileWriter() {
  if (writer_) (void)writer_->Close();
}

void ParquetFileWriter::WriteRowGroup(const std::shared_ptr<arrow::Table>& table) {
  Check(writer_->WriteTable(*table, std::max<std::int64_t>(1, table->num_rows())), file_.string(), "write");
}

std::int64_t ParquetFileWriter::BytesWritten() const { return Take(sink_->Tell(), file_.string(), "tell"); }

void ParquetFileWriter::Close() {
  if (!writer_) return;
  Check(writer_->Close(), file_.string(), "close");
  writer_.reset();
  Check(sink_->Close(), file_.string(), "close");
}

std::shared_ptr<arrow::Table> ReadParquet(const std::filesystem::path& file) {
  auto input = Take(arrow::io::ReadableFile::Open(file.string()), file.string(), "open");
  auto reader = Take(parquet::arrow::OpenFile(input, arrow::default_memory_pool()), file.string(), "parquet");
  auto table = Take(reader->ReadTable(), file.string(), "read");
  return Take(table->CombineChunks(), file.string(), "combine");
}

std::vector<double> FlattenRow(const arrow::ChunkedArray& column, std::int64_t row) {
  std::vector<double> out;
  for (const auto& chunk : column.chunks()) {
    if (row < chunk->length()) {
      Flatten(*chunk, row, out);
      return out;
    }
    row -= chunk->length();
  }
  throw std::out_of_range("FlattenRow: row out of range");
}

}  // namespace r2s::episode::lerobot

#pragma once
// Not installed: the Arrow/Parquet side of the LeRobot writer. Columns are built in the Arrow type the dataset's
// schema gives (LeRobot's own writer goes through `datasets`, whose types the source's files carry: scalar for
// shape [1], list or fixed_size_list for vectors), and written as pyarrow's ParquetWriter writes them (snappy,
// dictionary encoding, the Arrow schema stored), one row group per call, so equal tables give equal bytes.

#include <arrow/api.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "episode/array.h"
#include "episode/feature_spec.h"

namespace parquet::arrow {
class FileWriter;
}

namespace r2s::episode::lerobot {

// The column `data` ({T, ...}, any numeric dtype) converted to `type`: a primitive type (T rows of one value), or
// list / large_list / fixed_size_list of those, nested once per axis of the frame. `file` and `column` name the
// output in errors (InputError when the type cannot hold the frame's shape).
std::shared_ptr<arrow::Array> BuildColumn(const std::shared_ptr<arrow::DataType>& type, const Array& data,
                                          const std::vector<std::int64_t>& frame_shape, const std::string& file,
                                          const std::string& column);

// The type LeRobot's writer (datasets' Value / Sequence(length=N)) gives a feature: a scalar for shape [1],
// fixed_size_list<T>[N] per further axis.
std::shared_ptr<arrow::DataType> LeRobotArrowType(const FeatureSpec& spec);

// A Parquet file written a row group at a time, under its final name inside the writer's temporary folder.
class ParquetFileWriter {
 public:
  ParquetFileWriter(const std::filesystem::path& file, std::shared_ptr<arrow::Schema> schema);
  ~ParquetFileWriter();
  ParquetFileWriter(const ParquetFileWriter&) = delete;
  ParquetFileWriter& operator=(const ParquetFileWriter&) = delete;

  void WriteRowGroup(const std::shared_ptr<arrow::Table>& table);  // all of `table`, one row group
  std::int64_t BytesWritten() const;                               // what is on disk so far
  void Close();

 private:
  std::filesystem::path file_;
  std::shared_ptr<arrow::io::FileOutputStream> sink_;
  std::unique_ptr<parquet::arrow::FileWriter> writer_;
};

// One whole Parquet file; InputError naming the file when it cannot be read.
std::shared_ptr<arrow::Table> ReadParquet(const std::filesystem::path& file);

// Every number in row `row` of a (possibly nested) list column of numbers, flattened, as doubles.
std::vector<double> FlattenRow(const arrow::ChunkedArray& column, std::int64_t row);

// Throws InputError naming `file` and `what` when `status` is not OK.
void Check(const arrow::Status& status, const std::string& file, const std::string& what);
template <class T>
T Take(arrow::Result<T> result, const std::string& file, const std::string& what) {
  Check(result.status(), file, what);
  return std::move(result).ValueUnsafe();
}

}  // namespace r2s::episode::lerobot

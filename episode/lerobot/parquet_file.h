#pragma once
// One parquet table of a LeRobot dataset (a data file, a meta/episodes file, meta/tasks.parquet), read through
// Arrow's parquet reader: the schema and row count come from the footer, and a range of rows of chosen columns
// reads only the row groups that hold them, so one episode of a file holding thousands is cheap.
// Every Arrow/Parquet failure (missing, truncated or corrupt file) becomes an InputError naming the file.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <arrow/type_fwd.h>

namespace parquet::arrow {
class FileReader;
}

namespace r2s::episode::lerobot {

class ParquetFile {
 public:
  // Opens the file and reads its footer. InputError on a missing file or one that is not a readable parquet file.
  static ParquetFile Open(const std::filesystem::path& file);

  const std::filesystem::path& path() const { return path_; }
  std::int64_t num_rows() const { return num_rows_; }
  // The Arrow schema stored in the file (column types and schema metadata, as the writer had them).
  const std::shared_ptr<arrow::Schema>& schema() const { return schema_; }
  bool HasColumn(const std::string& name) const;

  // Rows [first, first + count) of the named top-level columns, in that order. InputError naming the column when
  // one is missing, and naming the file when the rows lie outside it or cannot be decoded.
  std::shared_ptr<arrow::Table> ReadRows(const std::vector<std::string>& columns, std::int64_t first,
                                         std::int64_t count) const;
  std::shared_ptr<arrow::Table> ReadAll(const std::vector<std::string>& columns) const {
    return ReadRows(columns, 0, num_rows_);
  }

 private:
  std::filesystem::path path_;
  std::shared_ptr<parquet::arrow::FileReader> reader_;
  std::shared_ptr<arrow::Schema> schema_;
  std::int64_t num_rows_ = 0;
  std::vector<std::int64_t> row_group_starts_;  // first row of each row group, then num_rows_
};

}  // namespace r2s::episode::lerobot

#include "episode/lerobot/parquet_file.h"

#include <algorithm>

#include <arrow/api.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/exception.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include "episode/input_error.h"

namespace r2s::episode::lerobot {
namespace fs = std::filesystem;

namespace {

// The leaf column indices under a top-level field (a list column has one leaf, an image struct two): the
// parquet reader selects columns by leaf.
void CollectLeaves(const parquet::arrow::SchemaField& field, std::vector<int>& leaves) {
  if (field.is_leaf()) {
    leaves.push_back(field.column_index);
    return;
  }
  for (const auto& child : field.children) CollectLeaves(child, leaves);
}

std::string Describe(const arrow::Status& status) { return status.message(); }

}  // namespace

ParquetFile ParquetFile::Open(const fs::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw InputError(name, "", "no such file");
  const auto size = fs::file_size(file, ec);
  ParquetFile out;
  out.path_ = file;
  try {
    parquet::arrow::FileReaderBuilder builder;
    arrow::Status status = builder.OpenFile(name);
    if (!status.ok()) {
      throw InputError(name, "",
                       "not a readable parquet file (" + std::to_string(size) + " bytes): " + Describe(status));
    }
    auto reader = builder.Build();
    if (!reader.ok()) throw InputError(name, "", "cannot read the parquet schema: " + Describe(reader.status()));
    out.reader_ = std::shared_ptr<parquet::arrow::FileReader>(std::move(*reader));
    status = out.reader_->GetSchema(&out.schema_);
    if (!status.ok()) throw InputError(name, "", "cannot read the parquet schema: " + Describe(status));
    const std::shared_ptr<parquet::FileMetaData> metadata = out.reader_->parquet_reader()->metadata();
    out.num_rows_ = metadata->num_rows();
    std::int64_t start = 0;
    for (int g = 0; g < metadata->num_row_groups(); ++g) {
      out.row_group_starts_.push_back(start);
      start += metadata->RowGroup(g)->num_rows();
    }
    out.row_group_starts_.push_back(start);
    if (start != out.num_rows_) {
      throw InputError(name, "",
                       "corrupt parquet footer: row groups hold " + std::to_string(start) + " rows, the footer says " +
                           std::to_string(out.num_rows_));
    }
  } catch (const parquet::ParquetException& e) {
    throw InputError(name, "", "not a readable parquet file (" + std::to_string(size) + " bytes): " + e.what());
  }
  return out;
}

bool ParquetFile::HasColumn(const std::string& name) const { return schema_->GetFieldIndex(name) >= 0; }

std::shared_ptr<arrow::Table> ParquetFile::ReadRows(const std::vector<std::string>& columns, std::int64_t first,
                                                    std::int64_t count) const {
  const std::string file = path_.string();
  if (first < 0 || count < 0 || first + count > num_rows_) {
    throw InputError(file, "",
                     "has " + std::to_string(num_rows_) + " rows, rows " + std::to_string(first) + ".." +
                         std::to_string(first + count) + " were asked for");
  }
  const auto& fields = reader_->manifest().schema_fields;
  std::vector<int> leaves;
  for (const std::string& column : columns) {
    auto field = std::find_if(fields.begin(), fields.end(),
                              [&](const parquet::arrow::SchemaField& f) { return f.field->name() == column; });
    if (field == fields.end()) throw InputError(file, "column '" + column + "'", "missing");
    CollectLeaves(*field, leaves);
  }
  // The row groups overlapping the rows asked for.
  std::vector<int> groups;
  const int num_groups = static_cast<int>(row_group_starts_.size()) - 1;
  for (int g = 0; g < num_groups; ++g) {
    if (row_group_starts_[g + 1] > first && row_group_starts_[g] < first + count) groups.push_back(g);
  }
  const std::int64_t groups_start = groups.empty() ? 0 : row_group_starts_[groups.front()];
  try {
    std::shared_ptr<arrow::Table> table;
    if (groups.empty()) {
      // No rows: an empty table with the columns' types.
      std::vector<std::shared_ptr<arrow::Field>> selected;
      for (const std::string& column : columns) selected.push_back(schema_->GetFieldByName(column));
      auto empty = arrow::Table::MakeEmpty(arrow::schema(selected));
      if (!empty.ok()) throw InputError(file, "", Describe(empty.status()));
      return *empty;
    }
    auto read = reader_->ReadRowGroups(groups, leaves);
    if (!read.ok()) {
      throw InputError(file, "",
                       "cannot read rows " + std::to_string(first) + ".." + std::to_string(first + count) +
                           " (truncated or corrupt?): " + Describe(read.status()));
    }
    table = (*read)->Slice(first - groups_start, count);
    if (table->num_rows() != count) {
      throw InputError(file, "",
                       "gave " + std::to_string(table->num_rows()) + " rows where " + std::to_string(count) +
                           " were expected (truncated or corrupt?)");
    }
    return table;
  } catch (const parquet::ParquetException& e) {
    throw InputError(file, "", std::string("cannot read (truncated or corrupt?): ") + e.what());
  }
}

}  // namespace r2s::episode::lerobot

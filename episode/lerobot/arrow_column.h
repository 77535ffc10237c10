#pragma once
// Arrow columns of LeRobot's tables as the episode schema's arrays and plain values.
//
// A feature of frame shape [d0, d1, ...] is stored by LeRobot's writers as nested lists, one level per axis:
// list<float> (v3.0), fixed_size_list<float>[N] (v2.1, through HF datasets' Sequence(length=N)) or large_list,
// mixed freely; a shape [1] feature is usually a scalar column (a length-1 list is accepted too). The element
// type must be the declared dtype exactly: a float64 column declared float32 is an error, not a silent cast.

#include <cstdint>
#include <string>
#include <vector>

#include <arrow/type_fwd.h>

#include "episode/array.h"
#include "episode/feature_spec.h"

namespace r2s::episode::lerobot {

// Checks a column's Arrow type against a feature (from the schema, before reading data). InputError naming
// `file`, the column and both types when they disagree.
void CheckColumnType(const arrow::DataType& type, const FeatureSpec& spec, const std::string& file,
                     const std::string& column);

// The column as an array of shape {rows, spec.shape...}. InputError naming the file, the column and the row on
// a type mismatch, a list whose length is not the feature's width, or a null.
Array ColumnToArray(const arrow::ChunkedArray& column, const FeatureSpec& spec, const std::string& file,
                    const std::string& name);

// Plain values of metadata columns (meta/episodes, meta/tasks): integer (any width), floating point, string,
// and list of strings. InputError naming the file and column on another type or a null.
std::vector<std::int64_t> Int64Values(const arrow::ChunkedArray& column, const std::string& file,
                                      const std::string& name);
std::vector<double> DoubleValues(const arrow::ChunkedArray& column, const std::string& file, const std::string& name);
std::vector<std::string> StringValues(const arrow::ChunkedArray& column, const std::string& file,
                                      const std::string& name);
std::vector<std::vector<std::string>> StringListValues(const arrow::ChunkedArray& column, const std::string& file,
                                                       const std::string& name);

}  // namespace r2s::episode::lerobot

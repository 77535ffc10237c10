#pragma once
// The shape of an HDF5 group without its data: every group and dataset below it, with types and dims.

#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "episode/dtype.h"

namespace r2s::episode::hdf5 {

struct DatasetEntry {
  std::string path;                // relative to the scanned group
  std::optional<DType> dtype;      // nullopt: not numeric (strings, compound, ...)
  std::string type_description;    // for messages
  std::vector<std::int64_t> dims;  // {} for a scalar
  bool IsImage() const;            // uint8 [T, H, W, 1|3|4]
};

struct GroupStructure {
  std::vector<std::string> groups;  // relative paths of the groups below, parents first
  std::vector<DatasetEntry> datasets;
};

// Walks `group` (named `group_path` in `file` for errors). Links other than hard links are bad input.
GroupStructure ScanGroup(hid_t group, const std::string& file, const std::string& group_path);

// Names of the direct children of `group`, in name order.
std::vector<std::string> ChildNames(hid_t group, const std::string& file, const std::string& group_path);

}  // namespace r2s::episode::hdf5

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

// Bounds on what ScanGroup walks: a file beyond them is refused, not walked until memory or the stack runs out.
inline constexpr std::size_t kMaxGroupDepth = 32;
inline constexpr std::size_t kMaxObjects = 1'000'000;

// Walks `group` (named `group_path` in `file` for errors). Links other than hard links, a hard link back to a
// group on the way down (a cycle), and a structure beyond the bounds above are bad input.
GroupStructure ScanGroup(hid_t group, const std::string& file, const std::string& group_path);

// Names of the direct children of `group`, in name order.
std::vector<std::string> ChildNames(hid_t group, const std::string& file, const std::string& group_path);

}  // namespace r2s::episode::hdf5

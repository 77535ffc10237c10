#pragma once
// What a storage layout read but the schema does not model, kept so that writing back is lossless: attributes
// of the groups the layout writes itself, and whole nodes (datasets, groups) copied verbatim from the source.

#include <memory>
#include <string>
#include <vector>

#include "episode/attribute.h"

namespace r2s::episode {

// An open source file, kept alive by the nodes that refer to it. Defined by the HDF5 storage code.
class SourceFile;

struct PreservedNode {
  std::string path;  // where it goes, relative to the episode's group (or the file root, dataset-level)
  std::shared_ptr<const SourceFile> source;
  std::string source_path;  // where it is in the source file
};

struct GroupAttributes {
  std::string path;  // relative; "" is the episode's own group (or the file root, dataset-level)
  Attributes attributes;
  friend bool operator==(const GroupAttributes&, const GroupAttributes&) = default;
};

struct StorageExtras {
  std::vector<GroupAttributes> group_attributes;
  std::vector<PreservedNode> nodes;

  const Attributes* FindGroup(const std::string& path) const;
  Attributes& Group(const std::string& path);  // creates the entry when missing
};

}  // namespace r2s::episode

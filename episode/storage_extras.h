#pragma once
// What a storage layout read but the schema does not model, kept so that writing back is lossless: attributes
// of the groups the layout writes itself, and whole nodes (datasets, groups) copied verbatim from the source.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "episode/attribute.h"

namespace r2s::episode {

// An open source file, kept alive by the dataset-level nodes that refer to it. Defined by the HDF5 storage code.
class SourceFile;

// An episode's preserved nodes, copied out of their source: the bytes of an in-memory HDF5 file that holds each
// node at its source path. Plain memory: an episode carrying it may move to any thread and outlive its source.
struct NodeImage {
  std::vector<std::byte> hdf5_bytes;
  std::string source_file;  // where the nodes came from, for messages
};

struct PreservedNode {
  std::string path;  // where it goes, relative to the episode's group (or the file root, dataset-level)
  // Exactly one is set. An episode's nodes are an image; a dataset's (robomimic's filter lists, whose demo names
  // are resolved against the whole source file when written) refer to the source, open while its reader or
  // DatasetInfo lives.
  std::shared_ptr<const NodeImage> image;
  std::shared_ptr<const SourceFile> source;
  std::string source_path;  // where it is in the source file (and in the image)
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

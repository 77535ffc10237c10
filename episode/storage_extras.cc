#include "episode/storage_extras.h"

namespace r2s::episode {

const Attributes* StorageExtras::FindGroup(const std::string& path) const {
  for (const auto& group : group_attributes) {
    if (group.path == path) return &group.attributes;
  }
  return nullptr;
}

Attributes& StorageExtras::Group(const std::string& path) {
  for (auto& group : group_attributes) {
    if (group.path == path) return group.attributes;
  }
  group_attributes.push_back({path, {}});
  return group_attributes.back().attributes;
}

}  // namespace r2s::episode

#include "episode/dataset_info.h"

namespace r2s::episode {

std::string_view StorageLayoutName(StorageLayout layout) {
  switch (layout) {
    case StorageLayout::kRobomimic:
      return "robomimic";
    case StorageLayout::kAloha:
      return "aloha";
    case StorageLayout::kLeRobot:
      return "lerobot";
  }
  return "unknown";
}

}  // namespace r2s::episode

#include "episode/episode.h"

#include <stdexcept>

namespace r2s::episode {

const Column* Episode::Find(const std::string& feature) const {
  auto it = columns.find(feature);
  return it == columns.end() ? nullptr : &it->second;
}

const Column& Episode::At(const std::string& feature) const {
  if (const Column* column = Find(feature)) return *column;
  throw std::out_of_range("episode " + std::to_string(metadata.index) + " has no feature '" + feature + "'");
}

}  // namespace r2s::episode

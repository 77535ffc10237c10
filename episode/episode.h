#pragma once
// One episode, columnar: one contiguous array per feature over its T frames, plus per-episode metadata.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "episode/array.h"
#include "episode/attribute.h"
#include "episode/provenance.h"
#include "episode/storage_extras.h"

namespace r2s::episode {

struct DeflatedFrames;  // frame_deflate.h

struct Column {
  Array data;             // shape {T, frame shape...}
  Attributes attributes;  // as stored on the dataset (unit, names, anything else), kept for writing back
  // The frames already deflated as the HDF5 writer stores them (frame_deflate.h), when a worker prepared them; the
  // writer uses them where they match its settings. Plain memory; whoever changes `data` afterwards resets it.
  std::shared_ptr<const DeflatedFrames> deflated;

  std::int64_t num_frames() const { return data.shape.empty() ? 0 : data.shape[0]; }
};

// A column of `data` alone: no attributes, nothing deflated ahead.
inline Column ColumnOf(Array data) {
  Column column;
  column.data = std::move(data);
  return column;
}

struct EpisodeMetadata {
  std::int64_t index = 0;
  std::string task;
  std::int64_t length = 0;  // frames
  std::optional<bool> success;
  bool operator==(const EpisodeMetadata&) const = default;
};

struct Episode {
  EpisodeMetadata metadata;
  std::map<std::string, Column> columns;  // feature name -> column
  std::optional<Provenance> provenance;   // synthetic episodes only
  StorageExtras storage;                  // what the source layout stored that the schema does not model

  const Column* Find(const std::string& feature) const;
  const Column& At(const std::string& feature) const;  // throws std::out_of_range naming the feature
};

}  // namespace r2s::episode

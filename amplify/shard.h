#pragma once
// Shards: the unit of work across nodes. The run's units (source episode e, variant v), numbered u = e K + v, are
// split into N contiguous blocks; shard I takes [floor(I U / N), floor((I + 1) U / N)). Blocks keep a shard's
// source episodes together (each is read once) and any split of the same run covers every unit exactly once.
//
// Where a shard comes from: `--shard I/N`, else the scheduler's array index: Slurm's SLURM_ARRAY_TASK_ID with
// SLURM_ARRAY_TASK_COUNT (or SLURM_ARRAY_TASK_MIN/MAX), or Kubernetes' JOB_COMPLETION_INDEX with R2S_SHARD_COUNT
// (an Indexed Job's manifest sets it to its completions).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace r2s::amplify {

struct Shard {
  std::uint32_t index = 0;
  std::uint32_t count = 1;
  std::string source = "default";  // "--shard", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"
  bool operator==(const Shard& o) const { return index == o.index && count == o.count; }
};

// "I/N" with 0 <= I < N. Throws InputError("command line", "--shard", ...).
Shard ParseShard(std::string_view text);

// The shard the scheduler's environment names, or std::nullopt when it names none. Throws InputError naming the
// variable when it is malformed (not a number, an index past the count, a Kubernetes index without
// R2S_SHARD_COUNT).
using Environment = std::function<const char*(const char*)>;
std::optional<Shard> ShardFromEnvironment(const Environment& environment);

// This shard's units [begin, end) of `total`.
std::pair<std::uint64_t, std::uint64_t> ShardUnits(const Shard& shard, std::uint64_t total);

}  // namespace r2s::amplify

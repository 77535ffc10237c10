#include "amplify/shard.h"

#include <charconv>

#include "episode/input_error.h"

namespace r2s::amplify {
namespace {

std::optional<std::uint64_t> Unsigned(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::uint64_t Variable(const Environment& environment, const char* name) {
  const char* text = environment(name);
  const auto value = Unsigned(text ? text : "");
  if (!value || *value > 0xFFFFFFFFu) {
    throw InputError("environment", name, std::string("'") + (text ? text : "") + "' is not a non-negative integer");
  }
  return *value;
}

Shard Checked(std::uint64_t index, std::uint64_t count, const char* field, std::string source) {
  if (count == 0 || count > 0xFFFFFFFFu) {
    throw InputError(source == "--shard" ? "command line" : "environment", field,
                     "the shard count must be at least 1, found " + std::to_string(count));
  }
  if (index >= count) {
    throw InputError(source == "--shard" ? "command line" : "environment", field,
                     "shard index " + std::to_string(index) + " is not below the shard count " + std::to_string(count));
  }
  return Shard{static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(count), std::move(source)};
}

}  // namespace

Shard ParseShard(std::string_view text) {
  const auto slash = text.find('/');
  const auto index = slash == std::string_view::npos ? std::nullopt : Unsigned(text.substr(0, slash));
  const auto count = slash == std::string_view::npos ? std::nullopt : Unsigned(text.substr(slash + 1));
  if (!index || !count) {
    throw InputError("command line", "--shard", "'" + std::string(text) + "' is not I/N (for example 3/16)");
  }
  return Checked(*index, *count, "--shard", "--shard");
}

std::optional<Shard> ShardFromEnvironment(const Environment& environment) {
  if (environment("SLURM_ARRAY_TASK_ID")) {
    const std::uint64_t id = Variable(environment, "SLURM_ARRAY_TASK_ID");
    if (environment("SLURM_ARRAY_TASK_COUNT")) {
      // Arrays given as 0-(N-1), the convention the examples use; a MIN offset is honoured when Slurm sets it.
      const std::uint64_t first = environment("SLURM_ARRAY_TASK_MIN") ? Variable(environment, "SLURM_ARRAY_TASK_MIN") : 0;
      if (id < first) {
        throw InputError("environment", "SLURM_ARRAY_TASK_ID",
                         std::to_string(id) + " is below SLURM_ARRAY_TASK_MIN " + std::to_string(first));
      }
      return Checked(id - first, Variable(environment, "SLURM_ARRAY_TASK_COUNT"), "SLURM_ARRAY_TASK_ID",
                     "SLURM_ARRAY_TASK_ID");
    }
    if (environment("SLURM_ARRAY_TASK_MIN") && environment("SLURM_ARRAY_TASK_MAX")) {
      const std::uint64_t first = Variable(environment, "SLURM_ARRAY_TASK_MIN");
      const std::uint64_t last = Variable(environment, "SLURM_ARRAY_TASK_MAX");
      if (id < first || last < first) {
        throw InputError("environment", "SLURM_ARRAY_TASK_ID",
                         std::to_string(id) + " is outside SLURM_ARRAY_TASK_MIN..MAX " + std::to_string(first) +
                             ".." + std::to_string(last));
      }
      return Checked(id - first, last - first + 1, "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_ID");
    }
    throw InputError("environment", "SLURM_ARRAY_TASK_ID",
                     "is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MIN/MAX is: the shard count is "
                     "unknown (pass --shard I/N)");
  }
  if (environment("JOB_COMPLETION_INDEX")) {
    const std::uint64_t index = Variable(environment, "JOB_COMPLETION_INDEX");
    if (!environment("R2S_SHARD_COUNT")) {
      throw InputError("environment", "R2S_SHARD_COUNT",
                       "is not set: a Kubernetes Indexed Job gives its index (JOB_COMPLETION_INDEX) but not its "
                       "completions; set R2S_SHARD_COUNT to them in the manifest, or pass --shard I/N");
    }
    return Checked(index, Variable(environment, "R2S_SHARD_COUNT"), "JOB_COMPLETION_INDEX", "JOB_COMPLETION_INDEX");
  }
  return std::nullopt;
}

std::pair<std::uint64_t, std::uint64_t> ShardUnits(const Shard& shard, std::uint64_t total) {
  // floor(total i / N) without overflow: (q N + r) i / N = q i + floor(r i / N), with r i < 2^64 since r, i <= N.
  const std::uint64_t q = total / shard.count, r = total % shard.count;
  const auto at = [&](std::uint64_t i) { return q * i + r * i / shard.count; };
  return {at(shard.index), at(shard.index + 1ull)};
}

}  // namespace r2s::amplify

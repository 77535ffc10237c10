#pragma once
// Where a synthetic episode came from. Stored beside the episode's data, never as per-frame columns, so that
// real and synthetic datasets keep identical feature dictionaries and merge.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace r2s::episode {

struct SampledParameter {
  std::string name;           // "physics.joint3.coulomb_friction_Nm", "light.intensity_lux"
  std::vector<double> value;  // one element for a scalar
  bool operator==(const SampledParameter&) const = default;
};

struct Provenance {
  std::string source_dataset;
  std::int64_t source_episode = -1;
  std::int64_t variant = -1;
  std::uint64_t seed = 0;
  std::vector<SampledParameter> parameters;  // every sampled value, in draw order
  std::string software_version;              // real2sim's version that wrote the episode
  // Why a failed episode kept anyway (r2s generate --keep all) would not have been kept: "object_dropped: cube
  // left the gripper at frame 143 ...". Empty for a success; absent from the JSON when empty.
  std::string rejection;

  bool operator==(const Provenance&) const = default;
};

std::string ProvenanceToJson(const Provenance& provenance);
// Throws InputError naming `file` and `field` when the JSON is malformed or a field has the wrong type.
Provenance ProvenanceFromJson(std::string_view json, const std::string& file, const std::string& field);

}  // namespace r2s::episode

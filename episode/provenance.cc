#include "episode/provenance.h"

#include <nlohmann/json.hpp>

#include "episode/input_error.h"

namespace r2s::episode {

std::string ProvenanceToJson(const Provenance& provenance) {
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();
  for (const auto& p : provenance.parameters) {
    parameters[p.name] = p.value.size() == 1 ? nlohmann::ordered_json(p.value[0]) : nlohmann::ordered_json(p.value);
  }
  nlohmann::ordered_json j = {
      {"source_dataset", provenance.source_dataset},
      {"source_episode", provenance.source_episode},
      {"variant", provenance.variant},
      {"seed", provenance.seed},
      {"parameters", parameters},
      {"software_version", provenance.software_version},
  };
  if (!provenance.rejection.empty()) j["rejection"] = provenance.rejection;
  return j.dump();
}

Provenance ProvenanceFromJson(std::string_view json, const std::string& file, const std::string& field) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    throw InputError(file, field, "provenance is not a JSON object: '" + std::string(json.substr(0, 80)) + "'");
  }
  Provenance p;
  try {
    p.source_dataset = j.value("source_dataset", "");
    p.source_episode = j.value("source_episode", std::int64_t{-1});
    p.variant = j.value("variant", std::int64_t{-1});
    p.seed = j.value("seed", std::uint64_t{0});
    p.software_version = j.value("software_version", "");
    p.rejection = j.value("rejection", "");
    if (j.contains("parameters")) {
      for (const auto& [name, value] : j.at("parameters").items()) {
        SampledParameter sp{name, {}};
        if (value.is_array()) {
          sp.value = value.get<std::vector<double>>();
        } else {
          sp.value = {value.get<double>()};
        }
        p.parameters.push_back(std::move(sp));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, field, std::string("provenance field has the wrong type: ") + e.what());
  }
  return p;
}

}  // namespace r2s::episode

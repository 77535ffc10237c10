#include "render/segmentation.h"

#include <limits>
#include <stdexcept>

namespace r2s::render {
namespace {

int NumLinks(const sim::Model& model) { return model.robot ? static_cast<int>(model.robot->links.size()) : 0; }

std::uint16_t Id(int index) {
  if (index + 1 > std::numeric_limits<std::uint16_t>::max()) {
    throw std::invalid_argument("the scene has more bodies than 16-bit segmentation ids can number");
  }
  return static_cast<std::uint16_t>(index + 1);
}

}  // namespace

std::uint16_t LinkSegmentationId(const sim::Model& /*model*/, int link) { return Id(link); }

std::uint16_t ObjectSegmentationId(const sim::Model& model, int object) { return Id(NumLinks(model) + object); }

std::uint16_t EnvironmentSegmentationId(const sim::Model& model, int body) {
  return Id(NumLinks(model) + static_cast<int>(model.objects.size()) + body);
}

std::vector<SegmentationEntry> SegmentationTable(const sim::Model& model) {
  std::vector<SegmentationEntry> table;
  for (int i = 0; i < NumLinks(model); ++i) {
    table.push_back({LinkSegmentationId(model, i), "link", model.robot->links[i].name});
  }
  for (int i = 0; i < static_cast<int>(model.objects.size()); ++i) {
    table.push_back({ObjectSegmentationId(model, i), "object", model.objects[i].name});
  }
  for (int i = 0; i < static_cast<int>(model.environment.size()); ++i) {
    table.push_back({EnvironmentSegmentationId(model, i), "environment", model.environment[i].name});
  }
  return table;
}

}  // namespace r2s::render

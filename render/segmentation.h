#pragma once
// Segmentation ids: which body a pixel of Frame::segmentation shows. The table depends only on the model, so an
// episode writer can store it in the episode's metadata without a renderer.

#include <cstdint>
#include <string>
#include <vector>

#include "sim/model.h"

namespace r2s::render {

struct SegmentationEntry {
  std::uint16_t id = 0;
  std::string kind;  // "link" (a robot link), "object" (a free body) or "environment" (a static body)
  std::string name;  // the link's or body's name in the model
};

// Id 0 is the background. Ids then count up from 1 over the robot's links (in RobotModel::links order), the free
// objects (Model::objects) and the static bodies (Model::environment), whether or not a body has visuals.
std::vector<SegmentationEntry> SegmentationTable(const sim::Model& model);

// The ids of one body, as the table numbers them.
std::uint16_t LinkSegmentationId(const sim::Model& model, int link);
std::uint16_t ObjectSegmentationId(const sim::Model& model, int object);
std::uint16_t EnvironmentSegmentationId(const sim::Model& model, int body);

}  // namespace r2s::render

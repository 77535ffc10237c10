// What the renderer draws from: the visual meshes' own materials (the Panda's OBJ + MTL files), the segmentation
// id table, and the initial state's forward kinematics against Bullet's. No Vulkan.

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "render/draw_list.h"
#include "render/scene_state.h"
#include "render/segmentation.h"
#include "sim/mesh_loader.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace r2s::render {
namespace {

namespace fs = std::filesystem;
using r2s::testing::SourceDir;

const fs::path kVisual = SourceDir() / "scenes/tabletop/robot/meshes/visual";

TEST(RenderModelTest, VisualMeshesKeepTheirFilesMaterials) {
  // link6.obj: 17 MTL materials; 5 map colors.png, the others are plain colours (pure red and pure green
  // among them).
  const auto link6 = sim::LoadMesh(kVisual / "link6.obj", Eigen::Vector3d::Ones(), "test", "mesh");
  ASSERT_EQ(link6->parts.size(), 17u);
  std::uint32_t next = 0;
  int textured = 0, red = 0, green = 0;
  for (const auto& part : link6->parts) {
    EXPECT_EQ(part.first_triangle, next);
    next += part.num_triangles;
    if (!part.texture.empty()) {
      EXPECT_EQ(fs::path(part.texture), (kVisual / "colors.png").lexically_normal());
      ++textured;
    }
    red += part.diffuse_rgba.isApprox(Eigen::Vector4f(1, 0, 0, 1));
    green += part.diffuse_rgba.isApprox(Eigen::Vector4f(0, 1, 0, 1));
  }
  EXPECT_EQ(textured, 5);
  EXPECT_GE(red, 1);
  EXPECT_GE(green, 1);
  EXPECT_EQ(next, link6->triangles.size()) << "parts cover every triangle once";

  // link1.obj: one material whose diffuse map is colors.png beside it.
  const auto link1 = sim::LoadMesh(kVisual / "link1.obj", Eigen::Vector3d::Ones(), "test", "mesh");
  ASSERT_EQ(link1->parts.size(), 1u);
  EXPECT_EQ(fs::path(link1->parts[0].texture), (kVisual / "colors.png").lexically_normal());
  EXPECT_EQ(link1->uvs.size(), link1->vertices_m.size());

  // A mesh without materials (the bowl): Assimp's grey default counts as white, so the scene's colour shows.
  const auto bowl = sim::LoadMesh(SourceDir() / "scenes/tabletop/meshes/bowl.obj", Eigen::Vector3d::Ones(), "t", "m");
  ASSERT_EQ(bowl->parts.size(), 1u);
  EXPECT_TRUE(bowl->parts[0].diffuse_rgba.isApprox(Eigen::Vector4f::Ones()));
}

TEST(RenderModelTest, DrawListCoversEveryVisualWithItsBodyAndId) {
  const auto model = sim::LoadScene(SourceDir() / "scenes/tabletop");
  const DrawList list = BuildDrawList(*model);
  std::set<std::uint16_t> ids;
  for (const DrawItem& item : list.items) {
    ids.insert(item.segmentation_id);
    EXPECT_GT(item.index_count, 0u);
    EXPECT_EQ(item.index_count % 3, 0u);
    EXPECT_LE(item.first_index + item.index_count, list.indices.size());
    EXPECT_GT(item.bound_radius, 0);
  }
  // Every link with visuals, the 4 objects and the 3 environment bodies.
  int links_with_visuals = 0;
  for (const auto& link : model->robot->links) links_with_visuals += !link.visuals.empty();
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(links_with_visuals + 4 + 3));
  // The Panda's textures (colors.png) are loaded once, however many links use them.
  int colors = 0;
  for (const auto& t : list.textures) colors += t.file.filename() == "colors.png";
  EXPECT_EQ(colors, 1);
}

TEST(RenderModelTest, SegmentationTableNumbersLinksObjectsThenEnvironment) {
  const auto model = sim::LoadScene(SourceDir() / "scenes/tabletop");
  const auto table = SegmentationTable(*model);
  const std::size_t links = model->robot->links.size();
  ASSERT_EQ(table.size(), links + model->objects.size() + model->environment.size());
  for (std::size_t i = 0; i < table.size(); ++i) EXPECT_EQ(table[i].id, i + 1) << "ids count up from 1";
  EXPECT_EQ(table[0].kind, "link");
  EXPECT_EQ(table[0].name, model->robot->links[0].name);
  EXPECT_EQ(table[links].kind, "object");
  EXPECT_EQ(table[links].name, "cube");
  EXPECT_EQ(table.back().kind, "environment");
  EXPECT_EQ(table.back().name, "pedestal");
  EXPECT_EQ(ObjectSegmentationId(*model, 1), links + 2);
}

TEST(RenderModelTest, InitialStateMatchesTheWorldsKinematics) {
  const auto model = sim::LoadScene(SourceDir() / "scenes/tabletop");
  const SceneState fk = InitialState(*model);
  const sim::World world(model);
  const SceneState bullet = CaptureState(world);
  ASSERT_EQ(fk.link_poses.size(), model->robot->links.size());
  ASSERT_EQ(bullet.link_poses.size(), fk.link_poses.size());
  for (std::size_t i = 0; i < fk.link_poses.size(); ++i) {
    EXPECT_TRUE(fk.link_poses[i].isApprox(bullet.link_poses[i], 1e-9)) << model->robot->links[i].name;
  }
  ASSERT_EQ(bullet.object_poses.size(), model->objects.size());
  for (std::size_t i = 0; i < fk.object_poses.size(); ++i) {
    EXPECT_TRUE(fk.object_poses[i].isApprox(bullet.object_poses[i], 1e-9)) << model->objects[i].name;
  }
}

}  // namespace
}  // namespace r2s::render

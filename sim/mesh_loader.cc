#include "sim/mesh_loader.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <assimp/config.h>
#include <assimp/material.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>
#include <assimp/Importer.hpp>

#include "episode/input_error.h"

namespace r2s::sim {
namespace {

// The look of one Assimp material: its diffuse colour and texture. Files without materials get Assimp's grey
// "DefaultMaterial", which would darken every such mesh: it counts as plain white.
TriangleMesh::Part ReadPart(const aiScene& scene, const aiMaterial& material, const std::filesystem::path& file) {
  TriangleMesh::Part part;
  if (material.GetName() == aiString(AI_DEFAULT_MATERIAL_NAME)) return part;
  aiColor4D diffuse(1, 1, 1, 1);
  if (material.Get(AI_MATKEY_COLOR_DIFFUSE, diffuse) == AI_SUCCESS) {
    part.diffuse_rgba = Eigen::Vector4f(diffuse.r, diffuse.g, diffuse.b, diffuse.a);
  }
  float opacity = 1;
  if (material.Get(AI_MATKEY_OPACITY, opacity) == AI_SUCCESS) part.diffuse_rgba[3] *= opacity;
  aiString texture;
  if (material.GetTexture(aiTextureType_DIFFUSE, 0, &texture) != AI_SUCCESS &&
      material.GetTexture(aiTextureType_BASE_COLOR, 0, &texture) != AI_SUCCESS) {
    return part;
  }
  if (const aiTexture* embedded = scene.GetEmbeddedTexture(texture.C_Str())) {
    // Only encoded images (mHeight == 0: mWidth bytes of PNG/JPEG); raw texel arrays are rare and skipped.
    if (embedded->mHeight == 0) {
      const auto* bytes = reinterpret_cast<const std::uint8_t*>(embedded->pcData);
      part.embedded_texture = std::make_shared<const std::vector<std::uint8_t>>(bytes, bytes + embedded->mWidth);
    }
    return part;
  }
  std::string named = texture.C_Str();
  std::replace(named.begin(), named.end(), '\\', '/');
  // Exporters often write the absolute path of the author's machine ("D:/dev/.../colors.png"): then the file of
  // that name beside the mesh, if there is one. A texture found nowhere is left out, as PyBullet does.
  std::error_code ec;
  for (const std::filesystem::path& candidate :
       {file.parent_path() / named, file.parent_path() / std::filesystem::path(named).filename()}) {
    if (std::filesystem::is_regular_file(candidate, ec)) {
      part.texture = candidate.lexically_normal().string();
      break;
    }
  }
  return part;
}

std::string ScaleKey(const Eigen::Vector3d& scale) {
  std::ostringstream key;
  key.precision(17);
  key << scale.x() << ',' << scale.y() << ',' << scale.z();
  return key.str();
}

}  // namespace

std::shared_ptr<const TriangleMesh> LoadMesh(const std::filesystem::path& file, const Eigen::Vector3d& scale,
                                             const std::string& referenced_from, const std::string& field) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw InputError(referenced_from, field, "mesh file '" + file.string() + "' does not exist");
  }
  if (!scale.allFinite() || (scale.array() == 0).any()) {
    throw InputError(referenced_from, field, "mesh scale has a zero or non-finite component");
  }
  Assimp::Importer importer;
  // Robot descriptions give Z-up geometry in the file's own axes; Assimp would otherwise rotate Z-up Collada
  // files to its Y-up convention.
  importer.SetPropertyBool(AI_CONFIG_IMPORT_COLLADA_IGNORE_UP_DIRECTION, true);
  const aiScene* scene = importer.ReadFile(file.string(), aiProcess_Triangulate | aiProcess_JoinIdenticalVertices |
                                                              aiProcess_PreTransformVertices | aiProcess_SortByPType |
                                                              aiProcess_GenSmoothNormals | aiProcess_FindInvalidData);
  if (scene == nullptr) {
    throw InputError(referenced_from, field,
                     "mesh file '" + file.string() + "' could not be read: " + importer.GetErrorString());
  }

  auto mesh = std::make_shared<TriangleMesh>();
  mesh->source = file.string();
  bool all_have_normals = true;
  bool any_has_uvs = false;  // parts without texture coordinates then get (0, 0)
  for (unsigned m = 0; m < scene->mNumMeshes; ++m) {
    const aiMesh* part = scene->mMeshes[m];
    if ((part->mPrimitiveTypes & aiPrimitiveType_TRIANGLE) == 0) continue;
    all_have_normals = all_have_normals && part->HasNormals();
    any_has_uvs = any_has_uvs || part->HasTextureCoords(0);
  }
  for (unsigned m = 0; m < scene->mNumMeshes; ++m) {
    const aiMesh* part = scene->mMeshes[m];
    if ((part->mPrimitiveTypes & aiPrimitiveType_TRIANGLE) == 0) continue;  // points and lines do not collide
    const auto base = static_cast<std::uint32_t>(mesh->vertices_m.size());
    for (unsigned v = 0; v < part->mNumVertices; ++v) {
      const aiVector3D& p = part->mVertices[v];
      mesh->vertices_m.emplace_back(p.x * scale.x(), p.y * scale.y(), p.z * scale.z());
      if (all_have_normals) {
        // A non-uniform scale bends normals by the inverse scale.
        Eigen::Vector3f n(part->mNormals[v].x / static_cast<float>(scale.x()),
                          part->mNormals[v].y / static_cast<float>(scale.y()),
                          part->mNormals[v].z / static_cast<float>(scale.z()));
        mesh->normals.push_back(n.normalized());
      }
      if (any_has_uvs) {
        mesh->uvs.push_back(part->HasTextureCoords(0)
                                ? Eigen::Vector2f(part->mTextureCoords[0][v].x, part->mTextureCoords[0][v].y)
                                : Eigen::Vector2f::Zero());
      }
    }
    const auto first_triangle = static_cast<std::uint32_t>(mesh->triangles.size());
    for (unsigned f = 0; f < part->mNumFaces; ++f) {
      const aiFace& face = part->mFaces[f];
      if (face.mNumIndices != 3) continue;
      mesh->triangles.push_back({base + face.mIndices[0], base + face.mIndices[1], base + face.mIndices[2]});
    }
    TriangleMesh::Part look = part->mMaterialIndex < scene->mNumMaterials
                                  ? ReadPart(*scene, *scene->mMaterials[part->mMaterialIndex], file)
                                  : TriangleMesh::Part{};
    look.first_triangle = first_triangle;
    look.num_triangles = static_cast<std::uint32_t>(mesh->triangles.size()) - first_triangle;
    if (look.num_triangles > 0) mesh->parts.push_back(std::move(look));
  }
  // A mirroring scale (odd number of negative components) turns the winding inside out.
  if (scale.x() * scale.y() * scale.z() < 0) {
    for (auto& t : mesh->triangles) std::swap(t[1], t[2]);
  }
  if (mesh->triangles.empty()) {
    throw InputError(referenced_from, field, "mesh file '" + file.string() + "' has no triangles");
  }
  for (const auto& v : mesh->vertices_m) {
    if (!v.allFinite()) {
      throw InputError(referenced_from, field, "mesh file '" + file.string() + "' has a non-finite vertex");
    }
  }
  return mesh;
}

std::shared_ptr<const TriangleMesh> MeshCache::Get(const std::filesystem::path& file, const Eigen::Vector3d& scale,
                                                   const std::string& referenced_from, const std::string& field) {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(file, ec);
  auto key = std::make_pair(ec ? file.string() : canonical.string(), ScaleKey(scale));
  auto it = meshes_.find(key);
  if (it != meshes_.end()) return it->second;
  auto mesh = LoadMesh(file, scale, referenced_from, field);
  meshes_.emplace(std::move(key), mesh);
  return mesh;
}

}  // namespace r2s::sim

#include "episode/dataset_backend.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "episode/atomic_file.h"
#include "episode/hdf5/array_io.h"
#include "episode/hdf5/attribute_io.h"
#include "episode/hdf5/error.h"
#include "episode/hdf5/layout.h"
#include "episode/hdf5/source_file.h"
#include "episode/input_error.h"
#include "episode/validate.h"

namespace r2s::episode {
namespace fs = std::filesystem;
using hdf5::Check;
using hdf5::Handle;

namespace {

Handle CreateFile(const fs::path& path) {
  const std::string name = path.string();
  // No modification times in object headers, so that the same episodes give byte-identical files.
  Handle create(H5Pcreate(H5P_FILE_CREATE));
  H5Pset_obj_track_times(create.get(), 0);
  return Handle(
      Check(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, create.get(), H5P_DEFAULT), name, "", "cannot create file"));
}

Handle IntermediateGroupLinks() {
  Handle link(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(link.get(), 1);
  return link;
}

// Opens the group at `path` below `location`, creating it (and its parents) when missing.
Handle OpenOrCreateGroup(hid_t location, const std::string& path, const std::string& file) {
  if (path.empty()) return Handle(H5Iinc_ref(location) >= 0 ? location : H5I_INVALID_HID);
  const std::string where = "/" + path;
  if (H5Lexists(location, path.c_str(), H5P_DEFAULT) > 0) {
    return Handle(Check(H5Gopen2(location, path.c_str(), H5P_DEFAULT), file, where, "cannot open group"));
  }
  Handle link = IntermediateGroupLinks();
  Handle create(H5Pcreate(H5P_GROUP_CREATE));
  H5Pset_obj_track_times(create.get(), 0);
  return Handle(Check(H5Gcreate2(location, path.c_str(), link.get(), create.get(), H5P_DEFAULT), file, where,
                      "cannot create group"));
}

void CopyNodes(const std::vector<PreservedNode>& nodes, hid_t destination, const std::string& file,
               const std::string& group_path) {
  Handle link = IntermediateGroupLinks();
  for (const auto& node : nodes) {
    const std::string where = "/" + hdf5::JoinPath(group_path, node.path);
    if (!node.source) throw std::logic_error("preserved node " + where + " has no source file");
    Check(H5Ocopy(node.source->file.get(), node.source_path.c_str(), destination, node.path.c_str(), H5P_DEFAULT,
                  link.get()),
          file, where, "cannot copy from " + node.source->path.string());
  }
}

}  // namespace

// The HDF5 layouts (robomimic, ALOHA) behind DatasetWriter.
class Hdf5Writer final : public DatasetWriter::Impl {
 public:
  fs::path path;
  DatasetInfo info;
  WriteOptions options;
  std::set<std::int64_t> written;  // episode indices
  bool committed = false;
  // robomimic: the one file, under its temporary name until Commit.
  fs::path temp_path;
  Handle file;
  std::int64_t total_frames = 0;

  ~Hdf5Writer() override {
    if (!temp_path.empty()) {
      file.Close();
      std::error_code ignored;
      fs::remove(temp_path, ignored);
    }
  }

  void WriteEpisode(hid_t group, const std::string& file_label, const std::string& group_path,
                    const Episode& episode) const;
  void AppendAloha(const Episode& episode);

  void Append(const Episode& episode) override;
  void AppendCopy(const fs::path& source, std::int64_t source_index, std::int64_t index,
                  std::int64_t frames) override;
  void Commit() override;
};

void Hdf5Writer::WriteEpisode(hid_t group, const std::string& file_label, const std::string& group_path,
                                       const Episode& episode) const {
  // Groups first, parents before children, each with its attributes.
  std::vector<GroupAttributes> groups = episode.storage.group_attributes;
  if (!episode.storage.FindGroup("")) groups.push_back({"", {}});
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  for (auto& g : groups) {
    if (g.path.empty()) {
      if (info.layout == StorageLayout::kRobomimic) {
        SetAttribute(g.attributes, "num_samples", AttributeValue::Int64(episode.metadata.length));
      }
      if (episode.metadata.success)
        SetAttribute(g.attributes, "success", AttributeValue::Bool(*episode.metadata.success));
      const std::string dataset_task = info.tasks.size() == 1 ? info.tasks[0] : "";
      if (FindAttribute(g.attributes, "task") ||
          (!episode.metadata.task.empty() && episode.metadata.task != dataset_task)) {
        SetAttribute(g.attributes, "task", AttributeValue::String(episode.metadata.task));
      }
      if (episode.provenance) {
        SetAttribute(g.attributes, hdf5::kProvenanceAttribute,
                     AttributeValue::String(ProvenanceToJson(*episode.provenance)));
      }
    }
    Handle handle = OpenOrCreateGroup(group, g.path, file_label);
    hdf5::WriteAttributes(handle.get(), g.attributes, file_label, "/" + hdf5::JoinPath(group_path, g.path));
  }

  for (const auto& [name, column] : episode.columns) {
    const FeatureSpec& spec = info.features.at(name);
    auto stored = info.storage_paths.find(name);
    const std::string path =
        stored != info.storage_paths.end() ? stored->second : hdf5::DefaultStoragePath(info.layout, name);
    const std::string where = "/" + hdf5::JoinPath(group_path, path);
    // Per-pixel maps (depth in metres, segmentation ids: [H, W] frames) are stored like images, losslessly
    // compressed, with their bytes shuffled: raw they were most of a rendered dataset's size.
    const bool pixel_map = spec.shape.size() == 2 && spec.shape[0] >= 16 && spec.shape[1] >= 16;
    hdf5::ArrayStorage storage;
    storage.per_frame = spec.IsImage() || pixel_map;
    storage.deflate_level = options.image_deflate_level;
    storage.shuffle = pixel_map && DTypeSize(spec.dtype) > 1;
    hdf5::WriteArray(group, path, column.data, storage, file_label, where);
    Attributes attributes = column.attributes;
    if (!spec.unit.empty() && !FindAttribute(attributes, "unit") && !FindAttribute(attributes, "units")) {
      attributes.push_back({"unit", AttributeValue::String(spec.unit)});
    }
    if (!spec.names.empty() && !spec.names.back().empty() && !FindAttribute(attributes, "names")) {
      AttributeValue names;
      names.kind = AttributeValue::Kind::kString;
      names.strings = spec.names.back();
      names.string_shape = {static_cast<std::int64_t>(names.strings.size())};
      attributes.push_back({"names", std::move(names)});
    }
    Handle dataset(Check(H5Dopen2(group, path.c_str(), H5P_DEFAULT), file_label, where, "cannot open dataset"));
    hdf5::WriteAttributes(dataset.get(), attributes, file_label, where);
  }
  CopyNodes(episode.storage.nodes, group, file_label, group_path);
}

void Hdf5Writer::AppendAloha(const Episode& episode) {
  const fs::path final_path = path / hdf5::AlohaEpisodeFileName(episode.metadata.index);
  if (fs::exists(final_path) && !options.overwrite) {
    throw InputError(final_path.string(), "", "exists; refusing to overwrite it (give --overwrite to replace it)");
  }
  const fs::path temp = TemporaryPathFor(final_path);
  struct RemoveUnlessRenamed {
    fs::path path;
    ~RemoveUnlessRenamed() {
      std::error_code ignored;
      if (!path.empty()) fs::remove(path, ignored);
    }
  } guard{temp};
  {
    Handle out = CreateFile(temp);
    WriteEpisode(out.get(), final_path.string(), "", episode);
    Check(out.Close(), final_path.string(), "", "cannot finish writing");
  }
  PublishFile(temp, final_path);
  guard.path.clear();
}

std::unique_ptr<DatasetWriter::Impl> CreateHdf5Dataset(const fs::path& path, const DatasetInfo& info,
                                                       const WriteOptions& options) {
  hdf5::Quiet quiet;
  auto impl = std::make_unique<Hdf5Writer>();
  impl->path = path;
  impl->info = info;
  impl->options = options;
  if (info.layout == StorageLayout::kAloha) {
    if (fs::exists(path) && !fs::is_directory(path)) {
      throw InputError(path.string(), "", "exists and is not a folder; an ALOHA dataset is a folder of episodes");
    }
    fs::create_directories(path);
    return impl;
  }

  if (fs::exists(path) && !options.overwrite) throw InputError(path.string(), "", "exists; refusing to overwrite it (give --overwrite to replace it)");
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  impl->temp_path = TemporaryPathFor(path);
  impl->file = CreateFile(impl->temp_path);
  const std::string label = path.string();
  const hid_t root = impl->file.get();
  if (const Attributes* root_attributes = info.storage.FindGroup("")) {
    hdf5::WriteAttributes(root, *root_attributes, label, "/");
  }
  Attributes data_attributes = info.storage.FindGroup("data") ? *info.storage.FindGroup("data") : Attributes{};
  if (!FindAttribute(data_attributes, "env_args")) {
    // robomimic's loaders require env_args; a dataset made in code gets the smallest valid one, with its fps as
    // robosuite's control_freq (where robomimic-style readers, this one included, find the rate).
    const std::string env_name = info.tasks.empty() ? "" : info.tasks[0];
    std::string kwargs = "{}";
    if (info.fps) {
      char rate[64];
      std::snprintf(rate, sizeof(rate), "%.17g", *info.fps);
      kwargs = std::string(R"({"control_freq": )") + rate + "}";
    }
    data_attributes.push_back({"env_args", AttributeValue::String(R"({"env_name": ")" + env_name +
                                                                  R"(", "type": 1, "env_kwargs": )" + kwargs + "}")});
  }
  SetAttribute(data_attributes, "total", AttributeValue::Int64(0));
  impl->info.storage.Group("data") = data_attributes;
  Handle data = OpenOrCreateGroup(root, "data", label);
  hdf5::WriteAttributes(data.get(), data_attributes, label, "/data");
  CopyNodes(info.storage.nodes, root, label, "");
  return impl;
}

void Hdf5Writer::Append(const Episode& episode) {
  hdf5::Quiet quiet;
  const std::string label = path.string();
  const std::string episode_name = "episode " + std::to_string(episode.metadata.index);
  if (!written.insert(episode.metadata.index).second) {
    throw InputError(label, episode_name, "index already written");
  }
  if (info.layout == StorageLayout::kAloha) {
    AppendAloha(episode);
    return;
  }
  const std::string group_path = hdf5::RobomimicEpisodeGroup(episode.metadata.index);
  Handle group = OpenOrCreateGroup(file.get(), group_path, label);
  WriteEpisode(group.get(), label, group_path, episode);
  total_frames += episode.metadata.length;
}

void Hdf5Writer::AppendCopy(const fs::path& source, std::int64_t source_index, std::int64_t index,
                            std::int64_t frames) {
  hdf5::Quiet quiet;
  if (info.layout != StorageLayout::kRobomimic) {
    throw std::logic_error("DatasetWriter::AppendCopy is for robomimic datasets");
  }
  const std::string label = path.string();
  if (!written.insert(index).second) {
    throw InputError(label, "episode " + std::to_string(index), "index already written");
  }
  const std::string source_name = source.string();
  Handle source_file(Check(H5Fopen(source_name.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), source_name, "", "cannot be opened"));
  const std::string from = hdf5::RobomimicEpisodeGroup(source_index);
  const std::string to = hdf5::RobomimicEpisodeGroup(index);
  Handle link = IntermediateGroupLinks();
  Check(H5Ocopy(source_file.get(), from.c_str(), file.get(), to.c_str(), H5P_DEFAULT, link.get()), label, "/" + to,
        "cannot copy /" + from + " of " + source_name);
  total_frames += frames;
}

void Hdf5Writer::Commit() {
  hdf5::Quiet quiet;
  if (committed) return;
  committed = true;
  if (info.layout == StorageLayout::kAloha) return;
  const std::string label = path.string();
  Attributes& data_attributes = info.storage.Group("data");
  SetAttribute(data_attributes, "total", AttributeValue::Int64(total_frames));
  {
    Handle data(Check(H5Gopen2(file.get(), "data", H5P_DEFAULT), label, "/data", "cannot open group"));
    Attributes total = {*std::find_if(data_attributes.begin(), data_attributes.end(),
                                      [](const NamedAttribute& a) { return a.name == "total"; })};
    hdf5::WriteAttributes(data.get(), total, label, "/data");
  }
  Check(file.Close(), label, "", "cannot finish writing");
  if (fs::exists(path) && !options.overwrite) {
    throw InputError(label, "", "appeared while writing; refusing to overwrite it (give --overwrite to replace it)");
  }
  PublishFile(temp_path, path);
  temp_path.clear();
}

}  // namespace r2s::episode

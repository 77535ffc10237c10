#include "episode/dataset_backend.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "episode/atomic_file.h"
#include "episode/frame_deflate.h"
#include "episode/hdf5/array_io.h"
#include "episode/hdf5/attribute_io.h"
#include "episode/hdf5/error.h"
#include "episode/hdf5/layout.h"
#include "episode/hdf5/node_image.h"
#include "episode/hdf5/source_file.h"
#include "episode/hdf5/structure.h"
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
  const NodeImage* open_image = nullptr;  // an episode's nodes share one image: opened once
  Handle image_file;
  for (const auto& node : nodes) {
    const std::string where = "/" + hdf5::JoinPath(group_path, node.path);
    hid_t from = H5I_INVALID_HID;
    std::string origin;
    if (node.image) {
      if (node.image.get() != open_image) {
        image_file = Handle();  // closed before another opens
        image_file = hdf5::OpenImage(*node.image, file);
        open_image = node.image.get();
      }
      from = image_file.get();
      origin = node.image->source_file;
    } else if (node.source) {
      from = node.source->file.get();
      origin = node.source->path.string();
    } else {
      throw std::logic_error("preserved node " + where + " has neither an image nor a source file");
    }
    Check(H5Ocopy(from, node.source_path.c_str(), destination, node.path.c_str(), H5P_DEFAULT, link.get()), file,
          where, "cannot copy from " + origin);
  }
}

// ---------------------------------------------------------------------------------------------------------
// robomimic filter keys (mask/<filter>: the names of the demos in the subset). Lists copied verbatim from a source
// name the source's demos, which in a synthetic dataset are other episodes; they are regenerated so that a
// synthetic demo is in every filter that lists the demo it was made from. The source episodes a regenerated list
// stands for are kept in its attribute kFilterSourcesAttribute, so that a dataset made from synthetic ones (the
// shards `r2s merge` assembles, a synthetic dataset written back) lists its demos by the same source episodes.

constexpr const char* kFilterGroup = "mask";
constexpr const char* kFilterSourcesAttribute = "r2s_source_episodes";

bool IsFilterGroup(const PreservedNode& node) { return node.path == kFilterGroup && node.source; }

// Whether `dataset` is a list of names: strings, one dimension (or a scalar).
bool IsStringList(hid_t dataset) {
  Handle type(H5Dget_type(dataset));
  Handle space(H5Dget_space(dataset));
  return type && space && H5Tget_class(type.get()) == H5T_STRING && H5Sget_simple_extent_ndims(space.get()) <= 1;
}

// The strings of a string list (fixed or variable length), padding removed.
std::vector<std::string> ReadStrings(hid_t dataset, const std::string& file, const std::string& where) {
  Handle type(Check(H5Dget_type(dataset), file, where, "cannot read type"));
  Handle space(Check(H5Dget_space(dataset), file, where, "cannot read dataspace"));
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  std::vector<std::string> out;
  if (count <= 0) return out;
  Handle memory(H5Tcopy(H5T_C_S1));
  if (H5Tis_variable_str(type.get()) > 0) {
    H5Tset_size(memory.get(), H5T_VARIABLE);
    std::vector<char*> pointers(static_cast<std::size_t>(count), nullptr);
    Check(H5Dread(dataset, memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()), file, where,
          "cannot read strings");
    for (char* p : pointers) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, pointers.data());
    return out;
  }
  const std::size_t size = H5Tget_size(type.get());
  H5Tset_size(memory.get(), size);
  H5Tset_strpad(memory.get(), H5T_STR_NULLPAD);
  std::vector<char> bytes(size * static_cast<std::size_t>(count));
  Check(H5Dread(dataset, memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()), file, where,
        "cannot read strings");
  for (hssize_t i = 0; i < count; ++i) {
    std::string value(bytes.data() + static_cast<std::size_t>(i) * size, size);
    value.erase(std::find(value.begin(), value.end(), '\0'), value.end());
    if (H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD) value.erase(value.find_last_not_of(' ') + 1);
    out.push_back(std::move(value));
  }
  return out;
}

// Writes `names` as robomimic's own scripts do (h5py from np.array of bytes): 1-D fixed-length null-padded ASCII.
void WriteStrings(hid_t group, const std::string& name, const std::vector<std::string>& names, const std::string& file,
                  const std::string& where) {
  std::size_t size = 1;  // an HDF5 string type has at least one byte
  for (const auto& n : names) size = std::max(size, n.size());
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), size);
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  const hsize_t dims[1] = {names.size()};
  Handle space(H5Screate_simple(1, dims, nullptr));
  Handle create(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_obj_track_times(create.get(), 0);
  Handle dataset(Check(H5Dcreate2(group, name.c_str(), type.get(), space.get(), H5P_DEFAULT, create.get(), H5P_DEFAULT),
                       file, where, "cannot create dataset"));
  std::vector<char> bytes(size * names.size(), '\0');
  for (std::size_t i = 0; i < names.size(); ++i) std::copy(names[i].begin(), names[i].end(), bytes.data() + i * size);
  if (!names.empty()) {
    Check(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()), file, where,
          "cannot write strings");
  }
}

// The source episode in the provenance of the demo group at `group_path` ("data/demo_3") of `file`; nullopt when
// the group or its provenance is absent (a real demo).
std::optional<std::int64_t> ProvenanceSourceEpisode(hid_t file, const std::string& group_path,
                                                    const std::string& label) {
  if (H5Lexists(file, "data", H5P_DEFAULT) <= 0 || H5Lexists(file, group_path.c_str(), H5P_DEFAULT) <= 0 ||
      H5Aexists_by_name(file, group_path.c_str(), hdf5::kProvenanceAttribute, H5P_DEFAULT) <= 0) {
    return std::nullopt;
  }
  Handle group(Check(H5Gopen2(file, group_path.c_str(), H5P_DEFAULT), label, "/" + group_path, "cannot open group"));
  const Attributes attributes = hdf5::ReadAttributes(group.get(), label, "/" + group_path);
  const AttributeValue& provenance = *FindAttribute(attributes, hdf5::kProvenanceAttribute);
  const std::string where = "/" + group_path + " attribute '" + hdf5::kProvenanceAttribute + "'";
  auto json = provenance.AsString();
  if (!json) throw InputError(label, where, "is '" + provenance.ToString() + "', expected a JSON string");
  return ProvenanceFromJson(*json, label, where).source_episode;
}

// The source episode `demo` (a name in a filter list of `source`) stands for: its provenance's source episode when
// it is synthetic, else its own number; nullopt for a name that is no demo_N.
std::optional<std::int64_t> SourceEpisodeOf(const SourceFile& source, const std::string& demo) {
  static const std::regex pattern(hdf5::kRobomimicDemoPattern);
  std::smatch match;
  if (!std::regex_match(demo, match, pattern)) return std::nullopt;
  const std::int64_t number = std::stoll(match[1].str());
  return ProvenanceSourceEpisode(source.file.get(), "data/" + demo, source.path.string()).value_or(number);
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
  // robomimic: each written demo's number -> the source episode it was made from (synthetic demos only).
  std::map<std::int64_t, std::optional<std::int64_t>> demo_sources;

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
  void WriteFilters();

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
    const FrameStorage frame_storage = FrameStorageFor(spec);
    hdf5::ArrayStorage storage;
    storage.per_frame = frame_storage.per_frame;
    storage.deflate_level = options.image_deflate_level;
    // Frames a worker deflated at this level carry the shuffle ShuffleFor chose for them; else it chooses here.
    const bool deflated_at_level = column.deflated && column.deflated->level == storage.deflate_level;
    storage.shuffle = frame_storage.may_shuffle &&
                      (deflated_at_level ? column.deflated->shuffle
                                     : storage.per_frame && storage.deflate_level >= 1 &&
                                           ShuffleFor(frame_storage, column.data, storage.deflate_level));
    hdf5::WriteArray(group, path, column.data, storage, file_label, where, column.deflated.get());
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
    throw InputError(final_path.string(), "", "exists; refusing to overwrite it (WriteOptions.overwrite replaces it)");
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

  if (fs::exists(path) && !options.overwrite) throw InputError(path.string(), "", "exists; refusing to overwrite it (WriteOptions.overwrite replaces it)");
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
  // The filter keys are written last, by Commit, once the demos they list are known (WriteFilters).
  std::vector<PreservedNode> nodes;
  std::copy_if(info.storage.nodes.begin(), info.storage.nodes.end(), std::back_inserter(nodes),
               [](const PreservedNode& n) { return !IsFilterGroup(n); });
  CopyNodes(nodes, root, label, "");
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
  demo_sources[episode.metadata.index] =
      episode.provenance ? std::optional<std::int64_t>(episode.provenance->source_episode) : std::nullopt;
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
  demo_sources[index] = ProvenanceSourceEpisode(source_file.get(), from, source_name);
}

// Written at Commit, and built the same way whatever the lists were copied from (a source, a shard of a run), so
// that a merge of shards is byte-identical to the unsharded run.
void Hdf5Writer::WriteFilters() {
  auto node = std::find_if(info.storage.nodes.begin(), info.storage.nodes.end(), IsFilterGroup);
  if (node == info.storage.nodes.end()) return;
  const std::string label = path.string();
  // Real demos written back keep the lists as they were (a round trip is exact); synthetic ones get new lists.
  if (std::none_of(demo_sources.begin(), demo_sources.end(), [](const auto& d) { return d.second.has_value(); })) {
    CopyNodes({*node}, file.get(), label, "");
    return;
  }
  const SourceFile& source = *node->source;
  const std::string source_label = source.path.string();
  Handle source_group(Check(H5Oopen(source.file.get(), node->source_path.c_str(), H5P_DEFAULT), source_label,
                            node->source_path, "cannot open"));
  H5O_info_t object;
  Check(H5Oget_info2(source_group.get(), &object, H5O_INFO_BASIC), source_label, node->source_path,
        "cannot read object");
  if (object.type != H5O_TYPE_GROUP) {
    CopyNodes({*node}, file.get(), label, "");
    return;
  }
  Handle group = OpenOrCreateGroup(file.get(), kFilterGroup, label);
  hdf5::WriteAttributes(group.get(), hdf5::ReadAttributes(source_group.get(), source_label, node->source_path), label,
                        "/mask");
  Handle link = IntermediateGroupLinks();
  for (const std::string& name : hdf5::ChildNames(source_group.get(), source_label, kFilterGroup)) {
    const std::string where = "/mask/" + name;
    Handle listed;
    if (H5Oget_info_by_name2(source_group.get(), name.c_str(), &object, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 &&
        object.type == H5O_TYPE_DATASET) {
      listed = Handle(Check(H5Dopen2(source_group.get(), name.c_str(), H5P_DEFAULT), source_label, where,
                            "cannot open dataset"));
    }
    if (!listed || !IsStringList(listed.get())) {
      // Not a list of demo names: kept as it is.
      Check(H5Ocopy(source_group.get(), name.c_str(), group.get(), name.c_str(), H5P_DEFAULT, link.get()), label,
            where, "cannot copy from " + source_label);
      continue;
    }
    // The source episodes the filter stands for.
    std::set<std::int64_t> sources;
    Attributes attributes = hdf5::ReadAttributes(listed.get(), source_label, where);
    if (const AttributeValue* recorded = FindAttribute(attributes, kFilterSourcesAttribute)) {
      auto text = recorded->AsString();
      const nlohmann::json j = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
      if (!j.is_array() || !std::all_of(j.begin(), j.end(), [](const auto& e) { return e.is_number_integer(); })) {
        throw InputError(source_label, where + " attribute '" + kFilterSourcesAttribute + "'",
                         "is '" + recorded->ToString().substr(0, 80) + "', expected a JSON array of integers");
      }
      for (const auto& e : j) sources.insert(e.get<std::int64_t>());
    } else {
      for (const std::string& demo : ReadStrings(listed.get(), source_label, where)) {
        if (auto e = SourceEpisodeOf(source, demo)) sources.insert(*e);
      }
    }
    std::vector<std::string> demos;
    for (const auto& [number, source_episode] : demo_sources) {
      if (sources.count(source_episode.value_or(number))) demos.push_back("demo_" + std::to_string(number));
    }
    WriteStrings(group.get(), name, demos, label, where);
    SetAttribute(attributes, kFilterSourcesAttribute,
                 AttributeValue::String(nlohmann::json(std::vector<std::int64_t>(sources.begin(), sources.end())).dump()));
    Handle written(Check(H5Dopen2(group.get(), name.c_str(), H5P_DEFAULT), label, where, "cannot open dataset"));
    hdf5::WriteAttributes(written.get(), attributes, label, where);
  }
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
  WriteFilters();
  Check(file.Close(), label, "", "cannot finish writing");
  if (fs::exists(path) && !options.overwrite) {
    throw InputError(label, "", "appeared while writing; refusing to overwrite it (WriteOptions.overwrite replaces it)");
  }
  PublishFile(temp_path, path);
  temp_path.clear();
}

}  // namespace r2s::episode

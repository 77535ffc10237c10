#include "episode/dataset_backend.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "episode/hdf5/array_io.h"
#include "episode/hdf5/attribute_io.h"
#include "episode/hdf5/error.h"
#include "episode/hdf5/isolated_check.h"
#include "episode/hdf5/layout.h"
#include "episode/hdf5/node_image.h"
#include "episode/hdf5/source_file.h"
#include "episode/hdf5/structure.h"
#include "episode/input_error.h"

namespace r2s::episode {
namespace fs = std::filesystem;
using hdf5::Check;
using hdf5::Handle;

// ---------------------------------------------------------------------------------------------------------
// SourceFile

namespace {

std::shared_ptr<const SourceFile> OpenHdf5File(const fs::path& path, bool check_in_child) {
  hdf5::Quiet quiet;
  const std::string name = path.string();
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw InputError(name, "", "no such file");
  if (fs::is_directory(status)) throw InputError(name, "", "is a folder, expected an HDF5 file");
  if (!fs::is_regular_file(status)) {
    throw InputError(name, "",
                     std::string("is not a regular file (") +
                         (fs::is_fifo(status)     ? "a named pipe"
                          : fs::is_socket(status) ? "a socket"
                          : fs::is_character_file(status) || fs::is_block_file(status) ? "a device"
                                                                                       : "not a plain file") +
                         "), expected an HDF5 file");
  }
  const htri_t is_hdf5 = H5Fis_hdf5(name.c_str());
  if (is_hdf5 == 0) {
    std::ifstream in(path, std::ios::binary);
    std::string head(16, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    for (char& c : head) {
      if (c < 32 || c > 126) c = '.';
    }
    throw InputError(name, "",
                     "not an HDF5 file (no HDF5 signature; " + std::to_string(fs::file_size(path, ec)) +
                         " bytes starting \"" + head + "\")");
  }
  Check(is_hdf5, name, "", "cannot read as HDF5");
  if (check_in_child) hdf5::CheckMetadataInChildProcess(path);
  auto source = std::make_shared<SourceFile>();
  source->path = path;
  source->file =
      Handle(Check(H5Fopen(name.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), name, "",
                   "truncated or corrupt HDF5 file (" + std::to_string(fs::file_size(path, ec)) + " bytes)"));
  return source;
}

}  // namespace

std::shared_ptr<const SourceFile> SourceFile::Open(const fs::path& path) { return OpenHdf5File(path, true); }

std::shared_ptr<const SourceFile> SourceFile::Reopen(const fs::path& path) { return OpenHdf5File(path, false); }

// ---------------------------------------------------------------------------------------------------------
// Episode structure: which datasets are frames, which are kept verbatim.

namespace {

struct EpisodeShape {
  std::int64_t length = 0;
  std::uint64_t bytes = 0;                 // of the per-frame datasets, read whole by ReadEpisode
  Attributes attributes;                   // of the episode's own group
  std::vector<std::string> groups;         // below the episode's group
  std::vector<hdf5::DatasetEntry> frames;  // per-frame numeric datasets: the columns
  std::vector<std::string> preserved;      // everything else, copied verbatim
};

bool HasChild(hid_t group, const std::string& name) {
  return H5Lexists(group, name.c_str(), H5P_DEFAULT) > 0 && H5Oexists_by_name(group, name.c_str(), H5P_DEFAULT) > 0;
}

const hdf5::DatasetEntry* FindDataset(const hdf5::GroupStructure& structure, const std::string& path) {
  for (const auto& d : structure.datasets) {
    if (d.path == path) return &d;
  }
  return nullptr;
}

std::uint64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : 0;
}

// total + the bytes `d` holds, refusing a declared shape whose size overflows 64 bits (a corrupt or hostile file).
std::uint64_t AddBytes(std::uint64_t total, const hdf5::DatasetEntry& d, const std::string& file,
                       const std::string& where) {
  std::uint64_t bytes = DTypeSize(*d.dtype);
  for (const std::int64_t n : d.dims) {
    if (n < 0 || (n > 0 && bytes > std::numeric_limits<std::uint64_t>::max() / static_cast<std::uint64_t>(n))) {
      throw InputError(file, where, "declares a shape whose size does not fit in 64 bits");
    }
    bytes *= static_cast<std::uint64_t>(n);
  }
  if (bytes > std::numeric_limits<std::uint64_t>::max() - total) {
    throw InputError(file, where, "declares a shape whose size does not fit in 64 bits");
  }
  return total + bytes;
}

std::int64_t EpisodeLength(StorageLayout layout, const Attributes& attributes, const hdf5::GroupStructure& structure,
                           const std::string& file, const std::string& where) {
  if (layout == StorageLayout::kRobomimic) {
    if (const AttributeValue* n = FindAttribute(attributes, "num_samples")) {
      auto value = n->AsInt64();
      if (!value || *value < 0) {
        throw InputError(file, where + " attribute 'num_samples'",
                         "is '" + n->ToString() + "', expected a non-negative integer");
      }
      return *value;
    }
    if (const auto* actions = FindDataset(structure, "actions"); actions && !actions->dims.empty()) {
      return actions->dims[0];
    }
    throw InputError(file, where, "has no 'num_samples' attribute and no 'actions' dataset");
  }
  for (const char* path : {"action", "observations/qpos"}) {
    if (const auto* d = FindDataset(structure, path); d && !d->dims.empty()) return d->dims[0];
  }
  throw InputError(file, where.empty() ? "/" : where, "has no /action or /observations/qpos dataset");
}

EpisodeShape ShapeOf(hid_t group, StorageLayout layout, const std::string& file, const std::string& group_path) {
  const std::string where = "/" + group_path;
  EpisodeShape shape;
  shape.attributes = hdf5::ReadAttributes(group, file, where);
  hdf5::GroupStructure structure = hdf5::ScanGroup(group, file, group_path);
  shape.groups = std::move(structure.groups);
  shape.length = EpisodeLength(layout, shape.attributes, structure, file, where);
  for (auto& d : structure.datasets) {
    const std::string d_where = "/" + hdf5::JoinPath(group_path, d.path);
    const bool must_be_frames = hdf5::IsFramePath(layout, d.path);
    if (must_be_frames && !d.dtype) {
      throw InputError(file, d_where, "unexpected dtype " + d.type_description + ", expected numeric or bool");
    }
    if (must_be_frames && d.dims.empty()) {
      throw InputError(file, d_where,
                       "is a scalar, expected one row per frame (" + std::to_string(shape.length) + " rows)");
    }
    const bool is_frames = d.dtype && !d.dims.empty() && d.dims[0] == shape.length;
    if (must_be_frames && !is_frames) {
      const std::string length_source =
          layout == StorageLayout::kRobomimic && FindAttribute(shape.attributes, "num_samples")
              ? "num_samples of " + where
              : "the episode's length";
      throw InputError(file, d_where,
                       "has " + std::to_string(d.dims[0]) + " rows, expected " + std::to_string(shape.length) + " (" +
                           length_source + ")");
    }
    if (is_frames) {
      shape.bytes = AddBytes(shape.bytes, d, file, d_where);
      shape.frames.push_back(std::move(d));
    } else {
      shape.preserved.push_back(d.path);
    }
  }
  const std::uint64_t memory = PhysicalMemoryBytes();
  if (memory > 0 && shape.bytes > memory) {
    throw InputError(file, where,
                     "declares " + std::to_string(shape.bytes >> 20) + " MiB of per-frame data (" +
                         std::to_string(shape.length) + " frames), more than this machine's " +
                         std::to_string(memory >> 20) + " MiB of memory: an episode is read whole");
  }
  return shape;
}

std::vector<std::int64_t> FrameShape(const hdf5::DatasetEntry& d) { return {d.dims.begin() + 1, d.dims.end()}; }

// Unit and element names from the dataset's attributes ("unit"/"units", "names").
void DescribeFromAttributes(const Attributes& attributes, FeatureSpec& spec) {
  spec.names.assign(spec.shape.size(), {});
  for (const char* key : {"unit", "units"}) {
    if (const AttributeValue* unit = FindAttribute(attributes, key)) {
      if (auto s = unit->AsString()) spec.unit = *s;
    }
  }
  if (const AttributeValue* names = FindAttribute(attributes, "names");
      names && names->kind == AttributeValue::Kind::kString && names->string_shape.size() == 1 && !spec.shape.empty() &&
      static_cast<std::int64_t>(names->strings.size()) == spec.shape.back()) {
    spec.names.back() = names->strings;
  }
}

// A frame rate from a file: a positive, finite number of Hz, or the file is refused naming the attribute. 1 MHz
// bounds it: no robot log records faster, and a bigger value is a unit mistake (a period in ns, a timestamp).
std::optional<double> FrameRateAttribute(const Attributes& attributes, const char* name, const std::string& file,
                                         const std::string& where) {
  const AttributeValue* value = FindAttribute(attributes, name);
  if (!value) return std::nullopt;
  const std::optional<double> hz = value->AsDouble();
  if (!hz || !std::isfinite(*hz) || *hz <= 0 || *hz > 1e6) {
    throw InputError(file, where + " attribute '" + name + "'",
                     "is " + value->ToString() + ", expected a frame rate in Hz: a number above 0 and at most 1e6");
  }
  return hz;
}

std::optional<std::int64_t> IndexFromName(const std::string& name, const char* pattern) {
  std::smatch match;
  const std::regex re(pattern);
  if (!std::regex_match(name, match, re)) return std::nullopt;
  return std::stoll(match[1].str());
}

enum class FileLayout { kRobomimic, kAloha };

FileLayout DetectLayout(const SourceFile& source) {
  const hid_t root = source.file.get();
  auto is_group = [&](const char* name) {
    if (!HasChild(root, name)) return false;
    H5O_info_t info;
    return H5Oget_info_by_name2(root, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 && info.type == H5O_TYPE_GROUP;
  };
  if (is_group("data")) return FileLayout::kRobomimic;
  if (is_group("observations")) return FileLayout::kAloha;
  std::string found;
  for (const auto& name : hdf5::ChildNames(root, source.path.string(), "")) found += (found.empty() ? "" : ", ") + name;
  throw InputError(source.path.string(), "/",
                   "unknown layout: no /data group (robomimic) and no /observations group (ALOHA); top level holds " +
                       (found.empty() ? std::string("nothing") : found));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// DatasetReader

struct EpisodeEntry {
  fs::path file;
  std::string group;  // "data/demo_3" (robomimic) or "" (ALOHA: the file's root)
  std::int64_t index = 0;
  EpisodeShape shape;  // scanned and checked by Open; ReadEpisode reads the data it names
};

namespace {

// The HDF5 layouts (robomimic, ALOHA) behind DatasetReader.
class Hdf5Reader final : public DatasetReader::Impl {
 public:
  fs::path path;
  DatasetInfo info;
  std::vector<EpisodeEntry> episodes;
  std::shared_ptr<const SourceFile> robomimic_file;    // robomimic: the one file, open while the reader lives
  std::map<std::string, std::string> feature_of_path;  // inverse of info.storage_paths

  void AddEpisode(const SourceFile& source, const std::string& group_path, std::int64_t index);
  void ReadRobomimicDatasetLevel(const SourceFile& source, const std::vector<std::string>& non_demo_children);
  void DescribeAloha(const Attributes& root_attributes, const std::string& file);
  std::shared_ptr<const SourceFile> FileOf(const EpisodeEntry& entry) const {
    return robomimic_file ? robomimic_file : SourceFile::Reopen(entry.file);
  }

  const DatasetInfo& Info() const override { return info; }
  const fs::path& Path() const override { return path; }
  std::int64_t NumEpisodes() const override { return static_cast<std::int64_t>(episodes.size()); }
  std::int64_t EpisodeLength(std::int64_t i) const override {
    return episodes.at(static_cast<std::size_t>(i)).shape.length;
  }
  const fs::path& EpisodeFile(std::int64_t i) const override { return episodes.at(static_cast<std::size_t>(i)).file; }
  Episode ReadEpisode(std::int64_t i) const override { return Read(i, nullptr); }
  Episode ReadEpisodeFeatures(std::int64_t i, const std::set<std::string>& features) const override {
    return Read(i, &features);
  }
  Episode Read(std::int64_t i, const std::set<std::string>* only) const;
  // Dataset-level preserved nodes refer to the robomimic file, which the reader keeps open.
  void Finish() {
    for (auto& node : info.storage.nodes) node.source = robomimic_file;
  }
};

void Hdf5Reader::AddEpisode(const SourceFile& source, const std::string& group_path, std::int64_t index) {
  const std::string file = source.path.string();
  const std::string where = "/" + group_path;
  Handle group(Check(H5Gopen2(source.file.get(), group_path.empty() ? "/" : group_path.c_str(), H5P_DEFAULT), file,
                     where, "cannot open group"));
  EpisodeShape shape = ShapeOf(group.get(), info.layout, file, group_path);

  if (episodes.empty()) {
    // The first episode defines the features.
    for (const auto& d : shape.frames) {
      std::string name = hdf5::FeatureNameFor(info.layout, d.path, d.IsImage());
      if (info.features.contains(name)) name = hdf5::DottedPath(d.path);
      if (info.features.contains(name)) name = d.path;
      FeatureSpec spec;
      spec.dtype = *d.dtype;
      spec.shape = FrameShape(d);
      Handle dataset(Check(H5Dopen2(group.get(), d.path.c_str(), H5P_DEFAULT), file,
                           "/" + hdf5::JoinPath(group_path, d.path), "cannot open dataset"));
      DescribeFromAttributes(hdf5::ReadAttributes(dataset.get(), file, "/" + hdf5::JoinPath(group_path, d.path)), spec);
      info.features.emplace(name, std::move(spec));
      info.storage_paths.emplace(name, d.path);
      feature_of_path.emplace(d.path, name);
    }
    if (info.layout == StorageLayout::kAloha) DescribeAloha(shape.attributes, file);
  } else {
    // Every later episode must have the same per-frame datasets, dtypes and frame shapes.
    std::map<std::string, const hdf5::DatasetEntry*> present;
    for (const auto& d : shape.frames) present.emplace(d.path, &d);
    for (const auto& [path, name] : feature_of_path) {
      const FeatureSpec& spec = info.features.at(name);
      auto it = present.find(path);
      const std::string d_where = "/" + hdf5::JoinPath(group_path, path);
      if (it == present.end()) {
        throw InputError(file, d_where,
                         "missing: the first episode has it (" + std::string(DTypeName(spec.dtype)) + " " +
                             ShapeToString(spec.shape) + " per frame)");
      }
      const hdf5::DatasetEntry& d = *it->second;
      if (*d.dtype != spec.dtype) {
        throw InputError(file, d_where,
                         "unexpected dtype " + std::string(DTypeName(*d.dtype)) + ", expected " +
                             std::string(DTypeName(spec.dtype)) + " as in the first episode");
      }
      if (FrameShape(d) != spec.shape) {
        throw InputError(file, d_where,
                         "frame shape " + ShapeToString(FrameShape(d)) + ", expected " + ShapeToString(spec.shape) +
                             " as in the first episode");
      }
      present.erase(it);
    }
    if (!present.empty()) {
      throw InputError(file, "/" + hdf5::JoinPath(group_path, present.begin()->first),
                       "per-frame dataset that the first episode does not have");
    }
  }
  episodes.push_back({source.path, group_path, index, std::move(shape)});
}

void Hdf5Reader::ReadRobomimicDatasetLevel(const SourceFile& source,
                                                    const std::vector<std::string>& non_demo_children) {
  const std::string file = source.path.string();
  const hid_t root = source.file.get();
  info.storage.Group("") = hdf5::ReadAttributes(root, file, "/");
  Handle data(Check(H5Gopen2(root, "data", H5P_DEFAULT), file, "/data", "cannot open group"));
  Attributes& data_attributes = info.storage.Group("data");
  data_attributes = hdf5::ReadAttributes(data.get(), file, "/data");
  for (const auto& name : hdf5::ChildNames(root, file, "")) {
    if (name != "data") info.storage.nodes.push_back({name, nullptr, nullptr, "/" + name});
  }
  for (const auto& name : non_demo_children) info.storage.nodes.push_back({"data/" + name, nullptr, nullptr, "/data/" + name});

  info.fps = FrameRateAttribute(data_attributes, "fps", file, "/data");
  const AttributeValue* env_args = FindAttribute(data_attributes, "env_args");
  if (!env_args) return;
  auto text = env_args->AsString();
  const nlohmann::json j = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
  if (!text || j.is_discarded() || !j.is_object()) {
    throw InputError(file, "/data attribute 'env_args'",
                     "is '" + env_args->ToString().substr(0, 80) + "', expected a JSON object");
  }
  if (auto it = j.find("env_name"); it != j.end() && it->is_string()) info.tasks = {it->get<std::string>()};
  if (auto kwargs = j.find("env_kwargs"); kwargs != j.end() && kwargs->is_object()) {
    if (auto robots = kwargs->find("robots"); robots != kwargs->end()) {
      if (robots->is_string()) info.robot_type = robots->get<std::string>();
      if (robots->is_array() && !robots->empty() && robots->front().is_string()) {
        info.robot_type = robots->front().get<std::string>();
      }
    }
    if (auto freq = kwargs->find("control_freq"); freq != kwargs->end() && !info.fps) {
      const double hz = freq->is_number() ? freq->get<double>() : 0;
      if (!(std::isfinite(hz) && hz > 0 && hz <= 1e6)) {
        throw InputError(file, "/data attribute 'env_args' env_kwargs.control_freq",
                         "is " + freq->dump() + ", expected a frame rate in Hz: a number above 0 and at most 1e6");
      }
      info.fps = hz;
    }
  }
}

void Hdf5Reader::DescribeAloha(const Attributes& root_attributes, const std::string& file) {
  if (const AttributeValue* robot = FindAttribute(root_attributes, "robot_type")) {
    info.robot_type = robot->AsString().value_or("");
  }
  if (auto fps = FrameRateAttribute(root_attributes, "fps", file, "/")) info.fps = fps;
  if (const AttributeValue* task = FindAttribute(root_attributes, "task")) {
    if (auto s = task->AsString()) info.tasks = {*s};
  }
}

}  // namespace

std::unique_ptr<DatasetReader::Impl> OpenHdf5Dataset(const fs::path& path) {
  hdf5::Quiet quiet;
  auto impl = std::make_unique<Hdf5Reader>();
  impl->path = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    // A folder of ALOHA episode files.
    std::vector<std::pair<std::int64_t, fs::path>> files;
    for (const auto& entry : fs::directory_iterator(path)) {
      const std::string name = entry.path().filename().string();
      if (auto index = IndexFromName(name, hdf5::kAlohaEpisodePattern)) files.emplace_back(*index, entry.path());
    }
    if (files.empty()) {
      throw InputError(path.string(), "", "folder holds no episode_N.hdf5 files (ALOHA) and no meta/info.json (LeRobot)");
    }
    std::sort(files.begin(), files.end());
    impl->info.layout = StorageLayout::kAloha;
    for (const auto& [index, file] : files) {
      auto source = SourceFile::Open(file);
      if (DetectLayout(*source) != FileLayout::kAloha) {
        throw InputError(file.string(), "/", "not an ALOHA episode (no /observations group) in an ALOHA folder");
      }
      impl->AddEpisode(*source, "", index);
    }
    impl->Finish();
    return impl;
  }

  auto source = SourceFile::Open(path);
  if (DetectLayout(*source) == FileLayout::kAloha) {
    impl->info.layout = StorageLayout::kAloha;
    const auto index = IndexFromName(path.filename().string(), hdf5::kAlohaEpisodePattern);
    impl->AddEpisode(*source, "", index.value_or(0));
    impl->Finish();
    return impl;
  }

  impl->info.layout = StorageLayout::kRobomimic;
  impl->robomimic_file = source;
  const std::string file = path.string();
  Handle data(Check(H5Gopen2(source->file.get(), "data", H5P_DEFAULT), file, "/data", "cannot open group"));
  std::vector<std::pair<std::int64_t, std::string>> demos;
  std::vector<std::string> others;
  for (const auto& name : hdf5::ChildNames(data.get(), file, "data")) {
    H5O_info_t info;
    const bool is_group = H5Oget_info_by_name2(data.get(), name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 &&
                          info.type == H5O_TYPE_GROUP;
    auto index = IndexFromName(name, hdf5::kRobomimicDemoPattern);
    if (is_group && index) {
      demos.emplace_back(*index, name);
    } else if (name.starts_with("demo")) {
      // robomimic's loaders sort demos by the number after "demo_": anything else there breaks them, and
      // keeping it as an opaque node would copy a demo into every synthetic dataset unseen.
      throw InputError(file, "/data/" + name,
                       "is not a demo_<N> group (N a non-negative integer), as robomimic names demos");
    } else {
      others.push_back(name);
    }
  }
  std::sort(demos.begin(), demos.end());
  impl->ReadRobomimicDatasetLevel(*source, others);
  for (const auto& [index, name] : demos) impl->AddEpisode(*source, "data/" + name, index);
  impl->Finish();
    return impl;
}

namespace {

Episode Hdf5Reader::Read(std::int64_t i, const std::set<std::string>* only) const {
  hdf5::Quiet quiet;
  const EpisodeEntry& entry = episodes[static_cast<std::size_t>(i)];
  auto source = FileOf(entry);
  const std::string file = source->path.string();
  const std::string& group_path = entry.group;
  Handle group(Check(H5Gopen2(source->file.get(), group_path.empty() ? "/" : group_path.c_str(), H5P_DEFAULT), file,
                     "/" + group_path, "cannot open group"));
  EpisodeShape shape = entry.shape;  // a copy: its attributes move into the episode

  Episode episode;
  episode.metadata.index = entry.index;
  episode.metadata.length = shape.length;
  if (const AttributeValue* success = FindAttribute(shape.attributes, "success")) {
    episode.metadata.success = success->AsBool();
  }
  if (const AttributeValue* task = FindAttribute(shape.attributes, "task"); task && task->AsString()) {
    episode.metadata.task = *task->AsString();
  } else if (info.tasks.size() == 1) {
    episode.metadata.task = info.tasks[0];
  }
  // The provenance record is modelled, so it is not kept as a raw attribute as well.
  auto provenance = std::find_if(shape.attributes.begin(), shape.attributes.end(),
                                 [](const NamedAttribute& a) { return a.name == hdf5::kProvenanceAttribute; });
  if (provenance != shape.attributes.end()) {
    const std::string where = "/" + group_path + " attribute '" + hdf5::kProvenanceAttribute + "'";
    auto json = provenance->value.AsString();
    if (!json) throw InputError(file, where, "is '" + provenance->value.ToString() + "', expected a JSON string");
    episode.provenance = ProvenanceFromJson(*json, file, where);
    shape.attributes.erase(provenance);
  }
  episode.storage.group_attributes.push_back({"", std::move(shape.attributes)});
  for (const auto& sub : shape.groups) {
    const std::string where = "/" + hdf5::JoinPath(group_path, sub);
    Handle g(Check(H5Gopen2(group.get(), sub.c_str(), H5P_DEFAULT), file, where, "cannot open group"));
    episode.storage.group_attributes.push_back({sub, hdf5::ReadAttributes(g.get(), file, where)});
  }
  for (const auto& d : shape.frames) {
    const std::string where = "/" + hdf5::JoinPath(group_path, d.path);
    auto name = feature_of_path.find(d.path);
    const std::string feature = name != feature_of_path.end()
                                    ? name->second
                                    : hdf5::FeatureNameFor(info.layout, d.path, d.IsImage());
    if (only && !only->count(feature)) continue;
    Handle dataset(Check(H5Dopen2(group.get(), d.path.c_str(), H5P_DEFAULT), file, where, "cannot open dataset"));
    Column column;
    column.data = hdf5::ReadArray(dataset.get(), *d.dtype, d.dims, file, where);
    column.attributes = hdf5::ReadAttributes(dataset.get(), file, where);
    episode.columns.emplace(feature, std::move(column));
  }
  if (!only && !shape.preserved.empty()) {  // a features-only read is a check, never written back
    std::vector<std::string> source_paths;
    for (const auto& p : shape.preserved) source_paths.push_back("/" + hdf5::JoinPath(group_path, p));
    const auto image = hdf5::CopyIntoImage(source->file.get(), source_paths, file);
    for (std::size_t n = 0; n < source_paths.size(); ++n) {
      episode.storage.nodes.push_back({shape.preserved[n], image, nullptr, source_paths[n]});
    }
  }
  return episode;
}

}  // namespace

}  // namespace r2s::episode

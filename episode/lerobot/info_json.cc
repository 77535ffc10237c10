#include "episode/lerobot/info_json.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "episode/array.h"
#include "episode/input_error.h"

namespace r2s::episode::lerobot {
namespace fs = std::filesystem;
// ordered_json: a dict of names ({"motors": [...], "axes": [...]}) keeps the file's order.
using Json = nlohmann::ordered_json;

namespace {

// A value as it reads in the file, shortened, for error messages.
std::string Quote(const Json& value) {
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return "'" + text + "'";
}

std::string FeatureField(const std::string& feature, const std::string& key) {
  return "features['" + feature + "']" + (key.empty() ? "" : "." + key);
}

const Json& Require(const Json& object, const std::string& key, const std::string& file, const std::string& field) {
  auto it = object.find(key);
  if (it == object.end()) throw InputError(file, field, "missing");
  return *it;
}

std::int64_t NonNegativeInt(const Json& value, const std::string& file, const std::string& field) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0) {
    throw InputError(file, field, "is " + Quote(value) + ", expected a non-negative integer");
  }
  return value.get<std::int64_t>();
}

std::string String(const Json& value, const std::string& file, const std::string& field) {
  if (!value.is_string()) throw InputError(file, field, "is " + Quote(value) + ", expected a string");
  return value.get<std::string>();
}

std::vector<std::int64_t> Shape(const Json& value, const std::string& file, const std::string& field) {
  if (!value.is_array()) throw InputError(file, field, "is " + Quote(value) + ", expected a list of integers");
  std::vector<std::int64_t> shape;
  for (const Json& d : value) {
    if (!d.is_number_integer() || d.get<std::int64_t>() < 0) {
      throw InputError(file, field, "is " + Quote(value) + ", expected a list of non-negative integers");
    }
    shape.push_back(d.get<std::int64_t>());
  }
  // A frame of over 2^32 elements is no robot's and would overflow the sizes computed from it.
  double elements = 1;
  for (std::int64_t d : shape) elements *= static_cast<double>(d);
  if (elements > 4294967296.0) throw InputError(file, field, "is " + Quote(value) + ", over 2^32 elements per frame");
  return shape;
}

bool IsStringList(const Json& value) {
  if (!value.is_array()) return false;
  for (const Json& s : value) {
    if (!s.is_string()) return false;
  }
  return true;
}

// LeRobot's names (null, a flat list, a list of lists, a dict of lists) as one list per axis.
std::vector<std::vector<std::string>> Names(const Json* names, const std::vector<std::int64_t>& shape) {
  std::vector<std::vector<std::string>> per_axis(shape.size());
  if (!names) return per_axis;
  std::vector<std::vector<std::string>> lists;
  if (IsStringList(*names)) {
    lists.push_back(names->get<std::vector<std::string>>());
  } else if (names->is_array() || names->is_object()) {
    for (const Json& list : *names) {
      if (!IsStringList(list)) return per_axis;
      lists.push_back(list.get<std::vector<std::string>>());
    }
  }
  const auto fits = [](const std::vector<std::string>& list, std::int64_t n) {
    return static_cast<std::int64_t>(list.size()) == n;
  };
  if (lists.size() == shape.size()) {
    for (std::size_t a = 0; a < shape.size(); ++a) {
      if (fits(lists[a], shape[a])) per_axis[a] = lists[a];
    }
  } else if (lists.size() == 1 && !shape.empty() && fits(lists[0], shape.back())) {
    per_axis.back() = lists[0];
  }
  return per_axis;
}

// [H, W, C] from an image or video feature's shape, whichever order its axis names give (LeRobot writes
// ["height", "width", "channel"]; datasets converted from v1 may say ["channels", "height", "width"]).
std::vector<std::int64_t> ImageShape(const std::vector<std::int64_t>& shape, const Json* names, const std::string& file,
                                     const std::string& feature) {
  if (shape.size() != 3) {
    throw InputError(file, FeatureField(feature, "shape"),
                     "is " + ShapeToString(shape) + ", expected [height, width, channels] for an image");
  }
  int h = -1, w = -1, c = -1;
  if (names && IsStringList(*names) && names->size() == 3) {
    for (int a = 0; a < 3; ++a) {
      const std::string n = (*names)[static_cast<std::size_t>(a)].get<std::string>();
      if (n == "height") h = a;
      if (n == "width") w = a;
      if (n == "channel" || n == "channels") c = a;
    }
  }
  if (h < 0 || w < 0 || c < 0) {
    const auto is_channels = [](std::int64_t n) { return n == 1 || n == 3 || n == 4; };
    if (is_channels(shape[2])) {
      h = 0, w = 1, c = 2;
    } else if (is_channels(shape[0])) {
      c = 0, h = 1, w = 2;
    } else {
      throw InputError(file, FeatureField(feature, "shape"),
                       "is " + ShapeToString(shape) + ", which has no axis of 1, 3 or 4 channels");
    }
  }
  return {shape[static_cast<std::size_t>(h)], shape[static_cast<std::size_t>(w)], shape[static_cast<std::size_t>(c)]};
}

std::string VideoCodec(const Json& entry) {
  // v2.1/v3.0 write "info"; v2.0 wrote "video_info".
  for (const char* key : {"info", "video_info"}) {
    auto info = entry.find(key);
    if (info == entry.end() || !info->is_object()) continue;
    auto codec = info->find("video.codec");
    if (codec != info->end() && codec->is_string()) return codec->get<std::string>();
  }
  return "";
}

void ParseFeature(const std::string& name, const Json& entry, const std::string& file, InfoJson& info) {
  if (!entry.is_object()) {
    throw InputError(file, FeatureField(name, ""), "is " + Quote(entry) + ", expected an object");
  }
  const std::string dtype_name =
      String(Require(entry, "dtype", file, FeatureField(name, "dtype")), file, FeatureField(name, "dtype"));
  if (dtype_name == "string") {
    info.skipped.push_back(name);
    return;
  }
  const std::vector<std::int64_t> shape =
      Shape(Require(entry, "shape", file, FeatureField(name, "shape")), file, FeatureField(name, "shape"));
  auto names_it = entry.find("names");
  const Json* names = names_it == entry.end() || names_it->is_null() ? nullptr : &*names_it;

  FeatureSpec spec;
  if (dtype_name == "video" || dtype_name == "image") {
    spec.dtype = DType::kUInt8;
    spec.shape = ImageShape(shape, names, file, name);
    spec.names.assign(3, {});
    if (dtype_name == "video") {
      if (spec.shape[2] != 3) {
        throw InputError(file, FeatureField(name, "shape"),
                         "is " + ShapeToString(shape) + "; only 3-channel (RGB) videos are read");
      }
      info.storage[name] = FeatureStorage::kVideo;
      info.video_codecs[name] = VideoCodec(entry);
    } else {
      info.storage[name] = FeatureStorage::kImage;
    }
  } else {
    auto dtype = DTypeFromName(dtype_name);
    if (!dtype || *dtype == DType::kString) {
      throw InputError(file, FeatureField(name, "dtype"),
                       "is '" + dtype_name +
                           "', expected float32, float64, int64, int32, int16, int8, uint8, bool, video, image or "
                           "string");
    }
    spec.dtype = *dtype;
    spec.shape = shape;
    spec.names = Names(names, shape);
    info.storage[name] = FeatureStorage::kColumn;
  }
  info.features[name] = std::move(spec);
}

}  // namespace

std::vector<std::string> InfoJson::VideoKeys() const {
  std::vector<std::string> keys;
  for (const auto& [name, storage] : storage) {
    if (storage == FeatureStorage::kVideo) keys.push_back(name);
  }
  return keys;
}

InfoJson ParseInfoJson(const std::string& text, const std::string& file) {
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 3, column 5: ..."; keep from "parse".
    std::string what = e.what();
    const auto at = what.find("parse error");
    throw InputError(file, "", "malformed JSON: " + (at == std::string::npos ? what : what.substr(at)));
  }
  if (!root.is_object()) throw InputError(file, "", "is " + Quote(root) + ", expected a JSON object");

  InfoJson info;
  info.text = text;
  info.codebase_version = String(Require(root, "codebase_version", file, "codebase_version"), file, "codebase_version");
  if (info.codebase_version == "v2.1" || info.codebase_version == "v2.0") {
    info.version = Version::kV21;
  } else if (info.codebase_version == "v3.0") {
    info.version = Version::kV30;
  } else {
    throw InputError(file, "codebase_version",
                     "is '" + info.codebase_version + "'; this reader knows v2.1 and v3.0 (and v2.0)");
  }

  const Json& fps = Require(root, "fps", file, "fps");
  if (!fps.is_number() || !std::isfinite(fps.get<double>()) || fps.get<double>() <= 0) {
    throw InputError(file, "fps", "is " + Quote(fps) + ", expected a positive number");
  }
  info.fps = fps.get<double>();
  if (auto robot = root.find("robot_type"); robot != root.end() && !robot->is_null()) {
    info.robot_type = String(*robot, file, "robot_type");
  }
  info.total_episodes = NonNegativeInt(Require(root, "total_episodes", file, "total_episodes"), file, "total_episodes");
  info.total_frames = NonNegativeInt(Require(root, "total_frames", file, "total_frames"), file, "total_frames");
  if (auto chunks = root.find("chunks_size"); chunks != root.end()) {
    info.chunks_size = NonNegativeInt(*chunks, file, "chunks_size");
    if (info.chunks_size == 0) throw InputError(file, "chunks_size", "is 0, expected a positive integer");
  }
  info.data_path = String(Require(root, "data_path", file, "data_path"), file, "data_path");

  const Json& features = Require(root, "features", file, "features");
  if (!features.is_object() || features.empty()) {
    throw InputError(file, "features", "is " + Quote(features) + ", expected a non-empty object");
  }
  for (const auto& [name, entry] : features.items()) ParseFeature(name, entry, file, info);

  if (!info.VideoKeys().empty()) {
    const Json& video_path = Require(root, "video_path", file, "video_path");
    info.video_path = String(video_path, file, "video_path");
  }
  return info;
}

InfoJson ReadInfoJson(const fs::path& dataset) {
  const fs::path path = dataset / "meta" / "info.json";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw InputError(path.string(), "", "no such file");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw InputError(path.string(), "", "cannot be read");
  return ParseInfoJson(text.str(), path.string());
}

}  // namespace r2s::episode::lerobot

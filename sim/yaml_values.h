#pragma once
// Internal (not installed): typed reading of yaml-cpp nodes for scene.yaml and params.yaml, with errors that name
// the file, the line and the key path. Header-only so that both readers share it.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "episode/edit_distance.h"
#include "episode/input_error.h"
#include "sim/scene_spec.h"

namespace r2s::sim::yaml {

inline int LineOf(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

inline std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "no value";
  }
}

// Loads a YAML file; a syntax error becomes InputError(file, "line N", message).
inline YAML::Node LoadFile(const std::filesystem::path& file) {
  try {
    return YAML::LoadFile(file.string());
  } catch (const YAML::ParserException& e) {
    throw InputError(file.string(), e.mark.is_null() ? "" : "line " + std::to_string(e.mark.line + 1),
                     "malformed YAML: " + e.msg);
  } catch (const YAML::BadFile&) {
    throw InputError(file.string(), "", "cannot be opened");
  }
}

// A node with the key path and line it came from.
struct Value {
  YAML::Node node;
  std::string path;
  int line = 0;
};

inline std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

using r2s::EditDistance;

class Reader {
 public:
  explicit Reader(std::filesystem::path file) : file_(std::move(file)) {}
  const std::filesystem::path& file() const { return file_; }

  [[noreturn]] void Fail(const Value& v, const std::string& problem) const {
    std::string field = v.path;
    if (v.line > 0) field = "line " + std::to_string(v.line) + (v.path.empty() ? "" : ": " + v.path);
    throw InputError(file_.string(), field, problem);
  }

  SourceLoc Loc(const Value& v) const { return SourceLoc{file_, v.line, v.path, {}}; }

  // A finite number; YAML's .nan and .inf are refused.
  double Number(const Value& v) const {
    if (!v.node.IsScalar()) Fail(v, "expected a number, found " + Describe(v.node));
    const std::string& text = v.node.Scalar();
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == ".nan" || lower == ".inf" || lower == "+.inf" || lower == "-.inf") {
      Fail(v, "expected a finite number, found '" + text + "'");
    }
    errno = 0;
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || std::isspace(static_cast<unsigned char>(text[0]))) {
      Fail(v, "expected a number, found '" + text + "'");
    }
    if (!std::isfinite(value) || (errno == ERANGE && std::abs(value) > 1)) {
      Fail(v, "expected a finite number, found '" + text + "'");
    }
    return value;
  }

  // A number that may also be YAML's .inf / -.inf / .nan (for bounds and free-form metrics).
  double NumberOrSpecial(const Value& v) const {
    if (v.node.IsScalar()) {
      std::string lower = v.node.Scalar();
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      if (lower == ".inf" || lower == "+.inf") return std::numeric_limits<double>::infinity();
      if (lower == "-.inf") return -std::numeric_limits<double>::infinity();
      if (lower == ".nan") return std::numeric_limits<double>::quiet_NaN();
    }
    return Number(v);
  }

  int Integer(const Value& v) const {
    if (!v.node.IsScalar()) Fail(v, "expected an integer, found " + Describe(v.node));
    const std::string& text = v.node.Scalar();
    errno = 0;
    char* end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || value < INT32_MIN ||
        value > INT32_MAX) {
      Fail(v, "expected an integer, found '" + text + "'");
    }
    return static_cast<int>(value);
  }

  bool Bool(const Value& v) const {
    if (v.node.IsScalar()) {
      const std::string& text = v.node.Scalar();
      if (text == "true" || text == "True" || text == "TRUE") return true;
      if (text == "false" || text == "False" || text == "FALSE") return false;
    }
    Fail(v, "expected true or false, found " + Describe(v.node));
  }

  std::string String(const Value& v) const {
    if (!v.node.IsScalar()) Fail(v, "expected a string, found " + Describe(v.node));
    return v.node.Scalar();
  }

  std::vector<Value> List(const Value& v) const {
    if (!v.node.IsSequence()) Fail(v, "expected a list, found " + Describe(v.node));
    std::vector<Value> items;
    std::size_t i = 0;
    for (const YAML::Node& item : v.node) {
      const int line = LineOf(item);
      items.push_back(Value{item, v.path + "[" + std::to_string(i++) + "]", line > 0 ? line : v.line});
    }
    return items;
  }

  Eigen::VectorXd Numbers(const Value& v, int n) const {
    const auto items = List(v);
    if (static_cast<int>(items.size()) != n) {
      Fail(v, "expected a list of " + std::to_string(n) + " numbers, found " + std::to_string(items.size()));
    }
    Eigen::VectorXd out(n);
    for (int i = 0; i < n; ++i) out[i] = Number(items[i]);
    return out;
  }

  Eigen::Vector3d Vec3(const Value& v) const { return Numbers(v, 3); }

 private:
  std::filesystem::path file_;
};

// The entries of one YAML map in file order, checked against the allowed keys (any key when `allowed` is empty);
// records each key's line into loc->key_lines when given.
class Map {
 public:
  Map(const Reader& reader, const Value& self, std::vector<std::string_view> allowed, SourceLoc* loc = nullptr)
      : reader_(reader), self_(self) {
    if (!self.node.IsMap()) reader.Fail(self, "expected a map, found " + Describe(self.node));
    for (const auto& entry : self.node) {
      const int key_line = LineOf(entry.first);
      const Value key_value{entry.first, self.path, key_line > 0 ? key_line : self.line};
      if (!entry.first.IsScalar()) reader.Fail(key_value, "a key must be a plain name, found " + Describe(entry.first));
      const std::string key = entry.first.Scalar();
      const Value value{entry.second, Join(self.path, key), key_value.line};
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string problem = "unknown key '" + key + "'";
        std::string_view best;
        std::size_t best_distance = 3;
        for (std::string_view candidate : allowed) {
          const std::size_t d = EditDistance(key, candidate);
          if (d < best_distance) best = candidate, best_distance = d;
        }
        if (!best.empty()) problem += " (did you mean '" + std::string(best) + "'?)";
        problem += "; expected one of:";
        for (std::size_t i = 0; i < allowed.size(); ++i) problem += (i ? ", " : " ") + std::string(allowed[i]);
        reader.Fail(value, problem);
      }
      if (Find(key)) reader.Fail(value, "duplicate key '" + key + "'");
      entries_.emplace_back(key, value);
      if (loc) loc->key_lines[key] = value.line;
    }
  }

  std::optional<Value> Get(const std::string& key) const {
    if (const Value* v = Find(key)) return *v;
    return std::nullopt;
  }

  Value Require(const std::string& key) const {
    if (const Value* v = Find(key)) return *v;
    reader_.Fail(Value{YAML::Node(), Join(self_.path, key), self_.line}, "missing required key '" + key + "'");
  }

  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }

 private:
  const Value* Find(const std::string& key) const {
    for (const auto& entry : entries_) {
      if (entry.first == key) return &entry.second;
    }
    return nullptr;
  }

  const Reader& reader_;
  Value self_;
  std::vector<std::pair<std::string, Value>> entries_;
};

}  // namespace r2s::sim::yaml

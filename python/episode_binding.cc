// Episodes, schemas and the dataset reader.

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "episode/dataset_reader.h"
#include "python/bindings.h"

namespace py = pybind11;

namespace r2s::python {
namespace {

// The column's bytes move into a capsule that the array keeps alive: no copy, freed with the last view.
py::array ToNumpy(episode::Array&& array) {
  auto bytes = std::make_unique<std::vector<std::byte>>(std::move(array.bytes));
  const py::dtype dtype = py::dtype::from_args(py::str(std::string(episode::DTypeName(array.dtype))));  // numpy's name
  std::vector<py::ssize_t> shape(array.shape.begin(), array.shape.end());
  std::vector<py::ssize_t> strides(shape.size());
  // Not dtype.itemsize(): pybind11 2.10 (Debian 12's) reads it from NumPy 1's descriptor layout, which NumPy 2
  // changed, and gets 0.
  auto stride = static_cast<py::ssize_t>(episode::DTypeSize(array.dtype));
  for (std::size_t a = shape.size(); a-- > 0;) {
    strides[a] = stride;
    stride *= shape[a];
  }
  void* data = bytes->data();
  py::capsule owner(bytes.release(), [](void* p) { delete static_cast<std::vector<std::byte>*>(p); });
  if (data == nullptr) return py::array(dtype, shape, strides);  // empty: numpy needs a pointer of its own
  return py::array(dtype, shape, strides, data, owner);
}

// The reader, with the GIL released while it reads (it takes turns across threads itself).
class PyDataset {
 public:
  explicit PyDataset(const std::filesystem::path& path) : reader_(episode::DatasetReader::Open(path)) {}

  std::int64_t size() const { return reader_.num_episodes(); }
  const episode::DatasetReader& reader() const { return reader_; }

  PyEpisode Read(std::int64_t i, const std::optional<std::set<std::string>>& features) {
    const std::int64_t n = reader_.num_episodes();
    if (i < 0) i += n;
    if (i < 0 || i >= n) throw py::index_error("episode " + std::to_string(i) + " of " + std::to_string(n));
    episode::Episode episode;
    {
      py::gil_scoped_release release;
      episode = features ? reader_.ReadEpisodeFeatures(i, *features) : reader_.ReadEpisode(i);
    }
    return ToPython(std::move(episode));
  }

 private:
  episode::DatasetReader reader_;
};

}  // namespace

PyEpisode ToPython(episode::Episode&& episode) {
  PyEpisode out;
  out.index = episode.metadata.index;
  out.task = episode.metadata.task;
  out.length = episode.metadata.length;
  out.success = episode.metadata.success;
  for (auto& [name, column] : episode.columns) out.columns[py::str(name)] = ToNumpy(std::move(column.data));
  out.provenance = episode.provenance
                       ? py::module_::import("json").attr("loads")(episode::ProvenanceToJson(*episode.provenance))
                       : py::none();
  return out;
}

void BindEpisodes(py::module_& m) {
  using episode::DatasetInfo;
  using episode::FeatureSpec;
  py::class_<FeatureSpec>(m, "FeatureSpec", "One feature of a schema: dtype, one frame's shape, names, unit.")
      .def_property_readonly("dtype", [](const FeatureSpec& f) { return std::string(episode::DTypeName(f.dtype)); })
      .def_property_readonly("shape", [](const FeatureSpec& f) { return py::tuple(py::cast(f.shape)); })
      .def_readonly("names", &FeatureSpec::names, "Element names per axis (empty lists where unnamed).")
      .def_readonly("unit", &FeatureSpec::unit, "'rad', 'N m', ...; '' when unknown or dimensionless.")
      .def("__repr__", [](const FeatureSpec& f) {
        return "<real2sim.FeatureSpec " + std::string(episode::DTypeName(f.dtype)) + " " +
               episode::ShapeToString(f.shape) + (f.unit.empty() ? "" : " " + f.unit) + ">";
      });
  py::class_<DatasetInfo>(m, "DatasetInfo", "A dataset's schema: layout, fps, robot, tasks and features.")
      .def_property_readonly("layout",
                             [](const DatasetInfo& i) { return std::string(episode::StorageLayoutName(i.layout)); })
      .def_readonly("fps", &DatasetInfo::fps, "As the dataset declares it; None when it declares none.")
      .def_readonly("robot_type", &DatasetInfo::robot_type)
      .def_readonly("tasks", &DatasetInfo::tasks)
      .def_readonly("features", &DatasetInfo::features, "Feature name -> FeatureSpec.");

  py::class_<PyEpisode>(m, "Episode", "One episode: its columns as NumPy arrays of shape (T, *frame shape).")
      .def_readonly("index", &PyEpisode::index, "The episode's index in its dataset (a generated one's unit).")
      .def_readonly("task", &PyEpisode::task)
      .def_readonly("length", &PyEpisode::length, "Frames.")
      .def_readonly("success", &PyEpisode::success, "As the dataset records it; None when it does not.")
      .def_readonly("columns", &PyEpisode::columns, "Feature name -> ndarray, zero-copy from the reader.")
      .def_readonly("provenance", &PyEpisode::provenance, "A synthetic episode's provenance (dict), else None.")
      .def("__getitem__", [](const PyEpisode& e, const std::string& feature) -> py::object {
        if (!e.columns.contains(feature)) throw py::key_error(feature);
        return e.columns[py::str(feature)];
      })
      .def("__len__", [](const PyEpisode& e) { return e.length; })
      .def("__repr__", [](const PyEpisode& e) {
        return "<real2sim.Episode index=" + std::to_string(e.index) + " frames=" + std::to_string(e.length) +
               " features=" + std::to_string(py::len(e.columns)) + ">";
      });

  py::class_<PyDataset>(m, "Dataset",
                        "A dataset on disk (LeRobot folder, robomimic HDF5, ALOHA episodes), read one episode at a "
                        "time. Raises InputError naming the file, field and value for a bad dataset.")
      .def(py::init<const std::filesystem::path&>(), py::arg("path"))
      .def_property_readonly("info", [](const PyDataset& d) { return d.reader().info(); })
      .def_property_readonly("path", [](const PyDataset& d) { return d.reader().path(); })
      .def("__len__", &PyDataset::size)
      .def("__getitem__", [](PyDataset& d, std::int64_t i) { return d.Read(i, std::nullopt); }, py::arg("i"))
      .def("read", &PyDataset::Read, py::arg("i"), py::arg("features") = std::nullopt,
           "Episode i; with `features`, only those columns (no video decoded unless named).")
      .def("episode_length", [](const PyDataset& d, std::int64_t i) { return d.reader().episode_length(i); })
      .def("__repr__", [](const PyDataset& d) {
        return "<real2sim.Dataset " + d.reader().path().string() + " episodes=" +
               std::to_string(d.reader().num_episodes()) + ">";
      });
}

}  // namespace r2s::python

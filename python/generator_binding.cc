// The generator: open it with keyword options, stream its episodes in unit order.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/functional.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "amplify/generate_run.h"
#include "amplify/generator.h"
#include "episode/input_error.h"
#include "python/bindings.h"
#include "python/episode_stream.h"

namespace py = pybind11;

namespace r2s::python {
namespace {

struct PyGeneratedEpisode {
  std::uint64_t unit = 0;
  std::uint32_t source_position = 0;
  std::uint32_t variant = 0;
  bool success = false;
  bool simulated = false;
  std::string reason;  // rejection.h's code, "" for a success
  std::string reason_detail;
  std::vector<std::string> failed;
  std::string edge_case;
  std::string object_pose_note;
  std::int64_t camera_frames = 0;
  PyEpisode episode;
};

PyGeneratedEpisode ToPython(amplify::GeneratedEpisode&& g) {
  PyGeneratedEpisode out;
  out.unit = g.unit;
  out.source_position = g.source_position;
  out.variant = g.variant;
  out.success = g.success;
  out.simulated = g.simulated;
  out.reason = std::string(amplify::ReasonCode(g.rejection.reason));
  out.reason_detail = g.rejection.detail;
  out.failed = std::move(g.failed);
  out.edge_case = std::move(g.edge_case);
  out.object_pose_note = std::move(g.object_pose_note);
  out.camera_frames = g.camera_frames;
  out.episode = python::ToPython(std::move(g.episode));
  return out;
}

// Everything of a generated episode but its columns (which a run writes rather than hands over).
amplify::GeneratedEpisode WithoutFrames(const amplify::GeneratedEpisode& g) {
  amplify::GeneratedEpisode out;
  out.unit = g.unit;
  out.source_position = g.source_position;
  out.variant = g.variant;
  out.edge_case = g.edge_case;
  out.success = g.success;
  out.failed = g.failed;
  out.rejection = g.rejection;
  out.simulated = g.simulated;
  out.object_pose_note = g.object_pose_note;
  out.episode.metadata = g.episode.metadata;
  out.episode.provenance = g.episode.provenance;
  out.times = g.times;
  out.frames = g.frames;
  out.camera_frames = g.camera_frames;
  out.physics_steps = g.physics_steps;
  return out;
}

cuda::Device ParseDevice(const std::string& text) {
  if (auto device = cuda::DeviceFromName(text)) return *device;
  throw InputError(amplify::kGeneratorOptionsSource, "device", "'" + text + "' is not auto, cpu or cuda");
}

// Owns the C++ generator; streams borrow it (py::keep_alive keeps this object alive while one is open).
class PyGenerator {
 public:
  explicit PyGenerator(amplify::Generator generator) : generator_(std::move(generator)) {}
  amplify::Generator& get() { return generator_; }

 private:
  amplify::Generator generator_;
};

class PyEpisodeStream {
 public:
  PyEpisodeStream(PyGenerator& generator, std::uint64_t begin, std::uint64_t end, std::vector<std::uint64_t> skip,
                  std::size_t capacity)
      : stream_(std::make_unique<EpisodeStream>(generator.get(), begin, end, std::move(skip), capacity)) {}

  PyGeneratedEpisode Next() {
    if (!stream_) throw py::stop_iteration();
    std::optional<amplify::GeneratedEpisode> episode;
    {
      py::gil_scoped_release release;
      episode = stream_->Next();
    }
    if (!episode) {
      Close();
      throw py::stop_iteration();
    }
    return ToPython(std::move(*episode));
  }

  void Close() {
    if (!stream_) return;
    py::gil_scoped_release release;
    stream_.reset();  // stops the generator's workers and joins its thread
  }

 private:
  std::unique_ptr<EpisodeStream> stream_;
};

}  // namespace

void BindGenerator(py::module_& m) {
  py::class_<PyGeneratedEpisode>(m, "GeneratedEpisode",
                                 "One generated unit (source episode source_position, variant), kept or not.")
      .def_readonly("unit", &PyGeneratedEpisode::unit, "source_position * variants + variant")
      .def_readonly("source_position", &PyGeneratedEpisode::source_position)
      .def_readonly("variant", &PyGeneratedEpisode::variant)
      .def_readonly("success", &PyGeneratedEpisode::success, "Whether r2s generate would keep it (--keep success).")
      .def_readonly("simulated", &PyGeneratedEpisode::simulated,
                    "False for a variant refused before simulating (out of reach): its episode has no frames.")
      .def_readonly("reason", &PyGeneratedEpisode::reason,
                    "Why it failed: ik_unreachable, joint_limit, simulation_unstable, grasp_missed, object_dropped, "
                    "success_false; '' for a success.")
      .def_readonly("reason_detail", &PyGeneratedEpisode::reason_detail, "The measured quantity that decided it.")
      .def_readonly("failed", &PyGeneratedEpisode::failed, "The scene's success conditions that did not hold.")
      .def_readonly("edge_case", &PyGeneratedEpisode::edge_case)
      .def_readonly("object_pose_note", &PyGeneratedEpisode::object_pose_note)
      .def_readonly("camera_frames", &PyGeneratedEpisode::camera_frames)
      .def_readonly("episode", &PyGeneratedEpisode::episode)
      .def("__repr__", [](const PyGeneratedEpisode& g) {
        return "<real2sim.GeneratedEpisode unit=" + std::to_string(g.unit) + " source=" +
               std::to_string(g.source_position) + " variant=" + std::to_string(g.variant) +
               (g.success ? " success" : " failed: " + g.reason) + ">";
      });

  py::class_<PyEpisodeStream>(m, "EpisodeStream",
                              "Generated episodes in unit order. Generation runs while the stream is open, at most "
                              "`queue` episodes ahead of the reader; close() (or leaving a with block) stops it.")
      .def("__iter__", [](PyEpisodeStream& s) -> PyEpisodeStream& { return s; })
      .def("__next__", &PyEpisodeStream::Next)
      .def("close", &PyEpisodeStream::Close)
      .def("__enter__", [](PyEpisodeStream& s) -> PyEpisodeStream& { return s; })
      .def("__exit__", [](PyEpisodeStream& s, const py::args&) { s.Close(); });

  py::class_<PyGenerator>(m, "Generator",
                          "Synthetic episodes from real ones, as `r2s generate` makes them (docs/generate.md), "
                          "streamed instead of written. Raises InputError naming the file, field and value for a "
                          "bad scene, params file, dataset or option (file 'GeneratorOptions', field the option).")
      .def(py::init([](const std::filesystem::path& scene, const std::filesystem::path& episodes,
                       const std::optional<std::filesystem::path>& params, std::uint32_t variants, std::uint64_t seed,
                       std::uint32_t shard_index, std::uint32_t shard_count, int threads,
                       const std::vector<std::string>& cameras, const std::vector<std::string>& streams,
                       std::optional<std::int64_t> max_source_episodes,
                       const std::optional<std::filesystem::path>& object_poses, const std::string& device,
                       const std::string& render_device, const std::optional<std::string>& shadows,
                       const std::optional<std::string>& shadow_casters, std::optional<int> shadow_map_px) {
             amplify::GeneratorOptions o;
             o.variants = variants;
             o.seed = seed;
             o.shard.index = shard_index;
             o.shard.count = shard_count;
             o.shard.source = "shard_index/shard_count";
             o.threads = threads;
             o.cameras = cameras;
             o.streams = streams;
             o.max_source_episodes = max_source_episodes;
             o.object_poses = object_poses;
             o.device = ParseDevice(device);
             o.render_device = render_device;
             o.rendering.shadows = shadows;
             o.rendering.shadow_casters = shadow_casters;
             o.rendering.shadow_map_px = shadow_map_px;
             py::gil_scoped_release release;
             return std::make_unique<PyGenerator>(amplify::Generator::Open(scene, params, episodes, o));
           }),
           py::arg("scene"), py::arg("episodes"), py::arg("params") = std::nullopt, py::kw_only(),
           py::arg("variants") = 1, py::arg("seed") = 0, py::arg("shard_index") = 0, py::arg("shard_count") = 1,
           py::arg("threads") = 0, py::arg("cameras") = std::vector<std::string>{},
           py::arg("streams") = std::vector<std::string>{"rgb"}, py::arg("max_source_episodes") = std::nullopt,
           py::arg("object_poses") = std::nullopt, py::arg("device") = "auto", py::arg("render_device") = "",
           py::arg("shadows") = std::nullopt, py::arg("shadow_casters") = std::nullopt,
           py::arg("shadow_map_px") = std::nullopt)
      .def_property_readonly("source_info", [](PyGenerator& g) { return g.get().source_info(); })
      .def_property_readonly("output_info", [](PyGenerator& g) { return g.get().output_info(); },
                             "The generated episodes' schema.")
      .def_property_readonly("source_episodes", [](PyGenerator& g) { return g.get().source_episodes(); })
      .def_property_readonly("total_units", [](PyGenerator& g) { return g.get().total_units(); },
                             "source episodes x variants")
      .def_property_readonly("shard_begin", [](PyGenerator& g) { return g.get().shard_begin(); })
      .def_property_readonly("shard_end", [](PyGenerator& g) { return g.get().shard_end(); })
      .def_property_readonly("threads", [](PyGenerator& g) { return g.get().threads(); })
      .def_property_readonly("notes", [](PyGenerator& g) { return g.get().notes(); })
      .def(
          "episodes",
          [](PyGenerator& g, std::optional<std::uint64_t> begin, std::optional<std::uint64_t> end,
             std::vector<std::uint64_t> skip, std::size_t queue) {
            const std::uint64_t b = begin.value_or(g.get().shard_begin());
            const std::uint64_t e = end.value_or(g.get().shard_end());
            if (b > e || e > g.get().total_units()) {
              throw InputError(amplify::kGeneratorOptionsSource, "units",
                               "[" + std::to_string(b) + ", " + std::to_string(e) + ") is not within the " +
                                   std::to_string(g.get().total_units()) + " units");
            }
            if (queue < 1) throw InputError(amplify::kGeneratorOptionsSource, "queue", "must be at least 1, found 0");
            return std::make_unique<PyEpisodeStream>(g, b, e, std::move(skip), queue);
          },
          py::arg("begin") = std::nullopt, py::arg("end") = std::nullopt, py::kw_only(),
          py::arg("skip") = std::vector<std::uint64_t>{}, py::arg("queue") = 2, py::keep_alive<0, 1>(),
          "Units [begin, end) (default: this shard's), except `skip`, in unit order.")
      .def(
          "run",
          [](PyGenerator& g, const std::filesystem::path& out, const std::string& keep, bool overwrite,
             const std::function<void(const PyGeneratedEpisode&, bool)>& on_episode) {
            amplify::RunOptions run;
            run.out = out;
            const std::optional<amplify::Keep> kept = amplify::KeepFromName(keep);
            if (!kept) throw InputError("RunOptions", "keep", "'" + keep + "' is not success or all");
            run.keep = *kept;
            run.overwrite = overwrite;
            amplify::RunObserver observer;
            if (on_episode) {
              // The episode as Python sees it, without its frames: they are written, not handed over.
              observer.on_episode = [&on_episode](const amplify::GeneratedEpisode& episode, bool kept) {
                py::gil_scoped_acquire acquire;
                on_episode(ToPython(WithoutFrames(episode)), kept);
              };
            }
            amplify::RunResult result;
            {
              py::gil_scoped_release release;
              result = amplify::GenerateRun(g.get(), run, observer);
            }
            py::dict out_dict;
            out_dict["dir"] = result.dir;
            out_dict["dataset"] = result.dataset;
            out_dict["was_complete"] = result.was_complete;
            out_dict["resumed_units"] = result.resumed_units;
            out_dict["attempted"] = result.attempted;
            out_dict["kept"] = result.kept;
            out_dict["summary"] = py::module_::import("json").attr("loads")(result.summary_json);
            return out_dict;
          },
          py::arg("out"), py::kw_only(), py::arg("keep") = "success", py::arg("overwrite") = false,
          py::arg("on_episode") = nullptr,
          "Generates this shard into the run folder `out` as r2s generate does (a shard of several writes "
          "out/shard-<i>-of-<n>), resuming what a killed run with the same inputs left; returns dir, dataset, "
          "was_complete, resumed_units, attempted, kept and summary (summary.json).")
      .def(
          "__iter__",
          [](PyGenerator& g) {
            return std::make_unique<PyEpisodeStream>(g, g.get().shard_begin(), g.get().shard_end(),
                                                     std::vector<std::uint64_t>{}, 2);
          },
          py::keep_alive<0, 1>());
}

}  // namespace r2s::python

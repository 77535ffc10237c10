#pragma once
// The pieces of the real2sim._core module, one per concept; module.cc calls each once.

#include <pybind11/pybind11.h>

#include "episode/episode.h"

namespace r2s::python {

void BindErrors(pybind11::module_& m);    // InputError (ValueError) with file, field, problem; OutputError (OSError)
void BindEpisodes(pybind11::module_& m);  // FeatureSpec, DatasetInfo, Episode, Dataset
void BindGenerator(pybind11::module_& m);  // Generator, GeneratedEpisode, EpisodeStream
void BindSysid(pybind11::module_& m);     // identify, SysidRun, FitResult, FitParameter, ChannelFit

// An episode as Python sees it: its columns as NumPy arrays that take over the episode's memory (no copy).
struct PyEpisode {
  std::int64_t index = 0;
  std::string task;
  std::int64_t length = 0;
  std::optional<bool> success;
  pybind11::dict columns;       // feature name -> ndarray of shape (T, *frame shape)
  pybind11::object provenance;  // dict for a synthetic episode, else None
};
PyEpisode ToPython(episode::Episode&& episode);

}  // namespace r2s::python

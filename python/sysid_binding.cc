// System identification: r2s sysid's engine, with its result as Python objects.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/eigen.h>
#include <pybind11/functional.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "common/cpu_budget.h"
#include "episode/input_error.h"
#include "python/bindings.h"
#include "sim/params_overlay.h"
#include "sysid/identify.h"

namespace py = pybind11;

namespace r2s::python {
namespace {

constexpr const char* kSysidOptionsSource = "SysidOptions";

sysid::Problem ParseProblem(const std::string& name) {
  if (auto problem = sysid::ProblemFromName(name)) return *problem;
  throw InputError(kSysidOptionsSource, "problems", "'" + name + "' is not joint_dynamics, actuators or objects");
}

}  // namespace

void BindSysid(py::module_& m) {
  using sysid::ChannelFit;
  using sysid::FitParameter;
  using sysid::FitResult;
  using sysid::SysidRun;
  py::class_<FitParameter>(m, "FitParameter", "One fitted parameter: estimate, std, bounds, identified or why not.")
      .def_readonly("name", &FitParameter::name)
      .def_readonly("unit", &FitParameter::unit)
      .def_readonly("nominal", &FitParameter::nominal)
      .def_readonly("estimate", &FitParameter::estimate)
      .def_readonly("std_dev", &FitParameter::std_dev)
      .def_readonly("lower", &FitParameter::lower)
      .def_readonly("upper", &FitParameter::upper)
      .def_readonly("identified", &FitParameter::identified)
      .def_readonly("why_not_identified", &FitParameter::why_not_identified)
      .def_readonly("overlays_scene", &FitParameter::overlays_scene, "Whether params.yaml carries it to the scene.")
      .def_readonly("sum_of", &FitParameter::sum_of, "The parts of an identified sum this parameter belongs to.")
      .def("__repr__", [](const FitParameter& p) {
        return "<real2sim.FitParameter " + p.name + " = " + sysid::FormatNumber(p.estimate, 6) + " +- " +
               sysid::FormatNumber(p.std_dev, 3) + (p.unit.empty() ? "" : " " + p.unit) +
               (p.identified ? "" : " (not identified)") + ">";
      });
  py::class_<ChannelFit>(m, "ChannelFit", "Fit quality of one measured channel.")
      .def_readonly("channel", &ChannelFit::channel)
      .def_readonly("unit", &ChannelFit::unit)
      .def_readonly("samples", &ChannelFit::samples)
      .def_readonly("rms", &ChannelFit::rms)
      .def_readonly("r2", &ChannelFit::r2)
      .def_readonly("baseline_rms", &ChannelFit::baseline_rms, "NaN when the problem has no baseline.");
  py::class_<FitResult>(m, "FitResult", "What one identification problem returned.")
      .def_property_readonly("problem", [](const FitResult& r) { return std::string(sysid::ProblemName(r.problem)); })
      .def_readonly("parameters", &FitResult::parameters)
      .def_readonly("covariance_names", &FitResult::covariance_names)
      .def_readonly("covariance", &FitResult::covariance, "Over covariance_names, in their order.")
      .def_readonly("warnings", &FitResult::warnings)
      .def_readonly("train", &FitResult::train)
      .def_readonly("held_out", &FitResult::held_out)
      .def_readonly("converged", &FitResult::converged)
      .def_readonly("termination", &FitResult::termination)
      .def_readonly("starts", &FitResult::starts)
      .def_readonly("wall_s", &FitResult::wall_s)
      .def("parameter", [](const FitResult& r, const std::string& name) -> const FitParameter& {
        for (const FitParameter& p : r.parameters) {
          if (p.name == name) return p;
        }
        throw py::key_error(name);
      }, py::return_value_policy::reference_internal);
  py::class_<SysidRun>(m, "SysidRun", "Every problem run on a dataset, and those its data could not support.")
      .def_readonly("scene_name", &SysidRun::scene_name)
      .def_readonly("dataset", &SysidRun::dataset)
      .def_readonly("episodes", &SysidRun::episodes)
      .def_readonly("results", &SysidRun::results)
      .def_property_readonly("skipped",
                             [](const SysidRun& run) {
                               py::dict skipped;
                               for (const auto& s : run.skipped) skipped[sysid::ProblemName(s.problem)] = s.why;
                               return skipped;
                             }, "Problem name -> what the data lack for it.")
      .def_readonly("wall_s", &SysidRun::wall_s)
      .def("result", [](const SysidRun& run, const std::string& problem) -> const FitResult& {
        const sysid::Problem p = ParseProblem(problem);
        for (const FitResult& r : run.results) {
          if (r.problem == p) return r;
        }
        throw py::key_error(problem);
      }, py::return_value_policy::reference_internal)
      .def("write_params", [](const SysidRun& run, const std::filesystem::path& out) {
        sim::WriteParams(sysid::ToParamsFile(run), out);
      }, py::arg("path"), "Writes params.yaml, as r2s sysid --out does (for Generator(params=...)).");

  m.def(
      "identify",
      [](const std::filesystem::path& scene, const std::filesystem::path& episodes,
         const std::optional<std::filesystem::path>& params, const std::vector<std::string>& problems,
         std::int64_t max_episodes, double held_out_fraction, int threads, std::uint64_t seed,
         const std::vector<std::string>& joints, const std::optional<std::filesystem::path>& baseline,
         const std::function<void(double, const std::string&)>& progress) {
        if (max_episodes < 0) {
          throw InputError(kSysidOptionsSource, "max_episodes", "must be at least 0, found " +
                                                                    std::to_string(max_episodes));
        }
        if (threads < 0) {
          throw InputError(kSysidOptionsSource, "threads", "must be at least 0, found " + std::to_string(threads));
        }
        sysid::SysidOptions o;
        o.common.held_out_fraction = held_out_fraction;
        o.common.threads = ThreadsOrAvailable(threads);
        o.common.seed = seed;
        for (const std::string& p : problems) o.only.push_back(ParseProblem(p));
        o.max_episodes = max_episodes;
        o.actuators.joints = joints;
        o.baseline = baseline;
        if (progress) {
          o.progress = [&progress](double fraction, const std::string& what) {
            py::gil_scoped_acquire acquire;
            progress(fraction, what);
          };
        }
        py::gil_scoped_release release;
        return sysid::Identify(scene, params, episodes, o);
      },
      py::arg("scene"), py::arg("episodes"), py::arg("params") = std::nullopt, py::kw_only(),
      py::arg("problems") = std::vector<std::string>{}, py::arg("max_episodes") = 0,
      py::arg("held_out_fraction") = 0.3, py::arg("threads") = 0, py::arg("seed") = 0,
      py::arg("joints") = std::vector<std::string>{}, py::arg("baseline") = std::nullopt,
      py::arg("progress") = nullptr,
      "Fits what the episodes can tell (docs/sysid.md), as r2s sysid does: problems from joint_dynamics, actuators, "
      "objects (default: every one the data support). Raises InputError for a bad scene, params file, dataset or "
      "option, ValueError for an option out of range.");
}

}  // namespace r2s::python

// real2sim._core: the C++ library as the Python package real2sim sees it (python/real2sim/__init__.py).

#include <pybind11/pybind11.h>

#include "episode/input_error.h"
#include "episode/output_error.h"
#include "python/bindings.h"
#include "real2sim/build_config.h"
#include "render/render_error.h"

namespace py = pybind11;

namespace r2s::python {

// InputError is a ValueError carrying the library's file, field and problem as attributes, so that a harness can
// say which of its files and fields is wrong without parsing the message; OutputError (a full disk, a read-only
// folder) is an OSError with the file; RenderError (no Vulkan device fits) a RuntimeError.
void BindErrors(py::module_& m) {
  static py::exception<InputError> input_error(m, "InputError", PyExc_ValueError);
  static py::exception<OutputError> output_error(m, "OutputError", PyExc_OSError);
  static py::exception<render::RenderError> render_error(m, "RenderError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const InputError& e) {
      py::object error = py::handle(input_error.ptr())(e.what());  // an instance, to carry the fields
      error.attr("file") = e.file();
      error.attr("field") = e.field();
      error.attr("problem") = e.problem();
      PyErr_SetObject(input_error.ptr(), error.ptr());
    } catch (const OutputError& e) {
      py::object error = py::handle(output_error.ptr())(e.what());
      error.attr("filename") = e.file();
      PyErr_SetObject(output_error.ptr(), error.ptr());
    } catch (const render::RenderError& e) {
      PyErr_SetString(render_error.ptr(), e.what());
    }
  });
}

}  // namespace r2s::python

PYBIND11_MODULE(_core, m) {
  m.doc() = "real2sim's C++ library: datasets, the generator and system identification.";
  m.attr("__version__") = R2S_VERSION;
  r2s::python::BindErrors(m);
  r2s::python::BindEpisodes(m);
  r2s::python::BindGenerator(m);
  r2s::python::BindSysid(m);
}

# Apache Arrow and Parquet C++ from the pyarrow wheel, as imported targets Arrow::arrow and Arrow::parquet.
#
# Debian 12 has no libarrow-dev. The pyarrow wheel ships the C++ libraries (libarrow.so.N, libparquet.so.N) and
# their headers; scripts/setup_python_env.sh installs it into a cached environment outside the clone, and this file
# asks that environment's Python where they are. The wheel is built with the C++11 string ABI (its exported
# symbols use std::__cxx11::basic_string) and needs GLIBCXX_3.4.22 at most, so Debian's g++ 12 links it. The
# libraries are found through the RPATH CMake records (build tree and installed binaries alike).
# Installed with the package config, with the paths found here, so consumers of the static r2s::episode link the
# same libraries.
if(TARGET Arrow::parquet)
  return()
endif()

if(NOT R2S_PYARROW_INCLUDE_DIR OR NOT R2S_PYARROW_LIBRARY_DIR)
  set(_r2s_cache "$ENV{R2S_CACHE_DIR}")
  if(NOT _r2s_cache)
    if(DEFINED ENV{XDG_CACHE_HOME} AND NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
      set(_r2s_cache "$ENV{XDG_CACHE_HOME}/real2sim")
    else()
      set(_r2s_cache "$ENV{HOME}/.cache/real2sim")
    endif()
  endif()
  if(NOT R2S_PYARROW_PYTHON)
    file(GLOB _r2s_envs "${_r2s_cache}/pyarrow-*/.complete")
    list(SORT _r2s_envs)
    if(_r2s_envs)
      list(GET _r2s_envs -1 _r2s_env)
      get_filename_component(_r2s_env "${_r2s_env}" DIRECTORY)
      set(R2S_PYARROW_PYTHON "${_r2s_env}/bin/python")
    endif()
  endif()
  if(NOT R2S_PYARROW_PYTHON OR NOT EXISTS "${R2S_PYARROW_PYTHON}")
    message(FATAL_ERROR "Arrow/Parquet C++: no pyarrow environment under ${_r2s_cache}; run scripts/setup.sh "
                        "(it installs the pyarrow wheel there), or set R2S_PYARROW_PYTHON to a Python with pyarrow")
  endif()
  execute_process(
    COMMAND "${R2S_PYARROW_PYTHON}" -c "import pyarrow; print(pyarrow.get_include()); print(pyarrow.get_library_dirs()[0]); print(pyarrow.__version__)"
    OUTPUT_VARIABLE _r2s_out RESULT_VARIABLE _r2s_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _r2s_rc EQUAL 0)
    message(FATAL_ERROR "Arrow/Parquet C++: ${R2S_PYARROW_PYTHON} cannot import pyarrow; rerun scripts/setup.sh")
  endif()
  string(REPLACE "\n" ";" _r2s_out "${_r2s_out}")
  list(GET _r2s_out 0 _r2s_include)
  list(GET _r2s_out 1 _r2s_libdir)
  list(GET _r2s_out 2 _r2s_version)
  set(R2S_PYARROW_INCLUDE_DIR "${_r2s_include}" CACHE PATH "Arrow/Parquet C++ headers (from the pyarrow wheel)")
  set(R2S_PYARROW_LIBRARY_DIR "${_r2s_libdir}" CACHE PATH "Arrow/Parquet C++ libraries (from the pyarrow wheel)")
  set(R2S_PYARROW_VERSION "${_r2s_version}" CACHE STRING "pyarrow's version")
endif()

foreach(_lib arrow parquet)
  file(GLOB _r2s_candidates "${R2S_PYARROW_LIBRARY_DIR}/lib${_lib}.so.[0-9]*")
  list(FILTER _r2s_candidates EXCLUDE REGEX "\\.so\\.[0-9]+\\.")
  if(NOT _r2s_candidates)
    message(FATAL_ERROR "Arrow/Parquet C++: no lib${_lib}.so.N in ${R2S_PYARROW_LIBRARY_DIR}")
  endif()
  list(GET _r2s_candidates 0 _r2s_location)
  add_library(Arrow::${_lib} SHARED IMPORTED)
  set_target_properties(Arrow::${_lib} PROPERTIES
    IMPORTED_LOCATION "${_r2s_location}"
    INTERFACE_INCLUDE_DIRECTORIES "${R2S_PYARROW_INCLUDE_DIR}")
endforeach()
set_property(TARGET Arrow::parquet PROPERTY INTERFACE_LINK_LIBRARIES Arrow::arrow)
unset(_r2s_candidates)
unset(_r2s_location)

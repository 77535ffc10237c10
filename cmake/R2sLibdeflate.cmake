# libdeflate from Debian (libdeflate-dev), as the imported target Libdeflate::libdeflate: the HDF5 writer deflates
# image chunks with it (2-3x zlib's speed at the same level, the same zlib format every HDF5 reader inflates).
# Installed with the package config.
if(TARGET Libdeflate::libdeflate)
  return()
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(R2S_LIBDEFLATE REQUIRED IMPORTED_TARGET libdeflate)
add_library(Libdeflate::libdeflate INTERFACE IMPORTED)
set_target_properties(Libdeflate::libdeflate PROPERTIES INTERFACE_LINK_LIBRARIES PkgConfig::R2S_LIBDEFLATE)

# FFmpeg's libraries from Debian (libavcodec with dav1d and SVT-AV1, libavformat, libswscale, libavutil), as one
# imported target: FFmpeg::libs. Installed with the package config.
if(TARGET FFmpeg::libs)
  return()
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(R2S_FFMPEG REQUIRED IMPORTED_TARGET libavformat libavcodec libswscale libavutil)
add_library(FFmpeg::libs INTERFACE IMPORTED)
set_target_properties(FFmpeg::libs PROPERTIES INTERFACE_LINK_LIBRARIES PkgConfig::R2S_FFMPEG)

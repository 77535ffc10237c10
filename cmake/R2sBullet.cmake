# Bullet in double precision, as one imported target: Bullet::Float64.
#
# Debian ships single- and double-precision builds side by side; mixing a translation unit compiled without
# BT_USE_DOUBLE_PRECISION with the -float64 libraries corrupts memory silently (btScalar changes size), so the
# define travels with the libraries, in one target, and nothing links Bullet any other way. Installed with the
# package config so that consumers of the static r2s::sim get the same target.
if(TARGET Bullet::Float64)
  return()
endif()

find_path(R2S_BULLET_INCLUDE_DIR btBulletDynamicsCommon.h PATH_SUFFIXES bullet REQUIRED)
set(_r2s_bullet_libs)
# Order matters for static-style linking: dependents first.
foreach(_lib BulletDynamics BulletCollision LinearMath HACD)
  find_library(R2S_BULLET_${_lib}_LIBRARY NAMES ${_lib}-float64 REQUIRED)
  list(APPEND _r2s_bullet_libs ${R2S_BULLET_${_lib}_LIBRARY})
endforeach()

add_library(Bullet::Float64 INTERFACE IMPORTED)
set_target_properties(Bullet::Float64 PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${R2S_BULLET_INCLUDE_DIR}"
  INTERFACE_COMPILE_DEFINITIONS "BT_USE_DOUBLE_PRECISION"
  INTERFACE_LINK_LIBRARIES "${_r2s_bullet_libs}")
unset(_r2s_bullet_libs)

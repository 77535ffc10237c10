# CUDA is optional: on when nvcc is found (AUTO) or demanded (ON), cleanly off otherwise.
# R2S_HAVE_CUDA tells the rest of the build; later modules add private CUDA libraries under it.
include(CheckLanguage)
set(R2S_HAVE_CUDA OFF)
if(NOT R2S_CUDA STREQUAL "OFF")
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # Hopper (H100/H200) is what the GPU nodes run; override with -DCMAKE_CUDA_ARCHITECTURES.
      set(CMAKE_CUDA_ARCHITECTURES 90)
    endif()
    # CMake 3.25 knows no C++20 flag for nvcc and would refuse a CUDA20 dialect inherited from CXX_STANDARD; the
    # kernels and the headers they include are C++17.
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    enable_language(CUDA)
    set(R2S_HAVE_CUDA ON)
  elseif(R2S_CUDA STREQUAL "ON")
    message(FATAL_ERROR "R2S_CUDA=ON but no CUDA compiler was found (looked for nvcc on PATH and /usr/local/cuda/bin/nvcc)")
  endif()
endif()
message(STATUS "real2sim: CUDA ${R2S_HAVE_CUDA}")

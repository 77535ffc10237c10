# -DR2S_SANITIZE=ON builds everything with AddressSanitizer + UndefinedBehaviorSanitizer (the asan preset).
option(R2S_SANITIZE "Build with AddressSanitizer and UBSan" OFF)
if(R2S_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  # Under ASan, Eigen switches to its own aligned malloc (Memory.h: glibc's is trusted only without
  # __SANITIZE_ADDRESS__), while Debian's uninstrumented Ceres keeps glibc's: a matrix one side allocates and the
  # other frees crashes ("bad-free" in BDCSVD inside ceres::Covariance). glibc's and ASan's malloc both align to
  # 16 bytes, which is what Eigen needs here (no AVX flags), so both sides take the plain malloc.
  add_compile_definitions(EIGEN_MALLOC_ALREADY_ALIGNED=1)
  add_link_options(-fsanitize=address,undefined)
endif()

# An instrumented static library needs the sanitizer runtimes in whatever links it, installed consumers
# (find_package(real2sim)) too: module libraries call this so their exported targets carry the link flags.
function(r2s_sanitizer_link_requirement target)
  if(R2S_SANITIZE)
    target_link_options(${target} INTERFACE -fsanitize=address,undefined)
  endif()
endfunction()

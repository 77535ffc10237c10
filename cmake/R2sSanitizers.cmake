# -DR2S_SANITIZE=ON builds everything with AddressSanitizer + UndefinedBehaviorSanitizer (the asan preset).
option(R2S_SANITIZE "Build with AddressSanitizer and UBSan" OFF)
if(R2S_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# An instrumented static library needs the sanitizer runtimes in whatever links it, installed consumers
# (find_package(real2sim)) too: module libraries call this so their exported targets carry the link flags.
function(r2s_sanitizer_link_requirement target)
  if(R2S_SANITIZE)
    target_link_options(${target} INTERFACE -fsanitize=address,undefined)
  endif()
endfunction()

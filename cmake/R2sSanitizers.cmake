# -DR2S_SANITIZE=ON builds everything with AddressSanitizer + UndefinedBehaviorSanitizer (the asan preset).
option(R2S_SANITIZE "Build with AddressSanitizer and UBSan" OFF)
if(R2S_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

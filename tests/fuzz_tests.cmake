# The libFuzzer harnesses (fuzz/), built with the normal compiler and without libFuzzer, on their committed corpora
# (fuzz/corpus/<harness>/) and on the inputs that once made them fail (fuzz/regressions/<harness>/). Fuzzing itself
# needs clang: the fuzz preset (fuzz/README.md).
foreach(harness IN ITEMS hdf5_reader lerobot_reader scene_loader params_yaml)
  # hdf5_reader -> FuzzHdf5Reader
  string(REPLACE "_" ";" words ${harness})
  set(suite Fuzz)
  foreach(word IN LISTS words)
    string(SUBSTRING ${word} 0 1 first)
    string(TOUPPER ${first} first)
    string(SUBSTRING ${word} 1 -1 rest)
    string(APPEND suite ${first}${rest})
  endforeach()
  r2s_add_test(fuzz_${harness}_regression_test
    SOURCES fuzz_regression_test.cc ${PROJECT_SOURCE_DIR}/fuzz/${harness}_fuzzer.cc
            ${PROJECT_SOURCE_DIR}/fuzz/fuzz_support.cc
    LABELS fuzz)
  target_compile_definitions(fuzz_${harness}_regression_test PRIVATE
    R2S_FUZZ_HARNESS="${harness}" R2S_FUZZ_SUITE=${suite})
endforeach()

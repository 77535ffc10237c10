# The examples (examples/): the stand-in training harness built against the installed package, and a check that
# the Slurm and Kubernetes examples parse and use only options r2s has. Include it from tests/CMakeLists.txt:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/examples/harness_test.cmake)

# Installs, then builds examples/harness with find_package(real2sim) and streams generated episodes through it.
add_test(NAME examples_harness
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run_harness_test.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(examples_harness PROPERTIES LABELS "package;slow" TIMEOUT 300)

# bash -n for the Slurm scripts, YAML for the Kubernetes manifests, and every r2s option they use against
# r2s generate --help / r2s merge --help, so the examples cannot rot silently.
add_test(NAME examples_syntax
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/check_examples.sh $<TARGET_FILE:r2s> ${PROJECT_SOURCE_DIR})
set_tests_properties(examples_syntax PROPERTIES LABELS "unit" TIMEOUT 60)

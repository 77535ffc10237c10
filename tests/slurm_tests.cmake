# The Slurm example (examples/slurm/) on a real, private Slurm: a one-node cluster on 127.0.0.1 that the test starts
# and stops itself. Needs root and Debian's Slurm and munge (scripts/setup.sh); skipped when not root.
add_test(NAME slurm_example
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/slurm/run_slurm_test.sh $<TARGET_FILE:r2s> ${PROJECT_SOURCE_DIR})
# The script gives itself 420 s (R2S_SLURM_TEST_DEADLINE_S) and cleans up, before ctest would kill it.
set_tests_properties(slurm_example PROPERTIES LABELS "slurm;slow" TIMEOUT 600 SKIP_RETURN_CODE 77)

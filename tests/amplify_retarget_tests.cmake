# Object-centric retargeting (amplify/retarget.h) through a Bullet pick-and-place (tests/fixtures/pick_place).
# Included from tests/CMakeLists.txt after r2s_add_test is defined.
r2s_add_test(amplify_retarget_test SOURCES amplify_retarget_test.cc LABELS amplify)
target_link_libraries(amplify_retarget_test PRIVATE r2s::amplify)

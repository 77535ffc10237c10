# Object-centric retargeting (amplify/retarget.h) through a Bullet pick-and-place (tests/fixtures/pick_place).
# Included from tests/CMakeLists.txt after r2s_add_test is defined.
r2s_add_test(amplify_retarget_test SOURCES amplify_retarget_test.cc LABELS amplify)
target_link_libraries(amplify_retarget_test PRIVATE r2s::amplify)
# Object poses inferred from a demonstration's gripper (amplify/grasp_inference.h).
r2s_add_test(grasp_inference_test SOURCES grasp_inference_test.cc LABELS amplify)
target_link_libraries(grasp_inference_test PRIVATE r2s::amplify)
# The bundled SO-101 pick-and-place deployment (scenes/so101_pick_place): it loads, and a grasp holds the cube.
r2s_add_test(so101_scene_test SOURCES so101_scene_test.cc LABELS "amplify;sim")
target_link_libraries(so101_scene_test PRIVATE r2s::amplify)
# Why a variant was not kept (amplify/rejection.h): the reach check and the watch over a real Bullet world.
r2s_add_test(rejection_test SOURCES rejection_test.cc LABELS amplify)
target_link_libraries(rejection_test PRIVATE r2s::amplify)
# The SO-101 deployment on its bundled demonstrations: inferred cube poses, retargeted variants, the reasons.
r2s_add_test(so101_generate_test SOURCES so101_generate_test.cc LABELS "amplify;cli" SLOW "RetargetedVariants")
target_link_libraries(so101_generate_test PRIVATE r2s::amplify nlohmann_json::nlohmann_json)

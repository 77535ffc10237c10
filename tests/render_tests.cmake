# Vulkan renderer tests. They run on whatever device the renderer picks (lavapipe on CI) under the validation
# layer: any validation message fails the test.
r2s_add_test(render_model_test SOURCES render_model_test.cc LABELS "render")
# What a submission records, planned on the host (render/submission_plan.h): no device needed.
r2s_add_test(render_submission_plan_test SOURCES render_submission_plan_test.cc LABELS "render")
r2s_add_test(render_geometry_test SOURCES render_geometry_test.cc LABELS "render;vulkan" VULKAN)
r2s_add_test(render_batch_test SOURCES render_batch_test.cc LABELS "render;vulkan" VULKAN)
r2s_add_test(render_golden_test SOURCES render_golden_test.cc LABELS "render;vulkan" VULKAN)
r2s_add_test(render_error_test SOURCES render_error_test.cc LABELS "render;vulkan" VULKAN)
r2s_add_test(render_cli_test SOURCES render_cli_test.cc LABELS "render;vulkan;cli" VULKAN)
r2s_add_test(render_options_test SOURCES render_options_test.cc LABELS "render;vulkan" VULKAN)
foreach(t render_model_test render_submission_plan_test render_geometry_test render_batch_test render_golden_test
          render_error_test render_cli_test render_options_test)
  target_link_libraries(${t} PRIVATE r2s::render)
endforeach()
# render_error_test drives the internal Vulkan context directly to prove a validation message is an error.
find_package(Vulkan REQUIRED)
target_link_libraries(render_error_test PRIVATE Vulkan::Vulkan)
target_link_libraries(render_cli_test PRIVATE nlohmann_json::nlohmann_json)

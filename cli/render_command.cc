#include "cli/render_command.h"

#include <chrono>
#include <iomanip>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/cpu_budget.h"
#include "episode/atomic_file.h"
#include "episode/input_error.h"
#include "render/cpu_raster_threads.h"
#include "render/image_io.h"
#include "render/renderer.h"
#include "render/segmentation.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"

namespace r2s::cli {

void RunRender(const RenderOptions& options, std::ostream& out) {
  const auto model = sim::LoadScene(options.scene, options.params);
  if (model->cameras.empty()) {
    throw InputError(model->scene_file.string(), "cameras", "the scene has no camera to render");
  }
  // The world's own poses (Bullet's forward kinematics), as an episode would start.
  const sim::World world(model);
  const render::SceneState state = render::CaptureState(world);

  // A CPU renderer's rasterizer threads: the CPUs this process may use, not the machine's.
  render::ShareCpuRasterizer(AvailableCpus(), 1);
  render::RendererOptions renderer_options;
  renderer_options.device = options.device;
  renderer_options.validation = options.validation;
  render::ApplyRendering(model->rendering, options.rendering, &renderer_options);
  render::Renderer renderer(renderer_options);
  renderer.LoadModel(model);

  std::vector<render::ViewRequest> views(model->cameras.size());
  for (std::size_t c = 0; c < views.size(); ++c) views[c].camera = static_cast<int>(c);
  std::vector<render::Frame> frames;
  const auto start = std::chrono::steady_clock::now();
  renderer.Render(std::span(&state, 1), views, &frames);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::filesystem::create_directories(options.out);
  std::ostringstream text;
  nlohmann::json report{{"scene", model->scene_file.string()},
                        {"device", renderer.device_name()},
                        {"views", frames.size()},
                        {"render_s", seconds},
                        {"out", options.out.string()},
                        {"cameras", nlohmann::json::array()}};
  text << "scene     " << model->scene_file.string() << "\n"
       << "device    " << renderer.device_name() << "\n"
       << "rendered  " << frames.size() << " views in " << std::fixed << std::setprecision(3) << seconds << " s\n";
  for (std::size_t c = 0; c < frames.size(); ++c) {
    const std::string& name = model->cameras[c].name;
    const render::Frame& f = frames[c];
    render::WritePngRgb8(options.out / (name + ".rgb.png"), f.width_px, f.height_px, f.rgb.data());
    render::WriteDepthPngMm(options.out / (name + ".depth_mm.png"), f);
    render::WritePngGray16(options.out / (name + ".segmentation.png"), f.width_px, f.height_px, f.segmentation.data());
    render::WriteDepthPreviewPng(options.out / (name + ".depth_preview.png"), f);
    render::WriteSegmentationPreviewPng(options.out / (name + ".segmentation_preview.png"), f);
    text << "camera    " << name << " " << f.width_px << "x" << f.height_px << ": " << name << ".rgb.png, " << name
         << ".depth_mm.png, " << name << ".segmentation.png\n";
    report["cameras"].push_back({{"name", name},
                                 {"width_px", f.width_px},
                                 {"height_px", f.height_px},
                                 {"rgb", name + ".rgb.png"},
                                 {"depth_mm", name + ".depth_mm.png"},
                                 {"segmentation", name + ".segmentation.png"}});
  }
  nlohmann::json table = nlohmann::json::array();
  for (const auto& e : render::SegmentationTable(*model)) {
    table.push_back({{"id", e.id}, {"kind", e.kind}, {"name", e.name}});
  }
  episode::WriteFileAtomically(options.out / "segmentation.json", table.dump(2) + "\n");
  text << "ids       segmentation.json (0 is the background)\n";
  report["segmentation_ids"] = "segmentation.json";
  if (options.json) {
    out << report.dump(2) << "\n";
  } else {
    out << text.str();
  }
}

}  // namespace r2s::cli

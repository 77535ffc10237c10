#pragma once
// One synthetic episode from one (source episode, variant): draw (variant_draw.h), place the objects, retarget
// the demonstration where the scene asks for it (retarget.h) and refuse it unsimulated when the arm cannot reach
// it, perturb the actions (action_perturbation.h), simulate in a Bullet world of the variant's model
// (sim::SimulateEpisode) watching for instability and the held object (rejection.h), evaluate the scene's success
// predicate and give a failure its reason, render the cameras the output records and run the sensor models on the frames, and assemble the
// episode in the source's schema with its provenance.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "amplify/generated_episode.h"
#include "amplify/grasp_inference.h"
#include "amplify/rejection.h"
#include "amplify/retarget.h"
#include "amplify/variant_draw.h"
#include "cuda/sensor.h"
#include "episode/dataset_info.h"
#include "episode/episode.h"
#include "render/renderer.h"
#include "sim/replay.h"

namespace r2s::amplify {

// A camera the generated episodes record, and the features it fills (empty: not recorded).
struct CameraStream {
  int camera = 0;  // index into Model::cameras
  int width_px = 0;
  int height_px = 0;
  std::string rgb_feature;           // uint8 [H, W, 3]
  std::string depth_feature;         // float32 [H, W] or [H, W, 1] (robomimic), metres
  std::string segmentation_feature;  // uint16 [H, W] or [H, W, 1] (robomimic), render/segmentation.h ids
};

// Shared by every worker; read-only while episodes are generated.
struct PipelineConfig {
  DrawSources draw;
  episode::DatasetInfo source_info;  // the source dataset's schema
  episode::DatasetInfo output_info;  // the source's plus the camera streams' features
  std::string dataset;               // the source dataset, for provenance and messages
  std::vector<CameraStream> cameras;
  std::optional<RetargetSpec> retarget;
  ReachLimits reach;          // a retargeted variant that misses its poses by more is refused unsimulated
  // Where the dataset does not record the retarget object's pose (LeRobot never does), its start is inferred
  // from the demonstration's grasp (grasp_inference.h), or taken from these annotations (by the source
  // episode's stored index) where they name it.
  GraspInferenceOptions grasp_inference;
  ObjectPoseAnnotations annotations;
  EpisodeWatchOptions watch;  // what counts as unstable, a missed grasp, a drop
  cuda::SensorOptions sensor;        // device; CPU threads per worker
  int render_chunk_frames = 16;     // frames rendered (and held on the device) at a time
};

// Times one stage on the calling thread: Stop adds its wall and thread CPU seconds to `stage` of `times`.
class StageTimer {
 public:
  StageTimer();
  void Stop(StageTimes& times, double StageSeconds::*stage) const;

 private:
  std::chrono::steady_clock::time_point wall_started_;
  double cpu_started_s_;
};

// Builds the output schema: the source's features, plus, for every camera stream, its features (a feature the
// source already has keeps the source's spec and storage path; a new depth or segmentation feature is [H, W, 1] in
// the robomimic layout, as robosuite stores them, else [H, W]).
episode::DatasetInfo OutputInfo(const episode::DatasetInfo& source, const std::vector<CameraStream>& cameras);

// One worker: owns its renderer (when the output records cameras). Not thread-safe: one per thread.
class VariantWorker {
 public:
  // Throws render::RenderError when cameras are to be rendered and no Vulkan device fits.
  VariantWorker(const PipelineConfig& config, const render::RendererOptions& renderer_options);

  // `done`, when given, follows how far the episode is, 0 to 1, for a progress line on another thread: the
  // simulation's frames, then (with cameras) the camera frames rendered, the simulation counted as kSimulationShare
  // of an episode with cameras.
  GeneratedEpisode Run(const episode::Episode& source, std::uint32_t source_position, std::uint32_t variant,
                       std::atomic<double>* done = nullptr);
  // About what simulating costs of an episode with cameras on a CPU (lavapipe), measured: 1.5 % for the SO-101's
  // pick-and-place with two 640x480 cameras, 1 % for a cube toss with the tabletop's front camera.
  static constexpr double kSimulationShare = 0.02;

 private:
  void Render(const VariantDraw& draw, const std::vector<render::SceneState>& states, GeneratedEpisode& out,
              std::atomic<double>* done);

  const PipelineConfig& config_;
  std::optional<render::Renderer> renderer_;
  std::map<std::string, int> textures_;  // a material's texture file -> its renderer texture id
};

}  // namespace r2s::amplify

// make_teleop_demos: SYNTHETIC pick-and-place demonstrations of a scene by the scripted teleoperator
// (tools/scripted_teleop.h), written as NumPy arrays for LeRobot's own writer (scripts/data/make_so101_demos.py):
//
//   make_teleop_demos --scene scenes/so101_pick_place --out DIR --episodes 6 --seed 0
//       --workspace 0.16,0.28,-0.10,0.02 --yaw-deg 45 --cameras front,wrist
//
// For each episode i it plants the scene's retarget object at a pose drawn in the workspace (x, y uniform in the
// rectangle, yaw uniform within +-yaw-deg of the scene's), lets the person pick it and place it at the centre of
// the scene's object_in_region success condition, and writes DIR/episode_<i>/:
//   <feature>.npy    float32 [frames, width] for every position and position-target binding's feature, in the
//                    binding's own units (JointBinding::RawFromSi: LeRobot's normalized -100..100 / 0..100)
//   timestamp.npy    float32 [frames], seconds from the episode's start
//   <camera>.npy     uint8 [frames, height, width, 3] per --cameras camera, rendered (lavapipe on a CPU)
// and DIR/demos.json: each demonstration's planted object pose (the ground truth of the poses real2sim infers from
// the grasp), style, phases, success and measured action-to-state lag. Demonstrations that fail the scene's success predicate are written too,
// and listed; the writer keeps only successes unless told otherwise.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <numbers>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "amplify/grasp_inference.h"
#include "amplify/retarget.h"
#include "randomize/stream.h"
#include "render/renderer.h"
#include "sim/scene_compiler.h"
#include "tools/scripted_teleop.h"

namespace {

namespace fs = std::filesystem;
using r2s::tools::TeleopDemo;

// NumPy's .npy format 1.0: magic, version, a little-endian uint16 header length, a Python dict literal padded with
// spaces to a multiple of 64 bytes (newline last), then the C-order data.
class NpyWriter {
 public:
  NpyWriter(const fs::path& file, const std::string& descr, const std::vector<std::int64_t>& shape)
      : out_(file, std::ios::binary) {
    std::string dims;
    for (std::int64_t d : shape) dims += std::to_string(d) + ", ";
    if (shape.size() > 1) dims.resize(dims.size() - 1);
    std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    const std::size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    const auto length = static_cast<std::uint16_t>(header.size());
    out_.write("\x93NUMPY\x01\x00", 8);
    const char length_bytes[2] = {static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
    out_.write(length_bytes, 2);
    out_ << header;
  }
  void Write(const void* data, std::size_t bytes) { out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes)); }
  ~NpyWriter() {
    out_.close();
    if (out_.fail()) std::cerr << "make_teleop_demos: writing failed\n";
  }

 private:
  std::ofstream out_;
};

// The lag of the follower behind the leader: the shift (in frames) that best aligns the state's arm joints with
// the action's, by least squares over shifts 0..15.
int ActionToStateLag(const TeleopDemo& demo, const std::vector<int>& arm_dofs) {
  int best = 0;
  double best_error = 1e300;
  for (int shift = 0; shift <= 15; ++shift) {
    double error = 0;
    for (Eigen::Index f = shift; f < demo.state.cols(); ++f) {
      for (int d : arm_dofs) error += std::pow(demo.state(d, f) - demo.action(d, f - shift), 2);
    }
    error /= static_cast<double>(demo.state.cols() - shift);
    if (error < best_error) {
      best_error = error;
      best = shift;
    }
  }
  return best;
}

// What the follower's and the leader's encoders report: each revolute joint's angle plus reading noise, in whole
// ticks (LeRobot reads integer ticks and normalizes them). The leader's too: its joint positions are the action.
void RecordThroughEncoders(const r2s::sim::RobotModel& robot, int ticks_per_turn, double noise_ticks,
                           std::uint64_t seed, TeleopDemo* demo) {
  if (ticks_per_turn <= 0) return;
  const double tick_rad = 2 * std::numbers::pi / ticks_per_turn;
  r2s::randomize::Stream noise(seed, 0, 0, "make_teleop_demos/encoders");
  for (Eigen::MatrixXd* values : {&demo->state, &demo->action}) {
    for (Eigen::Index f = 0; f < values->cols(); ++f) {
      for (int d = 0; d < robot.num_dofs(); ++d) {
        if (robot.dof_link(d).joint_type != r2s::sim::JointType::kRevolute) continue;
        const double read = (*values)(d, f) / tick_rad + noise_ticks * noise.Normal();
        (*values)(d, f) = std::round(read) * tick_rad;
      }
    }
  }
}

void WriteFeatures(const r2s::sim::Model& model, const TeleopDemo& demo, const fs::path& dir) {
  // feature -> [frames, width] in the binding's units
  std::map<std::string, std::vector<float>> columns;
  std::map<std::string, int> widths;
  const auto frames = demo.state.cols();
  for (const r2s::sim::JointBinding& b : model.joint_bindings) {
    const bool measured = b.signal == r2s::sim::JointSignal::kPosition;
    if (!measured && b.signal != r2s::sim::JointSignal::kPositionTarget) continue;
    widths[b.feature] = std::max(widths[b.feature], b.end);
  }
  for (const auto& [feature, width] : widths) columns[feature].assign(static_cast<std::size_t>(frames * width), 0.0f);
  for (const r2s::sim::JointBinding& b : model.joint_bindings) {
    const bool measured = b.signal == r2s::sim::JointSignal::kPosition;
    if (!measured && b.signal != r2s::sim::JointSignal::kPositionTarget) continue;
    const Eigen::MatrixXd& values = measured ? demo.state : demo.action;
    std::vector<float>& column = columns[b.feature];
    const int width = widths[b.feature];
    for (Eigen::Index f = 0; f < frames; ++f) {
      for (std::size_t k = 0; k < b.dofs.size(); ++k) {
        column[static_cast<std::size_t>(f * width + b.begin + static_cast<int>(k))] =
            static_cast<float>(b.RawFromSi(k, values(b.dofs[k], f)));
      }
    }
  }
  for (const auto& [feature, column] : columns) {
    NpyWriter npy(dir / (feature + ".npy"), "<f4", {frames, widths[feature]});
    npy.Write(column.data(), column.size() * sizeof(float));
  }
  std::vector<float> time(demo.time_s.begin(), demo.time_s.end());
  NpyWriter npy(dir / "timestamp.npy", "<f4", {frames});
  npy.Write(time.data(), time.size() * sizeof(float));
}

void RenderCameras(r2s::render::Renderer& renderer, const r2s::sim::Model& model, const TeleopDemo& demo,
                   const std::vector<std::string>& cameras, const fs::path& dir) {
  const auto frames = static_cast<std::int64_t>(demo.scenes.size());
  for (const std::string& name : cameras) {
    int camera = -1;
    for (std::size_t c = 0; c < model.cameras.size(); ++c) {
      if (model.cameras[c].name == name) camera = static_cast<int>(c);
    }
    if (camera < 0) throw std::invalid_argument("--cameras: the scene has no camera '" + name + "'");
    const r2s::sim::CameraModel& c = model.cameras[camera];
    NpyWriter npy(dir / (name + ".npy"), "|u1", {frames, c.height_px, c.width_px, 3});
    std::vector<r2s::render::ViewRequest> views;
    std::vector<r2s::render::Frame> rendered;
    for (std::int64_t first = 0; first < frames; first += 16) {
      const std::int64_t count = std::min<std::int64_t>(16, frames - first);
      views.assign(static_cast<std::size_t>(count), r2s::render::ViewRequest{});
      for (std::int64_t i = 0; i < count; ++i) {
        views[i].state = static_cast<int>(i);
        views[i].camera = camera;
        views[i].params.lights = model.lights;
      }
      renderer.Render(std::span<const r2s::render::SceneState>(demo.scenes.data() + first, static_cast<std::size_t>(count)),
                      views, &rendered);
      for (const r2s::render::Frame& f : rendered) npy.Write(f.rgb.data(), f.rgb.size());
    }
  }
}

nlohmann::ordered_json PoseJson(const Eigen::Isometry3d& pose) {
  const Eigen::Vector3d p = pose.translation();
  const Eigen::Quaterniond q(pose.linear());
  return {{"position_m", {p.x(), p.y(), p.z()}}, {"quaternion_xyzw", {q.x(), q.y(), q.z(), q.w()}}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SYNTHETIC pick-and-place demonstrations by a scripted teleoperator"};
  fs::path scene, out;
  int episodes = 4;
  std::uint64_t seed = 0;
  std::vector<double> workspace;
  double yaw_deg = 45;
  std::vector<std::string> cameras;
  app.add_option("--scene", scene, "scene folder (with a retarget section and an object_in_region success)")->required();
  app.add_option("--out", out, "output folder")->required();
  app.add_option("--episodes", episodes, "demonstrations to make");
  app.add_option("--seed", seed, "the draws of poses and styles");
  app.add_option("--workspace", workspace, "x_min,x_max,y_min,y_max (m): where the object is planted")
      ->delimiter(',')
      ->expected(4)
      ->required();
  app.add_option("--yaw-deg", yaw_deg, "the object is turned uniformly within +- this about z");
  app.add_option("--cameras", cameras, "scene cameras to render")->delimiter(',');
  std::vector<double> aim_offset;
  app.add_option("--aim-offset", aim_offset,
                 "x,y,z (m): where the person aims the object's centre in the end-effector frame (default: the "
                 "scene's grasp_offset)")
      ->delimiter(',')
      ->expected(3);
  double carry_tilt_deg = 0;
  app.add_option("--carry-tilt-deg", carry_tilt_deg,
                 "the hand tilts by this much once the object is off the table (scripted_teleop.h; SO-101: -30)");
  int encoder_ticks = 4096;
  double encoder_noise_ticks = 0.5;
  app.add_option("--encoder-ticks", encoder_ticks,
                 "ticks per turn of the joint encoders: recorded revolute joints are whole ticks (STS3215: 4096)");
  app.add_option("--encoder-noise-ticks", encoder_noise_ticks, "std of the encoders' reading noise, in ticks");
  CLI11_PARSE(app, argc, argv);

  try {
    const std::shared_ptr<const r2s::sim::Model> model = r2s::sim::LoadScene(scene);
    const auto spec = r2s::amplify::ParseRetargetSpec(scene / "scene.yaml", *model);
    if (!spec) throw std::invalid_argument(scene.string() + ": the scene has no retarget section");
    const r2s::sim::ObjectModel& object = model->objects[spec->object];
    const r2s::sim::SuccessCondition* region = nullptr;
    for (const auto& c : model->success) {
      if (c.kind == r2s::sim::SuccessCondition::Kind::kObjectInRegion && c.subject == object.name) region = &c;
    }
    if (!region) throw std::invalid_argument(scene.string() + ": no object_in_region success condition for " + object.name);
    r2s::tools::TeleopTask task;
    task.place_point_m = 0.5 * (region->region_min_m + region->region_max_m);
    // Released a little above its resting height on the region's floor: it drops the last few millimetres.
    task.place_point_m.z() = region->region_min_m.z() + object.initial_pose.translation().z() + 0.008;
    if (!region->frame.empty()) {
      // A region in a body's frame (a bin): the place point where the scene puts that body.
      const Eigen::Isometry3d* frame = nullptr;
      for (const auto& body : model->environment) {
        if (body.name == region->frame) frame = &body.initial_pose;
      }
      if (const int index = model->FindObject(region->frame); index >= 0) frame = &model->objects[index].initial_pose;
      if (!frame) throw std::invalid_argument(scene.string() + ": no body '" + region->frame + "'");
      task.place_point_m = *frame * task.place_point_m;
    }
    double open = 0, closed = 0;
    for (int d : spec->gripper_dofs) {
      open += model->robot->initial_q[d];
      closed += model->robot->dof_link(d).lower_limit;
    }
    task.gripper_open = open / static_cast<double>(spec->gripper_dofs.size());
    task.gripper_closed = closed / static_cast<double>(spec->gripper_dofs.size());
    task.carry_tilt_rad = carry_tilt_deg * std::numbers::pi / 180;
    if (!aim_offset.empty()) {
      Eigen::Isometry3d aim = Eigen::Isometry3d::Identity();
      aim.translation() = Eigen::Vector3d(aim_offset[0], aim_offset[1], aim_offset[2]);
      task.aim_offset = aim;
    }

    std::optional<r2s::render::Renderer> renderer;
    if (!cameras.empty()) {
      r2s::render::RendererOptions options;
      options.validation = false;
      r2s::render::ApplyRendering(model->rendering, {}, &options);
      renderer.emplace(options);
      renderer->LoadModel(model);
    }
    fs::create_directories(out);
    nlohmann::ordered_json report = nlohmann::ordered_json::array();
    r2s::randomize::Stream draws(seed, 0, 0, "make_teleop_demos/poses");
    for (int i = 0; i < episodes; ++i) {
      Eigen::Isometry3d planted = object.initial_pose;
      planted.translation().x() = workspace[0] + (workspace[1] - workspace[0]) * draws.Uniform01();
      planted.translation().y() = workspace[2] + (workspace[3] - workspace[2]) * draws.Uniform01();
      const double yaw_rad = (2 * draws.Uniform01() - 1) * yaw_deg * std::numbers::pi / 180;
      planted.linear() = Eigen::AngleAxisd(yaw_rad, Eigen::Vector3d::UnitZ()) * object.initial_pose.linear();
      task.object_pose = planted;
      const r2s::tools::TeleopStyle style = r2s::tools::DrawStyle(seed * 1000003 + static_cast<std::uint64_t>(i));
      TeleopDemo demo = r2s::tools::RunScriptedTeleop(model, *spec, task, style, !cameras.empty());
      RecordThroughEncoders(*model->robot, encoder_ticks, encoder_noise_ticks,
                            seed * 1000003 + static_cast<std::uint64_t>(i), &demo);
      const fs::path dir = out / ("episode_" + std::to_string(i));
      fs::create_directories(dir);
      WriteFeatures(*model, demo, dir);
      if (renderer) RenderCameras(*renderer, *model, demo, cameras, dir);
      const int lag = ActionToStateLag(demo, spec->arm_dofs);
      // What r2s generate will infer from the recorded state, against the planted truth.
      const r2s::amplify::InferredObjectPoses inferred = r2s::amplify::InferObjectPoses(*model, *spec, demo.state);
      const double inferred_error_m = (inferred.initial_pose.translation() - planted.translation()).norm();
      const Eigen::Matrix3d turn = inferred.initial_pose.linear() * planted.linear().transpose();
      const double yaw_error_deg =
          std::abs(std::remainder(std::atan2(turn(1, 0), turn(0, 0)), task.symmetry_yaw_rad)) * 180 / std::numbers::pi;
      const double frame_s = model->sim.time_step_s * model->sim.substeps_per_frame;
      report.push_back({{"episode", i},
                        {"frames", demo.state.cols()},
                        {"object", object.name},
                        {"object_pose", PoseJson(planted)},
                        {"success", demo.success},
                        {"failed", demo.failed},
                        {"action_to_state_lag_s", lag * frame_s},
                        {"inferred_position_error_m", inferred_error_m},
                        {"inferred_yaw_error_deg", yaw_error_deg},
                        {"worst_leader_ik_error_m", demo.worst_ik_error_m},
                        {"worst_leader_ik_phase", demo.worst_ik_phase},
                        {"regrasp", style.regrasp},
                        {"hesitation_s", style.hesitation_s},
                        {"speed_scale", style.speed_scale},
                        {"phases", demo.phases}});
      std::cerr << "make_teleop_demos: episode " << i << ": " << demo.state.cols() << " frames, "
                << (demo.success ? "placed" : "FAILED") << ", lag " << lag * frame_s * 1e3 << " ms"
                << ", inferred within " << inferred_error_m * 1e3 << " mm, " << yaw_error_deg << " deg"
                << (style.regrasp ? ", re-grasp" : "") << (demo.failed.empty() ? "" : ": " + demo.failed.front())
                << "\n";
    }
    std::ofstream(out / "demos.json") << report.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "make_teleop_demos: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

// System identification on a CAD-mesh arm: r2s::sysid::FitActuators (problem 2: actuators from commanded and
// measured positions only, simulation in the loop) with default options on SYNTHETIC episodes of the SO-101
// (../shared/data/robot_models/so101_therobotstudio: TheRobotStudio's URDF, Apache-2.0, 13 STL collision meshes of
// 10-27k vertices). What it costs to fit an arm whose every simulated episode carries CAD collision geometry, and
// whether the fit recovers values it was not given. Results: bench/README.md.
//
//   sysid_cad_arm_bench [--so101_dir=DIR] [--episodes=N] [--seconds=S] [--joints=all|a,b,...] [--threads=N]
//                       [--noise_rad=X] [--json=FILE] [--probe]
//
//   --episodes=N    SYNTHETIC episodes to simulate and fit (default 3)
//   --seconds=S     length of each, at 30 frames per second (default 10)
//   --joints=LIST   the joints to fit (ActuatorFitOptions::joints), by URDF name; default all six. Only these get
//                   "true" values that differ from the scene's nominal ones; the others run at their nominal
//                   values in the data and in the fit alike
//   --threads=N     CommonFitOptions::threads (default 1: the default options)
//   --noise_rad=X   white measurement noise on top of the encoder's quantisation (default 0.0005 rad)
//   --json=FILE     the figures and every fitted parameter beside its true value, as one JSON document
//   --probe         also time one episode with the fitted joints at corners of the fit's default bounds (kp x 10,
//                   armature 0, viscous friction x 10): what a global search's candidate can cost
//
// The scene: the bench copies the model folder (URDF, meshes, its LICENSE and the robot_models PROVENANCE.md) into a
// temporary scene folder (a scene is self-contained) with a scene.yaml: the arm in position control, alone (no table:
// these targets fold the arm below its base's plane, as when it is clamped at a table's edge; a table even 10 cm
// below the base was hit), the library's default physics (1/240 s steps, 8 per frame at
// 30 fps; 50 solver iterations), no gravity compensation. The nominal actuator values, the fit's prior, are the
// STS3215 servo's as TheRobotStudio's joints_properties.xml gives them (adapted from Open Duck Mini / BAM): kp
// 17.8 N m/rad, force range 3.35 N m, frictionloss 0.052 N m as Coulomb friction, damping 0.60 N m s/rad as
// viscous friction (the drive's back-EMF; kd 0: the position loop has no velocity term), armature 0.028 kg m^2;
// plus the STS3215's no-load speed at 7.4 V (0.222 s / 60 deg, 4.7 rad/s) as the velocity limit and a 5 ms
// latency (our guess). The "true" values of each fitted joint differ from those (TrueValues below).
//
// The data (SYNTHETIC, made here and never written to disk): per episode and joint, a target of three sines of
// incommensurate frequencies (0.1 to 1.4 Hz, phases per episode) about the middle of the joint's range, within
// 40 % of its half range; the measured positions are the arm simulated with the true values by sim::ReplayEpisode
// (as `r2s replay` runs it), then quantised to the STS3215 encoder's 4096 counts a turn, plus white noise.
//
// Timing: wall (std::chrono) and process CPU time (getrusage: every thread, user + system) of FitActuators alone,
// and of compiling the scene (sim::LoadScene: URDF, meshes, the convex hulls of the collision geometry) and of
// BuildCollisionGeometry alone. Rollouts are counted as sim::World constructions (FitActuators builds one World
// per episode it simulates; this executable is linked with --wrap on World's constructor, as sysid_actuator_bench
// is); the count includes the uncertainty Jacobians and the final predictions.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <numbers>
#include <random>
#include <sstream>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <Eigen/Core>

#include "episode/dataset_info.h"
#include "episode/episode.h"
#include "sim/model.h"
#include "sim/replay.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"
#include "sysid/actuator_fit.h"
#include "bench/world_count.h"

namespace {

namespace fs = std::filesystem;
using r2s::sim::ActuatorParams;
using r2s::sysid::ActuatorFitOptions;
using r2s::sysid::FitResult;
using r2s::sysid::ProblemInput;

constexpr double kFps = 30;
constexpr double kEncoderStep = 2 * std::numbers::pi / 4096;  // STS3215: 12-bit magnetic encoder
// The SO-101's joints in the URDF's (and the bindings') order.
const char* const kJoints[] = {"shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"};
constexpr int kNumJoints = 6;
const char* const kKinds[] = {"kp",       "kd",        "effort_limit",    "velocity_limit", "latency_s",
                              "coulomb_friction",      "viscous_friction", "armature",       "position_offset"};

// The scene's nominal values (the fit's prior): see the top of the file.
ActuatorParams NominalValues() {
  ActuatorParams a;
  a.kp = 17.8;
  a.kd = 0;
  a.effort_limit = 3.35;
  a.velocity_limit = 4.7;
  a.latency_s = 0.005;
  a.coulomb_friction = 0.052;
  a.viscous_friction = 0.60;
  a.armature = 0.028;
  return a;
}

// The "true" values of fitted joint j: a stiffer loop, less viscous and more Coulomb friction, a lighter rotor and
// a longer latency than the prior, a little different on each joint. kd stays 0 (a zero velocity reference makes
// kd and viscous friction one torque until the drive saturates), the limits and the encoder offset stay at the
// nominal values (smooth targets of this size need neither limit; the offset's truth is 0).
ActuatorParams TrueValues(int j) {
  ActuatorParams a = NominalValues();
  a.kp = 17.8 * (1.20 + 0.04 * j);
  a.latency_s = 0.010 + 0.001 * j;
  a.coulomb_friction = 0.052 * (1.5 + 0.1 * j);
  a.viscous_friction = 0.60 * (0.65 + 0.03 * j);
  a.armature = 0.028 * (0.70 + 0.04 * j);
  return a;
}

double Field(const ActuatorParams& a, const std::string& kind) {
  if (kind == "kp") return a.kp;
  if (kind == "kd") return a.kd;
  if (kind == "effort_limit") return a.effort_limit;
  if (kind == "velocity_limit") return a.velocity_limit;
  if (kind == "latency_s") return a.latency_s;
  if (kind == "coulomb_friction") return a.coulomb_friction;
  if (kind == "viscous_friction") return a.viscous_friction;
  if (kind == "armature") return a.armature;
  return 0;  // position_offset: 0 in the data
}

struct Flags {
  std::string so101_dir = R2S_SOURCE_DIR "/../shared/data/robot_models/so101_therobotstudio";
  int episodes = 3;
  double seconds = 10;
  std::vector<std::string> joints;  // empty: all
  int threads = 0;                  // 0: the default options' value
  double noise_rad = 0.0005;
  bool probe = false;
  std::string json;
};

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      const std::size_t len = std::strlen(name);
      return arg.compare(0, len, name) == 0 ? argv[i] + len : nullptr;
    };
    if (const char* v = value("--so101_dir=")) {
      flags.so101_dir = v;
    } else if (const char* v = value("--episodes=")) {
      flags.episodes = std::max(1, std::atoi(v));
    } else if (const char* v = value("--seconds=")) {
      flags.seconds = std::atof(v);
    } else if (const char* v = value("--joints=")) {
      flags.joints.clear();
      std::stringstream list(v);
      for (std::string item; std::getline(list, item, ',');) {
        if (item == "all") continue;
        if (std::find_if(std::begin(kJoints), std::end(kJoints), [&](const char* j) { return item == j; }) ==
            std::end(kJoints)) {
          throw std::invalid_argument("sysid_cad_arm_bench: --joints: no joint '" + item + "' in the SO-101");
        }
        flags.joints.push_back(item);
      }
    } else if (const char* v = value("--threads=")) {
      flags.threads = std::max(1, std::atoi(v));
    } else if (const char* v = value("--noise_rad=")) {
      flags.noise_rad = std::atof(v);
    } else if (arg == "--probe") {
      flags.probe = true;
    } else if (const char* v = value("--json=")) {
      flags.json = v;
    } else {
      throw std::invalid_argument("sysid_cad_arm_bench: unknown argument '" + arg + "' (see the top of the source)");
    }
  }
  if (!(flags.seconds * kFps >= 20)) throw std::invalid_argument("sysid_cad_arm_bench: --seconds must be >= 2/3");
  return flags;
}

// CPU time of the whole process (every thread, user + system).
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

struct Timer {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = CpuSeconds();
  double WallS() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count(); }
  double CpuS() const { return CpuSeconds() - cpu; }
};

std::string YamlNumber(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", x);
  return buffer;
}

// The scene folder, removed at exit.
struct TemporaryScene {
  fs::path dir;
  explicit TemporaryScene(const fs::path& so101) {
    dir = fs::temp_directory_path() / ("r2s_sysid_cad_arm_bench_" + std::to_string(::getpid()));
    fs::create_directories(dir / "robot");
    fs::copy_file(so101 / "so101_new_calib.urdf", dir / "robot/so101_new_calib.urdf");
    fs::copy(so101 / "assets", dir / "robot/assets", fs::copy_options::recursive);
    fs::copy_file(so101 / "LICENSE.Apache-2.0", dir / "robot/LICENSE.Apache-2.0");
    if (fs::exists(so101.parent_path() / "PROVENANCE.md")) {
      fs::copy_file(so101.parent_path() / "PROVENANCE.md", dir / "robot/PROVENANCE.md");
    }
    const ActuatorParams a = NominalValues();
    std::string joints;
    for (const char* j : kJoints) joints += std::string(joints.empty() ? "" : ", ") + j;
    std::ofstream(dir / "scene.yaml")
        << "# SYNTHETIC benchmark scene (bench/sysid_cad_arm_bench.cc): TheRobotStudio's SO-101 (Apache-2.0, see\n"
           "# robot/PROVENANCE.md) with STS3215-like nominal actuators.\n"
           "name: so101_sysid_cad_arm_bench_SYNTHETIC\n"
           "robot:\n"
           "  urdf: robot/so101_new_calib.urdf\n"
           "  control_mode: position\n"
           "  actuators:\n"
           "    default: {kp: "
        << YamlNumber(a.kp) << ", kd: " << YamlNumber(a.kd) << ", effort_limit: " << YamlNumber(a.effort_limit)
        << ", velocity_limit: " << YamlNumber(a.velocity_limit) << ", latency_s: " << YamlNumber(a.latency_s)
        << ", coulomb_friction: " << YamlNumber(a.coulomb_friction)
        << ", viscous_friction: " << YamlNumber(a.viscous_friction) << ", armature: " << YamlNumber(a.armature)
        << "}\n"
           "  bindings:\n"
           "    - {feature: \"action[0:6]\", signal: position_target, joints: ["
        << joints
        << "]}\n"
           "    - {feature: \"observation.state[0:6]\", signal: position, joints: ["
        << joints
        << "]}\n";
  }
  ~TemporaryScene() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
};

r2s::episode::FeatureSpec Spec(int width, const char* unit) {
  r2s::episode::FeatureSpec spec;
  spec.dtype = r2s::episode::DType::kFloat64;
  spec.shape = {width};
  spec.unit = unit;
  return spec;
}

r2s::episode::DatasetInfo SyntheticInfo() {
  r2s::episode::DatasetInfo info;
  info.layout = r2s::episode::StorageLayout::kLeRobot;
  info.fps = kFps;
  info.robot_type = "so101_follower (SYNTHETIC)";
  info.tasks = {"SYNTHETIC multi-sine excitation"};
  info.features["timestamp"] = Spec(1, "s");
  info.features["action"] = Spec(kNumJoints, "rad");
  info.features["observation.state"] = Spec(kNumJoints, "rad");
  return info;
}

// Episode e's commands: per joint three sines about the middle of its range, within 40 % of its half range.
r2s::episode::Episode Commands(const r2s::sim::Model& model, int e, std::int64_t frames) {
  const r2s::sim::RobotModel& robot = *model.robot;
  const int n = robot.num_dofs();
  std::vector<double> time(static_cast<std::size_t>(frames)), action(static_cast<std::size_t>(frames * n));
  for (std::int64_t i = 0; i < frames; ++i) time[static_cast<std::size_t>(i)] = static_cast<double>(i) / kFps;
  for (int d = 0; d < n; ++d) {
    const r2s::sim::Link& link = robot.dof_link(d);
    const double middle = 0.5 * (link.lower_limit + link.upper_limit);
    const double half = 0.5 * (link.upper_limit - link.lower_limit);
    const double f[] = {0.11 + 0.023 * d, 0.37 + 0.041 * d, 1.13 + 0.053 * d};  // Hz
    const double w[] = {0.5, 0.3, 0.2};
    for (std::int64_t i = 0; i < frames; ++i) {
      const double t = time[static_cast<std::size_t>(i)];
      double s = 0;
      for (int k = 0; k < 3; ++k) s += w[k] * std::sin(2 * std::numbers::pi * f[k] * t + 1.7 * e + 0.9 * k + 0.5 * d);
      action[static_cast<std::size_t>(i * n + d)] = middle + 0.4 * half * s;
    }
  }
  r2s::episode::Episode ep;
  ep.metadata.index = e;
  ep.metadata.length = frames;
  ep.metadata.task = "SYNTHETIC multi-sine excitation";
  ep.columns["timestamp"].data = r2s::episode::Array::Of<double>({frames, 1}, std::span<const double>(time));
  ep.columns["action"].data = r2s::episode::Array::Of<double>({frames, n}, std::span<const double>(action));
  std::vector<double> state(action);  // the start (the first target, at rest); the rest is simulated
  ep.columns["observation.state"].data = r2s::episode::Array::Of<double>({frames, n}, std::span<const double>(state));
  return ep;
}

// The simulated positions (frames x dofs, row-major) of episode `source` in a World of `model`.
std::vector<double> Simulate(const std::shared_ptr<const r2s::sim::Model>& model,
                             const r2s::episode::DatasetInfo& info, const r2s::episode::Episode& source) {
  const r2s::sim::ReplayPlan plan = r2s::sim::ReplayPlan::Make(model, info, "SYNTHETIC");
  r2s::sim::World world(model);
  const r2s::sim::EpisodeReplay replay = r2s::sim::ReplayEpisode(plan, source, "SYNTHETIC", world);
  const auto q = replay.episode.At("observation.state").data.values<double>();
  return {q.begin(), q.end()};
}

const r2s::sysid::FitParameter* Find(const FitResult& r, const std::string& name) {
  for (const auto& p : r.parameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string Num(double x) {
  if (!std::isfinite(x)) return "null";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", x);
  return buffer;
}

std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += (c == '\n' ? ' ' : c);
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  const TemporaryScene scene(flags.so101_dir);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());

  // Compiling the scene: URDF, meshes and the collision geometry (convex hulls), which every World shares.
  const Timer compile_timer;
  std::shared_ptr<const r2s::sim::Model> model = r2s::sim::LoadScene(scene.dir);
  const double compile_wall_s = compile_timer.WallS(), compile_cpu_s = compile_timer.CpuS();
  const Timer geometry_timer;
  if (r2s::sim::BuildCollisionGeometry(*model) == nullptr) throw std::runtime_error("no collision geometry");
  const double geometry_wall_s = geometry_timer.WallS(), geometry_cpu_s = geometry_timer.CpuS();
  const r2s::sim::RobotModel& robot = *model->robot;
  const int n = robot.num_dofs();
  if (n != kNumJoints) throw std::runtime_error("sysid_cad_arm_bench: expected the SO-101's 6 joints");
  std::printf("SO-101 (%s), %d dofs, %zu links; scene compiled in %.3f s wall, %.3f s CPU (collision geometry "
              "alone: %.3f s wall, %.3f s CPU)\n",
              flags.so101_dir.c_str(), n, robot.links.size(), compile_wall_s, compile_cpu_s, geometry_wall_s,
              geometry_cpu_s);

  std::vector<std::string> fitted = flags.joints;
  if (fitted.empty()) fitted.assign(std::begin(kJoints), std::end(kJoints));
  std::vector<ActuatorParams> truth = robot.actuators;
  for (const std::string& j : fitted) {
    const int d = robot.FindDof(j);
    if (d < 0) throw std::runtime_error("sysid_cad_arm_bench: no movable joint " + j);
    truth[static_cast<std::size_t>(d)] = TrueValues(d);
  }

  // The SYNTHETIC episodes: simulated with the true values, then quantised and noised as an encoder would.
  const r2s::episode::DatasetInfo info = SyntheticInfo();
  auto truth_model = std::make_shared<r2s::sim::Model>(*model);
  truth_model->robot->actuators = truth;
  ProblemInput input;
  input.model = model;
  input.dataset_file = "SYNTHETIC SO-101 episodes (sysid_cad_arm_bench, made in memory)";
  input.scene_file = model->scene_file.string();
  input.plan = r2s::sim::ReplayPlan::Make(model, info, input.dataset_file);
  const auto frames = static_cast<std::int64_t>(std::llround(flags.seconds * kFps));
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0.0, flags.noise_rad);
  double max_speed = 0, max_tracking = 0;
  const Timer data_timer;
  for (int e = 0; e < flags.episodes; ++e) {
    r2s::episode::Episode ep = Commands(*model, e, frames);
    const std::vector<double> q = Simulate(truth_model, info, ep);
    const auto command = ep.At("action").data.values<double>();
    for (std::int64_t i = 1; i < frames; ++i) {
      for (int d = 0; d < n; ++d) {
        const auto k = static_cast<std::size_t>(i * n + d);
        max_speed = std::max(max_speed, std::abs(q[k] - q[k - static_cast<std::size_t>(n)]) * kFps);
        max_tracking = std::max(max_tracking, std::abs(q[k] - command[k]));
      }
    }
    auto measured = ep.columns.at("observation.state").data.mutable_values<double>();
    for (std::int64_t k = 0; k < frames * n; ++k) {
      const double x = q[static_cast<std::size_t>(k)] + (k >= n && flags.noise_rad > 0 ? noise(rng) : 0.0);
      measured[static_cast<std::size_t>(k)] = std::round(x / kEncoderStep) * kEncoderStep;
    }
    input.episodes.push_back(std::move(ep));
  }
  const double data_wall_s = data_timer.WallS();
  std::printf("%d SYNTHETIC episodes of %.1f s (%lld frames at %g fps, %.0f physics steps of %.6f s each), made in "
              "%.2f s; fastest joint %.2f rad/s, largest |position - target| %.3f rad\n",
              flags.episodes, flags.seconds, static_cast<long long>(frames), kFps,
              std::round(flags.seconds / model->sim.time_step_s), model->sim.time_step_s, data_wall_s, max_speed,
              max_tracking);

  // One episode, as the fit simulates it: a World of the model, the whole episode at the nominal values.
  double one_episode_cpu_s = 0;
  {
    const Timer t;
    Simulate(model, info, input.episodes[0]);
    one_episode_cpu_s = t.CpuS();
  }
  if (flags.probe) {
    struct Corner {
      const char* what;
      double kp, armature, viscous;  // factors on the nominal value (armature: 0 or 1)
    };
    const Corner corners[] = {{"nominal", 1, 1, 1},
                              {"kp x 10", 10, 1, 1},
                              {"armature 0", 1, 0, 1},
                              {"kp x 10, armature 0", 10, 0, 1},
                              {"viscous x 10, armature 0", 1, 0, 10}};
    for (const Corner& c : corners) {
      auto probe = std::make_shared<r2s::sim::Model>(*model);
      for (const std::string& j : fitted) {
        ActuatorParams& a = probe->robot->actuators[static_cast<std::size_t>(robot.FindDof(j))];
        a.kp *= c.kp;
        a.armature *= c.armature;
        a.viscous_friction *= c.viscous;
      }
      const Timer t;
      const std::vector<double> q = Simulate(probe, info, input.episodes[0]);
      double largest = 0;
      for (double x : q) largest = std::max(largest, std::isfinite(x) ? std::abs(x) : INFINITY);
      std::printf("probe, fitted joints at %-26s one episode %8.1f ms CPU, largest |q| %.3g rad\n", c.what,
                  1e3 * t.CpuS(), largest);
    }
  }

  ActuatorFitOptions options;
  if (!flags.joints.empty()) options.joints = flags.joints;
  if (flags.threads > 0) options.common.threads = flags.threads;
  const auto fit_start = std::chrono::steady_clock::now();
  options.progress = [&](double fraction, const std::string& what) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
    std::fprintf(stderr, "  %7.1f s %3.0f%% %s\n", s, 100 * fraction, what.c_str());
  };
  std::string joint_list;
  for (const auto& j : fitted) joint_list += (joint_list.empty() ? "" : ",") + j;
  std::printf("FitActuators, default options (threads %d), joints %s ...\n", options.common.threads,
              joint_list.c_str());
  std::fflush(stdout);
  const long long built = r2s::bench::WorldsBuilt();
  const Timer fit_timer;
  const FitResult r = r2s::sysid::FitActuators(input, options);
  const double fit_wall_s = fit_timer.WallS(), fit_cpu_s = fit_timer.CpuS();
  const long long rollouts = r2s::bench::WorldsBuilt() - built;

  std::printf("\nfit: %.1f s wall, %.1f s CPU; %lld simulated episodes (rollouts), %.1f ms CPU each (one whole "
              "episode alone: %.1f ms CPU); %d starts, %d joint passes%s, %d LM iterations\n",
              fit_wall_s, fit_cpu_s, rollouts, 1e3 * fit_cpu_s / static_cast<double>(std::max(1LL, rollouts)),
              1e3 * one_episode_cpu_s, r.starts, r.passes, r.passes_converged ? " (settled)" : " (NOT settled)",
              r.iterations);
  for (std::size_t c = 0; c < r.train.size(); ++c) {
    std::printf("  %-28s train RMS %.5f (nominal %.5f), held-out RMS %.5f (nominal %.5f) %s\n",
                r.train[c].channel.c_str(), r.train[c].rms, r.train[c].baseline_rms, r.held_out[c].rms,
                r.held_out[c].baseline_rms, r.train[c].unit.c_str());
  }
  std::printf("\n%-14s %-17s %12s %12s %12s %9s  %s\n", "joint", "parameter", "nominal", "true", "recovered",
              "error", "identified");
  for (const std::string& j : fitted) {
    const int d = robot.FindDof(j);
    for (const char* kind : kKinds) {
      const auto* p = Find(r, "robot." + j + "." + kind);
      if (p == nullptr) continue;
      const double t = Field(truth[static_cast<std::size_t>(d)], kind);
      const double nominal = Field(robot.actuators[static_cast<std::size_t>(d)], kind);
      char error[32];
      if (t != 0) {
        std::snprintf(error, sizeof error, "%+.1f %%", 100 * (p->estimate - t) / std::abs(t));
      } else {
        std::snprintf(error, sizeof error, "%+.2g", p->estimate - t);
      }
      std::printf("%-14s %-17s %12.5g %12.5g %12.5g %9s  %s\n", j.c_str(), kind, nominal, t, p->estimate, error,
                  p->identified ? "yes" : ("no: " + p->why_not_identified).c_str());
    }
  }
  for (const auto& w : r.warnings) std::printf("warning: %s\n", w.c_str());

  if (!flags.json.empty()) {
    std::ostringstream j;
    j << "{\"bench\": \"sysid_cad_arm_bench\", \"data\": \"SYNTHETIC\", \"hardware_threads\": " << cores
      << ", \"threads\": " << options.common.threads << ", \"episodes\": " << flags.episodes
      << ", \"seconds\": " << Num(flags.seconds) << ", \"frames_per_episode\": " << frames
      << ", \"time_step_s\": " << Num(model->sim.time_step_s) << ", \"noise_rad\": " << Num(flags.noise_rad)
      << ", \"max_speed_radps\": " << Num(max_speed) << ", \"max_tracking_error_rad\": " << Num(max_tracking)
      << ",\n \"compile_wall_s\": " << Num(compile_wall_s) << ", \"compile_cpu_s\": " << Num(compile_cpu_s)
      << ", \"collision_geometry_wall_s\": " << Num(geometry_wall_s)
      << ", \"collision_geometry_cpu_s\": " << Num(geometry_cpu_s)
      << ", \"one_episode_cpu_s\": " << Num(one_episode_cpu_s) << ",\n \"fit_wall_s\": " << Num(fit_wall_s)
      << ", \"fit_cpu_s\": " << Num(fit_cpu_s) << ", \"rollouts\": " << rollouts
      << ", \"cpu_ms_per_rollout\": " << Num(1e3 * fit_cpu_s / static_cast<double>(std::max(1LL, rollouts)))
      << ", \"starts\": " << r.starts << ", \"passes\": " << r.passes
      << ", \"passes_converged\": " << (r.passes_converged ? "true" : "false") << ", \"iterations\": " << r.iterations
      << ",\n \"channels\": [";
    for (std::size_t c = 0; c < r.train.size(); ++c) {
      j << (c ? ", " : "") << "{\"channel\": " << Quoted(r.train[c].channel) << ", \"train_rms\": "
        << Num(r.train[c].rms) << ", \"baseline_train_rms\": " << Num(r.train[c].baseline_rms)
        << ", \"held_out_rms\": " << Num(r.held_out[c].rms)
        << ", \"baseline_held_out_rms\": " << Num(r.held_out[c].baseline_rms) << "}";
    }
    j << "],\n \"parameters\": [";
    bool first = true;
    for (const std::string& name : fitted) {
      const int d = robot.FindDof(name);
      for (const char* kind : kKinds) {
        const auto* p = Find(r, "robot." + name + "." + kind);
        if (p == nullptr) continue;
        j << (first ? "\n  " : ",\n  ") << "{\"name\": " << Quoted(p->name)
          << ", \"nominal\": " << Num(Field(robot.actuators[static_cast<std::size_t>(d)], kind))
          << ", \"true\": " << Num(Field(truth[static_cast<std::size_t>(d)], kind))
          << ", \"estimate\": " << Num(p->estimate) << ", \"identified\": " << (p->identified ? "true" : "false")
          << "}";
        first = false;
      }
    }
    j << "],\n \"warnings\": [";
    for (std::size_t w = 0; w < r.warnings.size(); ++w) j << (w ? ", " : "") << Quoted(r.warnings[w]);
    j << "]}\n";
    std::ofstream(flags.json) << j.str();
  }
  return 0;
}

// Fit time of problem 2 (actuators from commanded and measured positions, simulation in the loop) on the real BAM
// XL330 pendulum logs: r2s::sysid::FitActuators with default options on scenes/xl330_pendulum and its three kp400
// episodes, at 1 thread and at every hardware thread, beside the cost of one rollout (the three episodes simulated
// once, start to end, at the scene's nominal values). bench/scipy_pybullet_actuator_fit.py is the SciPy + PyBullet
// peer and bench/run_sysid_actuator.sh runs both; see bench/README.md.
//
// Plain timing (std::chrono, and the process's CPU time from getrusage for shared machines): a fit takes tens of
// seconds, so each is one run, repeated --repeats times; the median is the figure. Rollouts are counted as sim::World constructions: FitActuators builds one World per episode it
// simulates, and this executable is linked with --wrap on World's constructor (bench/CMakeLists.txt) so that the
// count costs one atomic increment. The count includes the final predictions (two full runs per episode).
//
//   sysid_actuator_bench [--source_dir=DIR] [--repeats=N] [--rollout_repeats=N] [--threads=1,2]
//                        [--eight_parameter_threads=1] [--json=FILE] [--trajectory_csv=FILE]
//
//   --repeats=N                  fits per configuration (default 1; fits are deterministic, only the time varies)
//   --rollout_repeats=N          timed nominal rollouts (default 20)
//   --threads=LIST               thread counts to fit with default options (default: 1 and
//                                std::thread::hardware_concurrency())
//   --eight_parameter_threads=LIST  also fit, at these thread counts, with velocity_limit left out of
//                                ActuatorFitOptions::parameters: the eight parameters the SciPy peer fits (the
//                                defaults fit velocity_limit as well)
//   --json=FILE                  the figures, bounds and estimates as one JSON document (the peer reads the bounds)
//   --trajectory_csv=FILE        per frame: measured, commanded, and simulated positions at the nominal values, at
//                                the first fit's estimates and at ProbeValues(), for the equivalence check

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include <Eigen/Core>

#include "episode/dataset_reader.h"
#include "sim/model.h"
#include "sim/replay.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"
#include "sysid/actuator_fit.h"
#include "bench/world_count.h"

namespace {

namespace fs = std::filesystem;
using r2s::sim::JointSignal;
using r2s::sysid::ActuatorFitOptions;
using r2s::sysid::FitResult;
using r2s::sysid::ProblemInput;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// The eight parameters both sides fit, in the table's order (velocity_limit, which only real2sim fits, follows).
const char* const kReported[] = {"kp",       "kd",        "effort_limit",   "coulomb_friction", "viscous_friction",
                                 "armature", "latency_s", "position_offset"};

// Values that exercise every branch of the actuator model for the equivalence check, which the nominal values (a
// latency of whole steps, no kd, no damping, no offset) leave out: a fractional latency, kd, passive damping, an
// effort limit and a velocity limit that bite (on half and a tenth of the steps), an encoder offset. Written to the
// JSON for the peer.
r2s::sim::ActuatorParams ProbeValues() {
  r2s::sim::ActuatorParams a;
  a.kp = 0.8;
  a.kd = 0.01;
  a.effort_limit = 0.25;
  a.velocity_limit = 3.0;
  a.latency_s = 0.0057;
  a.coulomb_friction = 0.02;
  a.viscous_friction = 0.005;
  a.damping = 0.002;
  a.armature = 0.002;
  return a;
}
constexpr double kProbeOffset = 0.02;

struct Flags {
  std::string source_dir = R2S_SOURCE_DIR;
  int repeats = 1;
  int rollout_repeats = 20;
  std::vector<int> threads;
  std::vector<int> eight_parameter_threads;
  std::string json;
  std::string trajectory_csv;
};

ProblemInput LoadInput(const fs::path& scene, const fs::path& dataset) {
  ProblemInput input;
  input.model = r2s::sim::LoadScene(scene);
  const auto reader = r2s::episode::DatasetReader::Open(dataset);
  input.plan = r2s::sim::ReplayPlan::Make(input.model, reader.info(), dataset.string());
  for (std::int64_t i = 0; i < reader.num_episodes(); ++i) input.episodes.push_back(reader.ReadEpisode(i));
  input.dataset_file = dataset.string();
  input.scene_file = input.model->scene_file.string();
  return input;
}

// One episode's bound signals (dofs x frames, NaN where unbound) and frame timing, as FitActuators prepares them.
struct Episode {
  std::int64_t frames = 0;
  std::vector<std::int64_t> step_of;
  Eigen::MatrixXd q_meas, qd_meas, q_cmd;
};

Episode Prepare(const ProblemInput& input, const r2s::episode::Episode& source) {
  const int n = input.model->robot->num_dofs();
  Episode ep;
  ep.frames = source.metadata.length;
  const auto t = source.At("timestamp").data.values<double>();
  for (std::int64_t i = 0; i < ep.frames; ++i) {
    ep.step_of.push_back(std::llround((t[i] - t[0]) / input.model->sim.time_step_s));
  }
  auto track = [&](JointSignal signal) {
    Eigen::MatrixXd values = Eigen::MatrixXd::Constant(n, ep.frames, kNaN);
    for (const auto& b : input.plan.joint_bindings()) {
      if (b.signal != signal) continue;
      const auto& data = source.At(b.feature).data;
      const auto v = data.values<double>();
      const std::int64_t width = data.shape.size() > 1 ? data.shape[1] : 1;
      for (std::int64_t i = 0; i < ep.frames; ++i) {
        for (std::size_t k = 0; k < b.dofs.size(); ++k) {
          // As FitActuators reads it: SI, less the scene's encoder offset (folded into position bindings).
          const bool shifted = signal == JointSignal::kPosition || signal == JointSignal::kPositionTarget;
          const Eigen::VectorXd& encoder = input.model->robot->position_offset;
          values(b.dofs[k], i) =
              b.SiFromRaw(k, v[static_cast<std::size_t>(i * width + b.begin + static_cast<std::int64_t>(k))]) -
              (shifted && encoder.size() == n ? encoder[b.dofs[k]] : 0.0);
        }
      }
    }
    return values;
  };
  ep.q_meas = track(JointSignal::kPosition);
  ep.qd_meas = track(JointSignal::kVelocity);
  ep.q_cmd = track(JointSignal::kPositionTarget);
  return ep;
}

// An episode run as FitActuators runs it (its Simulator, sysid/actuator_fit.cc): a fresh World of the scene without
// free objects and with these actuators, started at the measured state (+ the encoder offset), frame i's command held
// until frame i + 1. Returns the simulated positions (dofs x frames) in measured coordinates.
Eigen::MatrixXd Rollout(const r2s::sim::Model& scene, const std::vector<r2s::sim::ActuatorParams>& actuators,
                        const Eigen::VectorXd& offset, const Episode& ep) {
  auto model = std::make_shared<r2s::sim::Model>(scene);
  model->objects.clear();
  model->robot->actuators = actuators;
  const r2s::sim::RobotModel& robot = *model->robot;
  const int n = robot.num_dofs();
  r2s::sim::World world(model);
  const Eigen::VectorXd hold = robot.initial_q.size() ? robot.initial_q : Eigen::VectorXd::Zero(n);
  Eigen::VectorXd q0 = hold, qd0 = Eigen::VectorXd::Zero(n);
  for (int d = 0; d < n; ++d) {
    if (!std::isnan(ep.q_meas(d, 0))) q0[d] = ep.q_meas(d, 0) + offset[d];
    if (!std::isnan(ep.qd_meas(d, 0))) qd0[d] = ep.qd_meas(d, 0);
  }
  world.SetJointState(q0, qd0);
  Eigen::MatrixXd q(n, ep.frames);
  q.col(0) = world.joint_positions() - offset;
  r2s::sim::RobotCommand command;
  command.position.resize(n);
  for (std::int64_t i = 0; i + 1 < ep.frames; ++i) {
    for (int d = 0; d < n; ++d) {
      command.position[d] = std::isnan(ep.q_cmd(d, i)) ? hold[d] : ep.q_cmd(d, i) + offset[d];
    }
    world.SetCommand(command);
    world.Step(static_cast<int>(ep.step_of[i + 1] - ep.step_of[i]));
    q.col(i + 1) = world.joint_positions() - offset;
  }
  return q;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// CPU time of the whole process (every thread, user + system), for machines shared with other jobs.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

std::string Num(double x) {
  if (!std::isfinite(x)) return "null";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", x);
  return buffer;
}

const r2s::sysid::FitParameter* FindParameter(const FitResult& r, const std::string& kind) {
  for (const auto& p : r.parameters) {
    if (p.name.size() > kind.size() && p.name.compare(p.name.size() - kind.size(), kind.size(), kind) == 0 &&
        p.name[p.name.size() - kind.size() - 1] == '.') {
      return &p;
    }
  }
  return nullptr;
}

struct FitRun {
  int threads = 1;
  bool velocity_limit = true;  // fitted
  std::vector<double> wall_s;
  std::vector<double> cpu_s;  // process CPU time (user + system, all threads) of each fit
  long long episode_rollouts = 0;
  FitResult result;
};

std::vector<int> ThreadList(const char* text) {
  std::vector<int> threads;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) threads.push_back(std::max(1, std::stoi(item)));
  return threads;
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      const std::size_t len = std::strlen(name);
      return arg.compare(0, len, name) == 0 ? argv[i] + len : nullptr;
    };
    if (const char* v = value("--source_dir=")) {
      flags.source_dir = v;
    } else if (const char* v = value("--repeats=")) {
      flags.repeats = std::max(1, std::atoi(v));
    } else if (const char* v = value("--rollout_repeats=")) {
      flags.rollout_repeats = std::max(1, std::atoi(v));
    } else if (const char* v = value("--threads=")) {
      flags.threads = ThreadList(v);
    } else if (const char* v = value("--eight_parameter_threads=")) {
      flags.eight_parameter_threads = ThreadList(v);
    } else if (const char* v = value("--json=")) {
      flags.json = v;
    } else if (const char* v = value("--trajectory_csv=")) {
      flags.trajectory_csv = v;
    } else {
      throw std::invalid_argument("sysid_actuator_bench: unknown argument '" + arg + "' (see the top of the source)");
    }
  }
  if (flags.threads.empty()) {
    flags.threads.push_back(1);
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (cores > 1) flags.threads.push_back(cores);
  }
  return flags;
}

std::string ActuatorJson(const r2s::sim::ActuatorParams& a, double offset) {
  return "{\"kp\": " + Num(a.kp) + ", \"kd\": " + Num(a.kd) + ", \"effort_limit\": " + Num(a.effort_limit) +
         ", \"velocity_limit\": " + Num(a.velocity_limit) + ", \"latency_s\": " + Num(a.latency_s) +
         ", \"coulomb_friction\": " + Num(a.coulomb_friction) + ", \"viscous_friction\": " + Num(a.viscous_friction) +
         ", \"damping\": " + Num(a.damping) + ", \"armature\": " + Num(a.armature) +
         ", \"position_offset\": " + Num(offset) + "}";
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  const fs::path scene = fs::path(flags.source_dir) / "scenes/xl330_pendulum";
  const fs::path dataset = scene / "episodes/kp400";
  const ProblemInput input = LoadInput(scene, dataset);
  const r2s::sim::Model& model = *input.model;
  const int n = model.robot->num_dofs();
  std::vector<Episode> episodes;
  std::int64_t steps = 0, frames = 0;
  for (const auto& e : input.episodes) {
    episodes.push_back(Prepare(input, e));
    steps += episodes.back().step_of.back();
    frames += episodes.back().frames;
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::printf("scene %s, %zu episodes of %s (%lld frames, %lld physics steps of %g s), %u hardware threads\n",
              scene.string().c_str(), episodes.size(), dataset.string().c_str(), static_cast<long long>(frames),
              static_cast<long long>(steps), model.sim.time_step_s, cores);

  // One rollout: every episode once, start to end, at the nominal values.
  const Eigen::VectorXd zero = Eigen::VectorXd::Zero(n);
  std::vector<double> rollout_s;
  std::vector<Eigen::MatrixXd> nominal_q;
  for (int k = 0; k < flags.rollout_repeats; ++k) {
    const auto start = std::chrono::steady_clock::now();
    nominal_q.clear();
    for (const Episode& ep : episodes) nominal_q.push_back(Rollout(model, model.robot->actuators, zero, ep));
    rollout_s.push_back(Seconds(start));
  }
  const double rollout_median = Median(rollout_s);
  std::printf("one rollout (3 episodes, nominal values): %.4f s median of %d, %.0f steps/s\n", rollout_median,
              flags.rollout_repeats, static_cast<double>(steps) / rollout_median);

  std::vector<FitRun> runs;
  for (const bool velocity_limit : {true, false}) {
    for (const int threads : velocity_limit ? flags.threads : flags.eight_parameter_threads) {
      FitRun run;
      run.threads = threads;
      run.velocity_limit = velocity_limit;
      ActuatorFitOptions options;
      options.common.threads = threads;
      if (!velocity_limit) std::erase(options.parameters, std::string("velocity_limit"));
      for (int k = 0; k < flags.repeats; ++k) {
        const long long built = r2s::bench::WorldsBuilt();
        const double cpu = CpuSeconds();
        const auto start = std::chrono::steady_clock::now();
        run.result = r2s::sysid::FitActuators(input, options);
        run.wall_s.push_back(Seconds(start));
        run.cpu_s.push_back(CpuSeconds() - cpu);
        run.episode_rollouts = r2s::bench::WorldsBuilt() - built;
        std::fprintf(stderr, "fit, %d thread(s)%s: %.2f s wall, %.2f s CPU\n", threads,
                     velocity_limit ? "" : ", velocity_limit not fitted", run.wall_s.back(), run.cpu_s.back());
      }
      runs.push_back(std::move(run));
    }
  }

  // The table.
  std::printf("\n%-34s", "FitActuators, kp400 (3 episodes)");
  for (const FitRun& r : runs) {
    const std::string head = std::to_string(r.threads) + " thr" + (r.velocity_limit ? "" : ", 8 par");
    std::printf(" %16s", head.c_str());
  }
  std::printf("\n");
  auto row = [&](const char* label, auto value) {
    std::printf("%-34s", label);
    for (const FitRun& r : runs) std::printf(" %16s", value(r).c_str());
    std::printf("\n");
  };
  auto fixed = [](double x, int digits) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.*f", digits, x);
    return std::string(buffer);
  };
  auto general = [](double x) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.5g", x);
    return std::string(buffer);
  };
  row("wall s (median)", [&](const FitRun& r) { return fixed(Median(r.wall_s), 2); });
  row("CPU s (median)", [&](const FitRun& r) { return fixed(Median(r.cpu_s), 2); });
  row("episode rollouts", [&](const FitRun& r) {
    return r.episode_rollouts > 0 ? std::to_string(r.episode_rollouts) : std::string("n/a");
  });
  row("LM iterations", [&](const FitRun& r) { return std::to_string(r.result.iterations); });
  row("starts / joint passes", [&](const FitRun& r) {
    return std::to_string(r.result.starts) + " / " + std::to_string(r.result.passes);
  });
  row("train RMS rad", [&](const FitRun& r) { return fixed(r.result.train[0].rms, 5); });
  row("held-out RMS rad", [&](const FitRun& r) { return fixed(r.result.held_out[0].rms, 5); });
  std::vector<std::string> kinds(std::begin(kReported), std::end(kReported));
  kinds.push_back("velocity_limit");
  for (const std::string& kind : kinds) {
    row(kind.c_str(), [&](const FitRun& r) {
      const auto* p = FindParameter(r.result, kind);
      return p == nullptr ? std::string("-") : general(p->estimate) + (p->identified ? "" : " *");
    });
  }
  std::printf("(* not identified: held at its nominal value or where the fit left it; see FitParameter)\n");
  std::printf("nominal-values baseline: train RMS %.5f rad, held-out RMS %.5f rad\n",
              runs.empty() ? kNaN : runs[0].result.train[0].baseline_rms,
              runs.empty() ? kNaN : runs[0].result.held_out[0].baseline_rms);

  if (!flags.trajectory_csv.empty() && !runs.empty()) {
    // At the first fit's estimates (default options), for the peer to replay with the same values.
    std::vector<r2s::sim::ActuatorParams> fitted = model.robot->actuators;
    Eigen::VectorXd offset = zero;
    const FitResult& first = runs.front().result;
    const int d = 0;  // the pendulum's one joint
    auto estimate = [&](const char* kind, double fallback) {
      const auto* p = FindParameter(first, kind);
      return p ? p->estimate : fallback;
    };
    auto& a = fitted[d];
    a.kp = estimate("kp", a.kp);
    a.kd = estimate("kd", a.kd);
    a.effort_limit = estimate("effort_limit", a.effort_limit);
    a.velocity_limit = estimate("velocity_limit", a.velocity_limit);
    a.latency_s = estimate("latency_s", a.latency_s);
    a.coulomb_friction = estimate("coulomb_friction", a.coulomb_friction);
    a.viscous_friction = estimate("viscous_friction", a.viscous_friction);
    a.armature = estimate("armature", a.armature);
    offset[d] = estimate("position_offset", 0.0);
    std::vector<r2s::sim::ActuatorParams> probe = model.robot->actuators;
    probe[d] = ProbeValues();
    std::ofstream csv(flags.trajectory_csv);
    csv << "episode,frame,step,q_measured,q_command,q_nominal,q_fitted,q_probe\n";
    csv.precision(17);
    for (std::size_t e = 0; e < episodes.size(); ++e) {
      const Eigen::MatrixXd q_fit = Rollout(model, fitted, offset, episodes[e]);
      const Eigen::MatrixXd q_probe = Rollout(model, probe, Eigen::VectorXd::Constant(n, kProbeOffset), episodes[e]);
      for (std::int64_t i = 0; i < episodes[e].frames; ++i) {
        csv << e << ',' << i << ',' << episodes[e].step_of[i] << ',' << episodes[e].q_meas(d, i) << ','
            << episodes[e].q_cmd(d, i) << ',' << nominal_q[e](d, i) << ',' << q_fit(d, i) << ',' << q_probe(d, i)
            << '\n';
      }
    }
  }

  if (!flags.json.empty()) {
    std::ostringstream j;
    j << "{\"peer\": \"real2sim\", \"hardware_threads\": " << cores << ", \"episodes\": " << episodes.size()
      << ", \"frames\": " << frames << ", \"steps_per_rollout\": " << steps
      << ", \"time_step_s\": " << Num(model.sim.time_step_s) << ",\n \"rollout_s\": [";
    for (std::size_t k = 0; k < rollout_s.size(); ++k) j << (k ? ", " : "") << Num(rollout_s[k]);
    j << "], \"rollout_median_s\": " << Num(rollout_median)
      << ",\n \"nominal\": " << ActuatorJson(model.robot->actuators[0], 0)
      << ",\n \"probe\": " << ActuatorJson(ProbeValues(), kProbeOffset);
    if (!runs.empty()) {
      j << ",\n \"bounds\": {";
      bool first = true;
      for (const auto& p : runs[0].result.parameters) {
        const std::string kind = p.name.substr(p.name.rfind('.') + 1);
        j << (first ? "" : ", ") << '"' << kind << "\": [" << Num(p.lower) << ", " << Num(p.upper) << "]";
        first = false;
      }
      j << "}";
    }
    j << ",\n \"fits\": [";
    for (std::size_t k = 0; k < runs.size(); ++k) {
      const FitRun& r = runs[k];
      j << (k ? ",\n  " : "\n  ") << "{\"threads\": " << r.threads
        << ", \"velocity_limit_fitted\": " << (r.velocity_limit ? "true" : "false") << ", \"wall_s\": [";
      for (std::size_t m = 0; m < r.wall_s.size(); ++m) j << (m ? ", " : "") << Num(r.wall_s[m]);
      j << "], \"median_wall_s\": " << Num(Median(r.wall_s)) << ", \"cpu_s\": [";
      for (std::size_t m = 0; m < r.cpu_s.size(); ++m) j << (m ? ", " : "") << Num(r.cpu_s[m]);
      j << "], \"median_cpu_s\": " << Num(Median(r.cpu_s)) << ", \"starts\": " << r.result.starts
        << ", \"passes\": " << r.result.passes
        << ", \"episode_rollouts\": " << (r.episode_rollouts > 0 ? std::to_string(r.episode_rollouts) : "null")
        << ", \"iterations\": " << r.result.iterations << ", \"converged\": " << (r.result.converged ? "true" : "false")
        << ", \"train_rms\": " << Num(r.result.train[0].rms) << ", \"held_out_rms\": " << Num(r.result.held_out[0].rms)
        << ", \"baseline_train_rms\": " << Num(r.result.train[0].baseline_rms)
        << ", \"baseline_held_out_rms\": " << Num(r.result.held_out[0].baseline_rms) << ", \"estimates\": {";
      bool first = true;
      for (const auto& p : r.result.parameters) {
        const std::string kind = p.name.substr(p.name.rfind('.') + 1);
        j << (first ? "" : ", ") << '"' << kind << "\": " << Num(p.estimate);
        first = false;
      }
      j << "}, \"identified\": {";
      first = true;
      for (const auto& p : r.result.parameters) {
        const std::string kind = p.name.substr(p.name.rfind('.') + 1);
        j << (first ? "" : ", ") << '"' << kind << "\": " << (p.identified ? "true" : "false");
        first = false;
      }
      j << "}}";
    }
    j << "]}\n";
    std::ofstream(flags.json) << j.str();
  }
  return 0;
}

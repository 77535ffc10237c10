#include "cli/sysid_command.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <ostream>
#include <sstream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/progress.h"
#include "common/cpu_budget.h"
#include "episode/input_error.h"
#include "sim/params_overlay.h"
#include "sysid/identify.h"
#include "sysid/report.h"

namespace r2s::cli {
namespace {

sysid::Problem ParseProblem(const std::string& name) {
  if (auto problem = sysid::ProblemFromName(name)) return *problem;
  throw InputError("command line", "--problem", "'" + name + "' is not joint_dynamics, actuators or objects");
}

std::string Number(double x, int precision = 4) {
  if (std::isnan(x)) return "-";
  std::ostringstream s;
  s << std::setprecision(precision) << x;
  return s.str();
}

void PrintText(const sysid::SysidRun& run, const SysidOptions& options, std::ostream& out) {
  out << "scene      " << run.scene_file.string() << "\n"
      << "dataset    " << run.dataset.string() << " (" << run.episodes << " episodes)\n"
      << "params     " << options.out.string() << "\n";
  if (options.report) out << "report     " << options.report->string() << "\n";
  for (const auto& s : run.skipped) out << "not run    " << sysid::ProblemName(s.problem) << ": " << s.why << "\n";
  for (const auto& r : run.results) {
    out << "\n" << sysid::ProblemName(r.problem) << "  (" << std::fixed << std::setprecision(1) << r.wall_s
        << " s; " << r.train_samples << " fitting, " << r.held_out_samples << " held-out samples)\n"
        << std::defaultfloat;
    out << "  ceres: " << r.termination << "\n";
    if (r.starts > 0) {
      out << "  starts: " << r.starts << " per joint; final-cost spread";
      for (const auto& s : r.start_costs) out << " " << s.block << " " << Number(s.relative_spread(), 3);
      out << "; passes: " << r.passes << (r.passes_converged ? " (settled)" : " (not settled)") << "\n";
    }
    out << "  " << std::left << std::setw(44) << "parameter" << std::right << std::setw(13) << "estimate"
        << std::setw(12) << "std" << "  identified\n";
    for (const auto& p : r.parameters) {
      out << "  " << std::left << std::setw(44) << (p.name + (p.unit.empty() ? "" : " [" + p.unit + "]"))
          << std::right << std::setw(13) << Number(p.estimate) << std::setw(12) << Number(p.std_dev) << "  "
          << (p.identified ? "yes" : "no: " + p.why_not_identified) << "\n";
    }
    out << "  " << std::left << std::setw(32) << "held-out channel" << std::right << std::setw(12) << "RMS"
        << std::setw(10) << "R2" << std::setw(14) << "baseline RMS" << "\n";
    for (const auto& c : r.held_out) {
      out << "  " << std::left << std::setw(32) << (c.channel + (c.unit.empty() ? "" : " [" + c.unit + "]"))
          << std::right << std::setw(12) << Number(c.rms) << std::setw(10) << Number(c.r2, 3) << std::setw(14)
          << Number(c.baseline_rms) << "\n";
    }
    for (const auto& w : r.warnings) out << "  warning: " << w << "\n";
  }
}

}  // namespace

void RunSysid(const SysidOptions& options, std::ostream& out, std::ostream& log) {
  const auto bad = [](const std::string& flag, const std::string& value, const std::string& rule) {
    return InputError("command line", flag, rule + ", found " + value);
  };
  if (!(options.held_out > 0 && options.held_out < 1)) {
    throw bad("--held-out", Number(options.held_out), "must lie in (0, 1)");
  }
  if (options.max_episodes < 0) throw bad("--max-episodes", std::to_string(options.max_episodes), "must be >= 0");
  if (options.starts && *options.starts < 1) throw bad("--starts", std::to_string(*options.starts), "must be >= 1");
  if (options.passes && *options.passes < 1) throw bad("--passes", std::to_string(*options.passes), "must be >= 1");
  if (options.global_samples && *options.global_samples < 0) {
    throw bad("--global-samples", std::to_string(*options.global_samples), "must be >= 0");
  }
  if (options.max_iterations && *options.max_iterations < 1) {
    throw bad("--max-iterations", std::to_string(*options.max_iterations), "must be >= 1");
  }
  if (options.cutoff_hz && !(*options.cutoff_hz > 0 && std::isfinite(*options.cutoff_hz))) {
    throw bad("--cutoff-hz", Number(*options.cutoff_hz), "must be a finite frequency > 0");
  }
  if (options.fit_rate_hz && !(*options.fit_rate_hz > 0 && std::isfinite(*options.fit_rate_hz))) {
    throw bad("--fit-rate-hz", Number(*options.fit_rate_hz), "must be a finite rate > 0");
  }
  if (options.huber && !std::isfinite(*options.huber)) throw bad("--huber", Number(*options.huber), "must be finite");
  if (!options.friction.empty() && options.friction != "coulomb_viscous" && options.friction != "stribeck") {
    throw bad("--friction", "'" + options.friction + "'", "must be coulomb_viscous or stribeck");
  }
  for (const std::string& joint : options.joints) {
    if (joint.empty()) throw bad("--joints", "''", "must name joints");
  }

  sysid::SysidOptions o;
  o.common.held_out_fraction = options.held_out;
  o.common.threads = ThreadsOrAvailable(options.threads);
  o.common.seed = options.seed;
  o.baseline = options.baseline;
  for (const auto& p : options.problems) o.only.push_back(ParseProblem(p));
  o.max_episodes = options.max_episodes;
  o.actuators.joints = options.joints;
  if (options.starts) o.actuators.starts = *options.starts;
  if (options.passes) o.actuators.passes = *options.passes;
  if (options.global_samples) {
    o.actuators.global_samples = *options.global_samples;
    o.objects.global_samples = *options.global_samples;
  }
  if (options.max_iterations) {
    o.actuators.max_iterations = *options.max_iterations;
    o.objects.max_iterations = *options.max_iterations;
    o.joint_dynamics.max_iterations = *options.max_iterations;
  }
  if (options.cutoff_hz) o.joint_dynamics.smoothing.cutoff_hz = *options.cutoff_hz;
  if (options.fit_rate_hz) o.joint_dynamics.fit_rate_hz = *options.fit_rate_hz;
  if (options.huber) o.joint_dynamics.huber_threshold = *options.huber;
  if (!options.friction.empty()) o.joint_dynamics.stribeck = options.friction == "stribeck";
  FractionProgress progress(log, isatty(STDERR_FILENO) != 0 && &log == &std::cerr, "sysid");
  o.progress = [&](double fraction, const std::string& what) { progress.Update(fraction, what); };

  sysid::SysidRun run;
  try {
    run = sysid::Identify(options.scene, options.params, options.episodes, o);
  } catch (...) {
    progress.Finish();
    throw;
  }
  progress.Finish();
  for (const auto& r : run.results) {
    for (const auto& w : r.warnings) log << "sysid: warning: " << sysid::ProblemName(r.problem) << ": " << w << "\n";
  }
  log << std::flush;
  // The report first: if its plots fail, params.yaml is not written either.
  if (options.report) sysid::WriteReport(run, *options.report);
  sim::WriteParams(sysid::ToParamsFile(run), options.out);
  if (options.json) {
    out << sysid::ToJson(run).dump(2) << "\n";
  } else {
    PrintText(run, options, out);
  }
}

void RunSysid(const SysidOptions& options, std::ostream& out) { RunSysid(options, out, std::cerr); }

}  // namespace r2s::cli

#include "cli/sysid_command.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "episode/input_error.h"
#include "sim/params_overlay.h"
#include "sysid/identify.h"
#include "sysid/report.h"

namespace r2s::cli {
namespace {

sysid::Problem ParseProblem(const std::string& name) {
  for (auto p : {sysid::Problem::kJointDynamics, sysid::Problem::kActuators, sysid::Problem::kObjects}) {
    if (name == sysid::ProblemName(p)) return p;
  }
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

void RunSysid(const SysidOptions& options, std::ostream& out) {
  sysid::SysidOptions o;
  o.common.held_out_fraction = options.held_out;
  o.common.threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  o.common.seed = options.seed;
  o.baseline = options.baseline;
  for (const auto& p : options.problems) o.only.push_back(ParseProblem(p));
  if (!(options.held_out > 0 && options.held_out < 1)) {
    throw InputError("command line", "--held-out", "must lie in (0, 1), found " + Number(options.held_out));
  }

  const sysid::SysidRun run = sysid::Identify(options.scene, options.params, options.episodes, o);
  // The report first: if its plots fail, params.yaml is not written either.
  if (options.report) sysid::WriteReport(run, *options.report);
  sim::WriteParams(sysid::ToParamsFile(run), options.out);
  if (options.json) {
    out << sysid::ToJson(run).dump(2) << "\n";
  } else {
    PrintText(run, options, out);
  }
}

}  // namespace r2s::cli

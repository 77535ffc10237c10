#include "sysid/identify.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

#include "common/options_check.h"
#include "episode/dataset_reader.h"
#include "episode/input_error.h"
#include "sim/scene_compiler.h"
#include "sysid/actuator_fit.h"
#include "sysid/joint_dynamics.h"
#include "sysid/object_fit.h"

namespace r2s::sysid {
namespace {

bool Binds(const sim::ReplayPlan& plan, sim::JointSignal signal) {
  return std::any_of(plan.joint_bindings().begin(), plan.joint_bindings().end(),
                     [&](const sim::JointBinding& b) { return b.signal == signal; });
}

// Why `problem` cannot run on this plan, or "" when it can.
std::string Unsupported(Problem problem, const sim::ReplayPlan& plan) {
  const sim::Model& m = plan.model();
  switch (problem) {
    case Problem::kJointDynamics: {
      std::vector<std::string> missing;
      if (!Binds(plan, sim::JointSignal::kPosition)) missing.push_back("measured positions (signal: position)");
      if (!Binds(plan, sim::JointSignal::kEffort)) missing.push_back("measured torques (signal: effort)");
      if (missing.empty()) return "";
      std::string why = "needs ";
      for (std::size_t i = 0; i < missing.size(); ++i) why += (i ? " and " : "") + missing[i];
      return why + "; the dataset feeds no such binding";
    }
    case Problem::kActuators: {
      if (!m.robot || m.robot->control_mode != sim::ControlMode::kPosition) {
        return "needs a position-controlled robot (robot.control_mode: position)";
      }
      std::vector<std::string> missing;
      if (!Binds(plan, sim::JointSignal::kPositionTarget)) missing.push_back("commanded positions (position_target)");
      if (!Binds(plan, sim::JointSignal::kPosition)) missing.push_back("measured positions (position)");
      if (missing.empty()) return "";
      std::string why = "needs ";
      for (std::size_t i = 0; i < missing.size(); ++i) why += (i ? " and " : "") + missing[i];
      return why + "; the dataset feeds no such binding";
    }
    case Problem::kObjects: {
      for (const auto& [object, binding] : plan.pose_bindings()) {
        if (!m.objects[object].is_static) return "";
      }
      return "needs tracked poses of a free object (an object's pose_feature); the dataset feeds none";
    }
  }
  return "unknown problem";
}

std::string MetricKey(const std::string& problem, const char* split, const std::string& channel,
                      const char* what) {
  std::string c = channel;
  std::replace(c.begin(), c.end(), ' ', '_');
  return problem + "." + split + "." + c + "." + what;
}

}  // namespace

void SysidOptions::Validate() const {
  common.Validate("SysidOptions");
  if (max_episodes < 0) FailOption("SysidOptions", "max_episodes", static_cast<double>(max_episodes), "0 or more");
  const auto member = [](const char* name, const auto& options) {
    try {
      options.Validate();
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("SysidOptions::") + name + ": " + e.what());
    }
  };
  member("joint_dynamics", joint_dynamics);
  member("actuators", actuators);
  member("objects", objects);
}

bool SysidOptions::IsValid(std::string* why) const { return IsValidByValidate(*this, why); }

SysidRun Identify(const std::filesystem::path& scene, const std::optional<std::filesystem::path>& params,
                  const std::filesystem::path& dataset, const SysidOptions& options) {
  options.Validate();
  const auto start = std::chrono::steady_clock::now();
  const auto model = sim::LoadScene(scene, params);
  const auto reader = episode::DatasetReader::Open(dataset);
  const std::string dataset_file = dataset.string();
  sim::ReplayPlan plan = sim::ReplayPlan::Make(model, reader.info(), dataset_file);

  SysidRun run;
  run.scene_name = model->name;
  run.scene_file = model->scene_file;
  run.dataset = dataset;
  run.episodes = reader.num_episodes();

  const Problem all[] = {Problem::kJointDynamics, Problem::kActuators, Problem::kObjects};
  std::vector<Problem> chosen;
  std::string needs;
  for (Problem p : all) {
    const bool wanted = options.only.empty() || std::count(options.only.begin(), options.only.end(), p) > 0;
    if (!wanted) continue;
    const std::string why = Unsupported(p, plan);
    if (why.empty()) {
      chosen.push_back(p);
    } else {
      run.skipped.push_back({p, why});
      needs += std::string(needs.empty() ? "" : "; ") + ProblemName(p) + " " + why;
    }
  }
  if (chosen.empty()) {
    throw InputError(dataset_file, "features", "supports no identification problem with scene " +
                                                   model->scene_file.string() + ": " + needs);
  }

  for (const std::string& joint : options.actuators.joints) {
    if (!model->robot || model->robot->FindDof(joint) < 0) {
      std::string known;
      for (int d = 0; model->robot && d < model->robot->num_dofs(); ++d) {
        known += (known.empty() ? "" : ", ") + model->robot->dof_link(d).joint_name;
      }
      throw InputError(model->scene_file.string(), "SysidOptions.actuators.joints",
                       "'" + joint + "' is no movable joint of the scene's robot (its joints: " +
                           (known.empty() ? "none" : known) + ")");
    }
  }
  const std::int64_t episodes = options.max_episodes > 0 ? std::min(options.max_episodes, reader.num_episodes())
                                                          : reader.num_episodes();
  run.episodes = episodes;
  ProblemInput input{model, std::move(plan), {}, dataset_file, model->scene_file.string()};
  for (std::int64_t i = 0; i < episodes; ++i) input.episodes.push_back(reader.ReadEpisode(i));

  for (std::size_t k = 0; k < chosen.size(); ++k) {
    const Problem p = chosen[k];
    const std::string name = ProblemName(p);
    const auto progress = [&](double fraction, const std::string& what) {
      if (options.progress) options.progress((static_cast<double>(k) + fraction) / chosen.size(), name + ": " + what);
    };
    progress(0, "starting");
    switch (p) {
      case Problem::kJointDynamics: {
        JointDynamicsOptions o = options.joint_dynamics;
        o.common = options.common;
        o.baseline = options.baseline;
        run.results.push_back(FitJointDynamics(input, o));
        break;
      }
      case Problem::kActuators: {
        ActuatorFitOptions o = options.actuators;
        o.common = options.common;
        o.progress = progress;
        run.results.push_back(FitActuators(input, o));
        break;
      }
      case Problem::kObjects: {
        ObjectFitOptions o = options.objects;
        o.common = options.common;
        o.progress = progress;
        run.results.push_back(FitObjects(input, o));
        break;
      }
    }
    progress(1, "done");
  }
  run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

sim::ParamsFile ToParamsFile(const SysidRun& run) {
  sim::ParamsFile file;
  file.scene = run.scene_name;
  std::set<std::string> seen;
  std::vector<Eigen::MatrixXd> blocks;
  for (const FitResult& result : run.results) {
    const std::string problem = ProblemName(result.problem);
    std::set<std::string> added;  // a parameter two problems fit is taken from the first
    std::vector<int> keep;        // indices into result.covariance_names of the parameters added here
    for (const FitParameter& p : result.parameters) {
      if (!p.overlays_scene || !seen.insert(p.name).second) continue;
      added.insert(p.name);
      sim::ParameterEstimate e;
      e.name = p.name;
      e.estimate = p.estimate;
      e.std_dev = p.std_dev;
      e.lower = p.lower;
      e.upper = p.upper;
      e.identified = p.identified;
      file.parameters.push_back(std::move(e));
    }
    for (std::size_t k = 0; k < result.covariance_names.size(); ++k) {
      if (added.count(result.covariance_names[k]) > 0) keep.push_back(static_cast<int>(k));
    }
    Eigen::MatrixXd block(keep.size(), keep.size());
    for (std::size_t a = 0; a < keep.size(); ++a) {
      file.covariance_names.push_back(result.covariance_names[keep[a]]);
      for (std::size_t b = 0; b < keep.size(); ++b) block(a, b) = result.covariance(keep[a], keep[b]);
    }
    blocks.push_back(std::move(block));
    for (const auto* split : {&result.train, &result.held_out}) {
      const char* name = split == &result.train ? "train" : "held_out";
      for (const ChannelFit& c : *split) {
        file.metrics[MetricKey(problem, name, c.channel, "rms")] = c.rms;
        file.metrics[MetricKey(problem, name, c.channel, "r2")] = c.r2;
        if (!std::isnan(c.baseline_rms)) file.metrics[MetricKey(problem, name, c.channel, "baseline_rms")] = c.baseline_rms;
      }
    }
    file.metrics[problem + ".wall_s"] = result.wall_s;
    file.metrics[problem + ".converged"] = result.converged ? 1.0 : 0.0;
    if (result.starts > 0) {
      file.metrics[problem + ".starts"] = result.starts;
      for (const StartCosts& s : result.start_costs) {
        std::string block = s.block;
        std::replace(block.begin(), block.end(), ' ', '_');
        file.metrics[problem + ".start_cost_spread." + block] = s.relative_spread();
      }
    }
    if (result.passes > 0) {
      file.metrics[problem + ".passes"] = result.passes;
      file.metrics[problem + ".passes_converged"] = result.passes_converged ? 1.0 : 0.0;
    }
    if (std::isfinite(result.time_step_cost_change)) {
      file.metrics[problem + ".time_step_cost_change"] = result.time_step_cost_change;
    }
    file.metrics[problem + ".warnings"] = static_cast<double>(result.warnings.size());
  }
  Eigen::Index n = 0;
  for (const auto& b : blocks) n += b.rows();
  file.covariance = Eigen::MatrixXd::Zero(n, n);
  Eigen::Index at = 0;
  for (const auto& b : blocks) {
    file.covariance.block(at, at, b.rows(), b.cols()) = b;
    at += b.rows();
  }
  return file;
}

}  // namespace r2s::sysid

// r2s: the real2sim command line. Exit status: 0 done, 2 bad input (the message names file, field and value),
// 3 output the machine could not take (disk full, quota, read-only, I/O error; a rerun resumes), 1 internal error.

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/generate_command.h"
#include "cli/inspect_command.h"
#include "cli/option_flags.h"
#include "cli/render_command.h"
#include "cli/replay_command.h"
#include "cli/sysid_command.h"
#include "episode/edit_distance.h"
#include "episode/hdf5_teardown.h"
#include "episode/input_error.h"
#include "episode/output_error.h"
#include "real2sim/build_config.h"

namespace {

constexpr int kExitBadInput = 2;
constexpr int kExitInternal = 1;
constexpr int kExitOutputFailed = 3;  // the disk is full, over quota, read-only or failing: rerun when it is not

// Flags on the command line that `command` does not have, each with the nearest one it has ("did you mean"):
// a mistyped --variant must say so, not only that --variants is missing.
std::vector<std::string> UnknownFlags(const CLI::App& command, int argc, char** argv) {
  std::vector<std::string> lines;
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    if (!flag.starts_with("--") || flag == "--") continue;
    flag = flag.substr(2, flag.find('=') == std::string::npos ? std::string::npos : flag.find('=') - 2);
    if (flag == "help" || command.get_option_no_throw("--" + flag) != nullptr) continue;
    std::string best;
    std::size_t best_distance = std::string::npos;
    for (const CLI::Option* option : command.get_options()) {
      for (const std::string& name : option->get_lnames()) {
        const std::size_t d = r2s::EditDistance(flag, name);
        if (d < best_distance) best_distance = d, best = name;
      }
    }
    std::string line = "unknown option '--" + flag + "'";
    if (!best.empty() && best_distance <= std::max<std::size_t>(2, flag.size() / 3)) {
      line += "; did you mean '--" + best + "'?";
    }
    lines.push_back(line);
  }
  return lines;
}

int Run(int argc, char** argv) {
  CLI::App app{"real2sim: real robot episodes in, physically faithful synthetic episodes out", "r2s"};
  app.set_version_flag("--version", std::string("r2s ") + R2S_VERSION);
  app.require_subcommand(1);

  r2s::cli::InspectOptions inspect;
  CLI::App* inspect_cmd = app.add_subcommand("inspect", "QA report of a dataset (real or synthetic)");
  inspect_cmd
      ->add_option("DATASET", inspect.dataset,
                   "robomimic HDF5 file, ALOHA episode_N.hdf5 file, a folder of ALOHA episodes, or a LeRobot dataset "
                   "folder (v2.1 or v3.0)")
      ->required();
  inspect_cmd->add_flag("--json", inspect.json, "print the report as JSON");

  r2s::cli::ReplayOptions replay;
  CLI::App* replay_cmd = app.add_subcommand(
      "replay", "replay real episodes in the scene's simulated world; tracking error per joint and object");
  replay_cmd->add_option("--scene", replay.scene, "scene.yaml, or the scene folder holding it")->required();
  replay_cmd->add_option("--episodes", replay.episodes, "dataset to replay (robomimic file, ALOHA file or folder, LeRobot folder)")
      ->required();
  replay_cmd->add_option("--params", replay.params, "params.yaml from r2s sysid, overlaid on the scene's values");
  replay_cmd->add_option("--out", replay.out, "folder for the replayed episodes (written in the input's layout)")
      ->required();
  replay_cmd->add_option("--threads", replay.threads, "worker threads (default: the CPUs this process may use, e.g. its Slurm allocation)")
      ->check(CLI::NonNegativeNumber);
  replay_cmd->add_flag("--json", replay.json, "print the report as JSON");
  replay_cmd->add_flag("--overwrite", replay.overwrite, "replace replayed episodes already in --out");

  r2s::cli::SysidOptions sysid;
  CLI::App* sysid_cmd = app.add_subcommand(
      "sysid", "fit the scene's friction, dynamics, actuators and objects to real episodes; writes params.yaml");
  sysid_cmd->add_option("--scene", sysid.scene, "scene.yaml, or the scene folder holding it")->required();
  sysid_cmd->add_option("--episodes", sysid.episodes, "real episodes (robomimic file, ALOHA file or folder, LeRobot folder)")
      ->required();
  sysid_cmd->add_option("--out", sysid.out, "params.yaml to write (estimates, std, bounds, covariance, metrics)")
      ->required();
  sysid_cmd->add_option("--report", sysid.report,
                        "folder for the fit report: index.html with plots, predictions.csv, fit.json");
  sysid_cmd->add_option("--params", sysid.params, "an earlier params.yaml overlaid on the scene's nominal values");
  sysid_cmd->add_option("--baseline", sysid.baseline,
                        "a published reference model (JSON) to compare joint-dynamics predictions with");
  sysid_cmd->add_option("--problem", sysid.problems, "only these problems: joint_dynamics, actuators, objects");
  sysid_cmd->add_option("--held-out", sysid.held_out, "fraction at the end of each episode held out (default 0.3)");
  sysid_cmd->add_option("--threads", sysid.threads, "simulation threads (default: the CPUs this process may use, e.g. its Slurm allocation)")
      ->check(CLI::NonNegativeNumber);
  sysid_cmd->add_option("--seed", sysid.seed, "seed of the global searches (default 0)");
  sysid_cmd->add_flag("--json", sysid.json, "print the results as JSON");
  sysid_cmd->add_option("--max-episodes", sysid.max_episodes, "fit only the dataset's first N episodes (default: all)");
  sysid_cmd->add_option("--joints", sysid.joints, "actuators: fit only these joints (comma-separated names)")
      ->delimiter(',');
  sysid_cmd->add_option("--starts", sysid.starts, "actuators: diverse starts refined per joint (default 4)");
  sysid_cmd->add_option("--passes", sysid.passes, "actuators: most joint-by-joint rounds (default 5)");
  sysid_cmd->add_option("--global-samples", sysid.global_samples,
                        "actuators, objects: points of the global search (default 64, 48)");
  sysid_cmd->add_option("--max-iterations", sysid.max_iterations,
                        "Levenberg-Marquardt iterations (default 30 actuators, 25 objects, 100 joint dynamics)");
  sysid_cmd->add_option("--cutoff-hz", sysid.cutoff_hz, "joint dynamics: low-pass cutoff of q, qd, qdd (default 10)");
  sysid_cmd->add_option("--fit-rate-hz", sysid.fit_rate_hz,
                        "joint dynamics: training samples thinned to about this rate (default 200)");
  sysid_cmd->add_option("--huber", sysid.huber,
                        "joint dynamics: Huber threshold in robust stds, <= 0 for plain least squares (default 1.345)");
  sysid_cmd->add_option("--friction", sysid.friction, "joint dynamics: coulomb_viscous (default) or stribeck");

  r2s::cli::RenderOptions render;
  CLI::App* render_cmd =
      app.add_subcommand("render", "one frame per camera of a scene (RGB, depth, segmentation), to look at");
  render_cmd->add_option("--scene", render.scene, "scene.yaml, or the scene folder holding it")->required();
  render_cmd->add_option("--params", render.params, "params.yaml from r2s sysid, overlaid on the scene's values");
  render_cmd->add_option("--out", render.out, "folder for the images")->required();
  render_cmd->add_option("--device", render.device, "part of the Vulkan device name (default: a GPU, else lavapipe)");
  render_cmd->add_flag("--validation", render.validation, "run under the Vulkan validation layer");
  render_cmd->add_option("--shadows", render.rendering.shadows,
                         "on or off: shadow maps at all (default: the scene's rendering.shadows, on)");
  render_cmd->add_option("--shadow-casters", render.rendering.shadow_casters,
                         "visual (exact) or collision (the collision shapes: coarser, cheaper) (default: the scene's "
                         "rendering.shadow_casters, collision)");
  render_cmd->add_option("--shadow-map-px", render.rendering.shadow_map_px,
                         "side of each light's shadow map, 16 to 16384 (default: the scene's rendering.shadow_map_px, "
                         "1024)");
  render_cmd->add_flag("--json", render.json, "print the report as JSON");

  r2s::cli::GenerateOptions generate;
  CLI::App* generate_cmd = app.add_subcommand(
      "generate", "K synthetic episodes per real one, in the source's schema and layout; sharded and resumable");
  generate_cmd->add_option("--scene", generate.scene, "scene.yaml, or the scene folder holding it")->required();
  generate_cmd->add_option("--episodes", generate.episodes, "source episodes (robomimic file, ALOHA file or folder, LeRobot v2.1/v3.0 folder)")
      ->required();
  generate_cmd->add_option("--params", generate.params, "params.yaml from r2s sysid: fitted values and posterior");
  generate_cmd->add_option("--variants", generate.variants, "synthetic episodes per source episode")->required();
  generate_cmd->add_option("--out", generate.out, "output folder (a shard writes OUT/shard-I-of-N)")->required();
  generate_cmd->add_option("--seed", generate.seed, "seed of every random draw (default 0)");
  generate_cmd->add_option("--shard", generate.shard,
                           "I/N: this shard of the run (default: SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, or all)");
  generate_cmd->add_option("--threads", generate.threads, "worker threads (default: the CPUs this process may use, e.g. its Slurm allocation)")
      ->check(CLI::NonNegativeNumber);
  generate_cmd->add_option("--device", generate.device, "sensor models on auto, cpu or cuda (default auto)");
  generate_cmd->add_option("--render-device", generate.render_device,
                           "part of the Vulkan device name (default: a GPU, else lavapipe)");
  generate_cmd->add_option("--shadows", generate.rendering.shadows,
                           "cameras: on or off, shadow maps at all (default: the scene's rendering.shadows, on)");
  generate_cmd->add_option("--shadow-casters", generate.rendering.shadow_casters,
                           "cameras: visual (exact) or collision (the collision shapes: coarser, cheaper) (default: "
                           "the scene's rendering.shadow_casters, collision)");
  generate_cmd->add_option("--shadow-map-px", generate.rendering.shadow_map_px,
                           "cameras: side of each light's shadow map, 16 to 16384 (default: the scene's "
                           "rendering.shadow_map_px, 1024)");
  generate_cmd->add_option("--keep", generate.keep, "success (default) or all: which episodes are written");
  generate_cmd->add_option("--cameras", generate.cameras,
                           "also record these scene cameras (opt-in: features the source lacks)")
      ->delimiter(',');
  generate_cmd->add_option("--streams", generate.streams, "of those cameras: rgb (default), depth, segmentation")
      ->delimiter(',');
  generate_cmd->add_option("--max-episodes", generate.max_episodes, "only the dataset's first N source episodes");
  generate_cmd->add_option("--object-poses", generate.object_poses,
                           "YAML: where the retarget object lay in each source episode, over what is inferred from "
                           "the grasp (docs/generate.md)");
  generate_cmd->add_option("--video-codec", generate.video_codec,
                           "LeRobot output: libsvtav1 (default, AV1 as LeRobot), libx264 (H.264) or libaom-av1");
  generate_cmd->add_option("--video-crf", generate.video_crf, "LeRobot output: constant rate factor (default 30)");
  generate_cmd->add_option("--video-preset", generate.video_preset,
                           "LeRobot output: SVT-AV1 preset 0 (slowest) .. 13 (default 12, LeRobot's)");
  generate_cmd->add_option("--video-keyframe-interval", generate.video_keyframe_interval,
                           "LeRobot output: frames between keyframes (default 2, LeRobot's g)");
  generate_cmd->add_flag("--no-side-streams", generate.no_side_streams,
                         "LeRobot output: drop depth and segmentation instead of writing lossless side videos");
  generate_cmd->add_flag("--overwrite", generate.overwrite, "replace another run's work in --out");
  generate_cmd->add_flag("--quiet", generate.quiet, "no progress on stderr");

  r2s::cli::MergeOptions merge;
  CLI::App* merge_cmd = app.add_subcommand("merge", "assemble the shards of one r2s generate run into one dataset");
  merge_cmd->add_option("SHARD_DIR", merge.shards, "every shard folder of the run")->required();
  merge_cmd->add_option("--out", merge.out, "the merged run's folder")->required();
  merge_cmd->add_flag("--overwrite", merge.overwrite, "replace a run already in --out");

  if (argc > 1 && argv[1][0] != '-' &&
      app.get_subcommands([&](CLI::App* sub) { return sub->check_name(argv[1]); }).empty()) {
    std::cerr << "r2s: unknown command '" << argv[1] << "'\nRun 'r2s --help' for usage.\n";
    return kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // The subcommand named on the command line (checked above to exist when it is not a flag).
    const CLI::App* command = nullptr;
    if (argc > 1 && argv[1][0] != '-') {
      for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        if (sub->check_name(argv[1])) command = sub;
      }
    }
    const std::string prefix = command ? "r2s " + command->get_name() : std::string("r2s");
    if (command) {
      for (const std::string& line : UnknownFlags(*command, argc, argv)) std::cerr << prefix << ": " << line << "\n";
    }
    std::cerr << prefix << ": " << e.what() << "\n"
              << "Run '" << prefix << " --help' for usage.\n";
    return kExitBadInput;
  }

  if (inspect_cmd->parsed()) {
    // Build the report fully before printing, so a failure midway prints nothing but the error.
    std::ostringstream out;
    r2s::cli::RunInspect(inspect, out);
    std::cout << out.str() << std::flush;
  }
  if (replay_cmd->parsed()) {
    std::ostringstream out;
    r2s::cli::RunReplay(replay, out);
    std::cout << out.str() << std::flush;
  }
  if (sysid_cmd->parsed()) {
    std::ostringstream out;
    r2s::cli::RunSysid(sysid, out);
    std::cout << out.str() << std::flush;
  }
  if (generate_cmd->parsed()) r2s::cli::RunGenerate(generate, std::cout, std::cerr);
  if (merge_cmd->parsed()) r2s::cli::RunMerge(merge, std::cout);
  if (render_cmd->parsed()) {
    std::ostringstream out;
    r2s::cli::RunRender(render, out);
    std::cout << out.str() << std::flush;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // SVT-AV1 (the AV1 encoder of LeRobot output) prints a dozen info lines per encoder unless told otherwise, and
  // reads the level from the environment: set it before any thread starts (a user's own SVT_LOG wins).
  setenv("SVT_LOG", "1", 0);
  // After a write that met a full disk, libhdf5's own teardown at exit would crash (episode/hdf5_teardown.h).
  r2s::episode::SkipHdf5TeardownAtExit();
  try {
    return Run(argc, argv);
  } catch (const r2s::InputError& e) {
    std::cerr << "r2s: error: " << r2s::cli::InFlagTerms(e).what() << "\n";
    return kExitBadInput;
  } catch (const r2s::OutputError& e) {
    std::cerr << "r2s: error: " << e.what() << "\n";
    return kExitOutputFailed;
  } catch (const std::system_error& e) {
    // std::filesystem and the atomic writes report a full disk as std::system_error.
    if (!r2s::IsOutputFailure(e.code())) {
      std::cerr << "r2s: internal error: " << e.what() << "\n";
      return kExitInternal;
    }
    std::cerr << "r2s: error: cannot write: " << e.what() << "\n";
    return kExitOutputFailed;
  } catch (const std::exception& e) {
    std::cerr << "r2s: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}

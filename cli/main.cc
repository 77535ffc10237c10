// r2s: the real2sim command line. Exit status: 0 done, 2 bad input (the message names file, field and value),
// 1 internal error.

#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/inspect_command.h"
#include "cli/replay_command.h"
#include "episode/input_error.h"
#include "real2sim/build_config.h"

namespace {

constexpr int kExitBadInput = 2;
constexpr int kExitInternal = 1;

int Run(int argc, char** argv) {
  CLI::App app{"real2sim: real robot episodes in, physically faithful synthetic episodes out", "r2s"};
  app.set_version_flag("--version", std::string("r2s ") + R2S_VERSION);
  app.require_subcommand(1);

  r2s::cli::InspectOptions inspect;
  CLI::App* inspect_cmd = app.add_subcommand("inspect", "QA report of a dataset (real or synthetic)");
  inspect_cmd
      ->add_option("DATASET", inspect.dataset,
                   "robomimic HDF5 file, ALOHA episode_N.hdf5 file, or a folder of ALOHA episodes")
      ->required();
  inspect_cmd->add_flag("--json", inspect.json, "print the report as JSON");

  r2s::cli::ReplayOptions replay;
  CLI::App* replay_cmd = app.add_subcommand(
      "replay", "replay real episodes in the scene's simulated world; tracking error per joint and object");
  replay_cmd->add_option("--scene", replay.scene, "scene.yaml, or the scene folder holding it")->required();
  replay_cmd->add_option("--episodes", replay.episodes, "dataset to replay (robomimic file, ALOHA file or folder)")
      ->required();
  replay_cmd->add_option("--params", replay.params, "params.yaml from r2s sysid, overlaid on the scene's values");
  replay_cmd->add_option("--out", replay.out, "folder for the replayed episodes (written in the input's layout)")
      ->required();
  replay_cmd->add_option("--threads", replay.threads, "worker threads (default: every hardware thread)")
      ->check(CLI::NonNegativeNumber);
  replay_cmd->add_flag("--json", replay.json, "print the report as JSON");
  replay_cmd->add_flag("--overwrite", replay.overwrite, "replace replayed episodes already in --out");

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
    std::cerr << "r2s: " << e.what() << "\n"
              << "Run 'r2s --help' for usage.\n";
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
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const r2s::InputError& e) {
    std::cerr << "r2s: error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "r2s: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}

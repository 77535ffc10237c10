#pragma once
// The robomimic and ACT `clients` tests: Python in the cached environment of scripts/setup_python_env.sh clients
// (PyTorch, numpy 2), with its overlay-loaders folder first on the path (robomimic 0.3.0's code and h5py) and
// the re-implementation of ACT's reading (tests/fixtures/act/act_reader.py, ACT being no package) importable.

#include <filesystem>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace r2s::testing {

inline CommandResult RunLoaderPython(const std::string& code, const std::vector<std::string>& args = {}) {
  // The environment's path, from the set-up script (which creates it, and the overlay, when missing).
  const CommandResult env =
      RunCommand({"/bin/bash", (SourceDir() / "scripts" / "setup_python_env.sh").string(), "clients"});
  if (env.exit_code != 0) return env;
  std::string dir = env.out;
  while (!dir.empty() && (dir.back() == '\n' || dir.back() == ' ')) dir.pop_back();
  const std::string prelude = "import sys\nsys.path[:0] = ['" + dir + "/overlay-loaders', '" +
                              (SourceDir() / "tests" / "fixtures" / "act").string() + "']\n";
  std::vector<std::string> argv = {dir + "/bin/python", "-c", prelude + code};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

}  // namespace r2s::testing

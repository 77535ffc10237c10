// The command line's own errors: a mistyped flag is named with the nearest real one, and the help pointed at is
// the subcommand's; exit status 2.

#include <gtest/gtest.h>

#include <string>

#include "tests/test_support.h"

namespace r2s {
namespace {

using testing::RunR2s;

TEST(CliUsage, AMistypedFlagIsNamedWithTheFlagItsCloseTo) {
  const auto run = RunR2s({"generate", "--scene", "s", "--episodes", "e", "--variant", "2", "--out", "o"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("unknown option '--variant'; did you mean '--variants'?"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("Run 'r2s generate --help'"), std::string::npos) << run.err;

  const auto inspect = RunR2s({"inspect", "--jsn", "x.hdf5"});
  EXPECT_EQ(inspect.exit_code, 2);
  EXPECT_NE(inspect.err.find("did you mean '--json'?"), std::string::npos) << inspect.err;
  EXPECT_NE(inspect.err.find("Run 'r2s inspect --help'"), std::string::npos) << inspect.err;
}

TEST(CliUsage, AFlagFarFromAnyIsNamedWithoutAGuess) {
  const auto run = RunR2s({"replay", "--scene", "s", "--episodes", "e", "--out", "o", "--frobnicate"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("unknown option '--frobnicate'"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("did you mean"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace r2s

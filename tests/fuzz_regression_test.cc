// A fuzz harness (fuzz/<harness>_fuzzer.cc, built here with the normal compiler and without libFuzzer) on every
// input of its committed corpus, fuzz/corpus/<harness>/, and on every input that once made it fail,
// fuzz/regressions/<harness>/ (fuzz/README.md). The harness catches r2s::InputError, the expected outcome for
// bad input; any other exception escaping, a crash or a sanitizer report (debug-asan) fails the test.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

#if !defined(R2S_FUZZ_HARNESS) || !defined(R2S_FUZZ_SUITE) || !defined(R2S_SOURCE_DIR)
#error "tests/fuzz_tests.cmake defines R2S_FUZZ_HARNESS, R2S_FUZZ_SUITE and R2S_SOURCE_DIR"
#endif

namespace {
namespace fs = std::filesystem;

std::vector<fs::path> Inputs(const std::string& kind) {
  const fs::path dir = fs::path(R2S_SOURCE_DIR) / "fuzz" / kind / R2S_FUZZ_HARNESS;
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().filename().string().front() != '.') files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void RunAll(const std::vector<fs::path>& files) {
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    ASSERT_TRUE(in) << file;
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NO_THROW(LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()))
        << "input " << file;
  }
}

// The corpus and, where a harness has any, the inputs that once made it fail (one test, so none is skipped).
TEST(R2S_FUZZ_SUITE, CorpusAndRegressionInputsEndInInputErrorOrSuccess) {
  const std::vector<fs::path> corpus = Inputs("corpus");
  ASSERT_FALSE(corpus.empty()) << "no corpus in fuzz/corpus/" << R2S_FUZZ_HARNESS;
  RunAll(corpus);
  RunAll(Inputs("regressions"));
}

}  // namespace

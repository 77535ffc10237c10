// The progress line `r2s generate` prints on stderr: the time left counts the work done on the episodes under way,
// so it does not grow while a long episode is being made.
#include "cli/progress.h"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

namespace r2s::cli {
namespace {

// The last line written, without its newline.
std::string LastLine(const std::ostringstream& out) {
  std::string text = out.str();
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text.substr(text.rfind('\n') + 1);
}

// Seconds in the line's "about M:SS left"; -1 without one.
int SecondsLeft(const std::string& line) {
  std::smatch m;
  if (!std::regex_search(line, m, std::regex("about (\\d+):(\\d\\d) left"))) return -1;
  return std::stoi(m[1]) * 60 + std::stoi(m[2]);
}

TEST(Progress, TheTimeLeftCountsTheEpisodesUnderWay) {
  using Clock = std::chrono::steady_clock;
  const auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  std::ostringstream out;
  const Clock::time_point before = Clock::now();
  Progress progress(out, /*terminal=*/false, /*total=*/8, /*already_done=*/0, /*log_every_s=*/0);
  const Clock::time_point after = Clock::now();
  progress.Tick(0);
  EXPECT_EQ(LastLine(out).find("generate: 0/8 episodes, none finished yet, working for 0:00"), 0u) << out.str();
  EXPECT_EQ(SecondsLeft(LastLine(out)), -1) << "no work done, no time left to give: " << out.str();

  // Half an episode in t seconds: 7.5 episodes left at that rate take 15 t.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  const double shortest_s = seconds_since(after);
  progress.Tick(0.5);
  const double longest_s = seconds_since(before);
  const std::string half = LastLine(out);
  EXPECT_NE(half.find("none finished yet (+0.50 under way), working for 0:0"), std::string::npos) << half;
  EXPECT_GE(SecondsLeft(half), static_cast<int>(15 * shortest_s) - 1) << half;
  EXPECT_LE(SecondsLeft(half), static_cast<int>(15 * longest_s) + 1) << half;

  // One finished and a quarter of the next: the rate counts 1.25 episodes, and the line says both.
  progress.Add(true);
  progress.Tick(0.25);
  const std::string later = LastLine(out);
  EXPECT_NE(later.find("generate: 1/8 episodes (+0.25 under way), kept 1 of 1 (100%)"), std::string::npos) << later;
  EXPECT_GT(SecondsLeft(later), 0) << later;
  EXPECT_LT(SecondsLeft(later), SecondsLeft(half)) << "more work done, less time left:\n" << out.str();

  progress.Finish();
  EXPECT_NE(LastLine(out).find("generate: 1/8 episodes, kept 1 of 1 (100%)"), std::string::npos) << out.str();
  EXPECT_NE(LastLine(out).find("done in"), std::string::npos) << out.str();
}

// The start-up before any work (a scene to load, renderers to start) does not count in the rate: it is measured
// from the first work seen.
TEST(Progress, TheRateIsMeasuredFromTheFirstWorkSeen) {
  using Clock = std::chrono::steady_clock;
  const auto seconds = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  std::ostringstream out;
  const Clock::time_point started = Clock::now();
  Progress progress(out, /*terminal=*/false, /*total=*/4, /*already_done=*/0, /*log_every_s=*/0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // start-up: nothing under way
  const Clock::time_point before_first = Clock::now();
  progress.Tick(0.1);
  const Clock::time_point after_first = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  const Clock::time_point before_second = Clock::now();
  progress.Tick(0.3);
  const Clock::time_point after_second = Clock::now();
  // 0.2 episodes in the time between the ticks: 3.7 left take 18.5 times that.
  const int left = SecondsLeft(LastLine(out));
  EXPECT_GE(left, static_cast<int>(18.5 * seconds(after_first, before_second)) - 1) << out.str();
  EXPECT_LE(left, static_cast<int>(18.5 * seconds(before_first, after_second)) + 1) << out.str();
  // Counted from the start, 0.3 episodes in about 2 s would have said about 25 s.
  EXPECT_LT(left, static_cast<int>(3.7 / 0.3 * seconds(started, before_second)) - 2) << out.str();
}

// Work under way is never more than what is left: a caller's overcount cannot make the time left negative.
TEST(Progress, WorkUnderWayIsBoundedByWhatIsLeft) {
  std::ostringstream out;
  Progress progress(out, /*terminal=*/false, /*total=*/2, /*already_done=*/1, /*log_every_s=*/0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  progress.Tick(5);
  EXPECT_NE(LastLine(out).find("(+1.00 under way)"), std::string::npos) << out.str();
  EXPECT_EQ(SecondsLeft(LastLine(out)), 0) << out.str();
}

}  // namespace
}  // namespace r2s::cli

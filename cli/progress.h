#pragma once
// Progress of a long run on stderr: a bar redrawn in place on a terminal, plain log lines (one every
// `log_every_s`, and one at the end) otherwise, so batch logs stay readable.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace r2s::cli {

class Progress {
 public:
  Progress(std::ostream& out, bool terminal, std::uint64_t total, std::uint64_t already_done, double log_every_s = 10);
  // One more unit finished (kept or not); `reason`, the code of why it failed (amplify/rejection.h) or empty. The
  // line shows the most frequent reasons so far.
  void Add(bool kept, std::string_view reason = {});
  // Still working, nothing finished since the last line: draws the line again when it is due (every second on a
  // terminal, every log_every_s otherwise), so that a long first episode is not silent. `under_way`: units of work
  // done towards the units not finished yet (Generator::Generate's `waiting`); the rate and the time left count
  // them, so the time left does not grow while a long episode is being made.
  void Tick(double under_way = 0);
  // The last line (a newline after a bar).
  void Finish();

 private:
  void Draw(bool final);
  void SeeWork();
  std::ostream& out_;
  bool terminal_;
  std::uint64_t total_, already_done_, done_ = 0, kept_ = 0;
  double under_way_ = 0;
  // When work was first seen (a unit finished or under way) and how much: the rate is measured from there, so the
  // start-up before any episode work (loading the scene, starting renderers) does not inflate the time left.
  std::optional<std::chrono::steady_clock::time_point> work_seen_;
  double work_at_seen_ = 0;
  std::map<std::string, std::uint64_t, std::less<>> reasons_;
  std::chrono::steady_clock::time_point started_, last_draw_;
  double log_every_s_;
};

// Progress of a computation that reports the fraction of its estimated work done (a sysid fit, through the
// library's callback on the calling thread): "sysid: 42% actuators: pendulum: start 2 of 4, about 1:10 left",
// redrawn in place on a terminal at most every 0.1 s, a log line every `log_every_s` otherwise. The time left is
// the elapsed time scaled by what remains.
class FractionProgress {
 public:
  FractionProgress(std::ostream& out, bool terminal, std::string prefix, double log_every_s = 10);
  void Update(double fraction, const std::string& what);
  void Finish();  // ends a redrawn line; nothing when nothing was drawn

 private:
  void Draw(double fraction, const std::string& what);
  std::ostream& out_;
  bool terminal_;
  std::string prefix_;
  double log_every_s_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point started_, last_draw_;
};

std::string FormatDuration(double seconds);  // "1:02:03", "2:03"

}  // namespace r2s::cli

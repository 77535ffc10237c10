#pragma once
// Progress of a long run on stderr: a bar redrawn in place on a terminal, plain log lines (one every
// `log_every_s`, and one at the end) otherwise, so batch logs stay readable.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace r2s::cli {

class Progress {
 public:
  Progress(std::ostream& out, bool terminal, std::uint64_t total, std::uint64_t already_done, double log_every_s = 10);
  // One more unit finished (kept or not).
  void Add(bool kept);
  // The last line (a newline after a bar).
  void Finish();

 private:
  void Draw(bool final);
  std::ostream& out_;
  bool terminal_;
  std::uint64_t total_, already_done_, done_ = 0, kept_ = 0;
  std::chrono::steady_clock::time_point started_, last_draw_;
  double log_every_s_;
};

std::string FormatDuration(double seconds);  // "1:02:03", "2:03"

}  // namespace r2s::cli

#include "cli/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace r2s::cli {

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(std::llround(seconds));
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof(text), "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(text, sizeof(text), "%lld:%02lld", s / 60, s % 60);
  }
  return text;
}

Progress::Progress(std::ostream& out, bool terminal, std::uint64_t total, std::uint64_t already_done,
                   double log_every_s)
    : out_(out),
      terminal_(terminal),
      total_(total),
      already_done_(already_done),
      started_(std::chrono::steady_clock::now()),
      last_draw_(started_),
      log_every_s_(log_every_s) {
  if (already_done_ > 0) {
    out_ << "generate: resuming: " << already_done_ << " of " << total_ << " episodes already done\n" << std::flush;
  }
}

void Progress::Add(bool kept, std::string_view reason) {
  ++done_;
  // The unit that finished was among those under way at the last tick; the next tick says it again exactly.
  under_way_ = std::max(0.0, under_way_ - 1.0);
  kept_ += kept ? 1 : 0;
  if (!reason.empty()) {
    auto it = reasons_.find(reason);
    if (it == reasons_.end()) it = reasons_.emplace(std::string(reason), 0).first;
    ++it->second;
  }
  SeeWork();
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (terminal_ ? since >= 0.1 : since >= log_every_s_) Draw(false);
}

void Progress::SeeWork() {
  if (work_seen_ || done_ + under_way_ <= 0) return;
  work_seen_ = std::chrono::steady_clock::now();
  work_at_seen_ = static_cast<double>(done_) + under_way_;
}

void Progress::Tick(double under_way) {
  under_way_ = std::clamp(under_way, 0.0, static_cast<double>(total_ - already_done_ - done_));
  SeeWork();
  const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_draw_).count();
  if (since >= (terminal_ ? 1.0 : log_every_s_)) Draw(false);
}

void Progress::Finish() { Draw(true); }

void Progress::Draw(bool final) {
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - started_).count();
  const std::uint64_t finished = already_done_ + done_;
  // Units of work done this run: the finished ones and what is done of those under way.
  const double worked = static_cast<double>(done_) + (final ? 0.0 : under_way_);
  double rate = elapsed > 0 ? worked / elapsed : 0;
  // Once work has gone on for a second since it was first seen, the rate since then.
  const double working_s = work_seen_ ? std::chrono::duration<double>(last_draw_ - *work_seen_).count() : 0.0;
  if (!final && working_s >= 1.0 && worked > work_at_seen_) rate = (worked - work_at_seen_) / working_s;
  const double left = rate > 0 ? (static_cast<double>(total_ - already_done_) - worked) / rate : NAN;
  char under[64] = "";
  if (!final && under_way_ >= 0.01) std::snprintf(under, sizeof(under), " (+%.2f under way)", under_way_);
  const double accepted = done_ > 0 ? 100.0 * static_cast<double>(kept_) / static_cast<double>(done_) : 0;
  // The two most frequent reasons so far: "  failed: object_dropped 4, success_false 2".
  std::vector<std::pair<std::string, std::uint64_t>> top(reasons_.begin(), reasons_.end());
  std::stable_sort(top.begin(), top.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string why;
  for (std::size_t i = 0; i < top.size() && i < 2; ++i) {
    why += (i ? ", " : "  failed: ") + top[i].first + " " + std::to_string(top[i].second);
  }
  char line[512];
  if (done_ == 0 && !final) {
    // Nothing finished yet: say how long it has been working, and the time left once some work is done.
    const std::string eta = worked > 0 ? ", about " + FormatDuration(left) + " left" : "";
    std::snprintf(line, sizeof(line), "%sgenerate: %llu/%llu episodes, none finished yet%s, working for %s%s%s",
                  terminal_ ? "\r" : "", static_cast<unsigned long long>(finished),
                  static_cast<unsigned long long>(total_), under, FormatDuration(elapsed).c_str(), eta.c_str(),
                  terminal_ ? "   " : "\n");
    out_ << line << std::flush;
    return;
  }
  if (terminal_) {
    const int width = 24;
    const int filled = total_ ? static_cast<int>(width * finished / total_) : width;
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '-');
    std::snprintf(line, sizeof(line), "\r[%s] %llu/%llu episodes%s  kept %.0f%%  %.2f episodes/s  %s left%s   ",
                  bar.c_str(), static_cast<unsigned long long>(finished), static_cast<unsigned long long>(total_),
                  under, accepted, rate, final ? "0:00" : FormatDuration(left).c_str(), why.c_str());
    out_ << line << (final ? "\n" : "") << std::flush;
  } else {
    std::snprintf(
        line, sizeof(line), "generate: %llu/%llu episodes%s, kept %llu of %llu (%.0f%%), %.2f episodes/s, %s%s\n",
        static_cast<unsigned long long>(finished), static_cast<unsigned long long>(total_), under,
        static_cast<unsigned long long>(kept_), static_cast<unsigned long long>(done_), accepted, rate,
        final ? ("done in " + FormatDuration(elapsed)).c_str() : ("about " + FormatDuration(left) + " left").c_str(),
        why.empty() ? "" : (";" + why.substr(1)).c_str());
    out_ << line << std::flush;
  }
}

FractionProgress::FractionProgress(std::ostream& out, bool terminal, std::string prefix, double log_every_s)
    : out_(out),
      terminal_(terminal),
      prefix_(std::move(prefix)),
      log_every_s_(log_every_s),
      started_(std::chrono::steady_clock::now()),
      last_draw_(started_) {}

void FractionProgress::Update(double fraction, const std::string& what) {
  const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_draw_).count();
  // The first update is drawn at once, so that a long first stage is never silent.
  if (!drawn_ || (terminal_ ? since >= 0.1 : since >= log_every_s_)) Draw(fraction, what);
}

void FractionProgress::Finish() {
  if (terminal_ && drawn_) out_ << "\n" << std::flush;
}

void FractionProgress::Draw(double fraction, const std::string& what) {
  last_draw_ = std::chrono::steady_clock::now();
  drawn_ = true;
  const double elapsed = std::chrono::duration<double>(last_draw_ - started_).count();
  fraction = std::clamp(fraction, 0.0, 1.0);
  const double left = fraction > 0 ? elapsed * (1 - fraction) / fraction : NAN;
  const std::string line = prefix_ + ": " + std::to_string(static_cast<int>(100 * fraction)) + "% " + what +
                           ", " + FormatDuration(elapsed) + " elapsed, about " + FormatDuration(left) + " left";
  if (terminal_) {
    out_ << "\r" << line << "\x1b[K" << std::flush;  // clear what a longer earlier line left
  } else {
    out_ << line << "\n" << std::flush;
  }
}

}  // namespace r2s::cli

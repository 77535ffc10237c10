#include "sysid/fit_result.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "sysid/problem_input.h"

namespace r2s::sysid {

const char* ProblemName(Problem problem) {
  switch (problem) {
    case Problem::kJointDynamics:
      return "joint_dynamics";
    case Problem::kActuators:
      return "actuators";
    case Problem::kObjects:
      return "objects";
  }
  return "unknown";
}

std::optional<Problem> ProblemFromName(std::string_view name) {
  for (Problem p : {Problem::kJointDynamics, Problem::kActuators, Problem::kObjects}) {
    if (name == ProblemName(p)) return p;
  }
  return std::nullopt;
}

std::string FormatNumber(double x, int precision) {
  std::ostringstream s;
  s.precision(precision);
  s << x;
  return s.str();
}

void AddHeldOutWarnings(FitResult& result) {
  for (const ChannelFit& h : result.held_out) {
    if (h.samples > 0 && h.r2 < 0) {
      result.warnings.push_back(h.channel + ": held-out R^2 is " + FormatNumber(h.r2, 3) +
                                " (worse than predicting the held-out mean)");
    }
    if (h.samples > 0 && h.rms > h.baseline_rms) {
      result.warnings.push_back(h.channel + ": held-out RMS " + FormatNumber(h.rms, 3) + " " + h.unit +
                                " is worse than the " + FormatNumber(h.baseline_rms, 3) + " " + h.unit + " of " +
                                h.baseline);
    }
  }
}

ChannelFit MeasureFit(std::string channel, std::string unit, const std::vector<double>& measured,
                      const std::vector<double>& predicted) {
  if (measured.size() != predicted.size()) {
    throw std::invalid_argument("MeasureFit: " + channel + " has " + std::to_string(measured.size()) +
                                " measured and " + std::to_string(predicted.size()) + " predicted samples");
  }
  ChannelFit fit;
  fit.channel = std::move(channel);
  fit.unit = std::move(unit);
  fit.samples = static_cast<std::int64_t>(measured.size());
  if (measured.empty()) {
    fit.rms = fit.r2 = std::numeric_limits<double>::quiet_NaN();
    return fit;
  }
  double mean = 0;
  for (double m : measured) mean += m;
  mean /= static_cast<double>(measured.size());
  double sse = 0, sst = 0;
  for (std::size_t i = 0; i < measured.size(); ++i) {
    sse += (measured[i] - predicted[i]) * (measured[i] - predicted[i]);
    sst += (measured[i] - mean) * (measured[i] - mean);
  }
  fit.rms = std::sqrt(sse / static_cast<double>(measured.size()));
  // A constant channel has no variance to explain: R^2 is undefined, not 1 or -inf.
  fit.r2 = sst > 0 ? 1.0 - sse / sst : std::numeric_limits<double>::quiet_NaN();
  return fit;
}

std::int64_t HeldOutSplit(std::int64_t frames, double held_out_fraction) {
  if (!(held_out_fraction >= 0 && held_out_fraction < 1)) {
    throw std::invalid_argument("held_out_fraction must lie in [0, 1), found " + std::to_string(held_out_fraction));
  }
  const auto held_out = static_cast<std::int64_t>(std::floor(static_cast<double>(frames) * held_out_fraction));
  return std::clamp<std::int64_t>(frames - held_out, 0, frames);
}

void FailOption(const std::string& owner, const std::string& field, double value, const std::string& expected) {
  throw std::invalid_argument(owner + "::" + field + " = " + FormatNumber(value, 6) + ", expected " + expected);
}

void CommonFitOptions::Validate(const std::string& owner) const {
  if (!(held_out_fraction >= 0 && held_out_fraction < 1)) {
    FailOption(owner, "common.held_out_fraction", held_out_fraction, "a fraction in [0, 1)");
  }
  if (threads < 0) FailOption(owner, "common.threads", threads, "0 or more (0: one)");
}

double StartCosts::relative_spread() const {
  if (final_costs.empty()) return 0;
  const auto [lo, hi] = std::minmax_element(final_costs.begin(), final_costs.end());
  return *lo > 0 ? (*hi - *lo) / *lo : (*hi > 0 ? std::numeric_limits<double>::infinity() : 0.0);
}

}  // namespace r2s::sysid

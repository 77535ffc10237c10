#pragma once
// The fit report of `r2s sysid --report DIR`.
//
// For machines: DIR/predictions.csv, one row per held-out sample (problem, episode, time_s) with, for every channel,
// its measured value, its prediction and, where the problem has one, the baseline model's prediction
// (empty cells where a channel has no sample at that time); DIR/fit.json, every FitResult in full.
// For people: DIR/index.html (viewable offline) with the parameter tables, warnings, fit metrics and the plots
// drawn by matplotlib (sysid/plot_report.py run with R2S_REPORT_PYTHON): measured vs predicted signals per channel,
// residual histograms, estimates with error bars against their bounds.
//
// The report is built in a temporary folder beside DIR and renamed into place, replacing an earlier report: a
// failure leaves no half-written DIR.

#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "sysid/identify.h"

namespace r2s::sysid {

nlohmann::json ToJson(const SysidRun& run);  // what fit.json holds

// Throws std::runtime_error when the plots cannot be drawn (no Python, no matplotlib), naming what is missing.
void WriteReport(const SysidRun& run, const std::filesystem::path& dir);

}  // namespace r2s::sysid

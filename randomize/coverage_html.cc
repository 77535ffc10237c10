#include "randomize/coverage_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>
#include <stdexcept>
#include <utility>

namespace r2s::randomize {
namespace {

// Stratum colours: nominal first, then the edge cases in order (cycling).
constexpr const char* kStratumColors[] = {"#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3",
                                          "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"};
constexpr std::size_t kColorCount = sizeof(kStratumColors) / sizeof(kStratumColors[0]);

std::string Escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A number for people: `digits` significant digits.
std::string Num(double x, int digits = 4) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*g", digits, x);
  return buffer;
}

// A pixel coordinate.
std::string Px(double x) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.1f", x);
  return buffer;
}

std::string Percent(double fraction) { return Num(100 * fraction, 3) + "%"; }

const char* StratumColor(std::size_t stratum) { return kStratumColors[stratum % kColorCount]; }

// White through light blue to dark blue over [0, 1].
std::string HeatColor(double t) {
  t = std::clamp(t, 0.0, 1.0);
  const double from[3] = {247, 251, 255}, to[3] = {8, 48, 107};
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "#%02x%02x%02x", static_cast<int>(std::lround(from[0] + (to[0] - from[0]) * t)),
                static_cast<int>(std::lround(from[1] + (to[1] - from[1]) * t)),
                static_cast<int>(std::lround(from[2] + (to[2] - from[2]) * t)));
  return buffer;
}

std::string Text(double x, double y, const std::string& text, const std::string& attributes = "") {
  return "<text x=\"" + Px(x) + "\" y=\"" + Px(y) + "\"" + (attributes.empty() ? "" : " " + attributes) + ">" +
         Escape(text) + "</text>";
}

std::string Rect(double x, double y, double w, double h, const std::string& attributes, const std::string& title = "") {
  std::string r = "<rect x=\"" + Px(x) + "\" y=\"" + Px(y) + "\" width=\"" + Px(std::max(w, 0.0)) + "\" height=\"" +
                  Px(std::max(h, 0.0)) + "\" " + attributes;
  if (title.empty()) return r + "/>";
  return r + "><title>" + Escape(title) + "</title></rect>";
}

std::size_t StratumOf(const CoverageSummary& summary, const std::string& edge_case) {
  for (std::size_t s = 0; s < summary.edge_cases.size(); ++s) {
    if (summary.edge_cases[s].name == edge_case) return s;
  }
  return 0;
}

std::string StratumName(const EdgeCaseCount& e) { return e.name.empty() ? "nominal" : e.name; }

std::string Legend(const CoverageSummary& summary) {
  std::string html = "<p class=\"legend\">";
  for (std::size_t s = 0; s < summary.edge_cases.size(); ++s) {
    html += "<span><span class=\"swatch\" style=\"background:" + std::string(StratumColor(s)) + "\"></span>" +
            Escape(StratumName(summary.edge_cases[s])) + "</span> ";
  }
  if (summary.has_kept) html += "<span><span class=\"swatch hollow\"></span>not kept (hollow)</span>";
  return html + "</p>\n";
}

// ---------------------------------------------------------------------------------------------------------------

std::string IdentityTable(const CoverageSummary& s) {
  std::string html = "<table class=\"identity\">\n";
  const auto row = [&](const std::string& key, const std::string& value) {
    html += "<tr><th>" + Escape(key) + "</th><td>" + Escape(value) + "</td></tr>\n";
  };
  for (const auto& [key, value] : s.run) row(key, value);
  row("sampler", s.sampler);
  row("draws", std::to_string(s.draws));
  if (s.has_kept) {
    row("kept", std::to_string(s.kept) + " (" +
                    Percent(s.draws ? static_cast<double>(s.kept) / static_cast<double>(s.draws) : 0) + ")");
  }
  row("axis coordinates",
      std::to_string(s.histograms.size()) + " (unit dimension " + std::to_string(s.unit_dimension) + ")");
  row("centered L2 discrepancy", Num(s.centered_l2_discrepancy, 6) + " over the first " +
                                     std::to_string(s.discrepancy_draws) + " draws (lower is more even)");
  row("mean fraction of pairwise bins hit",
      Num(s.mean_pair_fraction, 4) + " over " + std::to_string(s.pairs.size()) + " pairs");
  return html + "</table>\n";
}

std::string EdgeCaseChart(const CoverageSummary& s) {
  constexpr double kLabelW = 130, kBarW = 360, kRowH = 26, kTop = 8, kRight = 170;
  double scale = 0;
  for (const EdgeCaseCount& e : s.edge_cases) scale = std::max({scale, e.fraction, e.target_weight});
  scale = scale > 0 ? scale * 1.05 : 1;
  const double height = kTop * 2 + kRowH * static_cast<double>(s.edge_cases.size()) + 16;
  const double width = kLabelW + kBarW + kRight;
  std::string svg = "<svg class=\"edge-cases\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Px(width) +
                    "\" height=\"" + Px(height) + "\" viewBox=\"0 0 " + Px(width) + " " + Px(height) + "\">\n";
  for (std::size_t i = 0; i < s.edge_cases.size(); ++i) {
    const EdgeCaseCount& e = s.edge_cases[i];
    const double y = kTop + kRowH * static_cast<double>(i);
    svg += Text(kLabelW - 6, y + 16, StratumName(e), "text-anchor=\"end\"");
    svg += Rect(kLabelW, y + 4, kBarW * e.fraction / scale, kRowH - 8, "fill=\"" + std::string(StratumColor(i)) + "\"",
                StratumName(e) + ": " + std::to_string(e.count) + " draws, " + Percent(e.fraction) + "; target " +
                    Percent(e.target_weight));
    if (s.has_kept && e.count > 0) {
      svg += Rect(kLabelW, y + 4,
                  kBarW * e.fraction / scale * static_cast<double>(e.kept) / static_cast<double>(e.count), kRowH - 8,
                  "fill=\"#000000\" fill-opacity=\"0.25\"", StratumName(e) + ": " + std::to_string(e.kept) + " kept");
    }
    const double tx = kLabelW + kBarW * e.target_weight / scale;
    svg += "<line x1=\"" + Px(tx) + "\" y1=\"" + Px(y + 1) + "\" x2=\"" + Px(tx) + "\" y2=\"" + Px(y + kRowH - 1) +
           "\" stroke=\"#000000\" stroke-width=\"2\"/>";
    svg += Text(kLabelW + kBarW + 8, y + 16,
                Percent(e.fraction) + " (" + std::to_string(e.count) + ") vs target " + Percent(e.target_weight));
    svg += "\n";
  }
  svg += Text(
      kLabelW, height - 4,
      "bar: share of the draws" + std::string(s.has_kept ? " (dark part: kept)" : "") + "; black tick: target weight",
      "class=\"note\"");
  return svg + "</svg>\n";
}

std::string EdgeCaseTable(const CoverageSummary& s) {
  std::string html = "<table class=\"numbers\"><tr><th>stratum</th><th>target weight</th><th>draws</th><th>share</th>";
  if (s.has_kept) html += "<th>kept</th><th>kept share of stratum</th>";
  html += "</tr>\n";
  for (const EdgeCaseCount& e : s.edge_cases) {
    html += "<tr><td>" + Escape(StratumName(e)) + "</td><td>" + Percent(e.target_weight) + "</td><td>" +
            std::to_string(e.count) + "</td><td>" + Percent(e.fraction) + "</td>";
    if (s.has_kept) {
      html += "<td>" + std::to_string(e.kept) + "</td><td>" +
              (e.count ? Percent(static_cast<double>(e.kept) / static_cast<double>(e.count)) : std::string("-")) +
              "</td>";
    }
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

std::string Histogram(const CoverageSummary& s, const CoordinateHistogram& h) {
  constexpr double kW = 380, kH = 210, kLeft = 46, kRight = 10, kTop = 12, kBottom = 46;
  struct Bar {
    std::size_t count = 0, kept = 0;
    std::string label, title;
    bool outside = false;
  };
  std::vector<Bar> bars;
  if (!h.categorical && h.below > 0)
    bars.push_back({h.below, 0, "below", std::to_string(h.below) + " draws below " + Num(h.lo), true});
  for (std::size_t b = 0; b < h.counts.size(); ++b) {
    Bar bar;
    bar.count = h.counts[b];
    bar.kept = b < h.kept_counts.size() ? h.kept_counts[b] : 0;
    if (h.categorical) {
      bar.label = b < h.labels.size() ? h.labels[b] : std::to_string(b);
      bar.title = bar.label;
    } else {
      bar.title = "[" + Num(h.BinEdge(b)) + ", " + Num(h.BinEdge(b + 1)) + (b + 1 == h.counts.size() ? "]" : ")");
    }
    bar.title += ": " + std::to_string(bar.count) + " draws" +
                 (s.has_kept ? ", " + std::to_string(bar.kept) + " kept" : std::string());
    bars.push_back(std::move(bar));
  }
  if (!h.categorical && h.above > 0)
    bars.push_back({h.above, 0, "above", std::to_string(h.above) + " draws above " + Num(h.hi), true});
  std::size_t max_count = 1;
  for (const Bar& b : bars) max_count = std::max(max_count, b.count);

  const double plot_w = kW - kLeft - kRight, plot_h = kH - kTop - kBottom;
  const double slot = plot_w / static_cast<double>(std::max<std::size_t>(bars.size(), 1));
  std::string svg = "<svg class=\"histogram\" data-coordinate=\"" + Escape(h.name) +
                    "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Px(kW) + "\" height=\"" + Px(kH) +
                    "\" viewBox=\"0 0 " + Px(kW) + " " + Px(kH) + "\">\n";
  svg += "<line x1=\"" + Px(kLeft) + "\" y1=\"" + Px(kTop + plot_h) + "\" x2=\"" + Px(kLeft + plot_w) + "\" y2=\"" +
         Px(kTop + plot_h) + "\" stroke=\"#444444\"/>";
  svg += "<line x1=\"" + Px(kLeft) + "\" y1=\"" + Px(kTop) + "\" x2=\"" + Px(kLeft) + "\" y2=\"" + Px(kTop + plot_h) +
         "\" stroke=\"#444444\"/>";
  svg += Text(kLeft - 4, kTop + 8, std::to_string(max_count), "text-anchor=\"end\"");
  svg += Text(kLeft - 4, kTop + plot_h, "0", "text-anchor=\"end\"");
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const double x = kLeft + slot * static_cast<double>(i);
    const double bh = plot_h * static_cast<double>(b.count) / static_cast<double>(max_count);
    svg += Rect(x + 1, kTop + plot_h - bh, slot - 2, bh,
                b.outside ? "fill=\"#c44e52\" class=\"outside\"" : "fill=\"#9ecae1\" class=\"bin\"", b.title);
    if (s.has_kept && b.kept > 0) {
      const double kh = plot_h * static_cast<double>(b.kept) / static_cast<double>(max_count);
      svg += Rect(x + 1, kTop + plot_h - kh, slot - 2, kh, "fill=\"#3182bd\" class=\"kept\"", b.title);
    }
    if (b.outside) {
      svg += Text(x + slot / 2, kTop + plot_h - bh - 3, b.label, "text-anchor=\"middle\" class=\"note\"");
    } else if (!b.label.empty()) {
      std::string label = b.label.size() > 12 ? b.label.substr(0, 11) + "~" : b.label;
      svg += Text(x + slot / 2, kTop + plot_h + 14, label, "text-anchor=\"middle\"");
    }
  }
  if (!h.categorical) {
    const double first = kLeft + slot * (h.below > 0 ? 1.0 : 0.0);
    const double width = slot * static_cast<double>(h.counts.size());
    svg += Text(first, kTop + plot_h + 14, Num(h.lo), "text-anchor=\"start\"");
    svg += Text(first + width, kTop + plot_h + 14, Num(h.hi), "text-anchor=\"end\"");
    if (h.counts.size() > 1)
      svg += Text(first + width / 2, kTop + plot_h + 14, Num(h.BinEdge(h.counts.size() / 2)), "text-anchor=\"middle\"");
  }
  svg += Text(kLeft + plot_w / 2, kH - 8, h.name, "text-anchor=\"middle\" class=\"axis-title\"");
  return svg + "</svg>\n";
}

std::string PairMatrix(const CoverageSummary& s) {
  const std::size_t n = s.histograms.size();
  const double cell = n <= 8 ? 48 : n <= 16 ? 32 : 20;
  constexpr double kLabelW = 170;
  const double width = kLabelW + cell * static_cast<double>(n) + 110;
  const double height = kLabelW + cell * static_cast<double>(n) + 40;
  std::string svg = "<svg class=\"pair-matrix\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Px(width) +
                    "\" height=\"" + Px(height) + "\" viewBox=\"0 0 " + Px(width) + " " + Px(height) + "\">\n";
  for (std::size_t i = 0; i < n; ++i) {
    const double c = kLabelW + cell * (static_cast<double>(i) + 0.5);
    svg += Text(kLabelW - 6, c + 4, s.histograms[i].name, "text-anchor=\"end\"");
    svg += Text(c, kLabelW - 6, s.histograms[i].name,
                "text-anchor=\"start\" transform=\"rotate(-60 " + Px(c) + " " + Px(kLabelW - 6) + ")\"");
  }
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j, ++k) {
      const PairCoverage& p = s.pairs.at(k);
      const std::string title = p.a + " x " + p.b + ": " + std::to_string(p.bins_hit) + " of " +
                                std::to_string(p.bins) + " bins hit (" + Percent(p.fraction) + ")";
      // Both triangles, so a row reads every pair of its coordinate.
      for (const auto& [row, col] : {std::pair{j, i}, std::pair{i, j}}) {
        const double x = kLabelW + cell * static_cast<double>(col), y = kLabelW + cell * static_cast<double>(row);
        svg += Rect(x, y, cell - 1, cell - 1, "fill=\"" + HeatColor(p.fraction) + "\" class=\"pair\"", title);
        if (cell >= 32) {
          svg +=
              Text(x + cell / 2, y + cell / 2 + 4, Num(p.fraction, 2),
                   std::string("text-anchor=\"middle\" fill=\"") + (p.fraction > 0.55 ? "#ffffff" : "#000000") + "\"");
        }
      }
    }
    const double d = kLabelW + cell * static_cast<double>(i);
    svg += Rect(d, d, cell - 1, cell - 1, "fill=\"#dddddd\"");
  }
  // The colour scale.
  const double y = kLabelW + cell * static_cast<double>(n) + 12;
  for (int t = 0; t < 10; ++t) {
    svg += Rect(kLabelW + 16 * t, y, 16, 10, "fill=\"" + HeatColor((t + 0.5) / 10) + "\"");
  }
  svg += Text(kLabelW, y + 24, "0", "text-anchor=\"start\"");
  svg += Text(kLabelW + 160, y + 24, "1", "text-anchor=\"end\"");
  return svg + "</svg>\n";
}

// Where a value falls on a plot axis of `length` pixels: a numeric coordinate maps [lo, hi] linearly; a categorical
// one puts label b in band b, spread across the band by `jitter` in [0, 1). A value outside the support goes to a
// strip kStrip wide beyond the plot's end (below: negative positions, above: beyond `length`).
constexpr double kStrip = 12;
double PlotPosition(const CoordinateHistogram& h, double x, double jitter, double length) {
  if (h.categorical) {
    const int bin = std::max(h.Bin(x), 0);
    const double band = length / static_cast<double>(h.counts.size());
    return band * (static_cast<double>(bin) + 0.15 + 0.7 * jitter);
  }
  if (x < h.lo) return -kStrip + 2 + (kStrip - 5) * jitter;
  if (x > h.hi) return length + 3 + (kStrip - 5) * jitter;
  if (h.hi <= h.lo) return length / 2;
  return length * (x - h.lo) / (h.hi - h.lo);
}

// A deterministic spread in [0, 1) for a draw's categorical coordinate.
double Jitter(std::uint64_t unit, std::uint64_t salt) {
  std::uint64_t z = unit * 0x9E3779B97F4A7C15ull + salt * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

std::string Scatter(const CoverageSummary& s, const std::vector<CoverageDraw>& draws, std::size_t a, std::size_t b,
                    const PairCoverage& pair) {
  constexpr double kSize = 230, kLeft = 84, kTop = 8 + kStrip, kBottom = 40 + kStrip, kRight = 8 + kStrip;
  const double width = kLeft + kSize + kRight, height = kTop + kSize + kBottom;
  const CoordinateHistogram& ha = s.histograms[a];
  const CoordinateHistogram& hb = s.histograms[b];
  std::string svg = "<svg class=\"scatter\" data-a=\"" + Escape(ha.name) + "\" data-b=\"" + Escape(hb.name) +
                    "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Px(width) + "\" height=\"" + Px(height) +
                    "\" viewBox=\"0 0 " + Px(width) + " " + Px(height) + "\">\n";
  const std::size_t na = ha.counts.size(), nb = hb.counts.size();
  const double cw = kSize / static_cast<double>(na), ch = kSize / static_cast<double>(nb);
  std::set<std::size_t> hit;
  for (const CoverageDraw& d : draws) {
    const int ba = ha.Bin(d.values[a]), bb = hb.Bin(d.values[b]);
    if (ba >= 0 && bb >= 0) hit.insert(static_cast<std::size_t>(ba) * nb + static_cast<std::size_t>(bb));
  }
  svg += Rect(kLeft, kTop, kSize, kSize, "fill=\"#ffffff\" stroke=\"#444444\"");
  // The strips for values outside the nominal support (an edge case's), where some are.
  bool strips[4] = {false, false, false, false};  // x below, x above, y below, y above
  for (const CoverageDraw& d : draws) {
    if (!ha.categorical) {
      strips[0] = strips[0] || d.values[a] < ha.lo;
      strips[1] = strips[1] || d.values[a] > ha.hi;
    }
    if (!hb.categorical) {
      strips[2] = strips[2] || d.values[b] < hb.lo;
      strips[3] = strips[3] || d.values[b] > hb.hi;
    }
  }
  const std::string strip_style = "fill=\"#fbe3e3\" class=\"outside\"";
  if (strips[0]) svg += Rect(kLeft - kStrip, kTop, kStrip - 1, kSize, strip_style, ha.name + " below " + Num(ha.lo));
  if (strips[1]) svg += Rect(kLeft + kSize + 1, kTop, kStrip - 1, kSize, strip_style, ha.name + " above " + Num(ha.hi));
  if (strips[2]) svg += Rect(kLeft, kTop + kSize + 1, kSize, kStrip - 1, strip_style, hb.name + " below " + Num(hb.lo));
  if (strips[3]) svg += Rect(kLeft, kTop - kStrip, kSize, kStrip - 1, strip_style, hb.name + " above " + Num(hb.hi));
  for (std::size_t cell : hit) {
    const double x = kLeft + cw * static_cast<double>(cell / nb);
    const double y = kTop + kSize - ch * static_cast<double>(cell % nb + 1);
    svg += Rect(x, y, cw, ch, "fill=\"#dbe9f6\" class=\"hit\"");
  }
  std::string grid;
  for (std::size_t i = 1; i < na; ++i) {
    const double x = kLeft + cw * static_cast<double>(i);
    grid += "M" + Px(x) + " " + Px(kTop) + "V" + Px(kTop + kSize);
  }
  for (std::size_t i = 1; i < nb; ++i) {
    const double y = kTop + ch * static_cast<double>(i);
    grid += "M" + Px(kLeft) + " " + Px(y) + "H" + Px(kLeft + kSize);
  }
  if (!grid.empty()) svg += "<path d=\"" + grid + "\" stroke=\"#cccccc\" stroke-width=\"0.5\" fill=\"none\"/>\n";
  std::size_t outside = 0;
  const std::size_t shown = std::min(draws.size(), kMaxScatterPoints);
  for (std::size_t k = 0; k < shown; ++k) {
    const CoverageDraw& d = draws[k];
    const double px = PlotPosition(ha, d.values[a], Jitter(d.unit, 2 * a + 1), kSize);
    const double py = PlotPosition(hb, d.values[b], Jitter(d.unit, 2 * b + 2), kSize);
    outside += (px < 0 || px > kSize || py < 0 || py > kSize) ? 1 : 0;
    const char* color = StratumColor(StratumOf(s, d.edge_case));
    const bool hollow = s.has_kept && !d.kept.value_or(false);
    svg += "<circle cx=\"" + Px(kLeft + px) + "\" cy=\"" + Px(kTop + kSize - py) + "\" r=\"2\" " +
           (hollow ? "fill=\"none\" stroke=\"" + std::string(color) + "\" stroke-width=\"0.8\""
                   : "fill=\"" + std::string(color) + "\"") +
           "/>";
    if (k % 16 == 15) svg += "\n";
  }
  svg += "\n";
  // Axis labels: the support's ends, or the labels of a categorical axis.
  const auto ends = [&](const CoordinateHistogram& h, bool horizontal) {
    std::string out;
    if (h.categorical) {
      for (std::size_t i = 0; i < h.labels.size(); ++i) {
        const double c = kSize * (static_cast<double>(i) + 0.5) / static_cast<double>(h.labels.size());
        const std::string label = h.labels[i].size() > 9 ? h.labels[i].substr(0, 8) + "~" : h.labels[i];
        out += horizontal ? Text(kLeft + c, kTop + kSize + kStrip + 11, label, "text-anchor=\"middle\"")
                          : Text(kLeft - kStrip - 2, kTop + kSize - c + 4, label, "text-anchor=\"end\"");
      }
      return out;
    }
    if (horizontal) {
      out += Text(kLeft, kTop + kSize + kStrip + 11, Num(h.lo), "text-anchor=\"start\"");
      out += Text(kLeft + kSize, kTop + kSize + kStrip + 11, Num(h.hi), "text-anchor=\"end\"");
    } else {
      out += Text(kLeft - kStrip - 2, kTop + kSize, Num(h.lo), "text-anchor=\"end\"");
      out += Text(kLeft - kStrip - 2, kTop + 9, Num(h.hi), "text-anchor=\"end\"");
    }
    return out;
  };
  svg += ends(ha, true) + ends(hb, false);
  svg += Text(kLeft + kSize / 2, kTop + kSize + kStrip + 26, ha.name, "text-anchor=\"middle\" class=\"axis-title\"");
  svg += Text(12, kTop + kSize / 2, hb.name,
              "text-anchor=\"middle\" class=\"axis-title\" transform=\"rotate(-90 12 " + Px(kTop + kSize / 2) + ")\"");
  svg += "</svg>\n";
  svg += "<figcaption>x: " + Escape(ha.name) + ", y: " + Escape(hb.name) + ". " + std::to_string(pair.bins_hit) +
         " of " + std::to_string(pair.bins) + " bins hit (" + Percent(pair.fraction) + ")" +
         (outside ? "; " + std::to_string(outside) + " plotted draws lie outside the nominal support (the pink strips)"
                  : std::string()) +
         ".</figcaption>";
  return svg;
}

// The pairs to plot: every one when they are few, else the least covered (ties: in order), shown in pair order.
std::vector<std::size_t> ScatterPairs(const CoverageSummary& s) {
  std::vector<std::size_t> order(s.pairs.size());
  std::iota(order.begin(), order.end(), 0);
  if (order.size() <= kMaxScatterPairs) return order;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return s.pairs[x].fraction < s.pairs[y].fraction; });
  order.resize(kMaxScatterPairs);
  std::sort(order.begin(), order.end());
  return order;
}

constexpr const char* kStyle = R"(
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px; color: #222222;
       max-width: 1400px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #dddddd; padding-bottom: 4px; }
p.explain { color: #555555; max-width: 900px; font-size: 14px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #dddddd; padding: 3px 8px; text-align: left; }
table.identity th { background: #f4f4f4; font-weight: 600; }
table.numbers td { text-align: right; }
table.numbers td:first-child { text-align: left; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; border: 1px solid #eeeeee; padding: 4px; }
figcaption { font-size: 12px; color: #555555; max-width: 380px; overflow-wrap: anywhere; }
svg text { font-size: 11px; fill: #222222; }
svg text.note { fill: #666666; font-size: 10px; }
svg text.axis-title { font-weight: 600; }
.legend { font-size: 13px; }
.legend > span { margin-right: 14px; }
.swatch { display: inline-block; width: 11px; height: 11px; margin-right: 4px; border-radius: 6px; vertical-align: -1px; }
.swatch.hollow { border: 1.5px solid #4c72b0; width: 8px; height: 8px; }
)";

}  // namespace

std::string CoverageHtml(const CoverageSummary& s, const std::vector<CoverageDraw>& draws) {
  const std::size_t n = s.histograms.size();
  if (s.pairs.size() != n * (n - (n > 0 ? 1 : 0)) / 2) {
    throw std::invalid_argument("CoverageHtml: " + std::to_string(s.pairs.size()) + " pairs for " + std::to_string(n) +
                                " coordinates, expected every pair (" + std::to_string(n * (n - (n > 0 ? 1 : 0)) / 2) +
                                ")");
  }
  for (const CoverageDraw& d : draws) {
    if (d.values.size() != s.histograms.size()) {
      throw std::invalid_argument("CoverageHtml: the draw of unit " + std::to_string(d.unit) + " has " +
                                  std::to_string(d.values.size()) + " values, expected " +
                                  std::to_string(s.histograms.size()));
    }
  }
  std::string scene;
  for (const auto& [key, value] : s.run) {
    if (key == "scene") scene = value;
  }
  std::string html =
      "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
      "<meta charset=\"utf-8\"/>\n<title>Condition coverage" +
      (scene.empty() ? std::string() : " — " + Escape(scene)) + "</title>\n<style>" + kStyle +
      "</style>\n</head>\n<body>\n";
  html += "<h1>Condition coverage of the deployment map</h1>\n";
  html +=
      "<p class=\"explain\">How the draws of this run cover the scene's <code>randomization.conditions</code>: "
      "one histogram per axis coordinate, the fraction of the 2-D bins of every pair of coordinates that some "
      "draw hit, and each edge case's share against the weight the scene gives it. The draws are every attempted "
      "episode's" +
      std::string(s.has_kept ? " (the kept ones are marked: the success filter's losses show where they are)" : "") +
      ". Numbers: coverage.json; every draw: draws.csv.</p>\n";
  html += IdentityTable(s);

  html += "<h2>Edge cases: share of the draws against the target weight</h2>\n";
  html += EdgeCaseChart(s);
  html += EdgeCaseTable(s);

  html += "<h2>Per-axis histograms</h2>\n";
  html +=
      "<p class=\"explain\">10 equal-width bins over the axis's nominal support (one per label for a categorical "
      "axis); red bars: draws an edge case put below or above that support" +
      std::string(s.has_kept ? "; dark part of a bar: the kept episodes" : "") +
      ". A log-uniform axis crowds its lower bins, a normal its middle ones: compare shapes with the "
      "distribution, not with a flat line.</p>\n<div class=\"grid\">\n";
  for (const CoordinateHistogram& h : s.histograms) {
    html += "<figure>" + Histogram(s, h) + "<figcaption>" + Escape(h.name) + ": " + Escape(h.distribution) +
            "</figcaption></figure>\n";
  }
  html += "</div>\n";

  html += "<h2>Pairwise coverage</h2>\n";
  if (s.pairs.empty()) {
    html += "<p class=\"explain\">One coordinate only: no pairs.</p>\n";
  } else {
    html +=
        "<p class=\"explain\">The fraction of the bins of each pair's 2-D grid (10 x 10, or labels x 10) that at "
        "least one draw hit; mean " +
        Num(s.mean_pair_fraction, 4) +
        ". Bins in a normal's far tails or a log-uniform's upper range are rarely reachable: compare samplers "
        "and runs, not with 1.</p>\n";
    html += PairMatrix(s);
    html +=
        "<p class=\"explain\">Colour scale: 0 (no bin of the pair hit) to 1 (every bin hit). Hover a cell for "
        "its counts.</p>\n";
    const std::vector<std::size_t> shown = ScatterPairs(s);
    html += "<h2>Pairs: the draws over each pair's bin grid</h2>\n";
    html +=
        "<p class=\"explain\">Shaded: bins hit. " +
        std::string(shown.size() < s.pairs.size() ? "The " + std::to_string(shown.size()) + " least covered of " +
                                                        std::to_string(s.pairs.size()) + " pairs. "
                                                  : "Every pair. ") +
        (draws.size() > kMaxScatterPoints ? "Points: the first " + std::to_string(kMaxScatterPoints) + " of " +
                                                std::to_string(draws.size()) + " draws; the shading counts them all. "
                                          : std::string()) +
        "Categorical values are spread across their label's band; values an edge case put outside the nominal "
        "support are drawn in the pink strips beside the grid.</p>\n";
    html += Legend(s);
    html += "<div class=\"grid\">\n";
    if (draws.empty()) html += "<p>No draws to plot.</p>\n";
    std::size_t k = 0;
    for (std::size_t i = 0; i < s.histograms.size() && !draws.empty(); ++i) {
      for (std::size_t j = i + 1; j < s.histograms.size(); ++j, ++k) {
        if (!std::binary_search(shown.begin(), shown.end(), k)) continue;
        html += "<figure>" + Scatter(s, draws, i, j, s.pairs.at(k)) + "</figure>\n";
      }
    }
    html += "</div>\n";
  }
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace r2s::randomize

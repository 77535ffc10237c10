// The condition-coverage report of a generate run (coverage.json, draws.csv, coverage.html): written by
// `r2s generate` next to the dataset, its numbers checked against draws.csv independently (Debian's python3), the
// page well-formed with one histogram per coordinate and the edge cases, byte-identical after a shard split and
// `r2s merge` and after a SIGKILLed run is resumed, absent for a scene without a deployment map; plus the page
// drawn from a hand-made summary and the JSON/CSV round trip merge relies on.

#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "amplify/run_coverage.h"
#include "randomize/condition_space.h"
#include "randomize/coverage_html.h"
#include "randomize/coverage_report.h"
#include "tests/test_support.h"

namespace r2s {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using randomize::CoordinateHistogram;
using randomize::CoverageDraw;
using randomize::CoverageSummary;
using testing::RunPython;
using testing::RunR2s;
using testing::SourceDir;
using testing::TempDir;

const char* const kReportFiles[] = {"coverage.json", "draws.csv", "coverage.html"};

std::string Tabletop() { return (SourceDir() / "scenes/tabletop").string(); }
std::string CubeTosses() { return (SourceDir() / "scenes/tabletop/episodes/cube_tosses.hdf5").string(); }

std::string ReadBytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// r2s generate on the first 6 cube tosses, 3 variants each, seed 42, into `out`; `extra` adds options or
// replaces these.
std::vector<std::string> CubeArgs(const fs::path& out, const std::vector<std::string>& extra = {},
                                  const std::string& scene = Tabletop()) {
  std::vector<std::string> args = {"generate",   "--quiet",   "--scene",        scene, "--episodes", CubeTosses(),
                                   "--variants", "3",         "--max-episodes", "6",   "--seed",     "42",
                                   "--out",      out.string()};
  for (std::size_t i = 0; i < extra.size(); ++i) {
    const auto it = std::find(args.begin(), args.end(), extra[i]);
    if (it != args.end() && extra[i].starts_with("--") && i + 1 < extra.size() && it + 1 != args.end()) {
      *(it + 1) = extra[++i];
    } else {
      args.push_back(extra[i]);
    }
  }
  return args;
}

// Checks a generate run's report with Debian's python3, independently of our code: the page parses as XML
// (xml.etree) and as balanced HTML (html.parser); every histogram, kept count, below/above count and edge-case
// count of coverage.json is recounted from draws.csv with coverage.json's bins. Prints a JSON object.
constexpr const char* kCheckReport = R"(
import csv, json, math, sys, xml.etree.ElementTree as ET
from html.parser import HTMLParser
folder = sys.argv[1]
report = json.load(open(folder + '/coverage.json'))
page = open(folder + '/coverage.html', encoding='utf-8').read()
out = {}
root = ET.fromstring(page)
svg = '{http://www.w3.org/2000/svg}svg'
out['histograms'] = [s.get('data-coordinate') for s in root.iter(svg) if s.get('class') == 'histogram']
out['scatters'] = [[s.get('data-a'), s.get('data-b')] for s in root.iter(svg) if s.get('class') == 'scatter']
out['edge_case_charts'] = len([s for s in root.iter(svg) if s.get('class') == 'edge-cases'])
out['pair_matrices'] = len([s for s in root.iter(svg) if s.get('class') == 'pair-matrix'])
out['edge_case_labels'] = [''.join(t.itertext()) for s in root.iter(svg) if s.get('class') == 'edge-cases'
                           for t in s.iter('{http://www.w3.org/2000/svg}text')]
out['text'] = ''.join(root.itertext())
out['scripts'] = page.count('<script') + page.count('src=') + page.count('href=') + page.count('@import')
class Balance(HTMLParser):
  void = {'meta', 'br', 'img', 'hr', 'link', 'input'}
  def __init__(self):
    super().__init__(); self.stack = []; self.errors = []
  def handle_starttag(self, tag, attrs):
    if tag not in self.void: self.stack.append(tag)
  def handle_startendtag(self, tag, attrs):
    pass  # <meta .../>, <rect .../>: closed where they open
  def handle_endtag(self, tag):
    if not self.stack or self.stack[-1] != tag: self.errors.append('unexpected </%s>' % tag)
    else: self.stack.pop()
b = Balance(); b.feed(page); b.close()
out['html_errors'] = b.errors + ['unclosed <%s>' % t for t in b.stack]

rows = list(csv.DictReader(open(folder + '/draws.csv', newline='')))
out['rows'] = len(rows)
out['units'] = [int(r['unit']) for r in rows]
mismatches = []
for axis in report['axes']:
  n = len(axis['counts'])
  counts, kept, below, above = [0] * n, [0] * n, 0, 0
  for r in rows:
    v = r[axis['coordinate']]
    if axis['categorical']:
      b = axis['labels'].index(v)
    else:
      x, lo, hi = float(v), axis['lo'], axis['hi']
      if x < lo: below += 1; continue
      if x > hi: above += 1; continue
      b = 0 if n == 1 else min(max(int(math.floor((x - lo) / (hi - lo) * n)), 0), n - 1)
    counts[b] += 1
    kept[b] += r['kept'] == '1'
  if counts != axis['counts']: mismatches.append(axis['coordinate'] + ' counts %s vs %s' % (counts, axis['counts']))
  if kept != axis['kept_counts']: mismatches.append(axis['coordinate'] + ' kept_counts')
  if not axis['categorical'] and (below, above) != (axis['below'], axis['above']):
    mismatches.append(axis['coordinate'] + ' below/above')
for e in report['edge_cases']:
  count = sum(1 for r in rows if r['edge_case'] == e['name'])
  kept = sum(1 for r in rows if r['edge_case'] == e['name'] and r['kept'] == '1')
  if (count, kept) != (e['count'], e['kept']): mismatches.append('edge case ' + e['name'])
if sum(1 for r in rows if r['kept'] == '1') != report['kept']: mismatches.append('kept')
out['mismatches'] = mismatches
print(json.dumps(out))
)";

json CheckReport(const fs::path& folder) {
  const auto result = RunPython(kCheckReport, {folder.string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.exit_code == 0 ? json::parse(result.out) : json::object();
}

TEST(CoverageReportCli, GenerateWritesTheReportNextToTheDataset) {
  TempDir dir;
  const auto run = RunR2s(CubeArgs(dir / "out", {"--threads", "2"}));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json summary = json::parse(run.out);
  for (const char* name : kReportFiles) EXPECT_TRUE(fs::exists(dir / "out" / name)) << name;
  EXPECT_TRUE(fs::exists(dir / "out/cube_tosses.hdf5"));
  EXPECT_FALSE(fs::exists(dir / "out/parts"));

  const json report = json::parse(ReadBytes(dir / "out/coverage.json"));
  EXPECT_EQ(report["draws"], 18) << "every attempted unit's draw";
  EXPECT_EQ(report["kept"], summary["totals"]["kept"]);
  EXPECT_EQ(report["sampler"], "sobol");
  EXPECT_EQ(report["run"]["seed"], "42");
  EXPECT_EQ(report["run"]["shard"], "0/1");
  EXPECT_EQ(report["run"]["units"], "[0, 18)");
  EXPECT_NE(report["run"]["scene"].get<std::string>().find("tabletop/scene.yaml"), std::string::npos);
  ASSERT_EQ(report["axes"].size(), 6u);  // cube_position_m gives two coordinates
  ASSERT_EQ(report["edge_cases"].size(), 3u);

  const json check = CheckReport(dir / "out");
  ASSERT_FALSE(check.empty());
  EXPECT_EQ(check["mismatches"], json::array()) << "coverage.json disagrees with draws.csv";
  EXPECT_EQ(check["html_errors"], json::array());
  EXPECT_EQ(check["scripts"], 0) << "the page fetches or runs something";
  EXPECT_EQ(check["rows"], 18);
  std::vector<int> units(18);
  for (int u = 0; u < 18; ++u) units[static_cast<std::size_t>(u)] = u;
  EXPECT_EQ(check["units"].get<std::vector<int>>(), units);
  std::vector<std::string> coordinates;
  for (const json& axis : report["axes"]) coordinates.push_back(axis["coordinate"]);
  EXPECT_EQ(check["histograms"].get<std::vector<std::string>>(), coordinates) << "one histogram per coordinate";
  EXPECT_EQ(check["scatters"].size(), 15u) << "6 coordinates: every one of the 15 pairs";
  EXPECT_EQ(check["pair_matrices"], 1);
  EXPECT_EQ(check["edge_case_charts"], 1);
  const std::string labels = check["edge_case_labels"].dump();
  for (const char* name : {"nominal", "dim_light", "glare", "target 15%", "target 5%"}) {
    EXPECT_NE(labels.find(name), std::string::npos) << name << " missing from the edge-case chart: " << labels;
  }
  const std::string text = check["text"];
  for (const std::string& s :
       {std::string("sobol"), std::string("centered L2 discrepancy"), report["run"]["scene"].get<std::string>(),
        std::to_string(report["centered_l2_discrepancy"].get<double>()).substr(0, 5)}) {
    EXPECT_NE(text.find(s), std::string::npos) << "the page does not show " << s;
  }

  // A finished run is not redone; its report stays.
  const std::string before = ReadBytes(dir / "out/coverage.html");
  const auto again = RunR2s(CubeArgs(dir / "out", {"--threads", "2"}));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(ReadBytes(dir / "out/coverage.html"), before);
}

TEST(CoverageReportCli, ShardsMergeToTheUnshardedRunsReport) {
  TempDir dir;
  ASSERT_EQ(RunR2s(CubeArgs(dir / "whole", {"--threads", "2"})).exit_code, 0);
  std::vector<std::string> merge = {"merge"};
  for (int i = 0; i < 3; ++i) {
    const auto shard = RunR2s(CubeArgs(dir / "sharded", {"--shard", std::to_string(i) + "/3", "--threads", "1"}));
    ASSERT_EQ(shard.exit_code, 0) << shard.err;
    const fs::path folder = dir / ("sharded/shard-" + std::to_string(i) + "-of-3");
    const json report = json::parse(ReadBytes(folder / "coverage.json"));
    EXPECT_EQ(report["draws"], 6) << "a shard reports its own units";
    EXPECT_EQ(report["run"]["shard"], std::to_string(i) + "/3");
    EXPECT_EQ(report["run"]["units"], "[" + std::to_string(6 * i) + ", " + std::to_string(6 * i + 6) + ")");
    merge.push_back(folder.string());
  }
  std::vector<std::string> merge_to = merge;
  merge_to.insert(merge_to.end(), {"--out", (dir / "merged").string()});
  const auto merged = RunR2s(merge_to);
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  for (const char* name : kReportFiles) {
    const std::string whole = ReadBytes(dir / "whole" / name);
    ASSERT_GT(whole.size(), 100u) << name;
    EXPECT_TRUE(whole == ReadBytes(dir / "merged" / name))
        << name << ": the merged report differs from the unsharded run's";
  }

  // A shard without its report does not belong with the others.
  fs::remove(dir / "sharded/shard-1-of-3/coverage.json");
  merge.insert(merge.end(), {"--out", (dir / "merged_again").string()});
  const auto refused = RunR2s(merge);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("shard-1-of-3/coverage.json"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(dir / "merged_again/summary.json"));
}

TEST(CoverageReportCli, ARunKilledMidwayResumesToTheSameReport) {
  TempDir dir;
  const std::vector<std::string> args = {
      "generate",   "--quiet", "--scene",   Tabletop(), "--episodes", testing::BundledPandaEpisode().string(),
      "--variants", "6",       "--threads", "1",        "--seed",     "5",
      "--keep",     "all"};
  auto with_out = [&](const fs::path& out) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--out", out.string()});
    return a;
  };
  ASSERT_EQ(RunR2s(with_out(dir / "a")).exit_code, 0);
  const pid_t pid = testing::SpawnR2s(with_out(dir / "b"));
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (testing::UnitRecords(dir / "b/parts") < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it was killed";
  for (const char* name : kReportFiles) EXPECT_FALSE(fs::exists(dir / "b" / name)) << name << " before the end";
  ASSERT_EQ(RunR2s(with_out(dir / "b")).exit_code, 0);
  for (const char* name : kReportFiles) {
    EXPECT_TRUE(ReadBytes(dir / "a" / name) == ReadBytes(dir / "b" / name)) << name << " differs after the resume";
  }
}

// The tabletop scene without its deployment map (and what it sets), its assets copied (a scene's assets must lie
// in its folder).
fs::path SceneWithoutConditions(const fs::path& dir) {
  fs::create_directories(dir);
  for (const char* asset : {"robot", "meshes"}) {
    fs::copy(fs::path(Tabletop()) / asset, dir / asset, fs::copy_options::recursive);
  }
  std::ifstream in(fs::path(Tabletop()) / "scene.yaml");
  std::string text;
  bool skipping = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "  conditions:") skipping = true;
    if (line == "  actions:" || line.starts_with("  # Perturbations")) skipping = false;
    if (!skipping) text += line + "\n";
  }
  testing::WriteTextFile(dir / "scene.yaml", text);
  return dir;
}

TEST(CoverageReportCli, ASceneWithoutADeploymentMapGetsNoReport) {
  TempDir dir;
  const fs::path scene = SceneWithoutConditions(dir / "scene");
  std::vector<std::string> args = CubeArgs(dir / "out", {"--max-episodes", "2"}, scene.string());
  args.erase(std::find(args.begin(), args.end(), "--quiet"));
  const auto run = RunR2s(args);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("no deployment map (randomization.conditions): no coverage report"), std::string::npos)
      << run.err;
  EXPECT_TRUE(fs::exists(dir / "out/summary.json"));
  for (const char* name : kReportFiles) EXPECT_FALSE(fs::exists(dir / "out" / name)) << name;

  std::vector<std::string> merge = {"merge"};
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(
        RunR2s(CubeArgs(dir / "sharded", {"--max-episodes", "2", "--shard", std::to_string(i) + "/2"}, scene.string()))
            .exit_code,
        0);
    merge.push_back((dir / ("sharded/shard-" + std::to_string(i) + "-of-2")).string());
  }
  merge.insert(merge.end(), {"--out", (dir / "merged").string()});
  const auto merged = RunR2s(merge);
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  for (const char* name : kReportFiles) EXPECT_FALSE(fs::exists(dir / "merged" / name)) << name;
}

// ---------------------------------------------------------------------------------------------------------------
// The page from a hand-made summary

CoordinateHistogram Numeric(const std::string& name, double lo, double hi) {
  CoordinateHistogram h;
  h.axis = h.name = name;
  h.distribution = "uniform [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  h.lo = lo;
  h.hi = hi;
  h.counts.assign(10, 0);
  return h;
}

// A summary of `n` numeric coordinates ("c0", ...) plus a categorical one, with two strata, counted from 5 draws.
std::pair<CoverageSummary, std::vector<CoverageDraw>> HandMade(int numeric) {
  CoverageSummary layout;
  layout.run = {{"scene", "/scenes/<lab> & \"kitchen\"/scene.yaml"}, {"seed", "7"}};
  layout.sampler = "sobol";
  layout.unit_dimension = numeric + 1;
  for (int i = 0; i < numeric; ++i) layout.histograms.push_back(Numeric("c" + std::to_string(i), 0, 1));
  CoordinateHistogram material;
  material.axis = material.name = "material";
  material.distribution = "categorical {wood: 0.5, steel & glass: 0.5}";
  material.categorical = true;
  material.labels = {"wood", "steel & glass"};
  material.counts.assign(2, 0);
  layout.histograms.push_back(material);
  layout.edge_cases = {{"", 0.75, 0, 0, 0}, {"dim <light>", 0.25, 0, 0, 0}};
  std::vector<CoverageDraw> draws;
  for (int k = 0; k < 5; ++k) {
    CoverageDraw d;
    d.unit = static_cast<std::uint64_t>(k);
    d.variant = static_cast<std::uint32_t>(k);
    d.kept = k % 2 == 0;
    d.edge_case = k == 3 ? "dim <light>" : "";
    for (int i = 0; i < numeric; ++i) d.values.push_back(k == 3 && i == 0 ? -0.5 : 0.1 + 0.2 * k + 0.01 * i);
    d.values.push_back(k % 2);
    d.unit_point.assign(static_cast<std::size_t>(numeric + 1), 0.1 + 0.2 * k);
    draws.push_back(std::move(d));
  }
  return {randomize::SummarizeCoverage(layout, draws), draws};
}

json CheckPage(const std::string& html) {
  TempDir dir;
  testing::WriteTextFile(dir / "coverage.html", html);
  const auto result = RunPython(R"(
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(open(sys.argv[1], encoding='utf-8').read())
svg = '{http://www.w3.org/2000/svg}svg'
print(json.dumps({
  'histograms': [s.get('data-coordinate') for s in root.iter(svg) if s.get('class') == 'histogram'],
  'scatters': [[s.get('data-a'), s.get('data-b')] for s in root.iter(svg) if s.get('class') == 'scatter'],
  'edge_case_charts': len([s for s in root.iter(svg) if s.get('class') == 'edge-cases']),
  'outside_bars': len([r for s in root.iter(svg) if s.get('class') == 'histogram'
                       for r in s.iter('{http://www.w3.org/2000/svg}rect') if r.get('class') == 'outside']),
  'title': root.find('{http://www.w3.org/1999/xhtml}head/{http://www.w3.org/1999/xhtml}title').text,
  'text': ''.join(root.itertext())}))
)",
                                {(dir / "coverage.html").string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.exit_code == 0 ? json::parse(result.out) : json::object();
}

TEST(CoverageHtml, DrawsAHandMadeSummary) {
  const auto [summary, draws] = HandMade(2);
  ASSERT_EQ(summary.pairs.size(), 3u);
  ASSERT_EQ(summary.histograms[0].below, 1u);
  const std::string html = randomize::CoverageHtml(summary, draws);
  EXPECT_EQ(html, randomize::CoverageHtml(summary, draws)) << "the page is a function of its inputs";
  const json page = CheckPage(html);
  ASSERT_FALSE(page.empty());
  EXPECT_EQ(page["histograms"], json::array({"c0", "c1", "material"}));
  EXPECT_EQ(page["scatters"],
            json::array({json::array({"c0", "c1"}), json::array({"c0", "material"}), json::array({"c1", "material"})}));
  EXPECT_EQ(page["edge_case_charts"], 1);
  EXPECT_EQ(page["outside_bars"], 1) << "c0's draw below its support";
  EXPECT_EQ(page["title"], "Condition coverage — /scenes/<lab> & \"kitchen\"/scene.yaml");
  const std::string text = page["text"];
  for (const char* s : {"dim <light>", "steel & glass", "seed", "sobol", "target 25%", "kept"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(html.find("<script"), std::string::npos);

  // Without draws: no scatter plots, the rest as before.
  const json bare = CheckPage(randomize::CoverageHtml(summary, {}));
  EXPECT_EQ(bare["histograms"].size(), 3u);
  EXPECT_EQ(bare["scatters"].size(), 0u);

  std::vector<CoverageDraw> short_draws = draws;
  short_draws[1].values.pop_back();
  EXPECT_THROW(randomize::CoverageHtml(summary, short_draws), std::invalid_argument);
}

TEST(CoverageHtml, ManyPairsPlotTheLeastCovered) {
  auto [summary, draws] = HandMade(6);  // 7 coordinates: 21 pairs
  ASSERT_EQ(summary.pairs.size(), 21u);
  for (std::size_t k = 0; k < summary.pairs.size(); ++k) {
    summary.pairs[k].fraction = 1.0 - static_cast<double>(k) / 21;  // the later the pair, the less covered
  }
  const json page = CheckPage(randomize::CoverageHtml(summary, draws));
  ASSERT_EQ(page["scatters"].size(), randomize::kMaxScatterPairs);
  EXPECT_EQ(page["scatters"][0], json::array({summary.pairs[6].a, summary.pairs[6].b}));
  EXPECT_EQ(page["scatters"][14], json::array({summary.pairs[20].a, summary.pairs[20].b}));
}

// What r2s merge relies on: coverage.json and draws.csv give back the layout and the draws exactly, so the
// summary, the files and the page rebuilt from them are the same bytes.
TEST(RunCoverage, JsonAndCsvGiveBackTheSameReport) {
  const randomize::ConditionSpace space = randomize::ParseConditionSpace(fs::path(Tabletop()) / "scene.yaml");
  std::vector<CoverageDraw> draws = amplify::RunConditionDraws(space, 5, 4, 3, 43);
  ASSERT_EQ(draws.size(), 40u);
  for (std::size_t k = 0; k < draws.size(); ++k) {
    const std::uint64_t u = 3 + k;
    ASSERT_EQ(draws[k].unit, u);
    ASSERT_EQ(draws[k].episode, u / 4);
    ASSERT_EQ(draws[k].variant, u % 4);
    const randomize::ConditionDraw single = randomize::DrawConditions(space, 5, static_cast<std::uint32_t>(u / 4),
                                                                      static_cast<std::uint32_t>(u % 4), 1, 4)[0];
    EXPECT_EQ(draws[k].edge_case, single.edge_case);
    EXPECT_EQ(draws[k].values[0], single.values.at("light_lux")[0]);
    EXPECT_EQ(draws[k].unit_point, single.unit_point);
    draws[k].kept = k % 3 != 0;
  }
  randomize::CoverageSummary layout = randomize::CoverageLayout(space);
  layout.run = {{"scene", "scene.yaml"}, {"units", "[3, 43)"}};
  const CoverageSummary summary = randomize::SummarizeCoverage(layout, draws);
  const std::string json_text = randomize::CoverageJson(summary);
  const std::string csv = amplify::RunDrawsCsv(summary, draws);

  const CoverageSummary layout_back = randomize::ParseCoverageJson(json_text);
  const std::vector<CoverageDraw> draws_back = amplify::ParseRunDrawsCsv(csv, layout_back, "draws.csv");
  const CoverageSummary summary_back = randomize::SummarizeCoverage(layout_back, draws_back);
  EXPECT_EQ(randomize::CoverageJson(summary_back), json_text);
  EXPECT_EQ(amplify::RunDrawsCsv(summary_back, draws_back), csv);
  EXPECT_EQ(randomize::CoverageHtml(summary_back, draws_back), randomize::CoverageHtml(summary, draws));

  // A damaged row is named by its line and column.
  std::string bad = csv;
  bad.replace(bad.find("\n3,0,3,") + 1, 1, "x");
  try {
    amplify::ParseRunDrawsCsv(bad, layout_back, "draws.csv");
    FAIL() << "a bad unit was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("unit"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace r2s

// r2s generate and r2s merge through the real binary, on the bundled real data, plus the C++ API: byte-identical
// output for any thread count and any shard split, a SIGKILLed run resumed to the same bytes, the source's schema
// out, opt-in camera streams, and bad input that exits 2 with nothing written.

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "amplify/generator.h"
#include "episode/dataset_reader.h"
#include "episode/input_error.h"
#include "tests/test_support.h"

extern char** environ;

namespace r2s {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::BundledPandaEpisode;
using testing::RunR2s;
using testing::SourceDir;
using testing::TempDir;

std::string Tabletop() { return (SourceDir() / "scenes/tabletop").string(); }
std::string CubeTosses() { return (SourceDir() / "scenes/tabletop/episodes/cube_tosses.hdf5").string(); }

std::string ReadBytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// r2s generate on the first 6 cube tosses, 3 variants each, seed 42; `extra` adds options or replaces these.
std::vector<std::string> CubeArgs(const fs::path& out, std::vector<std::string> extra = {}) {
  std::vector<std::pair<std::string, std::string>> options = {
      {"--scene", Tabletop()}, {"--episodes", CubeTosses()}, {"--variants", "3"}, {"--max-episodes", "6"},
      {"--seed", "42"},        {"--out", out.string()}};
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < extra.size(); ++i) {
    auto it = std::find_if(options.begin(), options.end(), [&](const auto& o) { return o.first == extra[i]; });
    if (it != options.end() && i + 1 < extra.size()) {
      it->second = extra[++i];
    } else {
      rest.push_back(extra[i]);
    }
  }
  std::vector<std::string> args = {"generate", "--quiet"};
  for (const auto& [key, value] : options) args.insert(args.end(), {key, value});
  args.insert(args.end(), rest.begin(), rest.end());
  return args;
}


TEST(Generate, TheThreadCountDoesNotChangeABit) {
  TempDir dir;
  const auto one = RunR2s(CubeArgs(dir / "one", {"--threads", "1", "--keep", "all"}));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto three = RunR2s(CubeArgs(dir / "three", {"--threads", "3", "--keep", "all"}));
  ASSERT_EQ(three.exit_code, 0) << three.err;
  const std::string a = ReadBytes(dir / "one/cube_tosses.hdf5");
  ASSERT_GT(a.size(), 10000u);
  EXPECT_TRUE(a == ReadBytes(dir / "three/cube_tosses.hdf5")) << "1 and 3 threads wrote different files";
  const json summary = json::parse(one.out);
  EXPECT_EQ(summary["totals"]["attempted"], 18);
  EXPECT_EQ(summary["totals"]["kept"], 18);
  EXPECT_EQ(episode::DatasetReader::Open(dir / "one/cube_tosses.hdf5").num_episodes(), 18);
  EXPECT_FALSE(fs::exists(dir / "one/parts")) << "parts are removed once the dataset is assembled";
}

TEST(Generate, ShardsMergeToTheUnshardedRun) {
  TempDir dir;
  // --keep success drops some episodes, so the merge must renumber across shards as the unsharded run does.
  const auto whole = RunR2s(CubeArgs(dir / "whole", {"--threads", "2"}));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const json whole_summary = json::parse(whole.out);
  ASSERT_LT(whole_summary["totals"]["kept"].get<int>(), 18) << "every variant succeeded: the test would not renumber";
  ASSERT_GT(whole_summary["totals"]["kept"].get<int>(), 0);
  std::vector<std::string> merge = {"merge"};
  for (int i = 0; i < 4; ++i) {
    const auto shard = RunR2s(CubeArgs(dir / "sharded", {"--shard", std::to_string(i) + "/4", "--threads", "1"}));
    ASSERT_EQ(shard.exit_code, 0) << shard.err;
    merge.push_back((dir / ("sharded/shard-" + std::to_string(i) + "-of-4")).string());
  }
  std::reverse(merge.begin() + 1, merge.end());  // the order given does not matter: shard indices do
  merge.insert(merge.end(), {"--out", (dir / "merged").string()});
  const auto merged = RunR2s(merge);
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_EQ(json::parse(merged.out)["totals"]["kept"], whole_summary["totals"]["kept"]);
  EXPECT_TRUE(ReadBytes(dir / "whole/cube_tosses.hdf5") == ReadBytes(dir / "merged/cube_tosses.hdf5"))
      << "the merged shards differ from the unsharded run";
}

TEST(Generate, ARunKilledMidwayResumesToTheSameBytes) {
  TempDir dir;
  const std::vector<std::string> args = {"generate", "--scene",    Tabletop(), "--episodes", BundledPandaEpisode().string(),
                                         "--variants", "6",        "--threads", "1",          "--seed", "3", "--quiet"};
  auto with_out = [&](const fs::path& out) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--out", out.string()});
    return a;
  };
  const auto uninterrupted = RunR2s(with_out(dir / "a"));
  ASSERT_EQ(uninterrupted.exit_code, 0) << uninterrupted.err;

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
  const int done_before = testing::UnitRecords(dir / "b/parts");
  EXPECT_GE(done_before, 2);
  EXPECT_LT(done_before, 6);
  EXPECT_FALSE(fs::exists(dir / "b/summary.json"));
  EXPECT_FALSE(fs::exists(dir / "b/episode_0.hdf5")) << "a killed run left a dataset behind";

  std::vector<std::string> resume = with_out(dir / "b");
  resume.erase(std::find(resume.begin(), resume.end(), "--quiet"));
  const auto resumed = RunR2s(resume);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming: " + std::to_string(done_before) + " of 6 episodes already done"),
            std::string::npos)
      << resumed.err;
  EXPECT_EQ(json::parse(resumed.out)["this_run"]["attempted"], 6 - done_before);
  for (int i = 0; i < 6; ++i) {
    const std::string name = "episode_" + std::to_string(i) + ".hdf5";
    const std::string bytes = ReadBytes(dir / "a" / name);
    ASSERT_GT(bytes.size(), 100000u) << name;
    EXPECT_TRUE(bytes == ReadBytes(dir / "b" / name)) << name << " differs after the resume";
  }
  EXPECT_FALSE(fs::exists(dir / "b/episode_6.hdf5"));
  // A finished run is not redone.
  const auto again = RunR2s(with_out(dir / "b"));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("is complete already"), std::string::npos) << again.err;
}

json Inspect(const fs::path& dataset) {
  const auto result = RunR2s({"inspect", dataset.string(), "--json"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.exit_code == 0 ? json::parse(result.out) : json();
}

TEST(Generate, TheOutputHasTheSourcesSchemaAndSaysItIsSynthetic) {
  TempDir dir;
  const auto run = RunR2s(CubeArgs(dir / "out", {"--keep", "all"}));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json source = Inspect(CubeTosses());
  const json output = Inspect(dir / "out/cube_tosses.hdf5");
  ASSERT_TRUE(source.contains("features"));
  EXPECT_EQ(output["features"], source["features"]);
  EXPECT_EQ(output["layout"], source["layout"]);
  EXPECT_EQ(output["fps"]["declared"], source["fps"]["declared"]);
  // r2s inspect counts real and synthetic episodes and shows where the synthetic ones came from.
  EXPECT_EQ(source["synthetic_episodes"], 0);
  EXPECT_EQ(source["real_episodes"], 100);
  EXPECT_EQ(output["synthetic_episodes"], 18);
  EXPECT_EQ(output["real_episodes"], 0);
  EXPECT_EQ(output["synthetic_sources"], json::array({CubeTosses()}));
  EXPECT_EQ(output["episodes"][0]["provenance"]["seed"], 42);
  const auto text = RunR2s({"inspect", (dir / "out/cube_tosses.hdf5").string()});
  EXPECT_NE(text.out.find("episodes   18 (18 synthetic, 0 real)"), std::string::npos) << text.out.substr(0, 600);

  const auto reader = episode::DatasetReader::Open(dir / "out/cube_tosses.hdf5");
  std::set<std::pair<std::int64_t, std::int64_t>> seen;
  for (std::int64_t i = 0; i < reader.num_episodes(); ++i) {
    const episode::Episode e = reader.ReadEpisode(i);
    ASSERT_TRUE(e.provenance) << i;
    EXPECT_EQ(e.provenance->seed, 42u);
    EXPECT_EQ(e.provenance->source_dataset, CubeTosses());
    seen.insert({e.provenance->source_episode, e.provenance->variant});
    ASSERT_TRUE(e.metadata.success.has_value());
    std::set<std::string> names;
    for (const auto& p : e.provenance->parameters) names.insert(p.name);
    for (const char* name : {"physics.objects.cube.lateral_friction", "conditions.cube_position_m",
                             "objects.cube.position_xy_m", "actions.time_warp", "success"}) {
      EXPECT_EQ(names.count(name), 1u) << name;
    }
    // The source's `real: true` flag is turned to false.
    const auto* real = episode::FindAttribute(*e.storage.FindGroup(""), "real");
    ASSERT_NE(real, nullptr);
    EXPECT_EQ(real->AsBool(), false);
    // Where the variant put the toss: its first pose's xy is the drawn position.
    for (const auto& p : e.provenance->parameters) {
      if (p.name != "objects.cube.position_xy_m") continue;
      const auto pose = e.At("observation.object_pose").data.values<double>();
      EXPECT_NEAR(pose[0], p.value[0], 1e-9);
      EXPECT_NEAR(pose[1], p.value[1], 1e-9);
    }
  }
  EXPECT_EQ(seen.size(), 18u);  // every (source episode, variant) once
}

// A batch job given one CPU of the machine (Slurm, taskset and container cpusets pin the affinity mask, which a
// child inherits) gets one worker by default, not one per CPU of the machine, and its renderer rasterizes on that
// worker's thread instead of starting lavapipe's own threads; a user's LP_NUM_THREADS is left as set.
TEST(Generate, DefaultThreadsAreTheCpusTheJobWasGiven) {
  TempDir dir;
  cpu_set_t original;
  ASSERT_EQ(sched_getaffinity(0, sizeof(original), &original), 0);
  int first = 0;
  while (!CPU_ISSET(first, &original)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  const auto generate = [&](const std::string& out) {
    return RunR2s({"generate", "--scene", Tabletop(), "--episodes", CubeTosses(), "--variants", "1",
                   "--max-episodes", "1", "--keep", "all", "--cameras", "wrist", "--out", (dir / out).string()});
  };
  unsetenv("LP_NUM_THREADS");
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const auto pinned = generate("pinned");
  setenv("LP_NUM_THREADS", "1", 1);
  const auto user_set = generate("user_set");
  unsetenv("LP_NUM_THREADS");
  ASSERT_EQ(sched_setaffinity(0, sizeof(original), &original), 0);

  ASSERT_EQ(pinned.exit_code, 0) << pinned.err;
  EXPECT_EQ(json::parse(pinned.out)["threads"], 1);
  EXPECT_NE(pinned.err.find(", 1 threads -> "), std::string::npos) << pinned.err;
  EXPECT_NE(pinned.err.find("LP_NUM_THREADS=0 (1 renderer on 1 CPU: each rasterizes on its worker's thread)"),
            std::string::npos)
      << pinned.err;
  ASSERT_EQ(user_set.exit_code, 0) << user_set.err;
  EXPECT_NE(user_set.err.find("LP_NUM_THREADS=1 from the environment (1 renderer on 1 CPU; unset, it would be 0)"),
            std::string::npos)
      << user_set.err;
  // The same bytes either way: the rasterizer's threads change how fast, never what.
  const auto a = episode::DatasetReader::Open(dir / "pinned/cube_tosses.hdf5").ReadEpisode(0);
  const auto b = episode::DatasetReader::Open(dir / "user_set/cube_tosses.hdf5").ReadEpisode(0);
  EXPECT_EQ(a.At("observation.images.wrist").data.bytes, b.At("observation.images.wrist").data.bytes);
}

TEST(Generate, OptInCamerasAddImageDepthAndSegmentationFeatures) {
  TempDir dir;
  const auto run = RunR2s({"generate", "--scene", Tabletop(), "--episodes", CubeTosses(), "--variants", "2",
                           "--max-episodes", "1", "--keep", "all", "--cameras", "wrist", "--streams",
                           "rgb,depth,segmentation", "--out", (dir / "out").string(), "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json summary = json::parse(run.out);
  EXPECT_GT(summary["totals"]["camera_frames"].get<int>(), 100);
  const auto reader = episode::DatasetReader::Open(dir / "out/cube_tosses.hdf5");
  const auto& features = reader.info().features;
  ASSERT_EQ(features.count("observation.images.wrist"), 1u);
  EXPECT_EQ(features.at("observation.images.wrist").shape, (std::vector<std::int64_t>{240, 320, 3}));
  // The robomimic layout's [H, W, 1] (robosuite's depth shape), under obs/wrist_depth.
  EXPECT_EQ(features.at("observation.depth.wrist").shape, (std::vector<std::int64_t>{240, 320, 1}));
  EXPECT_EQ(reader.info().storage_paths.at("observation.depth.wrist"), "obs/wrist_depth");
  EXPECT_EQ(features.at("observation.segmentation.wrist").shape, (std::vector<std::int64_t>{240, 320, 1}));
  EXPECT_EQ(features.at("observation.depth.wrist").dtype, episode::DType::kFloat32);
  EXPECT_EQ(features.at("observation.segmentation.wrist").dtype, episode::DType::kUInt16);
  ASSERT_EQ(reader.num_episodes(), 2);
  const episode::Episode a = reader.ReadEpisode(0), b = reader.ReadEpisode(1);
  EXPECT_NE(a.At("observation.images.wrist").data.bytes, b.At("observation.images.wrist").data.bytes);
  const json table =
      json::parse(episode::FindAttribute(*a.storage.FindGroup(""), "r2s_segmentation_ids")->AsString().value());
  std::set<int> ids = {0};
  for (const auto& entry : table) ids.insert(entry["id"].get<int>());
  const auto segmentation = a.At("observation.segmentation.wrist").data.values<std::uint16_t>();
  std::set<int> drawn(segmentation.begin(), segmentation.end());
  for (int id : drawn) EXPECT_EQ(ids.count(id), 1u) << id;
  EXPECT_GT(drawn.size(), 1u);  // the table at least
  const auto depth = a.At("observation.depth.wrist").data.values<float>();
  for (std::size_t i = 0; i < depth.size(); i += 997) {
    EXPECT_TRUE(depth[i] == 0 || (depth[i] > 0.01 && depth[i] < 2.0)) << depth[i];
  }
}

// The library speaks of its options by field, not by the command line's flags (r2s generate maps them back).
TEST(Generate, TheLibraryRefusesBadOptionsNamingTheField) {
  using amplify::Generator;
  using amplify::GeneratorOptions;
  using amplify::kGeneratorOptionsSource;
  struct Case {
    std::function<void(GeneratorOptions&)> set;
    std::string field, problem;
  };
  const std::vector<Case> cases = {
      {[](GeneratorOptions& o) { o.variants = 0; }, "variants", "must be at least 1, found 0"},
      {[](GeneratorOptions& o) { o.threads = -2; }, "threads", "must be >= 0, found -2"},
      {[](GeneratorOptions& o) { o.max_source_episodes = 0; }, "max_source_episodes", "must be at least 1, found 0"},
      {[](GeneratorOptions& o) { o.streams = {"rgb", "infrared"}; }, "streams", "'infrared' is not rgb, depth"},
      {[](GeneratorOptions& o) {
         o.shard.index = 3;
         o.shard.count = 3;
       },
       "shard", "index 3 of 3 shards"},
      {[](GeneratorOptions& o) { o.cameras = {"ceiling"}; }, "cameras", "'ceiling' is not a camera of scene"},
      {[](GeneratorOptions& o) { o.rendering.shadows = "maybe"; }, "rendering.shadows", "'maybe' is not on or off"},
      {[](GeneratorOptions& o) { o.rendering.shadow_map_px = 8; }, "rendering.shadow_map_px",
       "must lie in [16, 16384] pixels, found 8"},
  };
  const GeneratorOptions defaults;
  EXPECT_TRUE(defaults.IsValid());
  for (const Case& c : cases) {
    GeneratorOptions options;
    c.set(options);
    std::string why;
    if (c.field != "cameras") {  // the scene's cameras are known only once it is open
      EXPECT_FALSE(options.IsValid(&why)) << c.field;
      EXPECT_EQ(why.rfind("GeneratorOptions::" + c.field + ": ", 0), 0u) << why;
      EXPECT_NE(why.find(c.problem), std::string::npos) << why;
    }
    try {
      Generator::Open(Tabletop(), std::nullopt, CubeTosses(), options);
      ADD_FAILURE() << "no error for " << c.field;
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), kGeneratorOptionsSource) << e.what();
      EXPECT_EQ(e.field(), c.field) << e.what();
      EXPECT_NE(e.problem().find(c.problem), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find("--"), std::string::npos) << "a command-line flag: " << e.what();
    }
  }
}

TEST(Generate, BadInputExitsTwoNamesTheFieldAndWritesNothing) {
  TempDir dir;
  struct Case {
    std::vector<std::string> extra;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--variants", "0"}, "--variants: must be at least 1, found 0"},
      {{"--shard", "4/4"}, "--shard: shard index 4 is not below the shard count 4"},
      {{"--shard", "two"}, "--shard: 'two' is not I/N"},
      {{"--cameras", "ceiling"}, "--cameras: 'ceiling' is not a camera of scene"},
      {{"--cameras", "front", "--streams", "infrared"}, "--streams: 'infrared' is not rgb, depth or segmentation"},
      {{"--keep", "some"}, "--keep: 'some' is not success or all"},
      {{"--device", "tpu"}, "--device: 'tpu' is not auto, cpu or cuda"},
      {{"--max-episodes", "0"}, "--max-episodes: must be at least 1, found 0"},
  };
  for (const Case& c : cases) {
    const fs::path out = dir / "out";
    const auto result = RunR2s(CubeArgs(out, c.extra));
    EXPECT_EQ(result.exit_code, 2) << c.expected << "\n" << result.err;
    EXPECT_NE(result.err.find(c.expected), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(out)) << c.expected;
  }
  const auto missing = RunR2s({"generate", "--scene", Tabletop(), "--episodes", (dir / "none.hdf5").string(),
                               "--variants", "1", "--out", (dir / "out").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("none.hdf5"), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(dir / "out"));

  // A physics parameter naming an object the scene lacks is found by a draw: still before anything is written.
  fs::copy(SourceDir() / "scenes/tabletop", dir / "scene", fs::copy_options::recursive);
  {
    std::ifstream in(dir / "scene/scene.yaml");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    const std::string from = "objects.ball.restitution:";
    ASSERT_NE(text.find(from), std::string::npos);
    text.replace(text.find(from), from.size(), "objects.bal.restitution:");
    std::ofstream(dir / "scene/scene.yaml") << text;
  }
  const auto unknown = RunR2s({"generate", "--scene", (dir / "scene").string(), "--episodes",
                               (SourceDir() / "scenes/tabletop/episodes/cube_tosses.hdf5").string(), "--variants",
                               "1", "--out", (dir / "out").string()});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_NE(unknown.err.find("randomization.physics.objects.bal.restitution"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("no free object 'bal'"), std::string::npos) << unknown.err;
  EXPECT_FALSE(fs::exists(dir / "out"));

  // A NaN deep in one source episode's bound pose is found before anything is written, not when its unit runs.
  fs::copy_file(CubeTosses(), dir / "nan_tosses.hdf5");
  const auto edited = testing::RunPython(
      "import sys, h5py, numpy as np\nwith h5py.File(sys.argv[1], 'r+') as f:\n"
      "    f['data/demo_57/obs/object_pose'][40, 1] = np.nan\n",
      {(dir / "nan_tosses.hdf5").string()});
  ASSERT_EQ(edited.exit_code, 0) << edited.err;
  const auto nan = RunR2s({"generate", "--scene", Tabletop(), "--episodes", (dir / "nan_tosses.hdf5").string(),
                           "--variants", "1", "--out", (dir / "out").string()});
  EXPECT_EQ(nan.exit_code, 2) << nan.err;
  EXPECT_NE(nan.err.find("nan_tosses.hdf5: observation.object_pose[1]: episode 57 frame 40 is nan"),
            std::string::npos)
      << nan.err;
  EXPECT_FALSE(fs::exists(dir / "out"));

  // A folder holding another run's work is not mixed with this one's.
  ASSERT_EQ(RunR2s(CubeArgs(dir / "run", {"--max-episodes", "1"})).exit_code, 0);
  const auto other = RunR2s(CubeArgs(dir / "run", {"--max-episodes", "1", "--seed", "43"}));
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("run.json: seed: the folder holds another run's work"), std::string::npos) << other.err;
  // The library names its options by field; the command line's user reads the flags.
  EXPECT_NE(other.err.find("give another --out, or --overwrite to replace it"), std::string::npos) << other.err;
  const auto replaced = RunR2s(CubeArgs(dir / "run", {"--max-episodes", "1", "--seed", "43", "--overwrite"}));
  EXPECT_EQ(replaced.exit_code, 0) << replaced.err;

  // Real data is what a user cannot get back: an --out that holds the source dataset is refused, nothing written.
  fs::create_directories(dir / "real");
  fs::copy_file(CubeTosses(), dir / "real/tosses.hdf5");
  const auto holds = RunR2s({"generate", "--scene", Tabletop(), "--episodes", (dir / "real/tosses.hdf5").string(),
                             "--variants", "1", "--out", (dir / "real").string()});
  EXPECT_EQ(holds.exit_code, 2) << holds.err;
  EXPECT_NE(holds.err.find("--out: '" + (dir / "real").string() + "' holds the source dataset"), std::string::npos)
      << holds.err;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "real"), fs::directory_iterator()), 1);
}

TEST(Generate, ASecondWriterOfTheFolderIsRefusedNamingTheFirst) {
  TempDir dir;
  fs::create_directories(dir / "out");
  // This test process plays the first writer: it holds the folder's lock as a running r2s does.
  const int fd = ::open((dir / "out/.r2s.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const std::string holder = "r2s process 4242 on test-host since 2026-12-04T00:00:00Z\n";
  ASSERT_EQ(::write(fd, holder.data(), holder.size()), static_cast<ssize_t>(holder.size()));
  const auto second = RunR2s(CubeArgs(dir / "out", {"--max-episodes", "1", "--variants", "1"}));
  EXPECT_EQ(second.exit_code, 2) << second.err;
  EXPECT_NE(second.err.find("being written by r2s process 4242 on test-host"), std::string::npos) << second.err;
  EXPECT_FALSE(fs::exists(dir / "out/run.json")) << "the second writer wrote into the folder";
  const auto merge = RunR2s({"merge", (dir / "nothing").string(), "--out", (dir / "out").string()});
  EXPECT_EQ(merge.exit_code, 2) << merge.err;
  // The OS releases the lock with its holder (here: closing it), and the folder is writable again.
  ::close(fd);
  const auto after = RunR2s(CubeArgs(dir / "out", {"--max-episodes", "1", "--variants", "1"}));
  EXPECT_EQ(after.exit_code, 0) << after.err;
}

TEST(Merge, WorksFromAnotherFolderThanGenerateRanIn) {
  TempDir dir;
  fs::create_directories(dir / "jobs");
  fs::create_directories(dir / "elsewhere");
  const std::string r2s = R2S_BINARY;
  for (int i = 0; i < 2; ++i) {
    // Relative --out, as a batch script run from its job folder gives it.
    const auto shard = testing::RunCommand(
        {"/bin/bash", "-c", "cd '" + (dir / "jobs").string() + "' && '" + r2s + "' generate --quiet --scene '" + Tabletop() +
                           "' --episodes '" + CubeTosses() + "' --variants 1 --max-episodes 2 --keep all --shard " +
                           std::to_string(i) + "/2 --out out"});
    ASSERT_EQ(shard.exit_code, 0) << shard.err;
  }
  const auto merged = testing::RunCommand(
      {"/bin/bash", "-c", "cd '" + (dir / "elsewhere").string() + "' && '" + r2s +
                         "' merge ../jobs/out/shard-0-of-2 ../jobs/out/shard-1-of-2 --out merged"});
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_EQ(episode::DatasetReader::Open(dir / "elsewhere/merged/cube_tosses.hdf5").num_episodes(), 2);
}

TEST(Merge, RefusesShardsOfAnotherRunAndMissingShards) {
  TempDir dir;
  for (const char* shard : {"0/2", "1/2"}) {
    ASSERT_EQ(RunR2s(CubeArgs(dir / "a", {"--max-episodes", "2", "--shard", shard})).exit_code, 0);
  }
  ASSERT_EQ(RunR2s(CubeArgs(dir / "b", {"--max-episodes", "2", "--shard", "1/2", "--seed", "5"})).exit_code, 0);
  const auto missing = RunR2s({"merge", (dir / "a/shard-0-of-2").string(), "--out", (dir / "m").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("shard 1 of 2 is missing"), std::string::npos) << missing.err;
  const auto mixed = RunR2s(
      {"merge", (dir / "a/shard-0-of-2").string(), (dir / "b/shard-1-of-2").string(), "--out", (dir / "m").string()});
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_NE(mixed.err.find("seed: differs from"), std::string::npos) << mixed.err;
  const auto twice = RunR2s(
      {"merge", (dir / "a/shard-0-of-2").string(), (dir / "a/shard-0-of-2").string(), "--out", (dir / "m").string()});
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_NE(twice.err.find("shard 0 is given twice"), std::string::npos) << twice.err;
  EXPECT_FALSE(fs::exists(dir / "m/summary.json"));
}

// A shard that kept nothing (every variant failed the success predicate) has a dataset without episodes, from
// which no schema can be read back; the merge takes it from a shard that kept some.
TEST(Merge, AShardThatKeptNothingMergesToTheUnshardedRun) {
  TempDir dir;
  const std::vector<std::string> run = {"--variants", "2", "--max-episodes", "3", "--seed", "0"};
  auto args = [&](const fs::path& out, std::vector<std::string> extra) {
    extra.insert(extra.begin(), run.begin(), run.end());
    return CubeArgs(out, extra);
  };
  std::vector<std::string> merge = {"merge"};
  for (int i = 0; i < 2; ++i) {
    const auto shard = RunR2s(args(dir / "sharded", {"--shard", std::to_string(i) + "/2"}));
    ASSERT_EQ(shard.exit_code, 0) << shard.err;
    if (i == 0) {
      ASSERT_EQ(json::parse(shard.out)["totals"]["kept"], 0) << "the draws changed: pick another seed";
    }
    merge.push_back((dir / ("sharded/shard-" + std::to_string(i) + "-of-2")).string());
  }
  merge.insert(merge.end(), {"--out", (dir / "merged").string()});
  const auto merged = RunR2s(merge);
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  ASSERT_EQ(RunR2s(args(dir / "whole", {})).exit_code, 0);
  EXPECT_TRUE(ReadBytes(dir / "whole/cube_tosses.hdf5") == ReadBytes(dir / "merged/cube_tosses.hdf5"));
}

// The C++ API streams the same episodes the CLI writes, without touching the disk.
TEST(GeneratorApi, StreamsTheEpisodesTheCommandWrites) {
  TempDir dir;
  ASSERT_EQ(RunR2s(CubeArgs(dir / "out", {"--keep", "all"})).exit_code, 0);
  amplify::GeneratorOptions options;
  options.variants = 3;
  options.seed = 42;
  options.threads = 2;
  options.max_source_episodes = 6;
  amplify::Generator generator = amplify::Generator::Open(Tabletop(), std::nullopt, CubeTosses(), options);
  EXPECT_EQ(generator.total_units(), 18u);
  std::vector<std::uint64_t> units;
  std::vector<std::string> poses;
  generator.Generate(generator.shard_begin(), generator.shard_end(), [&](amplify::GeneratedEpisode& g) {
    units.push_back(g.unit);
    poses.push_back(std::string(reinterpret_cast<const char*>(g.episode.At("observation.object_pose").data.bytes.data()),
                                g.episode.At("observation.object_pose").data.bytes.size()));
  });
  ASSERT_EQ(units.size(), 18u);
  for (std::size_t i = 0; i < units.size(); ++i) EXPECT_EQ(units[i], i);
  const auto reader = episode::DatasetReader::Open(dir / "out/cube_tosses.hdf5");
  ASSERT_EQ(reader.num_episodes(), 18);
  for (std::int64_t i = 0; i < reader.num_episodes(); ++i) {
    const episode::Episode e = reader.ReadEpisode(i);
    const auto& bytes = e.At("observation.object_pose").data.bytes;
    ASSERT_LT(e.metadata.index, 18);
    EXPECT_TRUE(poses[e.metadata.index] == std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()))
        << "demo_" << e.metadata.index;
  }
}

}  // namespace
}  // namespace r2s

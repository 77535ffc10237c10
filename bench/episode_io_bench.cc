// Read and write throughput of one ALOHA-layout episode (500 frames, two 480x640x3 cameras, four float64 [14]
// columns) through DatasetWriter / DatasetReader, at image deflate levels 1 and 4 (4 is h5py's gzip default).
// The episode is synthetic (bench/episode_data.h). bench/h5py_episode_io.py is the h5py peer and
// bench/run_episode_io.sh runs both; see bench/README.md.
//
// MB/s counts the uncompressed payload (921.8 MB per episode, powers of ten), on write and on read, over wall
// time. A write is Create + Append + Commit (file closed, in the page cache; no fsync). A read is Open +
// ReadEpisode(0) from a file made resident in the page cache first, so both libraries measure HDF5 + deflate +
// their own code, not the disk. Each run is one iteration; runs are repeated and the median is the figure.
//
// Besides Google Benchmark's own flags:
//   --repeats=N        runs of each write and read (default 3)
//   --write_repeats=N  runs of each write (default: --repeats)
//   --keep_dir=DIR     write the files to DIR/r2s_L<level>/episode_0.hdf5 and leave them (for h5py to read);
//                      by default they go to a fresh folder under the temp directory, removed at exit
//   --h5py_dir=DIR     also time reading DIR/h5py_L<level>/episode_0.hdf5 (written by h5py_episode_io.py),
//                      checking that it holds the same data as ours
//   --cross_repeats=N  runs of that read (default 1)

#include <benchmark/benchmark.h>

#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "bench/episode_data.h"
#include "episode/dataset_reader.h"
#include "episode/dataset_writer.h"

namespace {
namespace fs = std::filesystem;
using r2s::episode::DatasetReader;
using r2s::episode::DatasetWriter;
using r2s::episode::Episode;

constexpr int kLevels[] = {1, 4};

fs::path g_work_dir;  // where our files go
fs::path g_h5py_dir;  // h5py's files, when given

const Episode& Source() {
  static const Episode episode = r2s::bench::SyntheticEpisode();
  return episode;
}

fs::path OurDir(int level) { return g_work_dir / ("r2s_L" + std::to_string(level)); }
fs::path EpisodeFile(const fs::path& dir) { return dir / "episode_0.hdf5"; }

void Write(const fs::path& dir, int level) {
  r2s::episode::WriteOptions options;
  options.image_deflate_level = level;
  options.overwrite = true;
  DatasetWriter writer = DatasetWriter::Create(dir, r2s::bench::SyntheticInfo(), options);
  writer.Append(Source());
  writer.Commit();
}

// Same columns, same bytes. Run after the timed loop.
bool SameData(const Episode& read, std::string* why) {
  for (const auto& [name, column] : Source().columns) {
    const auto* got = read.Find(name);
    if (!got) {
      *why = name + " missing";
      return false;
    }
    if (got->data.dtype != column.data.dtype || got->data.shape != column.data.shape ||
        got->data.bytes != column.data.bytes) {
      *why = name + " differs";
      return false;
    }
  }
  if (read.columns.size() != Source().columns.size()) {
    *why = "unexpected columns";
    return false;
  }
  return true;
}

void SetCommonCounters(benchmark::State& state, const fs::path& file) {
  state.SetBytesProcessed(state.iterations() * r2s::bench::kPayloadBytes);
  const auto size = static_cast<double>(fs::file_size(file));
  state.counters["file_MB"] = size / 1e6;
  state.counters["ratio"] = static_cast<double>(r2s::bench::kPayloadBytes) / size;
  // MB/s in powers of ten (Google Benchmark's bytes_per_second prints in powers of two).
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(state.iterations() * r2s::bench::kPayloadBytes) / 1e6,
                                              benchmark::Counter::kIsRate);
}

void BM_Write(benchmark::State& state, int level) {
  const fs::path dir = OurDir(level);
  Source();  // generated outside the timed loop
  for (auto _ : state) {
    try {
      Write(dir, level);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      break;
    }
  }
  if (!state.error_occurred()) SetCommonCounters(state, EpisodeFile(dir));
}

// Reads the whole file, untimed, so the timed reads find it in the page cache: this VM's kernel evicts page
// cache that has gone unused for a minute or two, which would make a read of an older file a disk read.
void WarmPageCache(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<char> block(1 << 20);
  while (in.read(block.data(), static_cast<std::streamsize>(block.size())) || in.gcount() > 0) {
  }
}

void Read(benchmark::State& state, const fs::path& file) {
  WarmPageCache(file);
  Episode last;
  for (auto _ : state) {
    try {
      DatasetReader reader = DatasetReader::Open(file);
      last = reader.ReadEpisode(0);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      break;
    }
    benchmark::DoNotOptimize(last.columns.size());
  }
  if (state.error_occurred()) return;
  std::string why;
  if (!SameData(last, &why)) {
    state.SkipWithError(("read back different data from " + file.string() + ": " + why).c_str());
    return;
  }
  SetCommonCounters(state, file);
}

void BM_Read(benchmark::State& state, int level) {
  const fs::path dir = OurDir(level);
  try {
    if (!fs::exists(EpisodeFile(dir))) Write(dir, level);  // when filtered to reads only; untimed
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    for (auto _ : state) {
    }
    return;
  }
  Read(state, EpisodeFile(dir));
}

// Our reader on the file h5py wrote: the same bytes on disk for both readers.
void BM_ReadH5pyFile(benchmark::State& state, int level) {
  Source();
  Read(state, EpisodeFile(g_h5py_dir / ("h5py_L" + std::to_string(level))));
}

// Takes --name=value out of argv; returns the value or "".
std::string TakeFlag(int* argc, char** argv, std::string_view name) {
  const std::string prefix = "--" + std::string(name) + "=";
  std::string value;
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      value = argv[i] + prefix.size();
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string keep_dir = TakeFlag(&argc, argv, "keep_dir");
  const std::string h5py_dir = TakeFlag(&argc, argv, "h5py_dir");
  const std::string repeats_flag = TakeFlag(&argc, argv, "repeats");
  const int repeats = repeats_flag.empty() ? 3 : std::stoi(repeats_flag);
  const std::string write_repeats_flag = TakeFlag(&argc, argv, "write_repeats");
  const int write_repeats = write_repeats_flag.empty() ? repeats : std::stoi(write_repeats_flag);
  const std::string cross_repeats_flag = TakeFlag(&argc, argv, "cross_repeats");
  const int cross_repeats = cross_repeats_flag.empty() ? 1 : std::stoi(cross_repeats_flag);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  g_work_dir = keep_dir.empty() ? fs::temp_directory_path() / ("r2s_episode_io_bench." + std::to_string(getpid()))
                                : fs::path(keep_dir);
  fs::create_directories(g_work_dir);
  g_h5py_dir = h5py_dir;

  for (int level : kLevels) {
    const std::string suffix = "/deflate:" + std::to_string(level);
    benchmark::RegisterBenchmark(("BM_Write" + suffix).c_str(), BM_Write, level)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(1)
        ->Repetitions(write_repeats);
    benchmark::RegisterBenchmark(("BM_Read" + suffix).c_str(), BM_Read, level)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(1)
        ->Repetitions(repeats);
    if (g_h5py_dir.empty()) continue;
    if (!fs::exists(EpisodeFile(g_h5py_dir / ("h5py_L" + std::to_string(level))))) continue;
    benchmark::RegisterBenchmark(("BM_ReadH5pyFile" + suffix).c_str(), BM_ReadH5pyFile, level)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(1)
        ->Repetitions(cross_repeats);
  }

  const std::size_t ran = benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (keep_dir.empty()) {
    std::error_code ignored;
    fs::remove_all(g_work_dir, ignored);
  }
  return ran > 0 ? 0 : 1;
}

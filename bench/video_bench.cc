// Encode and decode throughput of real2sim's video layer (episode/video/) on real camera frames, for
// bench/run_video.sh, which runs LeRobot's own encoder and PyAV decoding path on the same frames beside it.
//
//   video_bench --video FILE.mp4 --frames N --repeats R --out DIR
//
// Frames: the first N frames of a real LeRobot video (decoded once, outside the timings). Prints one JSON object:
// per repeat, wall and process CPU seconds of (a) encoding the N frames at LeRobot's default settings
// (libsvtav1, yuv420p, crf 30, preset 12, g 2) on one encoder thread, (b) the same with libx264, (c) decoding the
// whole source file sequentially, and (d) 50 single-frame reads at spread timestamps (a training loader's
// access pattern: each item seeks).
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "episode/video/video_file.h"
#include "episode/video/video_writer.h"

namespace {
namespace fs = std::filesystem;
using r2s::episode::video::EncodeOptions;
using r2s::episode::video::FrameFormat;
using r2s::episode::video::VideoReader;
using r2s::episode::video::VideoWriter;

double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Timing {
  double wall_s = 0, cpu_s = 0;
};

template <class F>
Timing Time(F&& f) {
  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = CpuSeconds();
  f();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count(), CpuSeconds() - cpu0};
}

std::string Arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path video = Arg(argc, argv, "--video", "");
  const int frames = std::stoi(Arg(argc, argv, "--frames", "120"));
  const int repeats = std::stoi(Arg(argc, argv, "--repeats", "3"));
  const fs::path out = Arg(argc, argv, "--out", fs::temp_directory_path().string());
  if (video.empty()) {
    std::fprintf(stderr, "usage: video_bench --video FILE.mp4 [--frames N] [--repeats R] [--out DIR]\n");
    return 2;
  }
  VideoReader source = VideoReader::Open(video);
  const auto& info = source.info();
  const r2s::episode::Array rgb = source.ReadFrames(0.0, frames);
  const std::size_t frame_bytes = static_cast<std::size_t>(info.width_px) * info.height_px * 3;

  std::string json = "{\"width\": " + std::to_string(info.width_px) + ", \"height\": " +
                     std::to_string(info.height_px) + ", \"frames\": " + std::to_string(frames) +
                     ", \"source_frames\": " + std::to_string(info.frames()) + ", \"runs\": [";
  for (int r = 0; r < repeats; ++r) {
    const auto encode = [&](const std::string& codec, const fs::path& file) {
      EncodeOptions options;
      options.codec = codec;
      options.threads = 1;
      return Time([&] {
        VideoWriter writer =
            VideoWriter::Create(file, info.width_px, info.height_px, 30.0, FrameFormat::kRgb8, options);
        const auto* bytes = reinterpret_cast<const std::uint8_t*>(rgb.bytes.data());
        for (int i = 0; i < frames; ++i) writer.AddFrame(std::span(bytes + i * frame_bytes, frame_bytes));
        writer.Finish();
      });
    };
    const Timing av1 = encode("libsvtav1", out / "r2s_av1.mp4");
    const Timing h264 = encode("libx264", out / "r2s_h264.mp4");
    const Timing decode_all = Time([&] {
      VideoReader reader = VideoReader::Open(video);
      reader.ReadFrames(0.0, reader.info().frames());
    });
    const Timing decode_random = Time([&] {
      VideoReader reader = VideoReader::Open(video);
      const std::int64_t n = reader.info().frames();
      for (int k = 0; k < 50; ++k) {
        // Spread over the file in a fixed, scattered order (k * 37 mod 50), as a shuffled loader would.
        const std::int64_t frame = ((k * 37) % 50) * (n - 1) / 49;
        reader.ReadFrames(reader.info().timestamps_s[static_cast<std::size_t>(frame)], 1);
      }
    });
    char run[512];
    std::snprintf(run, sizeof(run),
                  "%s{\"encode_av1\": [%.4f, %.4f], \"encode_h264\": [%.4f, %.4f], \"decode_all\": [%.4f, %.4f], "
                  "\"decode_random50\": [%.4f, %.4f], \"av1_bytes\": %lld}",
                  r ? ", " : "", av1.wall_s, av1.cpu_s, h264.wall_s, h264.cpu_s, decode_all.wall_s, decode_all.cpu_s,
                  decode_random.wall_s, decode_random.cpu_s,
                  static_cast<long long>(fs::file_size(out / "r2s_av1.mp4")));
    json += run;
  }
  json += "]}";
  std::printf("%s\n", json.c_str());
  return 0;
}

// The video layer through real files: the bundled LeRobot G1 dataset (AV1 mp4s written by PyAV, and the v3.0 file
// LeRobot's converter concatenated from them) is probed and decoded, and v3.0's segment of an episode must decode
// to exactly the v2.1 episode's pixels; synthetic frames are encoded with LeRobot's default settings and with
// libx264, decoded back (PSNR), encoded twice (same bytes), depth is round-tripped losslessly, files are
// concatenated, and broken files are refused with an InputError naming the file.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "episode/input_error.h"
#include "episode/video/video_file.h"
#include "episode/video/video_writer.h"
#include "tests/test_support.h"

namespace r2s::episode::video {
namespace {

namespace fs = std::filesystem;
using r2s::testing::BundledLeRobotDataset;
using r2s::testing::ListFiles;
using r2s::testing::TempDir;

constexpr double kFps = 30;
const std::vector<std::int64_t> kEpisodeFrames = {393, 343, 357, 368, 410};

fs::path V21Episode(int episode) {
  return BundledLeRobotDataset("v2.1") / "videos/chunk-000/observation.images.cam_high" /
         ("episode_00000" + std::to_string(episode) + ".mp4");
}
fs::path V30File() {
  return BundledLeRobotDataset("v3.0") / "videos/observation.images.cam_high/chunk-000/file-000.mp4";
}

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A moving, textured RGB sequence: smooth gradients that drift, a bright disc moving right, a dark square moving
// down, and a fine sinusoidal texture (what an encoder has to spend bits on).
std::vector<std::uint8_t> SyntheticFrame(int width, int height, int t) {
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(width) * height * 3);
  const double disc_x = 80 + 6.0 * t, disc_y = height / 2.0, disc_r = 60;
  const int square_x = width - 220, square_y = 20 + 5 * t, square_size = 120;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      double r = 255.0 * (x + 2 * t) / (width + 2 * t);
      double g = 255.0 * y / height;
      double b = 128 + 60 * std::sin(0.05 * (x + y) + 0.2 * t);
      const double texture = 20 * std::sin(0.4 * x) * std::sin(0.3 * y + 0.1 * t);
      r += texture;
      g += texture;
      if (std::hypot(x - disc_x, y - disc_y) < disc_r) r = 250, g = 220, b = 40;
      if (x >= square_x && x < square_x + square_size && y >= square_y && y < square_y + square_size) {
        r = 30 + 10 * ((x / 8 + y / 8) % 2), g = 40, b = 90;
      }
      std::uint8_t* p = &rgb[(static_cast<std::size_t>(y) * width + x) * 3];
      p[0] = static_cast<std::uint8_t>(std::clamp(r, 0.0, 255.0));
      p[1] = static_cast<std::uint8_t>(std::clamp(g, 0.0, 255.0));
      p[2] = static_cast<std::uint8_t>(std::clamp(b, 0.0, 255.0));
    }
  }
  return rgb;
}

std::vector<std::vector<std::uint8_t>> SyntheticSequence(int width, int height, int frames) {
  std::vector<std::vector<std::uint8_t>> sequence;
  for (int t = 0; t < frames; ++t) sequence.push_back(SyntheticFrame(width, height, t));
  return sequence;
}

struct EncodeResult {
  double frames_per_s = 0;
};

EncodeResult Encode(const fs::path& file, const std::vector<std::vector<std::uint8_t>>& frames, int width, int height,
                    const EncodeOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  VideoWriter writer = VideoWriter::Create(file, width, height, kFps, FrameFormat::kRgb8, options);
  for (const auto& frame : frames) writer.AddFrame(frame);
  writer.Finish();
  EXPECT_EQ(writer.frames(), static_cast<std::int64_t>(frames.size()));
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {static_cast<double>(frames.size()) / elapsed_s};
}

double Psnr(const Array& decoded, const std::vector<std::vector<std::uint8_t>>& frames) {
  const auto values = decoded.values<std::uint8_t>();
  double squared_error = 0;
  std::size_t n = 0;
  for (const auto& frame : frames) {
    for (std::size_t i = 0; i < frame.size(); ++i, ++n) {
      const double d = static_cast<double>(values[n]) - frame[i];
      squared_error += d * d;
    }
  }
  return 10 * std::log10(255.0 * 255.0 / (squared_error / static_cast<double>(n)));
}

void ExpectTimestampsAt(const StreamInfo& info, double fps, double tolerance_s) {
  for (std::int64_t i = 0; i < info.frames(); ++i) {
    ASSERT_NEAR(info.timestamps_s[i], i / fps, tolerance_s) << "frame " << i;
  }
}

template <class Call>
InputError ExpectInputError(Call call) {
  try {
    call();
  } catch (const InputError& error) {
    return error;
  }
  ADD_FAILURE() << "no InputError";
  return InputError("", "", "");
}

// ---------------------------------------------------------------------------------------------------------
// Real data: the G1 episodes.

TEST(RealVideo, ProbesTheV21EpisodesAndTheV30File) {
  for (int episode = 0; episode < 5; ++episode) {
    const fs::path file = V21Episode(episode);
    ASSERT_TRUE(fs::exists(file)) << file;
    const StreamInfo info = ProbeVideo(file);
    EXPECT_EQ(info.codec, "av1") << file;
    EXPECT_EQ(info.pix_fmt, "yuv420p") << file;
    EXPECT_EQ(info.width_px, 640);
    EXPECT_EQ(info.height_px, 480);
    EXPECT_DOUBLE_EQ(info.fps, 30);
    EXPECT_EQ(info.frames(), kEpisodeFrames[episode]) << file;
    ExpectTimestampsAt(info, kFps, 1e-4);
    EXPECT_NEAR(info.duration_s, kEpisodeFrames[episode] / kFps, 1e-4);
    ASSERT_FALSE(info.keyframes.empty());
    EXPECT_EQ(info.keyframes.front(), 0);
    std::cout << "episode " << episode << ": " << info.keyframes.size() << " keyframes, keyframe_interval "
              << info.keyframe_interval << "\n";
  }
  const StreamInfo info = ProbeVideo(V30File());
  EXPECT_EQ(info.codec, "av1");
  EXPECT_EQ(info.width_px, 640);
  EXPECT_EQ(info.height_px, 480);
  EXPECT_EQ(info.frames(), 1871);
  ExpectTimestampsAt(info, kFps, 1e-4);
  EXPECT_NEAR(info.duration_s, 1871 / kFps, 1e-4);
  std::cout << "v3.0 file: " << info.keyframes.size() << " keyframes, keyframe_interval " << info.keyframe_interval
            << "\n";
}

TEST(RealVideo, V30SegmentDecodesToTheV21EpisodesPixels) {
  VideoReader episode2 = VideoReader::Open(V21Episode(2));
  VideoReader file = VideoReader::Open(V30File());
  const Array expected = episode2.ReadFrames(0, 10);
  ASSERT_EQ(expected.shape, (std::vector<std::int64_t>{10, 480, 640, 3}));
  EXPECT_EQ(expected.dtype, DType::kUInt8);
  // Episode 2 starts after episodes 0 and 1: 393 + 343 = 736 frames.
  const double from_s = 736 / kFps;
  const Array actual = file.ReadFrames(from_s, 10);
  EXPECT_TRUE(actual == expected) << "v3.0 frames 736..745 differ from v2.1 episode 2's frames 0..9";
  ASSERT_EQ(file.last_timestamps_s().size(), 10u);
  EXPECT_NEAR(file.last_timestamps_s().front(), from_s, 1e-9);
  EXPECT_NEAR(file.last_timestamps_s().back(), 745 / kFps, 1e-9);
  // A float32 table time lands on the same frame.
  EXPECT_TRUE(file.ReadFrames(static_cast<float>(from_s), 10) == expected);

  // Sequential reads: the end of episode 1, then episode 2 from where the decoder is.
  const Array end_of_1 = file.ReadFrames(726 / kFps, 10);
  EXPECT_TRUE(end_of_1 == VideoReader::Open(V21Episode(1)).ReadFrames(333 / kFps, 10));
  EXPECT_TRUE(file.ReadFrames(from_s, 10) == expected);
}

TEST(RealVideo, ReadsTheLastFramesAndRefusesToReadPastTheEnd) {
  VideoReader file = VideoReader::Open(V30File());
  const Array last = file.ReadFrames(1868 / kFps, 3);
  EXPECT_TRUE(last == VideoReader::Open(V21Episode(4)).ReadFrames(407 / kFps, 3));
  EXPECT_NEAR(file.last_timestamps_s().back(), 1870 / kFps, 1e-9);

  const InputError too_many = ExpectInputError([&] { file.ReadFrames(1865 / kFps, 10); });
  EXPECT_EQ(too_many.file(), V30File().string());
  EXPECT_EQ(too_many.field(), "video");
  EXPECT_NE(too_many.problem().find("holds 6 frames"), std::string::npos) << too_many.what();
  EXPECT_NE(too_many.problem().find("needs 10"), std::string::npos) << too_many.what();

  const InputError past = ExpectInputError([&] { file.ReadFrames(1871 / kFps, 1); });
  EXPECT_EQ(past.file(), V30File().string());
  EXPECT_NE(past.problem().find("no frame at t=62.3667"), std::string::npos) << past.what();
  // More than half a period before the first frame.
  ExpectInputError([&] { file.ReadFrames(-0.6 / kFps, 1); });
  // No frames: an empty episode at the end of the file.
  EXPECT_EQ(file.ReadFrames(1871 / kFps, 0).shape, (std::vector<std::int64_t>{0, 480, 640, 3}));
  // The reader still works after refusing.
  EXPECT_TRUE(file.ReadFrames(1868 / kFps, 3) == last);
}

// ---------------------------------------------------------------------------------------------------------
// Encoding.

constexpr int kWidth = 640, kHeight = 480, kFrames = 60;

TEST(Encode, Svtav1WithLeRobotDefaults) {
  TempDir dir;
  const auto frames = SyntheticSequence(kWidth, kHeight, kFrames);
  const EncodeOptions options;  // libsvtav1, crf 30, preset 12, g 2, one thread
  const EncodeResult result = Encode(dir / "a.mp4", frames, kWidth, kHeight, options);
  Encode(dir / "b.mp4", frames, kWidth, kHeight, options);
  EXPECT_EQ(ReadBytes(dir / "a.mp4"), ReadBytes(dir / "b.mp4")) << "the same frames gave different files";
  EXPECT_EQ(ListFiles(dir.path()), (std::vector<std::string>{"a.mp4", "b.mp4"})) << "temporary files left";

  VideoReader reader = VideoReader::Open(dir / "a.mp4");
  const StreamInfo& info = reader.info();
  EXPECT_EQ(info.codec, "av1");
  EXPECT_EQ(info.pix_fmt, "yuv420p");
  EXPECT_EQ(info.frames(), kFrames);
  EXPECT_DOUBLE_EQ(info.fps, 30);
  ExpectTimestampsAt(info, kFps, 1e-9);
  EXPECT_NEAR(info.duration_s, kFrames / kFps, 1e-9);
  EXPECT_EQ(info.keyframe_interval, 2);
  const double psnr_db = Psnr(reader.ReadFrames(0, kFrames), frames);
  std::cout << "libsvtav1 preset 12 crf 30: " << result.frames_per_s << " frames/s (1 thread, 640x480), PSNR "
            << psnr_db << " dB, " << fs::file_size(dir / "a.mp4") << " bytes\n";
  EXPECT_GE(psnr_db, 33.0);  // measured 36.2 dB
}

TEST(Encode, X264) {
  TempDir dir;
  const auto frames = SyntheticSequence(kWidth, kHeight, kFrames);
  EncodeOptions options;
  options.codec = "libx264";
  options.crf = 23;
  const EncodeResult result = Encode(dir / "a.mp4", frames, kWidth, kHeight, options);
  Encode(dir / "b.mp4", frames, kWidth, kHeight, options);
  EXPECT_EQ(ReadBytes(dir / "a.mp4"), ReadBytes(dir / "b.mp4")) << "the same frames gave different files";
  VideoReader reader = VideoReader::Open(dir / "a.mp4");
  const StreamInfo& info = reader.info();
  EXPECT_EQ(info.codec, "h264");
  EXPECT_EQ(info.frames(), kFrames);
  ExpectTimestampsAt(info, kFps, 1e-9);
  EXPECT_EQ(info.keyframe_interval, 2);
  const double psnr_db = Psnr(reader.ReadFrames(0, kFrames), frames);
  std::cout << "libx264 medium crf 23: " << result.frames_per_s << " frames/s (1 thread, 640x480), PSNR " << psnr_db
            << " dB, " << fs::file_size(dir / "a.mp4") << " bytes\n";
  EXPECT_GE(psnr_db, 32.0);  // measured 35.5 dB
  // Random access: a read from the middle equals the same frames of a read from the start.
  VideoReader again = VideoReader::Open(dir / "a.mp4");
  const Array middle = again.ReadFrames(31 / kFps, 5);
  const Array all = reader.ReadFrames(0, kFrames);
  const std::size_t frame_bytes = static_cast<std::size_t>(kWidth) * kHeight * 3;
  EXPECT_TRUE(std::equal(middle.bytes.begin(), middle.bytes.end(), all.bytes.begin() + 31 * frame_bytes));
}

TEST(Encode, Yuv420pPlanesAreEncodedAsGiven) {
  TempDir dir;
  const int width = 128, height = 96;
  VideoWriter writer = VideoWriter::Create(dir / "yuv.mp4", width, height, kFps, FrameFormat::kYuv420p);
  std::vector<std::uint8_t> planes(width * height * 3 / 2, 128);
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < width * height; ++i) planes[i] = static_cast<std::uint8_t>(16 + (i % width) + 10 * t);
    writer.AddFrame(planes);
  }
  writer.Finish();
  VideoReader reader = VideoReader::Open(dir / "yuv.mp4");
  EXPECT_EQ(reader.info().frames(), 4);
  const Array rgb = reader.ReadFrames(0, 4);
  ASSERT_EQ(rgb.shape, (std::vector<std::int64_t>{4, height, width, 3}));
  // Neutral chroma: grey, at the limited-range luma expanded to 0..255.
  const auto values = rgb.values<std::uint8_t>();
  double error_sum = 0;
  for (int i = 0; i < width * height; ++i) {
    const double expected = (16 + (i % width) + 30 - 16) * 255.0 / 219;
    for (int c = 0; c < 3; ++c) error_sum += std::abs(values[3 * (3 * width * height + i) + c] - expected);
  }
  EXPECT_LT(error_sum / (3.0 * width * height), 2.0);
}

TEST(Encode, Gray16RoundTripsBitExact) {
  TempDir dir;
  const int width = 160, height = 120, frames = 12;
  std::vector<std::vector<std::uint16_t>> depth_mm(frames);
  for (int t = 0; t < frames; ++t) {
    depth_mm[t].resize(width * height);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        // A tilted floor, an object moving across it, and the full 16-bit range at the corners.
        std::uint16_t d = static_cast<std::uint16_t>(800 + 20 * y + x / 3 + 7 * t);
        if (std::abs(x - 10 * t - 20) < 15 && std::abs(y - 60) < 15) d = static_cast<std::uint16_t>(450 + x + y);
        if (x == 0 && y == 0) d = 0;
        if (x == width - 1 && y == height - 1) d = 65535;
        depth_mm[t][y * width + x] = d;
      }
    }
  }
  for (const std::string name : {"depth.mkv", "again.mkv"}) {
    VideoWriter writer = VideoWriter::Create(dir / name, width, height, kFps, FrameFormat::kGray16);
    for (const auto& frame : depth_mm) {
      writer.AddFrame({reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size() * 2});
    }
    writer.Finish();
  }
  EXPECT_EQ(ReadBytes(dir / "depth.mkv"), ReadBytes(dir / "again.mkv")) << "the same frames gave different files";

  VideoReader reader = VideoReader::Open(dir / "depth.mkv");
  EXPECT_EQ(reader.info().codec, "ffv1");
  EXPECT_EQ(reader.info().pix_fmt, "gray16le");
  EXPECT_EQ(reader.info().frames(), frames);
  ExpectTimestampsAt(reader.info(), kFps, 1e-3);  // Matroska keeps milliseconds
  const Array decoded = reader.ReadFrames(0, frames);
  EXPECT_EQ(decoded.dtype, DType::kUInt16);
  ASSERT_EQ(decoded.shape, (std::vector<std::int64_t>{frames, height, width}));
  const auto values = decoded.values<std::uint16_t>();
  for (int t = 0; t < frames; ++t) {
    ASSERT_TRUE(std::equal(depth_mm[t].begin(), depth_mm[t].end(), values.begin() + t * width * height))
        << "frame " << t;
  }
  // A frame from the middle decodes alone.
  const Array middle = reader.ReadFrames(7 / kFps, 1);
  EXPECT_TRUE(std::equal(depth_mm[7].begin(), depth_mm[7].end(), middle.values<std::uint16_t>().begin()));
}

TEST(Encode, RefusesBadArgumentsAndLeavesNoFileWithoutFinish) {
  TempDir dir;
  EXPECT_THROW(VideoWriter::Create(dir / "odd.mp4", 641, 480, kFps, FrameFormat::kRgb8), std::invalid_argument);
  EXPECT_THROW(VideoWriter::Create(dir / "depth.mp4", 64, 64, kFps, FrameFormat::kGray16), std::invalid_argument);
  EXPECT_THROW(VideoWriter::Create(dir / "a.mp4", 64, 64, 0, FrameFormat::kRgb8), std::invalid_argument);
  EncodeOptions bad;
  bad.crf = 99;
  EXPECT_THROW(VideoWriter::Create(dir / "a.mp4", 64, 64, kFps, FrameFormat::kRgb8, bad), std::invalid_argument);
  {
    VideoWriter writer = VideoWriter::Create(dir / "abandoned.mp4", 64, 64, kFps, FrameFormat::kRgb8);
    writer.AddFrame(std::vector<std::uint8_t>(64 * 64 * 3, 100));
    EXPECT_THROW(writer.AddFrame(std::vector<std::uint8_t>(10)), std::invalid_argument);
  }
  EXPECT_TRUE(ListFiles(dir.path()).empty()) << "a writer destroyed without Finish left a file";
  const InputError no_folder =
      ExpectInputError([&] { VideoWriter::Create(dir / "missing" / "a.mp4", 64, 64, kFps, FrameFormat::kRgb8); });
  EXPECT_EQ(no_folder.file(), (dir / "missing" / "a.mp4").string());
}

// ---------------------------------------------------------------------------------------------------------
// Concatenation.

TEST(Concatenate, StreamCopiesInputsOneAfterAnother) {
  const auto frames = SyntheticSequence(kWidth, kHeight, 30);
  const std::vector<std::vector<std::uint8_t>> first(frames.begin(), frames.begin() + 17);
  const std::vector<std::vector<std::uint8_t>> second(frames.begin() + 17, frames.end());
  // AV1 as LeRobot writes it, and H.264 with B-frames (decode timestamps before presentation ones).
  for (const std::string codec : {"libsvtav1", "libx264"}) {
    SCOPED_TRACE(codec);
    TempDir dir;
    EncodeOptions options;
    options.codec = codec;
    Encode(dir / "e0.mp4", first, kWidth, kHeight, options);
    Encode(dir / "e1.mp4", second, kWidth, kHeight, options);
    ConcatenateVideos({dir / "e0.mp4", dir / "e1.mp4"}, dir / "file-000.mp4");

    VideoReader joined = VideoReader::Open(dir / "file-000.mp4");
    EXPECT_EQ(joined.info().frames(), 30);
    ExpectTimestampsAt(joined.info(), kFps, 1e-9);
    EXPECT_NEAR(joined.info().duration_s, 1.0, 1e-9);
    EXPECT_EQ(joined.info().keyframe_interval, 2);
    const Array expected0 = VideoReader::Open(dir / "e0.mp4").ReadFrames(0, 17);
    const Array expected1 = VideoReader::Open(dir / "e1.mp4").ReadFrames(0, 13);
    EXPECT_TRUE(joined.ReadFrames(0, 17) == expected0);
    EXPECT_TRUE(joined.ReadFrames(17 / kFps, 13) == expected1);
    // Seeking into the second input.
    EXPECT_TRUE(VideoReader::Open(dir / "file-000.mp4").ReadFrames(17 / kFps, 13) == expected1);

    // Stream copy: the same inputs give the same bytes.
    ConcatenateVideos({dir / "e0.mp4", dir / "e1.mp4"}, dir / "again.mp4");
    EXPECT_EQ(ReadBytes(dir / "file-000.mp4"), ReadBytes(dir / "again.mp4"));
    EXPECT_EQ(ListFiles(dir.path()), (std::vector<std::string>{"again.mp4", "e0.mp4", "e1.mp4", "file-000.mp4"}))
        << "temporary files left";
  }
}

// What LeRobot's v2.1 -> v3.0 converter did to the G1 episodes, done again: the same frames at the same times,
// the same keyframes.
TEST(Concatenate, RebuildsTheV30FileFromTheV21Episodes) {
  TempDir dir;
  std::vector<fs::path> episodes;
  for (int episode = 0; episode < 5; ++episode) episodes.push_back(V21Episode(episode));
  ConcatenateVideos(episodes, dir / "file-000.mp4");
  VideoReader ours = VideoReader::Open(dir / "file-000.mp4");
  VideoReader lerobots = VideoReader::Open(V30File());
  EXPECT_EQ(ours.info().frames(), 1871);
  EXPECT_EQ(ours.info().timestamps_s, lerobots.info().timestamps_s);
  EXPECT_EQ(ours.info().keyframes, lerobots.info().keyframes);
  EXPECT_NEAR(ours.info().duration_s, lerobots.info().duration_s, 1e-9);
  for (const std::int64_t frame : {0, 392, 393, 1093, 1868}) {
    EXPECT_TRUE(ours.ReadFrames(frame / kFps, 3) == lerobots.ReadFrames(frame / kFps, 3)) << "frame " << frame;
  }
}

TEST(Concatenate, RefusesMismatchedInputs) {
  TempDir dir;
  const auto frames = SyntheticSequence(kWidth, kHeight, 4);
  Encode(dir / "e0.mp4", frames, kWidth, kHeight, {});
  Encode(dir / "small.mp4", SyntheticSequence(320, 240, 4), 320, 240, {});
  EncodeOptions h264;
  h264.codec = "libx264";
  Encode(dir / "h264.mp4", frames, kWidth, kHeight, h264);
  const InputError codec = ExpectInputError([&] {
    ConcatenateVideos({dir / "e0.mp4", dir / "h264.mp4"}, dir / "bad.mp4");
  });
  EXPECT_EQ(codec.file(), (dir / "h264.mp4").string());
  EXPECT_NE(codec.problem().find("codec h264"), std::string::npos) << codec.what();
  // The first input that differs is named, even with matching inputs after it.
  const InputError size = ExpectInputError([&] {
    ConcatenateVideos({dir / "e0.mp4", dir / "small.mp4", dir / "e0.mp4"}, dir / "bad.mp4");
  });
  EXPECT_EQ(size.file(), (dir / "small.mp4").string());
  EXPECT_NE(size.problem().find("size 320x240"), std::string::npos) << size.what();
  EXPECT_FALSE(fs::exists(dir / "bad.mp4"));
  EXPECT_EQ(ListFiles(dir.path()), (std::vector<std::string>{"e0.mp4", "h264.mp4", "small.mp4"}))
      << "temporary files left";
  EXPECT_THROW(ConcatenateVideos({}, dir / "bad.mp4"), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------------------
// Bad input.

TEST(BadVideo, MissingTruncatedAndNonVideoFilesAreInputErrors) {
  TempDir dir;
  const fs::path missing = dir / "missing.mp4";
  const fs::path truncated = dir / "truncated.mp4";
  const fs::path text = dir / "notes.mp4";
  const std::string real = ReadBytes(V21Episode(0));
  std::ofstream(truncated, std::ios::binary).write(real.data(), 10 * 1024);
  r2s::testing::WriteTextFile(text, "this is not a video\n");
  for (const fs::path& file : {missing, truncated, text}) {
    const InputError probe = ExpectInputError([&] { ProbeVideo(file); });
    EXPECT_EQ(probe.file(), file.string());
    EXPECT_EQ(probe.field(), "video");
    std::cout << file.filename() << ": " << probe.problem() << "\n";
    const InputError open = ExpectInputError([&] { VideoReader::Open(file); });
    EXPECT_EQ(open.file(), file.string());
  }
  // Half a real file: PyAV writes the index (moov) last, so it is gone.
  const fs::path half = dir / "half.mp4";
  std::ofstream(half, std::ios::binary).write(real.data(), static_cast<std::streamsize>(real.size() / 2));
  EXPECT_EQ(ExpectInputError([&] { VideoReader::Open(half); }).file(), half.string());
  // Garbage in the middle of the frame data, index intact: the decoder either refuses a frame (InputError) or
  // shows damaged pixels; it must not crash or hang.
  std::string damaged = real;
  std::mt19937 random(5);
  for (std::size_t i = damaged.size() / 3; i < damaged.size() / 3 + 200000; ++i) {
    damaged[i] = static_cast<char>(random());
  }
  const fs::path garbage = dir / "garbage.mp4";
  std::ofstream(garbage, std::ios::binary).write(damaged.data(), static_cast<std::streamsize>(damaged.size()));
  try {
    VideoReader reader = VideoReader::Open(garbage);
    EXPECT_EQ(reader.info().frames(), 393);
    reader.ReadFrames(0, 393);
    std::cout << "damaged frames decoded without an error\n";
  } catch (const InputError& error) {
    EXPECT_EQ(error.file(), garbage.string());
    std::cout << "damaged frames: " << error.problem() << "\n";
  }
}

}  // namespace
}  // namespace r2s::episode::video

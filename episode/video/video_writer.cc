#include "episode/video/video_writer.h"

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/mathematics.h>
#include <libavutil/rational.h>
}

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "episode/atomic_file.h"
#include "episode/input_error.h"
#include "episode/output_error.h"
#include "episode/video/ffmpeg_util.h"

namespace r2s::episode::video {

namespace fs = std::filesystem;
using internal::CodecContextPtr;
using internal::ErrorText;
using internal::FramePtr;
using internal::InputFormatPtr;
using internal::OutputFormatPtr;
using internal::PacketPtr;
using internal::SwsPtr;

namespace {

// An FFmpeg write error: the disk's fault (AVERROR(ENOSPC), ...) becomes an OutputError, anything else a plain
// runtime error.
[[noreturn]] void ThrowWriteError(const fs::path& file, const std::string& what, int error) {
  if (error < 0 && IsOutputFailure(std::error_code(-error, std::generic_category()))) {
    throw OutputError(file.string(), ErrorText(error) + " (" + what + ")");
  }
  throw std::runtime_error("video: " + file.string() + ": " + what + ": " + ErrorText(error));
}

const char* FormatName(FrameFormat format) {
  switch (format) {
    case FrameFormat::kRgb8:
      return "kRgb8";
    case FrameFormat::kYuv420p:
      return "kYuv420p";
    case FrameFormat::kGray16:
      return "kGray16";
  }
  return "?";
}

// A fresh mp4 or Matroska muxer writing `temp`, bit-exact: no library versions, random ids or creation times in
// the file, so that the same packets give the same bytes.
OutputFormatPtr CreateOutput(const char* muxer, const fs::path& temp, const fs::path& file) {
  AVFormatContext* raw = nullptr;
  if (const int error = avformat_alloc_output_context2(&raw, nullptr, muxer, nullptr); error < 0 || !raw) {
    throw std::runtime_error("video: FFmpeg has no " + std::string(muxer) + " muxer: " + ErrorText(error));
  }
  OutputFormatPtr output(raw);
  output->flags |= AVFMT_FLAG_BITEXACT;
  const std::string url = "file:" + temp.string();
  if (const int error = avio_open(&output->pb, url.c_str(), AVIO_FLAG_WRITE); error < 0) {
    throw InputError(file.string(), "video", "cannot be created (" + temp.string() + "): " + ErrorText(error));
  }
  return output;
}

// Removes the temporary file unless Release() was called (the file was published).
class TemporaryFile {
 public:
  explicit TemporaryFile(fs::path path) : path_(std::move(path)) {}
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  void Release() { path_.clear(); }

 private:
  fs::path path_;
};

}  // namespace

class VideoWriter::Impl {
 public:
  Impl(fs::path file, int width_px, int height_px, double fps, FrameFormat format, const EncodeOptions& options);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void AddFrame(std::span<const std::uint8_t> frame);
  void Finish();
  std::int64_t frames() const { return frames_; }

 private:
  void OpenEncoder(const EncodeOptions& options);
  // Sends `frame` (nullptr: end of stream) and writes every packet the encoder has ready.
  void Encode(const AVFrame* frame);
  [[noreturn]] void Fail(const std::string& what, int error) const { ThrowWriteError(file_, what, error); }

  fs::path file_;
  fs::path temp_;
  int width_px_, height_px_;
  AVRational frame_rate_;
  FrameFormat format_;
  OutputFormatPtr output_;
  AVStream* stream_ = nullptr;  // owned by output_
  CodecContextPtr encoder_;
  FramePtr frame_ = internal::AllocFrame();
  PacketPtr packet_ = internal::AllocPacket();
  SwsPtr rgb_to_yuv_;
  std::int64_t frames_ = 0;
  bool finished_ = false;
};

VideoWriter::Impl::Impl(fs::path file, int width_px, int height_px, double fps, FrameFormat format,
                        const EncodeOptions& options)
    : file_(std::move(file)), width_px_(width_px), height_px_(height_px), format_(format) {
  internal::QuietFfmpegLogsOnce();
  const auto fail = [&](const std::string& problem) {
    throw std::invalid_argument("video::VideoWriter::Create(" + file_.string() + ", " + FormatName(format) +
                                "): " + problem);
  };
  const bool lossless = format == FrameFormat::kGray16;
  if (lossless) {
    if (options.threads < 1) options.Validate();  // names the field
  } else {
    options.Validate();
  }
  const std::string extension = file_.extension().string();
  if (extension != (lossless ? ".mkv" : ".mp4")) {
    fail(std::string("file extension '") + extension + "', expected " + (lossless ? ".mkv" : ".mp4"));
  }
  if (width_px <= 0 || height_px <= 0) {
    fail("size " + std::to_string(width_px) + "x" + std::to_string(height_px) + ", expected positive");
  }
  // yuv420p halves both dimensions for chroma; H.264 refuses odd sizes and AV1 would pad them invisibly, so odd
  // sizes are refused rather than padded (a padded frame would not decode back to the size written).
  if (!lossless && (width_px % 2 != 0 || height_px % 2 != 0)) {
    fail("size " + std::to_string(width_px) + "x" + std::to_string(height_px) + ", yuv420p needs even sizes");
  }
  if (!std::isfinite(fps) || fps <= 0) fail("fps = " + std::to_string(fps) + ", expected positive");
  // 30 -> 30/1, 29.97 -> 2997/100 (30000/1001 is given exactly by av_d2q too).
  frame_rate_ = av_d2q(fps, 100000);

  temp_ = TemporaryPathFor(file_);
  output_ = CreateOutput(lossless ? "matroska" : "mp4", temp_, file_);
  try {
    OpenEncoder(options);
    stream_ = avformat_new_stream(output_.get(), nullptr);
    if (stream_ == nullptr) throw std::bad_alloc();
    if (const int error = avcodec_parameters_from_context(stream_->codecpar, encoder_.get()); error < 0) {
      Fail("cannot copy the encoder's parameters", error);
    }
    // A hint: mp4 turns 1/30 into its own 1/15360 (it doubles the timescale up to 10000 or more, as for PyAV's
    // files, so frame i has pts 512 i); Matroska always uses milliseconds.
    stream_->time_base = encoder_->time_base;
    stream_->avg_frame_rate = frame_rate_;
    if (const int error = avformat_write_header(output_.get(), nullptr); error < 0) {
      Fail("cannot write the container header", error);
    }
  } catch (...) {
    output_.reset();
    std::error_code ignored;
    fs::remove(temp_, ignored);
    throw;
  }
}

void VideoWriter::Impl::OpenEncoder(const EncodeOptions& options) {
  const bool lossless = format_ == FrameFormat::kGray16;
  const std::string codec_name = lossless ? "ffv1" : options.codec;
  const AVCodec* codec = avcodec_find_encoder_by_name(codec_name.c_str());
  if (codec == nullptr) {
    throw std::invalid_argument("video::EncodeOptions::codec = '" + codec_name + "': this FFmpeg has no such encoder");
  }
  encoder_.reset(avcodec_alloc_context3(codec));
  if (!encoder_) throw std::bad_alloc();
  encoder_->width = width_px_;
  encoder_->height = height_px_;
  encoder_->pix_fmt = lossless ? AV_PIX_FMT_GRAY16LE : AV_PIX_FMT_YUV420P;
  encoder_->time_base = av_inv_q(frame_rate_);  // frame i has pts i
  encoder_->framerate = frame_rate_;
  encoder_->thread_count = options.threads;
  encoder_->flags |= AV_CODEC_FLAG_BITEXACT;
  // A bad option fails avcodec_open2 instead of being logged and ignored (SVT-AV1's svtav1-params).
  encoder_->err_recognition |= AV_EF_EXPLODE;
  if (output_->oformat->flags & AVFMT_GLOBALHEADER) encoder_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

  internal::Dictionary settings;
  if (lossless) {
    // FFV1 version 3: per-slice CRCs and multithreaded slices; every frame a keyframe, so any frame decodes alone.
    settings.Set("level", "3");
    settings.Set("g", "1");
  } else {
    // LeRobot's encode_video_frames passes g and crf, and preset for SVT-AV1, as codec options.
    settings.Set("g", std::to_string(options.keyframe_interval));
    settings.Set("crf", std::to_string(options.crf));
    if (options.codec == "libsvtav1") {
      settings.Set("preset", std::to_string(options.preset));
      // FFmpeg 5.1's SVT-AV1 wrapper ignores thread_count; lp (logical processors) is SVT-AV1's own limit.
      settings.Set("svtav1-params", "lp=" + std::to_string(options.threads));
    } else if (options.codec == "libx264") {
      settings.Set("preset", options.x264_preset);
    } else if (options.codec == "libaom-av1") {
      // libaom's speed knob runs 0..8 (SVT-AV1's preset 0..13); the faster end is clamped.
      settings.Set("cpu-used", std::to_string(std::min(options.preset, 8)));
    }
  }
  if (const int error = avcodec_open2(encoder_.get(), codec, settings.get()); error < 0) {
    throw std::invalid_argument("video::EncodeOptions: the " + codec_name + " encoder refuses the options for " +
                                std::to_string(width_px_) + "x" + std::to_string(height_px_) + ": " + ErrorText(error));
  }
  if (const std::string unused = settings.UnusedKeys(); !unused.empty()) {
    throw std::invalid_argument("video::EncodeOptions: the " + codec_name + " encoder does not take " + unused);
  }

  frame_->format = encoder_->pix_fmt;
  frame_->width = width_px_;
  frame_->height = height_px_;
  if (const int error = av_frame_get_buffer(frame_.get(), 0); error < 0) Fail("cannot allocate a frame", error);
  if (format_ == FrameFormat::kRgb8) {
    // Bilinear with swscale's default BT.601 limited-range matrix: what PyAV does when LeRobot hands it an RGB
    // frame for a yuv420p stream (VideoReformatter's default interpolation; the frame states no colorspace).
    rgb_to_yuv_.reset(sws_getContext(width_px_, height_px_, AV_PIX_FMT_RGB24, width_px_, height_px_, AV_PIX_FMT_YUV420P,
                                     SWS_BILINEAR, nullptr, nullptr, nullptr));
    if (!rgb_to_yuv_) throw std::runtime_error("video: swscale has no rgb24 -> yuv420p conversion");
  }
}

VideoWriter::Impl::~Impl() {
  if (finished_) return;
  encoder_.reset();
  output_.reset();  // closes the temporary file
  std::error_code ignored;
  fs::remove(temp_, ignored);
}

void VideoWriter::Impl::AddFrame(std::span<const std::uint8_t> frame) {
  if (finished_) throw std::logic_error("video::VideoWriter::AddFrame after Finish (" + file_.string() + ")");
  const std::size_t w = static_cast<std::size_t>(width_px_), h = static_cast<std::size_t>(height_px_);
  const std::size_t expected = format_ == FrameFormat::kRgb8      ? w * h * 3
                               : format_ == FrameFormat::kYuv420p ? w * h + 2 * ((w + 1) / 2) * ((h + 1) / 2)
                                                                  : w * h * 2;
  if (frame.size() != expected) {
    throw std::invalid_argument("video::VideoWriter::AddFrame(" + file_.string() + "): frame " +
                                std::to_string(frames_) + " has " + std::to_string(frame.size()) + " bytes, expected " +
                                std::to_string(expected) + " for " + FormatName(format_) + " " +
                                std::to_string(width_px_) + "x" + std::to_string(height_px_));
  }
  // The encoder may still hold a reference to the previous frame's buffers.
  if (const int error = av_frame_make_writable(frame_.get()); error < 0) Fail("cannot allocate a frame", error);
  const auto copy_plane = [&](int plane, const std::uint8_t* source, std::size_t row_bytes, std::size_t rows) {
    for (std::size_t y = 0; y < rows; ++y) {
      std::memcpy(frame_->data[plane] + y * frame_->linesize[plane], source + y * row_bytes, row_bytes);
    }
  };
  switch (format_) {
    case FrameFormat::kRgb8: {
      const std::uint8_t* source[4] = {frame.data(), nullptr, nullptr, nullptr};
      const int strides[4] = {width_px_ * 3, 0, 0, 0};
      sws_scale(rgb_to_yuv_.get(), source, strides, 0, height_px_, frame_->data, frame_->linesize);
      break;
    }
    case FrameFormat::kYuv420p:
      copy_plane(0, frame.data(), w, h);
      copy_plane(1, frame.data() + w * h, w / 2, h / 2);
      copy_plane(2, frame.data() + w * h + (w / 2) * (h / 2), w / 2, h / 2);
      break;
    case FrameFormat::kGray16:
      copy_plane(0, frame.data(), w * 2, h);
      break;
  }
  frame_->pts = frames_;
  Encode(frame_.get());
  ++frames_;
}

void VideoWriter::Impl::Encode(const AVFrame* frame) {
  if (const int error = avcodec_send_frame(encoder_.get(), frame); error < 0) {
    Fail("the encoder refused frame " + std::to_string(frames_), error);
  }
  for (;;) {
    const int received = avcodec_receive_packet(encoder_.get(), packet_.get());
    if (received == AVERROR(EAGAIN) || received == AVERROR_EOF) return;
    if (received < 0) Fail("encoding failed", received);
    // Every frame lasts one period, the last one included (so the file lasts frames / fps, as PyAV's do).
    if (packet_->duration <= 0) packet_->duration = 1;
    av_packet_rescale_ts(packet_.get(), encoder_->time_base, stream_->time_base);
    packet_->stream_index = stream_->index;
    if (const int error = av_interleaved_write_frame(output_.get(), packet_.get()); error < 0) {
      Fail("cannot write a frame", error);
    }
  }
}

void VideoWriter::Impl::Finish() {
  if (finished_) throw std::logic_error("video::VideoWriter::Finish called twice (" + file_.string() + ")");
  Encode(nullptr);
  if (const int error = av_write_trailer(output_.get()); error < 0) Fail("cannot finish the container", error);
  if (const int error = avio_closep(&output_->pb); error < 0) Fail("cannot close " + temp_.string(), error);
  PublishFile(temp_, file_);
  finished_ = true;
  output_.reset();
  encoder_.reset();
}

VideoWriter VideoWriter::Create(const fs::path& file, int width_px, int height_px, double fps, FrameFormat format,
                                const EncodeOptions& options) {
  return VideoWriter(std::make_unique<Impl>(file, width_px, height_px, fps, format, options));
}

VideoWriter::VideoWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoWriter::VideoWriter(VideoWriter&&) noexcept = default;
VideoWriter& VideoWriter::operator=(VideoWriter&&) noexcept = default;
VideoWriter::~VideoWriter() = default;

void VideoWriter::AddFrame(std::span<const std::uint8_t> frame) { impl_->AddFrame(frame); }
void VideoWriter::Finish() { impl_->Finish(); }
std::int64_t VideoWriter::frames() const { return impl_->frames(); }

void ConcatenateVideos(const std::vector<fs::path>& inputs, const fs::path& output_file) {
  if (inputs.empty()) {
    throw std::invalid_argument("video::ConcatenateVideos(" + output_file.string() + "): no inputs");
  }
  internal::QuietFfmpegLogsOnce();
  TemporaryFile temp(TemporaryPathFor(output_file));
  OutputFormatPtr output = CreateOutput("mp4", temp.path(), output_file);
  AVStream* out_stream = nullptr;
  const AVCodecParameters* reference = nullptr;  // the first input's, kept alive by first_input
  InputFormatPtr first_input;
  AVRational time_base{0, 1};
  std::int64_t offset = 0;  // where the next input's first frame goes, in time_base
  PacketPtr packet = internal::AllocPacket();

  for (const fs::path& path : inputs) {
    InputFormatPtr input = internal::OpenInput(path);
    const int index = internal::FindVideoStream(input.get(), path);
    const AVStream* stream = input->streams[index];
    const AVCodecParameters* params = stream->codecpar;
    if (reference == nullptr) {
      time_base = stream->time_base;
      out_stream = avformat_new_stream(output.get(), nullptr);
      if (out_stream == nullptr) throw std::bad_alloc();
      if (const int error = avcodec_parameters_copy(out_stream->codecpar, params); error < 0) {
        throw std::runtime_error("video: cannot copy the stream parameters of " + path.string() + ": " +
                                 ErrorText(error));
      }
      out_stream->codecpar->codec_tag = 0;  // let the mp4 muxer choose ("av01", "avc1")
      out_stream->time_base = time_base;
      out_stream->avg_frame_rate = stream->avg_frame_rate;
      if (const int error = avformat_write_header(output.get(), nullptr); error < 0) {
        ThrowWriteError(output_file, "cannot write the header", error);
      }
      reference = params;
    } else {
      const auto differ = [&](const std::string& what, const std::string& found, const std::string& expected) {
        throw InputError(path.string(), "video",
                         "has " + what + " " + found + " but " + inputs.front().string() + " has " + expected +
                             "; videos are concatenated without re-encoding, so they must match");
      };
      if (params->codec_id != reference->codec_id) {
        differ("codec", avcodec_get_name(params->codec_id), avcodec_get_name(reference->codec_id));
      }
      if (params->width != reference->width || params->height != reference->height) {
        differ("size", std::to_string(params->width) + "x" + std::to_string(params->height),
               std::to_string(reference->width) + "x" + std::to_string(reference->height));
      }
      if (params->format != reference->format) {
        differ("pixel format", internal::PixelFormatName(params->format), internal::PixelFormatName(reference->format));
      }
      if (av_cmp_q(stream->time_base, time_base) != 0) {
        differ("time base", std::to_string(stream->time_base.num) + "/" + std::to_string(stream->time_base.den),
               std::to_string(time_base.num) + "/" + std::to_string(time_base.den));
      }
    }
    AVRational rate = stream->avg_frame_rate;
    if (rate.num <= 0 || rate.den <= 0) rate = stream->r_frame_rate;
    if (rate.num <= 0 || rate.den <= 0) {
      throw InputError(path.string(), "video", "states no frame rate, so its frame period is unknown");
    }
    const std::int64_t period = av_rescale_q(1, av_inv_q(rate), time_base);
    const std::int64_t start = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0;
    std::int64_t last_pts = AV_NOPTS_VALUE;
    for (;;) {
      const int error = av_read_frame(input.get(), packet.get());
      if (error == AVERROR_EOF) break;
      if (error < 0) throw InputError(path.string(), "video", "is truncated or corrupt: " + ErrorText(error));
      if (packet->stream_index != index) {
        av_packet_unref(packet.get());
        continue;
      }
      if (packet->pts != AV_NOPTS_VALUE) {
        packet->pts += offset - start;
        last_pts = last_pts == AV_NOPTS_VALUE ? packet->pts : std::max(last_pts, packet->pts);
      }
      if (packet->dts != AV_NOPTS_VALUE) packet->dts += offset - start;
      packet->stream_index = out_stream->index;
      packet->pos = -1;
      av_packet_rescale_ts(packet.get(), time_base, out_stream->time_base);
      if (const int write_error = av_interleaved_write_frame(output.get(), packet.get()); write_error < 0) {
        ThrowWriteError(output_file, "cannot write (copying " + path.string() + ")", write_error);
      }
    }
    if (last_pts == AV_NOPTS_VALUE) throw InputError(path.string(), "video", "has a video stream with no frames");
    offset = last_pts + period;
    if (!first_input) first_input = std::move(input);  // keeps `reference` valid
  }
  if (const int error = av_write_trailer(output.get()); error < 0) {
    ThrowWriteError(output_file, "cannot finish", error);
  }
  if (const int error = avio_closep(&output->pb); error < 0) {
    ThrowWriteError(temp.path(), "cannot close", error);
  }
  PublishFile(temp.path(), output_file);
  temp.Release();
}

}  // namespace r2s::episode::video

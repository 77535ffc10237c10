#include "episode/video/video_file.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "episode/input_error.h"
#include "episode/video/ffmpeg_util.h"

namespace r2s::episode::video {

namespace fs = std::filesystem;
using internal::CodecContextPtr;
using internal::ErrorText;
using internal::FramePtr;
using internal::InputFormatPtr;
using internal::PacketPtr;
using internal::SwsPtr;

namespace {

std::string Seconds(double t_s) {
  std::ostringstream text;
  text.precision(6);
  text << t_s << " s";
  return text.str();
}

// What the reader needs beyond StreamInfo: the container's own timestamps, to map decoded frames to frame numbers
// and to seek.
struct Probed {
  StreamInfo info;
  int stream_index = -1;
  AVRational time_base{0, 1};
  std::vector<std::int64_t> pts;  // every frame's pts in time_base, sorted (display order)
  std::int64_t smallest_dts = AV_NOPTS_VALUE;
};

Probed Probe(AVFormatContext* input, const fs::path& file) {
  Probed probed;
  probed.stream_index = internal::FindVideoStream(input, file);
  for (unsigned i = 0; i < input->nb_streams; ++i) {
    if (static_cast<int>(i) != probed.stream_index) input->streams[i]->discard = AVDISCARD_ALL;
  }
  const AVStream* stream = input->streams[probed.stream_index];
  const AVCodecParameters* params = stream->codecpar;
  probed.time_base = stream->time_base;
  StreamInfo& info = probed.info;
  info.codec = avcodec_get_name(params->codec_id);
  info.pix_fmt = internal::PixelFormatName(params->format);
  info.width_px = params->width;
  info.height_px = params->height;
  if (info.width_px <= 0 || info.height_px <= 0) {
    throw InputError(
        file.string(), "video",
        "has a video stream of size " + std::to_string(info.width_px) + "x" + std::to_string(info.height_px));
  }

  // Every packet of the stream, without decoding: one packet is one frame for the codecs we read (AV1, H.264, FFV1
  // in mp4/mkv). Packets come in decode order; B-frames make their pts non-monotonic, so they are sorted below.
  struct Sample {
    std::int64_t pts;
    std::int64_t duration;
    bool key;
  };
  std::vector<Sample> samples;
  std::int64_t packets = 0;  // shown or not
  PacketPtr packet = internal::AllocPacket();
  for (;;) {
    const int error = av_read_frame(input, packet.get());
    if (error == AVERROR_EOF) break;
    if (error < 0) {
      throw InputError(
          file.string(), "video",
          "is truncated or corrupt after " + std::to_string(samples.size()) + " frames: " + ErrorText(error));
    }
    const bool ours = packet->stream_index == probed.stream_index;
    const bool corrupt = packet->flags & AV_PKT_FLAG_CORRUPT;
    // Packets the container's edit list cuts away are decoded as references but never shown.
    const bool shown = !(packet->flags & AV_PKT_FLAG_DISCARD);
    const std::int64_t pts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
    if (ours && corrupt) {
      throw InputError(file.string(), "video",
                       "is truncated or corrupt: frame " + std::to_string(samples.size()) + " is incomplete");
    }
    if (ours && packet->dts != AV_NOPTS_VALUE &&
        (probed.smallest_dts == AV_NOPTS_VALUE || packet->dts < probed.smallest_dts)) {
      probed.smallest_dts = packet->dts;
    }
    if (ours && shown && pts == AV_NOPTS_VALUE) {
      throw InputError(file.string(), "video",
                       "frame " + std::to_string(samples.size()) + " has no timestamp (neither pts nor dts)");
    }
    packets += ours ? 1 : 0;
    if (ours && shown) samples.push_back({pts, packet->duration, (packet->flags & AV_PKT_FLAG_KEY) != 0});
    av_packet_unref(packet.get());
  }
  if (samples.empty()) throw InputError(file.string(), "video", "has a video stream with no frames");
  // A file cut short after its index (moov at the front) lists more frames than it holds.
  if (stream->nb_frames > 0 && packets != stream->nb_frames) {
    throw InputError(file.string(), "video",
                     "lists " + std::to_string(stream->nb_frames) + " frames but holds " + std::to_string(packets) +
                         " readable ones (truncated?)");
  }
  std::sort(samples.begin(), samples.end(), [](const Sample& a, const Sample& b) { return a.pts < b.pts; });
  for (std::size_t i = 1; i < samples.size(); ++i) {
    if (samples[i].pts == samples[i - 1].pts) {
      throw InputError(file.string(), "video",
                       "has two frames with the same timestamp (pts " + std::to_string(samples[i].pts) + ")");
    }
  }

  // Seconds from the first frame: LeRobot's files start at pts 0 and a v3.0 episode's from_timestamp counts from
  // the start of its file, so frame i of a 30 fps file is at i / 30.
  const std::int64_t first = samples.front().pts;
  const auto to_seconds = [&](std::int64_t ticks) {
    return static_cast<double>(ticks) * probed.time_base.num / probed.time_base.den;
  };
  probed.pts.reserve(samples.size());
  info.timestamps_s.reserve(samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    probed.pts.push_back(samples[i].pts);
    info.timestamps_s.push_back(to_seconds(samples[i].pts - first));
    if (samples[i].key) info.keyframes.push_back(static_cast<std::int64_t>(i));
  }
  for (std::size_t k = 1; k < info.keyframes.size(); ++k) {
    info.keyframe_interval =
        std::max(info.keyframe_interval, static_cast<int>(info.keyframes[k] - info.keyframes[k - 1]));
  }

  AVRational rate = stream->avg_frame_rate;
  if (rate.num <= 0 || rate.den <= 0) rate = stream->r_frame_rate;
  if (rate.num > 0 && rate.den > 0) {
    info.fps = av_q2d(rate);
  } else if (samples.size() > 1) {
    info.fps = static_cast<double>(samples.size() - 1) / info.timestamps_s.back();
  }
  const double last_duration_s = samples.back().duration > 0 ? to_seconds(samples.back().duration)
                                 : info.fps > 0              ? 1 / info.fps
                                                             : 0;
  info.duration_s = info.timestamps_s.back() + last_duration_s;
  return probed;
}

}  // namespace

StreamInfo ProbeVideo(const fs::path& file) {
  InputFormatPtr input = internal::OpenInput(file);
  return Probe(input.get(), file).info;
}

class VideoReader::Impl {
 public:
  Impl(fs::path file, InputFormatPtr input, Probed probed)
      : file_(std::move(file)), input_(std::move(input)), probed_(std::move(probed)) {
    OpenDecoder();
  }

  const StreamInfo& info() const { return probed_.info; }
  const std::vector<double>& last_timestamps_s() const { return last_timestamps_s_; }

  Array ReadFrames(double from_s, std::int64_t count);

 private:
  void OpenDecoder();
  std::int64_t NearestFrame(double from_s) const;
  std::int64_t KeyframeAtOrBefore(std::int64_t frame) const;
  void SeekTo(std::int64_t frame);
  // The next decoded frame into frame_; false at the end of the stream.
  bool DecodeNext();
  // Frame number of the decoded frame_, from its pts.
  std::int64_t FrameNumberOf(const AVFrame& frame) const;
  void Convert(const AVFrame& frame, std::byte* out);
  [[noreturn]] void Fail(const std::string& problem) const { throw InputError(file_.string(), "video", problem); }

  fs::path file_;
  InputFormatPtr input_;
  Probed probed_;
  CodecContextPtr decoder_;
  PacketPtr packet_ = internal::AllocPacket();
  FramePtr frame_ = internal::AllocFrame();
  SwsPtr sws_;
  int sws_source_format_ = -1;
  int sws_colorspace_ = -1;
  int sws_range_ = -1;
  // The frame number the decoder gives next when fed on from where it is; -1 when it has to seek first (nothing
  // read yet, after an error, or after the decoder was drained at the end of the file).
  std::int64_t next_frame_ = -1;
  bool drained_ = false;
  std::vector<double> last_timestamps_s_;
};

void VideoReader::Impl::OpenDecoder() {
  const AVStream* stream = input_->streams[probed_.stream_index];
  const AVCodecParameters* params = stream->codecpar;
  const AVCodec* codec = nullptr;
  // FFmpeg 5.1's native "av1" decoder needs a hardware accelerator; dav1d is the software one (and LeRobot's).
  if (params->codec_id == AV_CODEC_ID_AV1) codec = avcodec_find_decoder_by_name("libdav1d");
  if (codec == nullptr) codec = avcodec_find_decoder(params->codec_id);
  if (codec == nullptr) Fail("uses codec " + probed_.info.codec + ", which this FFmpeg cannot decode");
  decoder_.reset(avcodec_alloc_context3(codec));
  if (!decoder_) throw std::bad_alloc();
  if (const int error = avcodec_parameters_to_context(decoder_.get(), params); error < 0) {
    Fail("has stream parameters the decoder rejects: " + ErrorText(error));
  }
  decoder_->pkt_timebase = stream->time_base;
  // 0 = one thread per core. The decoded pixels do not depend on the thread count; only the latency does.
  decoder_->thread_count = 0;
  if (const int error = avcodec_open2(decoder_.get(), codec, nullptr); error < 0) {
    Fail("cannot open the " + std::string(codec->name) + " decoder: " + ErrorText(error));
  }
}

std::int64_t VideoReader::Impl::NearestFrame(double from_s) const {
  const std::vector<double>& times = probed_.info.timestamps_s;
  const auto it = std::lower_bound(times.begin(), times.end(), from_s);
  std::int64_t nearest = it - times.begin();
  if (it == times.end() || (it != times.begin() && from_s - *(it - 1) < *it - from_s)) --nearest;
  const double period_s = probed_.info.fps > 0 ? 1 / probed_.info.fps : 0;
  // 1 us of slack: table timestamps are float32 (i / 30 to within 5e-7).
  if (!std::isfinite(from_s) || std::abs(times[nearest] - from_s) > 0.5 * period_s + 1e-6) {
    Fail("has no frame at t=" + Seconds(from_s) + " (nearest: frame " + std::to_string(nearest) +
         " at t=" + Seconds(times[nearest]) + "; " + std::to_string(times.size()) + " frames, " +
         Seconds(times.front()) + " .. " + Seconds(times.back()) + ")");
  }
  return nearest;
}

std::int64_t VideoReader::Impl::KeyframeAtOrBefore(std::int64_t frame) const {
  const std::vector<std::int64_t>& keys = probed_.info.keyframes;
  const auto it = std::upper_bound(keys.begin(), keys.end(), frame);
  return it == keys.begin() ? 0 : *(it - 1);
}

void VideoReader::Impl::SeekTo(std::int64_t frame) {
  next_frame_ = -1;
  const std::int64_t key = KeyframeAtOrBefore(frame);
  // BACKWARD: land on the keyframe at or before the key's time. mp4 seeks by dts, which B-frames put before the
  // pts, so this may land a keyframe earlier; the frames before `frame` are decoded and dropped either way.
  int error = av_seek_frame(input_.get(), probed_.stream_index, probed_.pts[key], AVSEEK_FLAG_BACKWARD);
  if (error < 0 && probed_.smallest_dts != AV_NOPTS_VALUE) {
    error = av_seek_frame(input_.get(), probed_.stream_index, probed_.smallest_dts, AVSEEK_FLAG_BACKWARD);
  }
  if (error < 0) Fail("cannot seek to t=" + Seconds(probed_.info.timestamps_s[key]) + ": " + ErrorText(error));
  avcodec_flush_buffers(decoder_.get());
  drained_ = false;
}

bool VideoReader::Impl::DecodeNext() {
  for (;;) {
    const int received = avcodec_receive_frame(decoder_.get(), frame_.get());
    if (received == 0) return true;
    if (received == AVERROR_EOF) return false;
    if (received != AVERROR(EAGAIN)) Fail("cannot be decoded: " + ErrorText(received));
    // The decoder wants input: the next packet of our stream, or the end-of-stream signal.
    int read = 0;
    while ((read = av_read_frame(input_.get(), packet_.get())) >= 0 && packet_->stream_index != probed_.stream_index) {
      av_packet_unref(packet_.get());
    }
    if (read == AVERROR_EOF) {
      drained_ = true;
      avcodec_send_packet(decoder_.get(), nullptr);
      continue;
    }
    if (read < 0) Fail("is truncated or corrupt: " + ErrorText(read));
    const int sent = avcodec_send_packet(decoder_.get(), packet_.get());
    const double t_s =
        static_cast<double>(packet_->pts - probed_.pts.front()) * probed_.time_base.num / probed_.time_base.den;
    av_packet_unref(packet_.get());
    if (sent < 0) Fail("has a frame that cannot be decoded near t=" + Seconds(t_s) + ": " + ErrorText(sent));
  }
}

std::int64_t VideoReader::Impl::FrameNumberOf(const AVFrame& frame) const {
  const std::int64_t pts = frame.best_effort_timestamp != AV_NOPTS_VALUE ? frame.best_effort_timestamp : frame.pts;
  const auto it = std::lower_bound(probed_.pts.begin(), probed_.pts.end(), pts);
  if (it == probed_.pts.end() || *it != pts) {
    Fail("decoded a frame at pts " + std::to_string(pts) + " that the container does not list");
  }
  return it - probed_.pts.begin();
}

void VideoReader::Impl::Convert(const AVFrame& frame, std::byte* out) {
  const int width = probed_.info.width_px, height = probed_.info.height_px;
  if (frame.width != width || frame.height != height) {
    Fail("changes size mid-stream: " + std::to_string(frame.width) + "x" + std::to_string(frame.height) +
         ", expected " + std::to_string(width) + "x" + std::to_string(height));
  }
  const bool gray16 = probed_.info.pix_fmt == "gray16le";
  if (gray16 && frame.format == AV_PIX_FMT_GRAY16LE) {
    const std::size_t row_bytes = static_cast<std::size_t>(width) * 2;
    for (int y = 0; y < height; ++y) std::memcpy(out + y * row_bytes, frame.data[0] + y * frame.linesize[0], row_bytes);
    return;
  }
  const AVPixelFormat target = gray16 ? AV_PIX_FMT_GRAY16LE : AV_PIX_FMT_RGB24;
  // Bilinear is what PyAV's VideoFrame.to_ndarray("rgb24") uses (VideoReformatter's default interpolation), so
  // frames come out as LeRobot's pyav backend gives them: on the G1 files, byte for byte the same as PyAV 15.1
  // (libswscale 8) gives them.
  sws_.reset(sws_getCachedContext(sws_.release(), width, height, static_cast<AVPixelFormat>(frame.format), width,
                                  height, target, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!sws_) {
    Fail("has frames in pixel format " + internal::PixelFormatName(frame.format) + " that cannot be converted to " +
         internal::PixelFormatName(target));
  }
  // The stream's own YUV matrix and range where it states them; BT.601 limited range (swscale's default, and what
  // an unlabelled stream means to PyAV) otherwise.
  if (sws_source_format_ != frame.format || sws_colorspace_ != frame.colorspace || sws_range_ != frame.color_range) {
    const bool stated = frame.colorspace == AVCOL_SPC_BT709 || frame.colorspace == AVCOL_SPC_FCC ||
                        frame.colorspace == AVCOL_SPC_BT470BG || frame.colorspace == AVCOL_SPC_SMPTE170M ||
                        frame.colorspace == AVCOL_SPC_SMPTE240M || frame.colorspace == AVCOL_SPC_BT2020_NCL ||
                        frame.colorspace == AVCOL_SPC_BT2020_CL;  // the values sws_getCoefficients knows
    const int* source_matrix = sws_getCoefficients(stated ? frame.colorspace : SWS_CS_DEFAULT);
    int* unused_inv = nullptr;
    int *unused_table = nullptr, unused_source_full = 0, dest_full = 0, brightness = 0, contrast = 0, saturation = 0;
    // The destination range stays what swscale chose for the target format.
    sws_getColorspaceDetails(sws_.get(), &unused_inv, &unused_source_full, &unused_table, &dest_full, &brightness,
                             &contrast, &saturation);
    const bool jpeg_format = frame.format == AV_PIX_FMT_YUVJ420P || frame.format == AV_PIX_FMT_YUVJ422P ||
                             frame.format == AV_PIX_FMT_YUVJ444P || frame.format == AV_PIX_FMT_YUVJ440P ||
                             frame.format == AV_PIX_FMT_YUVJ411P;
    const int source_full = jpeg_format || frame.color_range == AVCOL_RANGE_JPEG ? 1 : 0;
    sws_setColorspaceDetails(sws_.get(), source_matrix, source_full, sws_getCoefficients(SWS_CS_DEFAULT), dest_full,
                             brightness, contrast, saturation);
    sws_source_format_ = frame.format;
    sws_colorspace_ = frame.colorspace;
    sws_range_ = frame.color_range;
  }
  std::uint8_t* planes[4] = {reinterpret_cast<std::uint8_t*>(out), nullptr, nullptr, nullptr};
  int strides[4] = {width * (gray16 ? 2 : 3), 0, 0, 0};
  sws_scale(sws_.get(), frame.data, frame.linesize, 0, height, planes, strides);
}

Array VideoReader::Impl::ReadFrames(double from_s, std::int64_t count) {
  if (count < 0) throw std::invalid_argument("VideoReader::ReadFrames: count = " + std::to_string(count));
  const StreamInfo& info = probed_.info;
  last_timestamps_s_.clear();
  const bool gray16 = info.pix_fmt == "gray16le";
  if (count == 0) {  // an empty episode may start where the file ends
    return gray16 ? Array::Zeros(DType::kUInt16, {0, info.height_px, info.width_px})
                  : Array::Zeros(DType::kUInt8, {0, info.height_px, info.width_px, 3});
  }
  const std::int64_t first = NearestFrame(from_s);
  if (first + count > info.frames()) {
    Fail("holds " + std::to_string(info.frames() - first) + " frames from t=" + Seconds(info.timestamps_s[first]) +
         ", the table needs " + std::to_string(count));
  }
  Array frames = gray16 ? Array::Zeros(DType::kUInt16, {count, info.height_px, info.width_px})
                        : Array::Zeros(DType::kUInt8, {count, info.height_px, info.width_px, 3});
  const std::size_t frame_bytes = frames.bytes.size() / static_cast<std::size_t>(count);

  // Feed the decoder on from where it stopped (the next episode of a v3.0 file usually starts there) unless a
  // seek gets closer: a keyframe after the decoder's position, or a target behind it.
  if (next_frame_ < 0 || drained_ || first < next_frame_ || KeyframeAtOrBefore(first) > next_frame_) SeekTo(first);
  next_frame_ = -1;  // until the read below succeeds
  std::int64_t done = 0;
  while (done < count) {
    if (!DecodeNext()) {
      Fail("ended after frame " + std::to_string(first + done - 1) + " while reading " + std::to_string(count) +
           " frames from t=" + Seconds(info.timestamps_s[first]));
    }
    const std::int64_t number = FrameNumberOf(*frame_);
    if (number < first + done) continue;  // between the keyframe and the first frame asked for
    if (number != first + done) {
      Fail("decoded frame " + std::to_string(number) + " (t=" + Seconds(info.timestamps_s[number]) + ") where frame " +
           std::to_string(first + done) + " was expected (a frame failed to decode)");
    }
    Convert(*frame_, frames.bytes.data() + done * frame_bytes);
    last_timestamps_s_.push_back(info.timestamps_s[number]);
    ++done;
  }
  next_frame_ = first + count;
  return frames;
}

VideoReader VideoReader::Open(const fs::path& file) {
  InputFormatPtr input = internal::OpenInput(file);
  Probed probed = Probe(input.get(), file);
  return VideoReader(std::make_unique<Impl>(file, std::move(input), std::move(probed)));
}

VideoReader::VideoReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VideoReader::VideoReader(VideoReader&&) noexcept = default;
VideoReader& VideoReader::operator=(VideoReader&&) noexcept = default;
VideoReader::~VideoReader() = default;

const StreamInfo& VideoReader::info() const { return impl_->info(); }

Array VideoReader::ReadFrames(double from_s, std::int64_t count) { return impl_->ReadFrames(from_s, count); }

const std::vector<double>& VideoReader::last_timestamps_s() const { return impl_->last_timestamps_s(); }

}  // namespace r2s::episode::video

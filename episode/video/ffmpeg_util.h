#pragma once
// Private to episode/video/: FFmpeg's C handles owned by scope, and FFmpeg's error codes as text. Each handle has
// exactly one way to free it, so the deleters are written once here instead of at every early return.

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace r2s::episode::video::internal {

struct InputFormatDeleter {
  void operator()(AVFormatContext* context) const { avformat_close_input(&context); }
};
// An output context also owns the file it writes (its pb), closed here if Finish did not close it.
struct OutputFormatDeleter {
  void operator()(AVFormatContext* context) const;
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct SwsDeleter {
  void operator()(SwsContext* context) const { sws_freeContext(context); }
};

using InputFormatPtr = std::unique_ptr<AVFormatContext, InputFormatDeleter>;
using OutputFormatPtr = std::unique_ptr<AVFormatContext, OutputFormatDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;

// An AVDictionary of options for avcodec_open2/avformat_write_header, freed with its scope.
class Dictionary {
 public:
  Dictionary() = default;
  Dictionary(const Dictionary&) = delete;
  Dictionary& operator=(const Dictionary&) = delete;
  ~Dictionary() { av_dict_free(&dict_); }
  void Set(const std::string& key, const std::string& value) { av_dict_set(&dict_, key.c_str(), value.c_str(), 0); }
  AVDictionary** get() { return &dict_; }
  // The keys FFmpeg did not consume ("crf, preset"); empty when all were used.
  std::string UnusedKeys() const;

 private:
  AVDictionary* dict_ = nullptr;
};

// av_strerror's text for an FFmpeg error code: "Invalid data found when processing input".
std::string ErrorText(int error);

FramePtr AllocFrame();
PacketPtr AllocPacket();

// FFmpeg logs every demuxer complaint about a bad file at AV_LOG_ERROR and every encoder's settings at
// AV_LOG_INFO; our errors carry the reason instead. Lowers the log level to AV_LOG_ERROR once, unless someone
// (the command line's --verbose) already changed it from FFmpeg's default.
void QuietFfmpegLogsOnce();

// Opens `file` for demuxing and reads its stream parameters (avformat_find_stream_info, which decodes a frame or
// two, is what fills in the pixel format). InputError(file, "video", ...) when it is missing or not a media file.
InputFormatPtr OpenInput(const std::filesystem::path& file);

// The first video stream's index; InputError when there is none.
int FindVideoStream(AVFormatContext* input, const std::filesystem::path& file);

// "yuv420p"; "none" when unknown.
std::string PixelFormatName(int format);

}  // namespace r2s::episode::video::internal

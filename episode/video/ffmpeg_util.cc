#include "episode/video/ffmpeg_util.h"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
}

#include <mutex>
#include <new>
#include <system_error>

#include "episode/input_error.h"

namespace r2s::episode::video::internal {

namespace fs = std::filesystem;

void OutputFormatDeleter::operator()(AVFormatContext* context) const {
  if (context->pb && !(context->oformat->flags & AVFMT_NOFILE)) avio_closep(&context->pb);
  avformat_free_context(context);
}

std::string Dictionary::UnusedKeys() const {
  std::string keys;
  const AVDictionaryEntry* entry = nullptr;
  while ((entry = av_dict_get(dict_, "", entry, AV_DICT_IGNORE_SUFFIX)) != nullptr) {
    if (!keys.empty()) keys += ", ";
    keys += entry->key;
  }
  return keys;
}

std::string ErrorText(int error) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(error, text, sizeof(text)) < 0) return "FFmpeg error " + std::to_string(error);
  return text;
}

FramePtr AllocFrame() {
  FramePtr frame(av_frame_alloc());
  if (!frame) throw std::bad_alloc();
  return frame;
}

PacketPtr AllocPacket() {
  PacketPtr packet(av_packet_alloc());
  if (!packet) throw std::bad_alloc();
  return packet;
}

void QuietFfmpegLogsOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (av_log_get_level() == AV_LOG_INFO) av_log_set_level(AV_LOG_ERROR);
  });
}

InputFormatPtr OpenInput(const fs::path& file) {
  QuietFfmpegLogsOnce();
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    throw InputError(file.string(), "video", fs::exists(file, ec) ? "is not a regular file" : "no such file");
  }
  AVFormatContext* raw = nullptr;
  // "file:" so that a name with a colon is not taken for a protocol ("rtsp:...").
  const std::string url = "file:" + file.string();
  if (const int error = avformat_open_input(&raw, url.c_str(), nullptr, nullptr); error < 0) {
    throw InputError(file.string(), "video", "cannot be read as a video file: " + ErrorText(error));
  }
  InputFormatPtr input(raw);
  if (const int error = avformat_find_stream_info(input.get(), nullptr); error < 0) {
    throw InputError(file.string(), "video", "has unreadable stream parameters: " + ErrorText(error));
  }
  return input;
}

int FindVideoStream(AVFormatContext* input, const fs::path& file) {
  for (unsigned i = 0; i < input->nb_streams; ++i) {
    if (input->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
        !(input->streams[i]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
      return static_cast<int>(i);
    }
  }
  throw InputError(
      file.string(), "video",
      "has no video stream (" + std::to_string(input->nb_streams) + " streams, format " + input->iformat->name + ")");
}

std::string PixelFormatName(int format) {
  const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(format));
  return name ? name : "none";
}

}  // namespace r2s::episode::video::internal

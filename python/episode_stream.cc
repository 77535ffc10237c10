#include "python/episode_stream.h"

#include <utility>

namespace r2s::python {
namespace {

// Thrown by the consumer callback once the stream is closed: Generate stops its workers and rethrows it, and the
// producer swallows it (a closed stream is not an error).
struct StreamClosed {};

}  // namespace

EpisodeStream::EpisodeStream(amplify::Generator& generator, std::uint64_t begin, std::uint64_t end,
                             std::vector<std::uint64_t> skip, std::size_t capacity)
    : generator_(generator), capacity_(capacity < 1 ? 1 : capacity) {
  producer_ = std::thread(&EpisodeStream::Produce, this, begin, end, std::move(skip));
}

EpisodeStream::~EpisodeStream() { Close(); }

void EpisodeStream::Produce(std::uint64_t begin, std::uint64_t end, std::vector<std::uint64_t> skip) {
  std::exception_ptr error;
  try {
    generator_.Generate(begin, end, [this](amplify::GeneratedEpisode& episode) {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return cancelled_ || queue_.size() < capacity_; });
      if (cancelled_) throw StreamClosed{};
      queue_.push_back(std::move(episode));
      changed_.notify_all();
    }, skip);
  } catch (const StreamClosed&) {
  } catch (...) {
    error = std::current_exception();
  }
  std::lock_guard lock(mutex_);
  error_ = error;
  finished_ = true;
  changed_.notify_all();
}

std::optional<amplify::GeneratedEpisode> EpisodeStream::Next() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return !queue_.empty() || finished_ || cancelled_; });
  if (!queue_.empty()) {
    amplify::GeneratedEpisode episode = std::move(queue_.front());
    queue_.pop_front();
    changed_.notify_all();
    return episode;
  }
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  return std::nullopt;
}

void EpisodeStream::Close() {
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    queue_.clear();
    changed_.notify_all();
  }
  if (producer_.joinable()) producer_.join();
}

}  // namespace r2s::python

#pragma once
// Turns Generator::Generate, which calls back on its calling thread, into a stream a Python iterator pulls from:
// Generate runs on one producer thread this object owns (started by the constructor, joined by Close and the
// destructor) and hands each episode over through a queue of at most `capacity` episodes, so a consumer that
// stops pulling stops the generator within `capacity` episodes and memory stays bounded. Episodes come out in
// unit order, as Generate makes them. No Python here: the bindings release the GIL around Next and Close.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "amplify/generator.h"

namespace r2s::python {

class EpisodeStream {
 public:
  // `generator` must outlive the stream. Units [begin, end) except `skip`; capacity at least 1.
  EpisodeStream(amplify::Generator& generator, std::uint64_t begin, std::uint64_t end,
                std::vector<std::uint64_t> skip, std::size_t capacity);
  EpisodeStream(const EpisodeStream&) = delete;
  EpisodeStream& operator=(const EpisodeStream&) = delete;
  ~EpisodeStream();

  // The next episode, waiting for it; nullopt when every unit was handed out. Rethrows what stopped the
  // generator (a bad source episode's InputError, a render error), once, after the episodes made before it.
  std::optional<amplify::GeneratedEpisode> Next();
  // Stops the generator (its workers finish their current episode) and joins the producer; idempotent.
  void Close();

 private:
  void Produce(std::uint64_t begin, std::uint64_t end, std::vector<std::uint64_t> skip);

  amplify::Generator& generator_;
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<amplify::GeneratedEpisode> queue_;
  bool finished_ = false;   // the producer returned
  bool cancelled_ = false;  // Close was called
  std::exception_ptr error_;
  std::thread producer_;
};

}  // namespace r2s::python

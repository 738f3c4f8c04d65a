// Progress reporting for long stages. The library never prints: it counts into a
// progress object, and the object hands finished lines to a writer the CLI supplies.
// On a terminal the line is redrawn in place (a bar with rate and ETA); otherwise a
// plain line is emitted at most every `plain_interval`; quiet mode emits nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace ctprep::core {

enum class progress_style { bar, plain, quiet };

// transient = true: the line replaces the previous one (terminal bar).
using progress_writer = std::function<void(std::string_view line, bool transient)>;

class progress {
 public:
  progress(std::string label, std::uint64_t total, progress_style style, progress_writer writer,
           std::chrono::milliseconds plain_interval = std::chrono::seconds(5));
  progress(const progress&) = delete;
  progress& operator=(const progress&) = delete;
  ~progress();

  void advance(std::uint64_t n = 1);  // thread-safe
  // Bytes moved so far (thread-safe): once any are counted, lines show MB/s too.
  void add_bytes(std::uint64_t n);
  void finish();  // emits the final line once

  // The text of one report: "label [#####.....] 50/100 12.0/s 6.3 MB/s ETA 4s" (the
  // MB/s only when bytes > 0).
  [[nodiscard]] static std::string format_line(std::string_view label, std::uint64_t done,
                                               std::uint64_t total, double seconds, bool bar,
                                               std::uint64_t bytes = 0);

 private:
  void maybe_emit(bool final_line);
  std::string label_;
  std::uint64_t total_;
  progress_style style_;
  progress_writer writer_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_emit_;
  std::atomic<std::uint64_t> done_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::mutex mutex_;
  bool finished_ = false;
};

}  // namespace ctprep::core

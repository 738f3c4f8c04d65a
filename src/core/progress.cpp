#include "ctprep/core/progress.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace ctprep::core {

progress::progress(std::string label, std::uint64_t total, progress_style style,
                   progress_writer writer, std::chrono::milliseconds plain_interval)
    : label_(std::move(label)),
      total_(total),
      style_(style),
      writer_(std::move(writer)),
      interval_(plain_interval),
      start_(std::chrono::steady_clock::now()),
      last_emit_(start_) {}

progress::~progress() {
  finish();
}

void progress::advance(std::uint64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
  if (style_ != progress_style::quiet) maybe_emit(false);
}

void progress::add_bytes(std::uint64_t n) {
  bytes_.fetch_add(n, std::memory_order_relaxed);
}

void progress::finish() {
  if (style_ == progress_style::quiet) return;
  maybe_emit(true);
}

void progress::maybe_emit(bool final_line) {
  std::lock_guard lock(mutex_);
  if (finished_ || !writer_) return;
  const auto now = std::chrono::steady_clock::now();
  // A terminal bar is redrawn ~10 times a second; plain lines are rarer so logs stay short.
  const auto interval = style_ == progress_style::bar ? std::chrono::milliseconds(100) : interval_;
  if (!final_line && now - last_emit_ < interval) return;
  last_emit_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const bool bar = style_ == progress_style::bar;
  writer_(format_line(label_, done_.load(std::memory_order_relaxed), total_, seconds, bar,
                      bytes_.load(std::memory_order_relaxed)),
          bar && !final_line);
  if (final_line) finished_ = true;
}

std::string progress::format_line(std::string_view label, std::uint64_t done, std::uint64_t total,
                                  double seconds, bool bar, std::uint64_t bytes) {
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  std::string line(label);
  if (bar && total > 0) {
    constexpr int width = 30;
    const auto filled = static_cast<int>(
        std::min<double>(width, width * static_cast<double>(done) / static_cast<double>(total)));
    line += fmt::format(" [{}{}]", std::string(static_cast<std::size_t>(filled), '#'),
                        std::string(static_cast<std::size_t>(width - filled), '.'));
  }
  line += total > 0 ? fmt::format(" {}/{}", done, total) : fmt::format(" {}", done);
  line += fmt::format(" {:.1f}/s", rate);
  if (bytes > 0 && seconds > 0) {
    line += fmt::format(" {:.1f} MB/s", static_cast<double>(bytes) / 1e6 / seconds);
  }
  if (total > 0 && done < total && rate > 0) {
    const auto eta = static_cast<long long>(std::ceil(static_cast<double>(total - done) / rate));
    line += fmt::format(" ETA {}s", eta);
  } else if (total > 0 && done >= total) {
    line += fmt::format(" in {:.1f}s", seconds);
  }
  return line;
}

}  // namespace ctprep::core

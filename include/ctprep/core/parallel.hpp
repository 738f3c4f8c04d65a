// A minimal parallel loop: items are claimed one at a time from a shared counter by
// `jobs` threads. Callers write results into per-index slots, so the output order
// never depends on the thread count.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace ctprep::core {

// 0 means "all cores".
[[nodiscard]] inline unsigned resolve_jobs(unsigned jobs) {
  if (jobs > 0) return jobs;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? hw : 1;
}

// Calls fn(i) for every i in [0, n). fn must not throw (library code returns errors as
// values); an escaping exception is a bug and terminates, as in any noexcept context.
inline void parallel_for(std::size_t n, unsigned jobs, const std::function<void(std::size_t)>& fn) {
  const auto threads =
      static_cast<unsigned>(std::min<std::size_t>(resolve_jobs(jobs), n == 0 ? 1 : n));
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  auto worker = [&]() noexcept {
    for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

}  // namespace ctprep::core

// A seeded, portable random generator: the same numbers on every platform and
// standard library (std::uniform_*_distribution differ between libstdc++ and libc++,
// NOTES.md), derivable per key so that work can be split across threads and still
// give the same bytes.
#pragma once

#include <cstdint>
#include <string_view>

namespace ctprep::core {

// 64-bit FNV-1a of the bytes: a stable hash for keys (not for security).
[[nodiscard]] std::uint64_t stable_hash(std::string_view bytes, std::uint64_t seed = 0) noexcept;
// A fast hash of a byte run for equality checks (8 bytes at a time, about 8x the
// byte-wise stable_hash, whose values seed every rng and so must never change).
// `constant`, when given, is set when every byte equals the first (a blank slice).
[[nodiscard]] std::uint64_t content_hash(std::string_view bytes, std::uint64_t seed = 0,
                                         bool* constant = nullptr) noexcept;

class rng {
 public:
  explicit rng(std::uint64_t seed) noexcept;
  // A generator for one (seed, key, index), e.g. (42, "v3_1_2.jpg", 2).
  [[nodiscard]] static rng for_key(std::uint64_t seed, std::string_view key,
                                   std::uint64_t index = 0) noexcept;

  [[nodiscard]] std::uint64_t next() noexcept;                      // xoshiro256**
  [[nodiscard]] double uniform() noexcept;                          // [0, 1), 53 bits
  [[nodiscard]] double uniform(double lo, double hi) noexcept;      // [lo, hi)
  [[nodiscard]] std::uint64_t below(std::uint64_t bound) noexcept;  // [0, bound), unbiased
  [[nodiscard]] std::int64_t between(std::int64_t lo, std::int64_t hi) noexcept;  // [lo, hi]
  [[nodiscard]] bool chance(double p) noexcept;  // true with probability p

  // Fisher-Yates with below(): portable, unlike std::shuffle.
  template <typename It>
  void shuffle(It first, It last) noexcept {
    const auto n = static_cast<std::uint64_t>(last - first);
    for (std::uint64_t i = n; i > 1; --i) {
      const auto j = below(i);
      using std::swap;
      swap(first[static_cast<std::ptrdiff_t>(i - 1)], first[static_cast<std::ptrdiff_t>(j)]);
    }
  }

 private:
  std::uint64_t s_[4];
};

}  // namespace ctprep::core

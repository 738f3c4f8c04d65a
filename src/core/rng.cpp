#include "ctprep/core/rng.hpp"

#include <cstring>

namespace ctprep::core {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// 128-bit products for Lemire's method (GCC/Clang extension).
__extension__ typedef unsigned __int128 u128;

std::uint64_t rotl(std::uint64_t x, int k) noexcept {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

std::uint64_t stable_hash(std::string_view bytes, std::uint64_t seed) noexcept {
  std::uint64_t h = 0xCBF29CE484222325ULL ^ seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return h;
}

std::uint64_t content_hash(std::string_view bytes, std::uint64_t seed, bool* constant) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  // Four independent lanes of 8 bytes: the multiply chains overlap instead of waiting on
  // each other (a 512x512 JPEG's coefficients are 768 KiB).
  std::uint64_t lane[4] = {0x9E3779B97F4A7C15ULL ^ seed, 0xC2B2AE3D27D4EB4FULL ^ seed,
                           0x165667B19E3779F9ULL ^ seed, 0x27D4EB2F165667C5ULL ^ seed};
  const std::uint64_t same = n == 0 ? 0 : 0x0101010101010101ULL * p[0];
  std::uint64_t differ = 0;
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k) {
      std::uint64_t w;
      std::memcpy(&w, p + i + 8 * static_cast<std::size_t>(k), 8);
      differ |= w ^ same;
      lane[k] = (lane[k] ^ w) * 0xBF58476D1CE4E5B9ULL;
      lane[k] ^= lane[k] >> 31;
    }
  }
  std::uint64_t h = lane[0] ^ (lane[1] * 0x94D049BB133111EBULL) ^ (lane[2] >> 7 | lane[2] << 57) ^
                    (lane[3] * 0xD6E8FEB86659FD93ULL);
  for (; i < n; ++i) {
    differ |= static_cast<std::uint64_t>(p[i] ^ p[0]);
    h = (h ^ p[i]) * 0x94D049BB133111EBULL;
  }
  if (constant != nullptr) *constant = differ == 0;
  return h ^ (h >> 29) ^ n;
}

rng::rng(std::uint64_t seed) noexcept {
  std::uint64_t state = seed;
  for (auto& s : s_) s = splitmix64(state);
}

rng rng::for_key(std::uint64_t seed, std::string_view key, std::uint64_t index) noexcept {
  std::uint64_t state = seed;
  const auto mixed = splitmix64(state) ^ stable_hash(key) ^ (index * 0xD1B54A32D192ED03ULL);
  return rng(mixed);
}

std::uint64_t rng::next() noexcept {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double rng::uniform() noexcept {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double rng::uniform(double lo, double hi) noexcept {
  return lo + (hi - lo) * uniform();
}

std::uint64_t rng::below(std::uint64_t bound) noexcept {
  if (bound <= 1) return 0;
  // Lemire's nearly-divisionless method: unbiased and the same on every platform.
  u128 m = static_cast<u128>(next()) * bound;
  auto low = static_cast<std::uint64_t>(m);
  if (low < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = static_cast<u128>(next()) * bound;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

std::int64_t rng::between(std::int64_t lo, std::int64_t hi) noexcept {
  if (hi <= lo) return lo;
  const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
  return lo + static_cast<std::int64_t>(span == 0 ? next() : below(span));
}

bool rng::chance(double p) noexcept {
  return uniform() < p;
}

}  // namespace ctprep::core

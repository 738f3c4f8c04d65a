// MD5 of many byte streams side by side, for the ETag checks of parallel downloads.
// One MD5 stream is serial (about 5 cycles a byte: 0.33 s of CPU for 210 MB, a third of
// what `ctprep download --no-convert` spent); with 16 transfers in flight, 16 streams
// are hashed at once in the 16 32-bit lanes of AVX-512 registers (multi-buffer MD5),
// several times cheaper per byte. Without AVX-512, or for stragglers, a scalar MD5.
// Checked against OpenSSL's MD5 in tests/fetch/md5_test.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ctprep::fetch {

// The running state of one stream: the four MD5 words and how many bytes went in
// (always whole 64-byte blocks; the caller keeps the bytes of an unfinished block).
struct md5_state {
  std::array<std::uint32_t, 4> h{0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
  std::uint64_t length = 0;
};

// `blocks` whole 64-byte blocks at `data` to absorb into `*state`.
struct md5_job {
  md5_state* state = nullptr;
  const unsigned char* data = nullptr;
  std::size_t blocks = 0;
};

// Absorbs every job's blocks (jobs must name distinct states), up to 16 side by side.
void md5_absorb(std::span<const md5_job> jobs);

// The MD5 of everything absorbed into `state` followed by `tail` (any length), as 32
// lower-case hex digits.
[[nodiscard]] std::string md5_finish_hex(md5_state state, std::string_view tail);

// Which kernel md5_absorb uses: the default picks AVX-512 when the CPU has it (tests
// force the scalar one to check both).
enum class md5_kernel { automatic, scalar };
void md5_set_kernel(md5_kernel kernel) noexcept;
[[nodiscard]] bool md5_vector_available() noexcept;

}  // namespace ctprep::fetch

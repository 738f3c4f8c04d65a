// Multi-buffer MD5 (RFC 1321): up to 16 independent streams in the 32-bit lanes of
// AVX-512 registers, one 64-byte block of each per round; a scalar MD5 otherwise.
#include "ctprep/fetch/md5.hpp"

#include <atomic>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CTPREP_MD5_AVX512 1
#endif

namespace ctprep::fetch {
namespace {

constexpr std::uint32_t k_table[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

inline std::uint32_t rotl(std::uint32_t x, int s) {
  return (x << s) | (x >> (32 - s));
}

inline std::uint32_t load_le32(const unsigned char* p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
#else
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
#endif
}

// One 64-byte block into h (scalar).
void block_scalar(std::array<std::uint32_t, 4>& h, const unsigned char* p) {
  std::uint32_t m[16];
#pragma GCC unroll 4
  for (int i = 0; i < 16; ++i) m[i] = load_le32(p + 4 * i);
  std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
#define CTPREP_MD5_STEP(f, a, b, c, d, g, i, s) a = b + rotl(a + (f) + k_table[i] + m[g], s)
#pragma GCC unroll 4
  for (int i = 0; i < 16; i += 4) {
    CTPREP_MD5_STEP(d ^ (b & (c ^ d)), a, b, c, d, i, i, 7);
    CTPREP_MD5_STEP(c ^ (a & (b ^ c)), d, a, b, c, i + 1, i + 1, 12);
    CTPREP_MD5_STEP(b ^ (d & (a ^ b)), c, d, a, b, i + 2, i + 2, 17);
    CTPREP_MD5_STEP(a ^ (c & (d ^ a)), b, c, d, a, i + 3, i + 3, 22);
  }
#pragma GCC unroll 4
  for (int i = 16; i < 32; i += 4) {
    CTPREP_MD5_STEP(c ^ (d & (b ^ c)), a, b, c, d, (5 * i + 1) % 16, i, 5);
    CTPREP_MD5_STEP(b ^ (c & (a ^ b)), d, a, b, c, (5 * (i + 1) + 1) % 16, i + 1, 9);
    CTPREP_MD5_STEP(a ^ (b & (d ^ a)), c, d, a, b, (5 * (i + 2) + 1) % 16, i + 2, 14);
    CTPREP_MD5_STEP(d ^ (a & (c ^ d)), b, c, d, a, (5 * (i + 3) + 1) % 16, i + 3, 20);
  }
#pragma GCC unroll 4
  for (int i = 32; i < 48; i += 4) {
    CTPREP_MD5_STEP(b ^ c ^ d, a, b, c, d, (3 * i + 5) % 16, i, 4);
    CTPREP_MD5_STEP(a ^ b ^ c, d, a, b, c, (3 * (i + 1) + 5) % 16, i + 1, 11);
    CTPREP_MD5_STEP(d ^ a ^ b, c, d, a, b, (3 * (i + 2) + 5) % 16, i + 2, 16);
    CTPREP_MD5_STEP(c ^ d ^ a, b, c, d, a, (3 * (i + 3) + 5) % 16, i + 3, 23);
  }
#pragma GCC unroll 4
  for (int i = 48; i < 64; i += 4) {
    CTPREP_MD5_STEP(c ^ (b | ~d), a, b, c, d, (7 * i) % 16, i, 6);
    CTPREP_MD5_STEP(b ^ (a | ~c), d, a, b, c, (7 * (i + 1)) % 16, i + 1, 10);
    CTPREP_MD5_STEP(a ^ (d | ~b), c, d, a, b, (7 * (i + 2)) % 16, i + 2, 15);
    CTPREP_MD5_STEP(d ^ (c | ~a), b, c, d, a, (7 * (i + 3)) % 16, i + 3, 21);
  }
#undef CTPREP_MD5_STEP
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
}

void absorb_scalar(const md5_job& job) {
  for (std::size_t i = 0; i < job.blocks; ++i) block_scalar(job.state->h, job.data + 64 * i);
}

std::atomic<bool> force_scalar{false};

#ifdef CTPREP_MD5_AVX512
// GCC 12's avx512fintrin.h builds its "undefined" vectors as `__m512i __Y = __Y;`, which
// -Wuninitialized reports at every inlined use.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

bool cpu_has_avx512() noexcept {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return has;
}

// Fewer active lanes than this: the scalar kernel is cheaper than a vector round.
constexpr int min_lanes = 3;

alignas(64) const unsigned char zero_block[64] = {};

// One round: block `rows[j]` of lane j for the lanes in `active`, 16 states in sa..sd.
__attribute__((target("avx512f"))) void round_avx512(const unsigned char* const rows[16],
                                                     __mmask16 active, std::uint32_t* sa,
                                                     std::uint32_t* sb, std::uint32_t* sc,
                                                     std::uint32_t* sd) {
  __m512i r[16];
#pragma GCC unroll 16
  for (int j = 0; j < 16; ++j) r[j] = _mm512_loadu_si512(rows[j]);
  // 16x16 transpose of 32-bit words: m[w] holds word w of every lane.
  __m512i t[16];
#pragma GCC unroll 16
  for (int j = 0; j < 16; j += 2) {
    t[j] = _mm512_unpacklo_epi32(r[j], r[j + 1]);
    t[j + 1] = _mm512_unpackhi_epi32(r[j], r[j + 1]);
  }
#pragma GCC unroll 16
  for (int j = 0; j < 16; j += 4) {
    r[j] = _mm512_unpacklo_epi64(t[j], t[j + 2]);
    r[j + 1] = _mm512_unpackhi_epi64(t[j], t[j + 2]);
    r[j + 2] = _mm512_unpacklo_epi64(t[j + 1], t[j + 3]);
    r[j + 3] = _mm512_unpackhi_epi64(t[j + 1], t[j + 3]);
  }
#pragma GCC unroll 16
  for (int j = 0; j < 16; j += 8) {
#pragma GCC unroll 16
    for (int q = 0; q < 4; ++q) {
      t[j + q] = _mm512_shuffle_i32x4(r[j + q], r[j + q + 4], 0x88);
      t[j + q + 4] = _mm512_shuffle_i32x4(r[j + q], r[j + q + 4], 0xdd);
    }
  }
#pragma GCC unroll 16
  for (int q = 0; q < 8; ++q) {
    r[q] = _mm512_shuffle_i32x4(t[q], t[q + 8], 0x88);
    r[q + 8] = _mm512_shuffle_i32x4(t[q], t[q + 8], 0xdd);
  }
  // After these four stages r[w] holds word w of the 16 lanes, in lane order.
  const __m512i* m = r;

  const __m512i a0 = _mm512_load_si512(sa), b0 = _mm512_load_si512(sb);
  const __m512i c0 = _mm512_load_si512(sc), d0 = _mm512_load_si512(sd);
  __m512i a = a0, b = b0, c = c0, d = d0;
#define CTPREP_MD5_VSTEP(imm, a, b, c, d, g, i, s)                                                \
  a = _mm512_add_epi32(                                                                           \
      a,                                                                                          \
      _mm512_add_epi32(_mm512_ternarylogic_epi32(b, c, d, imm),                                   \
                       _mm512_add_epi32(m[g], _mm512_set1_epi32(static_cast<int>(k_table[i]))))); \
  a = _mm512_add_epi32(_mm512_rol_epi32(a, s), b)
  // F = b ? c : d (0xca), G = d ? b : c (0xe4), H = b ^ c ^ d (0x96), I = c ^ (b | ~d) (0x39).
#pragma GCC unroll 16
  for (int i = 0; i < 16; i += 4) {
    CTPREP_MD5_VSTEP(0xca, a, b, c, d, i, i, 7);
    CTPREP_MD5_VSTEP(0xca, d, a, b, c, i + 1, i + 1, 12);
    CTPREP_MD5_VSTEP(0xca, c, d, a, b, i + 2, i + 2, 17);
    CTPREP_MD5_VSTEP(0xca, b, c, d, a, i + 3, i + 3, 22);
  }
#pragma GCC unroll 16
  for (int i = 16; i < 32; i += 4) {
    CTPREP_MD5_VSTEP(0xe4, a, b, c, d, (5 * i + 1) % 16, i, 5);
    CTPREP_MD5_VSTEP(0xe4, d, a, b, c, (5 * (i + 1) + 1) % 16, i + 1, 9);
    CTPREP_MD5_VSTEP(0xe4, c, d, a, b, (5 * (i + 2) + 1) % 16, i + 2, 14);
    CTPREP_MD5_VSTEP(0xe4, b, c, d, a, (5 * (i + 3) + 1) % 16, i + 3, 20);
  }
#pragma GCC unroll 16
  for (int i = 32; i < 48; i += 4) {
    CTPREP_MD5_VSTEP(0x96, a, b, c, d, (3 * i + 5) % 16, i, 4);
    CTPREP_MD5_VSTEP(0x96, d, a, b, c, (3 * (i + 1) + 5) % 16, i + 1, 11);
    CTPREP_MD5_VSTEP(0x96, c, d, a, b, (3 * (i + 2) + 5) % 16, i + 2, 16);
    CTPREP_MD5_VSTEP(0x96, b, c, d, a, (3 * (i + 3) + 5) % 16, i + 3, 23);
  }
#pragma GCC unroll 16
  for (int i = 48; i < 64; i += 4) {
    CTPREP_MD5_VSTEP(0x39, a, b, c, d, (7 * i) % 16, i, 6);
    CTPREP_MD5_VSTEP(0x39, d, a, b, c, (7 * (i + 1)) % 16, i + 1, 10);
    CTPREP_MD5_VSTEP(0x39, c, d, a, b, (7 * (i + 2)) % 16, i + 2, 15);
    CTPREP_MD5_VSTEP(0x39, b, c, d, a, (7 * (i + 3)) % 16, i + 3, 21);
  }
#undef CTPREP_MD5_VSTEP
  _mm512_store_si512(sa, _mm512_mask_add_epi32(a0, active, a0, a));
  _mm512_store_si512(sb, _mm512_mask_add_epi32(b0, active, b0, b));
  _mm512_store_si512(sc, _mm512_mask_add_epi32(c0, active, c0, c));
  _mm512_store_si512(sd, _mm512_mask_add_epi32(d0, active, d0, d));
}

// Lanes are refilled from the job list as they finish, so 16 lanes stay busy while jobs
// remain; the last few stragglers finish on the scalar kernel.
void absorb_avx512(std::span<const md5_job> jobs) {
  alignas(64) std::uint32_t sa[16] = {}, sb[16] = {}, sc[16] = {}, sd[16] = {};
  struct slot {
    const md5_job* job = nullptr;
    const unsigned char* next = nullptr;
    std::size_t left = 0;
  };
  slot slots[16];
  std::size_t next_job = 0;
  auto refill = [&](int j) {
    while (next_job < jobs.size() && jobs[next_job].blocks == 0) ++next_job;
    if (next_job == jobs.size()) {
      slots[j] = {};
      return;
    }
    const md5_job& job = jobs[next_job++];
    slots[j] = {&job, job.data, job.blocks};
    sa[j] = job.state->h[0];
    sb[j] = job.state->h[1];
    sc[j] = job.state->h[2];
    sd[j] = job.state->h[3];
  };
  auto retire = [&](int j) {
    auto& h = slots[j].job->state->h;
    h = {sa[j], sb[j], sc[j], sd[j]};
  };
  for (int j = 0; j < 16; ++j) refill(j);
  const unsigned char* rows[16];
  for (;;) {
    int active_count = 0;
    __mmask16 active = 0;
    for (int j = 0; j < 16; ++j) {
      if (slots[j].left > 0) {
        ++active_count;
        active = static_cast<__mmask16>(active | (1u << j));
        rows[j] = slots[j].next;
      } else {
        rows[j] = zero_block;
      }
    }
    if (active_count == 0) break;
    if (active_count < min_lanes) {
      for (int j = 0; j < 16; ++j) {
        if (slots[j].left == 0) continue;
        retire(j);
        absorb_scalar({slots[j].job->state, slots[j].next, slots[j].left});
        slots[j] = {};
      }
      continue;  // refilling is over: next_job == jobs.size() once fewer lanes are busy
    }
    round_avx512(rows, active, sa, sb, sc, sd);
    for (int j = 0; j < 16; ++j) {
      if (slots[j].left == 0) continue;
      slots[j].next += 64;
      if (--slots[j].left == 0) {
        retire(j);
        refill(j);
      }
    }
  }
}

#pragma GCC diagnostic pop
#endif

}  // namespace

void md5_absorb(std::span<const md5_job> jobs) {
  for (const auto& job : jobs) job.state->length += 64 * static_cast<std::uint64_t>(job.blocks);
#ifdef CTPREP_MD5_AVX512
  if (!force_scalar.load(std::memory_order_relaxed) && cpu_has_avx512()) {
    int busy = 0;
    for (const auto& job : jobs) busy += job.blocks > 0 ? 1 : 0;
    if (busy >= min_lanes) {
      absorb_avx512(jobs);
      return;
    }
  }
#endif
  for (const auto& job : jobs) absorb_scalar(job);
}

std::string md5_finish_hex(md5_state state, std::string_view tail) {
  const auto* p = reinterpret_cast<const unsigned char*>(tail.data());
  const std::size_t whole = tail.size() / 64;
  for (std::size_t i = 0; i < whole; ++i) block_scalar(state.h, p + 64 * i);
  const std::uint64_t bits = (state.length + tail.size()) * 8;
  unsigned char last[128] = {};
  const std::size_t rest = tail.size() - 64 * whole;
  if (rest > 0) std::memcpy(last, p + 64 * whole, rest);
  last[rest] = 0x80;
  const std::size_t total = rest + 1 + 8 <= 64 ? 64 : 128;
  for (std::size_t i = 0; i < 8; ++i) {
    last[total - 8 + i] = static_cast<unsigned char>(bits >> (8 * i));
  }
  block_scalar(state.h, last);
  if (total == 128) block_scalar(state.h, last + 64);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex(32, '0');
  for (std::size_t w = 0; w < 4; ++w) {
    for (std::size_t b = 0; b < 4; ++b) {
      const auto byte = static_cast<unsigned>((state.h[w] >> (8 * b)) & 0xff);
      hex[8 * w + 2 * b] = digits[byte >> 4];
      hex[8 * w + 2 * b + 1] = digits[byte & 15];
    }
  }
  return hex;
}

void md5_set_kernel(md5_kernel kernel) noexcept {
  force_scalar.store(kernel == md5_kernel::scalar);
}

bool md5_vector_available() noexcept {
#ifdef CTPREP_MD5_AVX512
  return cpu_has_avx512();
#else
  return false;
#endif
}

}  // namespace ctprep::fetch

// The entropy-coded data of a baseline JPEG checked as libjpeg decodes it (T.81 F.2.2:
// the same codes, the same block ends, so the same MCU boundaries), keeping only what a
// check needs: the code lengths and the sizes of the values to skip. A block's AC loop
// looks up 12 bits at a time: the entry gives, for the one or two codes that begin there,
// how many bits to drop (codes + values), how far the coefficient index moves and
// whether a coefficient is nonzero.
#include "imaging/jpeg_scan.hpp"

#include <algorithm>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace ctprep::imaging::detail {
namespace {

constexpr int lookahead = 10;  // bits resolved by one DC lookup; longer codes walk maxcode
constexpr int pair_bits = 12;  // bits seen by one AC lookup, which may resolve two codes

// A code's meaning for the scan: bits to drop (the code, then its value's bits), how far
// the coefficient index moves (64 ends the block), and whether the value is nonzero.
struct step {
  std::uint8_t length = 0;  // of the code alone; 0: not resolved by the lookup
  std::uint8_t drop = 0;
  std::uint8_t advance = 0;
  std::uint8_t size = 0;  // bits of the value (T.81 F.1.2.1 SSSS)
};

// What the next `pair_bits` bits of AC data hold: one code (with its value's bits) or,
// when the second code also lies inside them, two. Packed in 32 bits so a table of 4096
// fits the first-level cache: length of the first code (0: longer than pair_bits), bits
// to drop and index advance for the first, the same for both, and their nonzero flags.
struct ac_pair {
  std::uint32_t bits = 0;
  [[nodiscard]] unsigned first_length() const { return bits & 0xF; }
  [[nodiscard]] unsigned first_drop() const { return (bits >> 4) & 0x1F; }
  [[nodiscard]] unsigned first_advance() const { return (bits >> 9) & 0x7F; }
  [[nodiscard]] unsigned both_drop() const { return (bits >> 16) & 0x1F; }
  [[nodiscard]] unsigned second_advance() const { return (bits >> 21) & 0x7F; }  // 0: none
  [[nodiscard]] bool first_nonzero() const { return (bits >> 28) & 1; }
  [[nodiscard]] bool second_nonzero() const { return (bits >> 29) & 1; }
};

// A DC or AC table derived as libjpeg's jpeg_make_d_derived_tbl does (T.81 C.2, F.2.2.3).
struct decoder_table {
  std::array<std::int32_t, 18> maxcode{};  // largest code of each length, -1 if none
  std::array<std::int32_t, 18> valoffset{};
  std::array<std::uint8_t, 256> symbols{};
  std::array<step, 1 << lookahead> fast{};      // DC
  std::array<ac_pair, 1 << pair_bits> pairs{};  // AC
};

step step_of(std::uint8_t symbol, int length, bool dc) {
  step s;
  s.length = static_cast<std::uint8_t>(length);
  if (dc) {
    s.size = symbol;
    s.drop = static_cast<std::uint8_t>(length + symbol);
    return s;
  }
  const int run = symbol >> 4, size = symbol & 15;
  s.size = static_cast<std::uint8_t>(size);
  s.drop = static_cast<std::uint8_t>(length + size);
  // libjpeg's AC loop: a value moves k past its run; ZRL (0xF0) moves 16; any other
  // zero-size symbol ends the block (T.81 F.2.2.2, EOB).
  s.advance = static_cast<std::uint8_t>(size != 0 ? run + 1 : run == 15 ? 16 : 64);
  return s;
}

// False for a table libjpeg refuses (JERR_BAD_HUFF_TABLE): more than 256 symbols, codes
// that overflow their length, or a DC symbol over 15.
bool derive(const huffman_spec& spec, bool dc, decoder_table& table) {
  int total = 0;
  for (int l = 1; l <= 16; ++l) total += spec.counts[static_cast<std::size_t>(l)];
  if (total > 256) return false;
  std::int32_t code = 0;
  int p = 0;
  for (int l = 1; l <= 16; ++l) {
    const int n = spec.counts[static_cast<std::size_t>(l)];
    table.valoffset[static_cast<std::size_t>(l)] = p - code;
    p += n;
    code += n;
    if (code >= (1 << l)) return false;  // libjpeg: no code may be all ones
    table.maxcode[static_cast<std::size_t>(l)] = n > 0 ? code - 1 : -1;
    code <<= 1;
  }
  table.maxcode[17] = 0x7FFFFFFF;
  for (int i = 0; i < total; ++i) {
    table.symbols[static_cast<std::size_t>(i)] = spec.symbols[static_cast<std::size_t>(i)];
    if (dc && spec.symbols[static_cast<std::size_t>(i)] > 15) return false;
  }
  // Every code of up to `bits` bits, by the `bits`-bit window that starts with it.
  const auto single_steps = [&](int bits, auto& out) {
    out.fill(step{});
    for (int l = 1; l <= bits; ++l) {
      const std::int32_t first =
          table.maxcode[static_cast<std::size_t>(l)] - spec.counts[static_cast<std::size_t>(l)] + 1;
      for (std::int32_t c = first; c <= table.maxcode[static_cast<std::size_t>(l)]; ++c) {
        const auto symbol = table.symbols[static_cast<std::size_t>(
            c + table.valoffset[static_cast<std::size_t>(l)])];
        const step one = step_of(symbol, l, dc);
        const int shift = bits - l;
        for (int fill = 0; fill < (1 << shift); ++fill) {
          out[static_cast<std::size_t>((c << shift) | fill)] = one;
        }
      }
    }
  };
  if (dc) {
    single_steps(lookahead, table.fast);
    return true;
  }
  thread_local std::array<step, 1 << pair_bits> singles;
  single_steps(pair_bits, singles);
  constexpr unsigned window = (1U << pair_bits) - 1;
  for (unsigned i = 0; i <= window; ++i) {
    const step a = singles[i];
    std::uint32_t packed =
        a.length | unsigned{a.drop} << 4 | unsigned{a.advance} << 9 | unsigned{a.size != 0} << 28;
    if (a.length != 0 && a.drop < pair_bits) {
      const step b = singles[(i << a.drop) & window];  // the bits after the first value
      if (b.length != 0 && a.drop + b.length <= pair_bits) {
        packed |= unsigned{static_cast<std::uint8_t>(a.drop + b.drop)} << 16 |
                  unsigned{b.advance} << 21 | unsigned{b.size != 0} << 29;
      }
    }
    table.pairs[i].bits = packed;
  }
  return true;
}

// Derived tables are kept per thread, keyed by their DHT content: most files of a
// dataset share their encoder's tables, so each is derived once, not once per file.
// `scan`: which scan asks; a scan uses at most 8 tables and the cache holds 16, so the
// least recently used entry, the one replaced, is never one the asking scan holds.
const decoder_table* derived_table(const huffman_spec& spec, bool dc, std::uint64_t scan) {
  struct entry {
    huffman_spec spec;
    bool dc = false;
    bool usable = false;
    std::uint64_t used = 0;
    std::unique_ptr<decoder_table> table;
  };
  constexpr std::size_t capacity = 16;
  thread_local std::vector<entry> cache;
  for (auto& e : cache) {
    if (e.dc == dc && e.spec.counts == spec.counts && e.spec.symbols == spec.symbols) {
      e.used = scan;
      return e.usable ? e.table.get() : nullptr;
    }
  }
  entry made{spec, dc, false, scan, std::make_unique<decoder_table>()};
  made.usable = derive(spec, dc, *made.table);
  const decoder_table* result = made.usable ? made.table.get() : nullptr;
  if (cache.size() < capacity) {
    cache.push_back(std::move(made));
  } else {
    *std::min_element(cache.begin(), cache.end(), [](const entry& a, const entry& b) {
      return a.used < b.used;
    }) = std::move(made);
  }
  return result;
}

// Bits read most significant first from a buffer with at least 8 readable bytes past
// its end (zeros), 56 or more bits buffered after each refill.
class bit_reader {
 public:
  explicit bit_reader(const std::uint8_t* data) : next_(data), begin_(data) {}

  [[gnu::always_inline]] void refill() {
    std::uint64_t word;
    std::memcpy(&word, next_, 8);
    buffer_ |= __builtin_bswap64(word) >> available_;
    next_ += (63 - available_) >> 3;
    available_ |= 56;
  }
  [[nodiscard]] std::uint64_t peek(int n) const { return buffer_ >> (64 - n); }
  void drop(int n) {
    buffer_ <<= n;
    available_ -= static_cast<unsigned>(n);
  }
  [[nodiscard]] std::uint64_t consumed_bits() const {
    return static_cast<std::uint64_t>(next_ - begin_) * 8 - available_;
  }

 private:
  const std::uint8_t* next_;
  const std::uint8_t* begin_;
  std::uint64_t buffer_ = 0;
  unsigned available_ = 0;
};

// A code longer than the lookup; `next16`: the next 16 bits. Length 0 for a code in no
// table (libjpeg's jpeg_huff_decode walk, T.81 F.2.2.3).
[[gnu::noinline]] step decode_long(const decoder_table& table, std::uint32_t next16, bool dc,
                                   int from_length) {
  for (int l = from_length; l <= 16; ++l) {
    const auto code = static_cast<std::int32_t>(next16 >> (16 - l));
    if (code <= table.maxcode[static_cast<std::size_t>(l)]) {
      return step_of(table.symbols[static_cast<std::size_t>(
                                       code + table.valoffset[static_cast<std::size_t>(l)]) &
                                   0xFF],
                     l, dc);
    }
  }
  return step{};
}

// The code at the reader (at least 16 bits buffered); length 0 for a code in no table.
[[gnu::always_inline]] inline step decode(const decoder_table& table, const bit_reader& bits,
                                          bool dc) {
  const step s = table.fast[bits.peek(lookahead)];
  if (__builtin_expect(s.length != 0, 1)) return s;
  return decode_long(table, static_cast<std::uint32_t>(bits.peek(16)), dc, lookahead + 1);
}

// One stretch of entropy-coded data between markers, stuffed bytes removed.
struct interval {
  std::size_t begin = 0, end = 0;  // bytes in the unstuffed buffer
};

struct unstuffed {
  std::vector<interval> intervals;
  std::vector<int> restart_numbers;  // n of the RSTn closing each interval but the last
  bool ended_by_eoi = false;
  bool ran_out = false;  // no marker before the end of the file
  bool unsupported = false;
};

// More than one MCU can read past its end: 10 blocks (libjpeg's D_MAX_BLOCKS_IN_MCU) of
// 64 codes of at most 31 bits, plus a refill.
constexpr std::size_t tail_padding = 4096;

// Removes the stuffed zero after every 0xFF (T.81 B.1.1.5) and splits the data at RSTn
// markers, up to the marker that ends the scan.
unstuffed unstuff(std::string_view data, std::vector<std::uint8_t>& out) {
  unstuffed result;
  out.clear();
  out.reserve(data.size() + tail_padding);
  const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
  const auto* end = p + data.size();
  std::size_t interval_begin = 0;
  while (true) {
    const auto* ff =
        static_cast<const std::uint8_t*>(std::memchr(p, 0xFF, static_cast<std::size_t>(end - p)));
    const auto* stop = ff != nullptr ? ff : end;
    out.insert(out.end(), p, stop);
    if (ff == nullptr || ff + 1 >= end) {
      result.ran_out = true;
      break;
    }
    const std::uint8_t marker = ff[1];
    p = ff + 2;
    if (marker == 0x00) {
      out.push_back(0xFF);
      continue;
    }
    result.intervals.push_back({interval_begin, out.size()});
    interval_begin = out.size();
    if (marker >= 0xD0 && marker <= 0xD7) {
      result.restart_numbers.push_back(marker - 0xD0);
      continue;
    }
    // Fill bytes (0xFF 0xFF) and markers other than EOI after the scan are libjpeg's.
    result.ended_by_eoi = marker == 0xD9;
    result.unsupported = !result.ended_by_eoi;
    break;
  }
  if (result.ran_out) result.intervals.push_back({interval_begin, out.size()});
  out.insert(out.end(), tail_padding, 0);
  return result;
}

struct component_state {
  const decoder_table* dc = nullptr;
  const decoder_table* ac = nullptr;
  int h = 1, v = 1;                                         // blocks per MCU across and down
  std::uint64_t width_in_blocks = 0, height_in_blocks = 0;  // of the image, no padding
  // DC values wrap (a forged file can sum differences past any int); only equality matters.
  std::uint32_t predictor = 0;
  std::uint32_t first_dc = 0;
  bool seen = false;
};

}  // namespace

scan_outcome scan_entropy_coded_data(const jpeg_scan_layout& layout, std::string_view data) {
  scan_outcome outcome;
  const std::size_t count = layout.components.size();
  if (count < 1 || count > 4 || layout.width <= 0 || layout.height <= 0) return outcome;
  thread_local std::uint64_t scans = 0;
  const std::uint64_t scan = ++scans;
  std::vector<component_state> states(count);
  int blocks_per_mcu = 0;
  int max_h = 1, max_v = 1;
  for (const auto& c : layout.components) {
    max_h = std::max(max_h, c.h);
    max_v = std::max(max_v, c.v);
  }
  for (std::size_t i = 0; i < count; ++i) {
    const auto& c = layout.components[i];
    if (c.dc < 0 || c.dc > 3 || c.ac < 0 || c.ac > 3) return outcome;
    if (!layout.has_dc[static_cast<std::size_t>(c.dc)] ||
        !layout.has_ac[static_cast<std::size_t>(c.ac)]) {
      return outcome;
    }
    states[i].dc = derived_table(layout.dc[static_cast<std::size_t>(c.dc)], true, scan);
    states[i].ac = derived_table(layout.ac[static_cast<std::size_t>(c.ac)], false, scan);
    if (states[i].dc == nullptr || states[i].ac == nullptr) return outcome;
    states[i].h = count == 1 ? 1 : c.h;
    states[i].v = count == 1 ? 1 : c.v;
    blocks_per_mcu += states[i].h * states[i].v;
  }
  if (blocks_per_mcu > 10) return outcome;
  // T.81 A.2: one component alone is coded block by block; interleaved components
  // MCU by MCU, an MCU covering max_h x max_v blocks of the largest sampling.
  const auto mcu_w = static_cast<std::uint64_t>(count == 1 ? 8 : 8 * max_h);
  const auto mcu_h = static_cast<std::uint64_t>(count == 1 ? 8 : 8 * max_v);
  const std::uint64_t mcus_across = (static_cast<std::uint64_t>(layout.width) + mcu_w - 1) / mcu_w;
  const std::uint64_t mcus =
      mcus_across * ((static_cast<std::uint64_t>(layout.height) + mcu_h - 1) / mcu_h);
  // An MCU at the right or bottom edge may hold padding blocks past the image (T.81
  // A.2.4); they are coded but not part of the picture, so they do not make it vary.
  for (std::size_t i = 0; i < count; ++i) {
    const auto& c = layout.components[i];
    const auto blocks_of = [](std::uint64_t pixels, int factor, int max_factor) {
      return (pixels * static_cast<std::uint64_t>(factor) +
              8 * static_cast<std::uint64_t>(max_factor) - 1) /
             (8 * static_cast<std::uint64_t>(max_factor));
    };
    states[i].width_in_blocks = blocks_of(static_cast<std::uint64_t>(layout.width), c.h, max_h);
    states[i].height_in_blocks = blocks_of(static_cast<std::uint64_t>(layout.height), c.v, max_v);
  }

  thread_local std::vector<std::uint8_t> buffer;
  const unstuffed parts = unstuff(data, buffer);
  if (parts.unsupported) return outcome;
  const std::uint64_t interval_mcus =
      layout.restart_interval > 0 ? static_cast<std::uint64_t>(layout.restart_interval) : mcus;
  const std::uint64_t expected_intervals = (mcus + interval_mcus - 1) / interval_mcus;

  const auto corrupt = [&](std::string problem, bool truncated) {
    outcome.verdict = scan_verdict::corrupt;
    outcome.problem = std::move(problem);
    outcome.truncated = truncated;
    return outcome;
  };
  bool varies = false;  // any AC value, or a DC value unlike its component's first
  std::uint64_t mcu = 0;
  for (std::size_t part = 0; part < parts.intervals.size() && mcu < mcus; ++part) {
    if (part > 0 && parts.restart_numbers[part - 1] != static_cast<int>((part - 1) % 8)) {
      return corrupt(fmt::format("restart marker RST{} where RST{} belongs, before MCU {} of {}",
                                 parts.restart_numbers[part - 1], (part - 1) % 8, mcu + 1, mcus),
                     false);
    }
    const interval span = parts.intervals[part];
    const std::uint64_t span_bits = (span.end - span.begin) * 8;
    bit_reader bits(buffer.data() + span.begin);
    for (auto& s : states) s.predictor = 0;  // T.81 F.2.1.3.1: reset at each restart
    const std::uint64_t last = std::min(mcus, mcu + interval_mcus);
    for (; mcu < last; ++mcu) {
      const std::uint64_t mcu_x = mcu % mcus_across, mcu_y = mcu / mcus_across;
      for (auto& s : states) {
        for (int b = 0; b < s.h * s.v; ++b) {
          bits.refill();
          const step d = decode(*s.dc, bits, true);
          if (d.length == 0) {
            return corrupt(fmt::format("bad Huffman code in MCU {} of {}", mcu + 1, mcus), false);
          }
          bits.drop(d.length);
          std::int32_t diff = 0;
          if (d.size != 0) {  // T.81 F.2.2.1 EXTEND
            const auto value = static_cast<std::int32_t>(bits.peek(d.size));
            diff = value < (1 << (d.size - 1)) ? value - (1 << d.size) + 1 : value;
            bits.drop(d.size);
          }
          s.predictor += static_cast<std::uint32_t>(diff);
          if (!s.seen) s.first_dc = s.predictor, s.seen = true;
          bool block_varies = s.predictor != s.first_dc;
          for (int k = 1; k < 64;) {
            bits.refill();
            const ac_pair pair = s.ac->pairs[bits.peek(pair_bits)];
            if (pair.first_length() == 0) {  // a code longer than pair_bits
              const step a = decode_long(*s.ac, static_cast<std::uint32_t>(bits.peek(16)), false,
                                         pair_bits + 1);
              if (a.length == 0) {
                return corrupt(fmt::format("bad Huffman code in MCU {} of {}", mcu + 1, mcus),
                               false);
              }
              bits.drop(a.drop);
              k += a.advance;
              block_varies |= a.size != 0;
              continue;
            }
            k += static_cast<int>(pair.first_advance());
            block_varies |= pair.first_nonzero();
            // The second code counts only inside the same block.
            const bool both = pair.second_advance() != 0 && k < 64;
            bits.drop(static_cast<int>(both ? pair.both_drop() : pair.first_drop()));
            k += both ? static_cast<int>(pair.second_advance()) : 0;
            block_varies |= both && pair.second_nonzero();
          }
          const std::uint64_t column =
              mcu_x * static_cast<std::uint64_t>(s.h) + static_cast<std::uint64_t>(b % s.h);
          const std::uint64_t row =
              mcu_y * static_cast<std::uint64_t>(s.v) + static_cast<std::uint64_t>(b / s.h);
          varies |= block_varies && column < s.width_in_blocks && row < s.height_in_blocks;
        }
      }
      if (bits.consumed_bits() > span_bits) break;
    }
    const std::uint64_t used = bits.consumed_bits();
    if (used > span_bits) {
      const bool file_ended = parts.ran_out && part + 1 == parts.intervals.size();
      return corrupt(fmt::format("the entropy-coded data {} in MCU {} of {}",
                                 file_ended ? "ends (premature end of JPEG file)"
                                            : "stops at a marker (premature end of data segment)",
                                 std::min(mcu + 1, mcus), mcus),
                     file_ended);
    }
    // Past the last code only its byte's padding may follow (T.81 F.1.2.3).
    const std::uint64_t extra = (span_bits - used) / 8;
    if (extra > 0) {
      return corrupt(fmt::format("{} bytes of extra data after MCU {} of {}", extra, mcu, mcus),
                     false);
    }
  }
  if (mcu < mcus) {
    return corrupt(fmt::format("the entropy-coded data ends (premature end of JPEG file) in MCU "
                               "{} of {}",
                               mcu + 1, mcus),
                   true);
  }
  if (parts.intervals.size() != expected_intervals) {
    if (parts.intervals.size() > expected_intervals && parts.ended_by_eoi) {
      return outcome;  // a restart marker after the last MCU: libjpeg's to judge
    }
    return corrupt(fmt::format("{} restart intervals where the frame needs {}",
                               parts.intervals.size(), expected_intervals),
                   false);
  }
  if (!parts.ended_by_eoi) {
    return corrupt(
        "the entropy-coded data ends after the last MCU without the EOI marker "
        "(premature end of JPEG file)",
        true);
  }
  outcome.verdict = scan_verdict::whole;
  outcome.constant = !varies;
  return outcome;
}

}  // namespace ctprep::imaging::detail

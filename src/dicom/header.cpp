#include "ctprep/dicom/header.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <zlib.h>

namespace ctprep::dicom {
namespace {

constexpr std::uint32_t undefined_length = 0xFFFFFFFFu;
constexpr int max_depth = 32;  // nested sequences deeper than this are refused

constexpr std::string_view ts_implicit_le = "1.2.840.10008.1.2";
constexpr std::string_view ts_explicit_le = "1.2.840.10008.1.2.1";
constexpr std::string_view ts_deflated = "1.2.840.10008.1.2.1.99";
constexpr std::string_view ts_explicit_be = "1.2.840.10008.1.2.2";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0' || s.back() == '\t' ||
                        s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  while (!s.empty() && (s.front() == ' ' || s.front() == '\0' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  return s;
}

std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int> parse_int(std::string_view s) {
  const auto v = parse_number(s);
  if (!v || *v != std::floor(*v) || std::abs(*v) > 2.0e9) return std::nullopt;
  return static_cast<int>(*v);
}

// Splits a multi-valued string on '\\' and parses each value; unparsable ones are NaN so
// that the positions of centers and widths still pair up.
std::vector<double> parse_numbers(std::string_view s) {
  std::vector<double> out;
  while (true) {
    const auto cut = s.find('\\');
    const auto v = parse_number(s.substr(0, cut));
    out.push_back(v ? *v : std::numeric_limits<double>::quiet_NaN());
    if (cut == std::string_view::npos || out.size() >= 64) break;
    s.remove_prefix(cut + 1);
  }
  return out;
}

bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}

// Explicit VRs whose length field is 4 bytes after 2 reserved ones (PS3.5 7.1.2).
bool has_long_length(char a, char b) {
  static constexpr std::string_view long_vrs[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
                                                  "SV", "UC", "UN", "UR", "UT", "UV"};
  for (auto vr : long_vrs) {
    if (vr[0] == a && vr[1] == b) return true;
  }
  return false;
}

struct element {
  tag_t tag;
  char vr[2] = {0, 0};  // 0 when implicit
  std::uint32_t length = 0;
  std::size_t value_offset = 0;
};

class reader {
 public:
  reader(std::string_view bytes, std::string_view origin, bool prefix = false)
      : bytes_(bytes), origin_(origin), prefix_(prefix) {}

  // Reads one element header at `pos`; advances pos to the value.
  core::result<element> next(std::size_t& pos, bool explicit_vr, bool big_endian) const {
    const std::size_t start = pos;
    if (bytes_.size() - pos < 8) return truncated(start, "element header");
    element e;
    e.tag.group = u16(pos, big_endian);
    e.tag.element = u16(pos + 2, big_endian);
    pos += 4;
    // Item and delimitation tags never carry a VR (PS3.5 7.5).
    const bool item_tag = e.tag.group == 0xFFFE;
    if (explicit_vr && !item_tag) {
      const char a = bytes_[pos];
      const char b = bytes_[pos + 1];
      if (!is_upper(a) || !is_upper(b)) {
        return core::fail(core::error_code::corrupt_dicom,
                          fmt::format("'{}': element ({:04X},{:04X}) at byte {} has no valid VR",
                                      origin_, e.tag.group, e.tag.element, start));
      }
      e.vr[0] = a;
      e.vr[1] = b;
      if (has_long_length(a, b)) {
        if (bytes_.size() - pos < 8) return truncated(start, "element header");
        e.length = u32(pos + 4, big_endian);
        pos += 8;
      } else {
        e.length = u16(pos + 2, big_endian);
        pos += 4;
      }
    } else {
      e.length = u32(pos, big_endian);
      pos += 4;
    }
    e.value_offset = pos;
    const bool pixels = e.tag == tag_t{0x7FE0, 0x0010};
    if (e.length != undefined_length && e.length > bytes_.size() - pos && !(prefix_ && pixels)) {
      return core::fail(
          core::error_code::corrupt_dicom,
          fmt::format("'{}': truncated: element ({:04X},{:04X}) at byte {} declares "
                      "{} bytes, {} left",
                      origin_, e.tag.group, e.tag.element, start, e.length, bytes_.size() - pos));
    }
    return e;
  }

  [[nodiscard]] std::uint16_t u16(std::size_t at, bool big_endian) const {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes_.data() + at);
    return big_endian ? static_cast<std::uint16_t>(p[0] << 8 | p[1])
                      : static_cast<std::uint16_t>(p[1] << 8 | p[0]);
  }
  [[nodiscard]] std::uint32_t u32(std::size_t at, bool big_endian) const {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes_.data() + at);
    return big_endian ? (std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 |
                         std::uint32_t{p[2]} << 8 | p[3])
                      : (std::uint32_t{p[3]} << 24 | std::uint32_t{p[2]} << 16 |
                         std::uint32_t{p[1]} << 8 | p[0]);
  }
  [[nodiscard]] std::string_view value(const element& e) const {
    return bytes_.substr(e.value_offset, e.length);
  }
  [[nodiscard]] std::size_t size() const { return bytes_.size(); }

  [[nodiscard]] tl::unexpected<core::error> truncated(std::size_t at, std::string_view what) const {
    return core::fail(core::error_code::corrupt_dicom,
                      fmt::format("'{}': truncated: {} at byte {} runs past the end ({} bytes)",
                                  origin_, what, at, bytes_.size()));
  }
  [[nodiscard]] std::string_view origin() const { return origin_; }

 private:
  std::string_view bytes_;
  std::string_view origin_;
  bool prefix_;  // the bytes are the start of a file: the pixel data may run past them
};

// Values found inside the enhanced multi-frame functional groups (5200,9229)/(5200,9230):
// used only when the top level lacks them.
struct nested_values {
  std::optional<double> slope, intercept, thickness, spacing;
  std::vector<double> centers, widths;
  std::string voi_function;
};

class dataset_parser {
 public:
  dataset_parser(const reader& r, header& h, bool explicit_vr, bool big_endian)
      : r_(r), h_(h), explicit_(explicit_vr), big_(big_endian) {}

  // Parses elements from pos to `end` (or to an item delimiter when `in_item` and the
  // item has undefined length). depth 0 is the top level.
  core::result<void> parse(std::size_t& pos, std::size_t end, int depth, bool undefined_item,
                           bool in_groups) {
    if (depth > max_depth) {
      return core::fail(core::error_code::corrupt_dicom,
                        fmt::format("'{}': sequences nested deeper than {} at byte {}", r_.origin(),
                                    max_depth, pos));
    }
    while (pos < end) {
      if (depth == 0 && end - pos < 8) {
        // Trailing bytes shorter than an element header: ignore, as most readers do.
        pos = end;
        break;
      }
      const std::size_t start = pos;
      auto e = r_.next(pos, explicit_, big_);
      if (!e) return tl::unexpected(e.error());
      if (e->tag.group == 0xFFFE) {
        if (e->tag.element == 0xE00D && undefined_item) return {};  // item delimitation
        // A stray delimiter or item at this level: skip its (empty) value.
        if (e->length != undefined_length) pos += e->length;
        continue;
      }
      if (e->tag.group == 0x7FE0 && depth == 0 &&
          (e->tag.element == 0x0010 || e->tag.element == 0x0008 || e->tag.element == 0x0009)) {
        if (e->tag.element != 0x0010) {
          h_.has_float_pixel_data = true;
          if (e->length != undefined_length) pos += e->length;
          continue;
        }
        h_.has_pixel_data = true;
        h_.pixel_offset = e->value_offset;
        if (e->length == undefined_length) {
          h_.encapsulated = true;
          h_.pixel_length = r_.size() - e->value_offset;
        } else {
          h_.pixel_length = e->length;
        }
        pos = end;  // nothing after the pixels matters
        return {};
      }
      const bool is_sq = (e->vr[0] == 'S' && e->vr[1] == 'Q') || (e->length == undefined_length) ||
                         (!explicit_ && known_sequence(e->tag));
      if (is_sq) {
        if (depth == 0 && e->tag == tag_t{0x0028, 0x3000}) h_.has_modality_lut_sequence = true;
        const bool groups =
            in_groups || e->tag == tag_t{0x5200, 0x9229} || e->tag == tag_t{0x5200, 0x9230};
        // UN with undefined length holds implicit little endian items (PS3.5 6.2.2).
        const bool un = e->vr[0] == 'U' && e->vr[1] == 'N';
        auto ok = skip_sequence(pos, *e, depth, groups, un);
        if (!ok) return ok;
        continue;
      }
      if (depth == 0) {
        take(*e);
      } else if (in_groups) {
        take_nested(*e);
      }
      pos = e->value_offset + e->length;
      (void)start;
    }
    if (undefined_item) {
      return r_.truncated(pos, "item without its delimitation (FFFE,E00D)");
    }
    return {};
  }

  nested_values nested;

 private:
  static bool known_sequence(tag_t t) {
    return t == tag_t{0x0028, 0x3000} || t == tag_t{0x0028, 0x3010} || t == tag_t{0x5200, 0x9229} ||
           t == tag_t{0x5200, 0x9230} || t == tag_t{0x0008, 0x1140} || t == tag_t{0x0008, 0x1115} ||
           t == tag_t{0x0040, 0x0275} || t == tag_t{0x0008, 0x9215} || t == tag_t{0x0028, 0x9110} ||
           t == tag_t{0x0028, 0x9132} || t == tag_t{0x0028, 0x9145} || t == tag_t{0x0020, 0x9111} ||
           t == tag_t{0x0020, 0x9113} || t == tag_t{0x0020, 0x9116} || t == tag_t{0x0008, 0x1250} ||
           t == tag_t{0x0040, 0xA730} || t == tag_t{0x0054, 0x0016} || t == tag_t{0x0088, 0x0200} ||
           t == tag_t{0x0008, 0x2112} || t == tag_t{0x0032, 0x1064};
  }

  core::result<void> skip_sequence(std::size_t& pos, const element& seq, int depth, bool groups,
                                   bool un) {
    const bool defined = seq.length != undefined_length;
    const std::size_t end = defined ? seq.value_offset + seq.length : r_.size();
    const bool saved_explicit = explicit_;
    const bool saved_big = big_;
    if (un) {
      explicit_ = false;
      big_ = false;
    }
    pos = seq.value_offset;
    core::result<void> status{};
    bool delimited = false;
    while (pos < end) {
      auto item = r_.next(pos, false, big_);
      if (!item) {
        status = tl::unexpected(item.error());
        break;
      }
      if (item->tag == tag_t{0xFFFE, 0xE0DD}) {  // sequence delimitation
        delimited = true;
        break;
      }
      if (item->tag != tag_t{0xFFFE, 0xE000}) {
        status =
            core::fail(core::error_code::corrupt_dicom,
                       fmt::format("'{}': expected an item (FFFE,E000) in sequence "
                                   "({:04X},{:04X}) at byte {}, found ({:04X},{:04X})",
                                   r_.origin(), seq.tag.group, seq.tag.element,
                                   item->value_offset - 8, item->tag.group, item->tag.element));
        break;
      }
      if (item->length == undefined_length) {
        auto ok = parse(pos, end, depth + 1, true, groups);
        if (!ok) {
          status = ok;
          break;
        }
      } else {
        const std::size_t item_end = item->value_offset + item->length;
        if (item_end > end) {
          status = r_.truncated(item->value_offset, "sequence item");
          break;
        }
        auto ok = parse(pos, item_end, depth + 1, false, groups);
        if (!ok) {
          status = ok;
          break;
        }
        pos = item_end;
      }
    }
    if (status && !defined && !delimited) {
      status = r_.truncated(seq.value_offset, "sequence without its delimitation (FFFE,E0DD)");
    }
    if (defined && status) pos = end;
    explicit_ = saved_explicit;
    big_ = saved_big;
    return status;
  }

  std::optional<int> binary_int(const element& e) const {
    if (e.length == 2) return r_.u16(e.value_offset, big_);
    if (e.length == 4)
      return static_cast<int>(std::min<std::uint32_t>(r_.u32(e.value_offset, big_), 0x7FFFFFFF));
    return std::nullopt;
  }
  std::optional<std::uint32_t> binary_raw(const element& e) const {
    if (e.length == 2) return r_.u16(e.value_offset, big_);
    if (e.length == 4) return r_.u32(e.value_offset, big_);
    return std::nullopt;
  }

  static std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return out;
  }

  void take(const element& e) {
    const auto v = r_.value(e);
    if (e.tag == tag_t{0x0028, 0x0009}) h_.has_frame_increment_pointer = true;
    const std::uint32_t key = std::uint32_t{e.tag.group} << 16 | e.tag.element;
    switch (key) {
      case 0x00080016:
        h_.sop_class_uid = std::string(trim(v));
        break;
      case 0x00080060:
        h_.modality = std::string(trim(v));
        break;
      case 0x00100020:
        h_.patient_id = std::string(trim(v));
        break;
      case 0x00200013:
        h_.instance_number = std::string(trim(v));
        break;
      case 0x00180050:
        h_.slice_thickness = parse_number(v);
        break;
      case 0x00180088:
        h_.spacing_between_slices = parse_number(v);
        break;
      case 0x00280002:
        h_.samples_per_pixel = binary_int(e);
        break;
      case 0x00280004:
        h_.photometric = upper(trim(v));
        break;
      case 0x00280006:
        h_.planar_configuration = binary_int(e);
        break;
      case 0x00280008:
        h_.number_of_frames = parse_int(v);
        break;
      case 0x00280010:
        h_.rows = binary_int(e);
        break;
      case 0x00280011:
        h_.columns = binary_int(e);
        break;
      case 0x00280100:
        h_.bits_allocated = binary_int(e);
        break;
      case 0x00280101:
        h_.bits_stored = binary_int(e);
        break;
      case 0x00280102:
        h_.high_bit = binary_int(e);
        break;
      case 0x00280103:
        h_.pixel_representation = binary_int(e);
        break;
      case 0x00280120:
        h_.pixel_padding_value = binary_raw(e);
        break;
      case 0x00280121:
        h_.pixel_padding_range_limit = binary_raw(e);
        break;
      case 0x00281050:
        h_.window_centers = parse_numbers(v);
        break;
      case 0x00281051:
        h_.window_widths = parse_numbers(v);
        break;
      case 0x00281052:
        h_.rescale_intercept = parse_number(v);
        break;
      case 0x00281053:
        h_.rescale_slope = parse_number(v);
        break;
      case 0x00281056:
        h_.voi_lut_function = upper(trim(v));
        break;
      default:
        break;
    }
  }

  void take_nested(const element& e) {
    const auto v = r_.value(e);
    const std::uint32_t key = std::uint32_t{e.tag.group} << 16 | e.tag.element;
    switch (key) {
      case 0x00180050:
        if (!nested.thickness) nested.thickness = parse_number(v);
        break;
      case 0x00180088:
        if (!nested.spacing) nested.spacing = parse_number(v);
        break;
      case 0x00281050:
        if (nested.centers.empty()) nested.centers = parse_numbers(v);
        break;
      case 0x00281051:
        if (nested.widths.empty()) nested.widths = parse_numbers(v);
        break;
      case 0x00281052:
        if (!nested.intercept) nested.intercept = parse_number(v);
        break;
      case 0x00281053:
        if (!nested.slope) nested.slope = parse_number(v);
        break;
      case 0x00281056:
        if (nested.voi_function.empty()) nested.voi_function = upper(trim(v));
        break;
      default:
        break;
    }
  }

  const reader& r_;
  header& h_;
  bool explicit_;
  bool big_;
};

core::result<std::string> inflate_raw(std::string_view in, std::string_view origin) {
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
    return core::fail(core::error_code::internal, "zlib inflateInit2 failed");
  }
  std::string out;
  out.resize(std::max<std::size_t>(in.size() * 4, 4096));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in =
      static_cast<uInt>(std::min<std::size_t>(in.size(), std::numeric_limits<uInt>::max()));
  int rc = Z_OK;
  constexpr std::size_t limit = std::size_t{1} << 31;  // 2 GiB of inflated data is enough
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + zs.total_out);
    zs.avail_out = static_cast<uInt>(
        std::min<std::size_t>(out.size() - zs.total_out, std::numeric_limits<uInt>::max()));
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (zs.avail_out == 0) {
      if (out.size() >= limit) break;
      out.resize(out.size() * 2);
      continue;
    }
    if (zs.avail_in == 0 || rc == Z_BUF_ERROR) break;
  }
  const auto total = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    return core::fail(
        core::error_code::corrupt_dicom,
        fmt::format("'{}': deflated dataset cannot be inflated (zlib {})", origin, rc));
  }
  out.resize(total);
  return out;
}

}  // namespace

bool is_native_syntax(std::string_view uid) {
  return uid == ts_implicit_le || uid == ts_explicit_le || uid == ts_explicit_be ||
         uid == ts_deflated;
}

std::string syntax_label(std::string_view uid) {
  struct entry {
    std::string_view uid, label;
  };
  static constexpr entry table[] = {
      {"1.2.840.10008.1.2", "Implicit VR Little Endian"},
      {"1.2.840.10008.1.2.1", "Explicit VR Little Endian"},
      {"1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian"},
      {"1.2.840.10008.1.2.2", "Explicit VR Big Endian"},
      {"1.2.840.10008.1.2.4.50", "JPEG Baseline"},
      {"1.2.840.10008.1.2.4.51", "JPEG Extended"},
      {"1.2.840.10008.1.2.4.57", "JPEG Lossless"},
      {"1.2.840.10008.1.2.4.70", "JPEG Lossless SV1"},
      {"1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"},
      {"1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless"},
      {"1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless"},
      {"1.2.840.10008.1.2.4.91", "JPEG 2000"},
      {"1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Lossless"},
      {"1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2"},
      {"1.2.840.10008.1.2.4.100", "MPEG2"},
      {"1.2.840.10008.1.2.4.102", "MPEG-4"},
      {"1.2.840.10008.1.2.4.201", "HTJ2K Lossless"},
      {"1.2.840.10008.1.2.4.203", "HTJ2K"},
      {"1.2.840.10008.1.2.5", "RLE Lossless"},
  };
  for (const auto& e : table) {
    if (e.uid == uid) return fmt::format("{} ({})", e.label, uid);
  }
  return std::string(uid);
}

core::result<header> parse_header(std::string_view bytes, std::string_view origin, bool prefix) {
  header h;
  std::size_t pos = 0;
  if (bytes.size() >= 132 && bytes.substr(128, 4) == "DICM") {
    pos = 132;
  } else if (bytes.size() >= 4 && bytes.substr(0, 4) == "DICM") {
    pos = 4;  // no preamble
  }
  const reader r(bytes, origin, prefix);
  bool explicit_vr = true;
  bool big_endian = false;
  if (pos > 0) {
    h.has_meta = true;
    // File meta information: group 2, explicit VR little endian (PS3.10 7.1). Some
    // writers put it in implicit VR: decide per element from the VR bytes.
    while (pos + 8 <= bytes.size() && r.u16(pos, false) == 0x0002) {
      const bool looks_explicit = is_upper(bytes[pos + 4]) && is_upper(bytes[pos + 5]);
      auto e = r.next(pos, looks_explicit, false);
      if (!e) return tl::unexpected(e.error());
      if (e->length == undefined_length) {
        return core::fail(core::error_code::corrupt_dicom,
                          fmt::format("'{}': undefined length in the file meta group at byte {}",
                                      origin, e->value_offset));
      }
      const auto v = r.value(*e);
      if (e->tag.element == 0x0010) h.transfer_syntax = std::string(trim(v));
      if (e->tag.element == 0x0002) h.media_storage_sop_class = std::string(trim(v));
      pos = e->value_offset + e->length;
    }
    if (h.transfer_syntax.empty()) {
      // No (0002,0010): guess from the first dataset element, as readers do.
      const bool ex =
          pos + 6 <= bytes.size() && is_upper(bytes[pos + 4]) && is_upper(bytes[pos + 5]);
      h.transfer_syntax = std::string(ex ? ts_explicit_le : ts_implicit_le);
    }
  } else {
    // A bare dataset (PS3.5 A.1 default: implicit VR little endian). Accept it only if it
    // starts like one: a low even group and a sane first element.
    if (bytes.size() < 8) {
      return core::fail(
          core::error_code::corrupt_dicom,
          fmt::format("'{}' is not DICOM ({} bytes, no 'DICM' marker)", origin, bytes.size()));
    }
    auto plausible = [&](bool big) {
      const auto group = r.u16(0, big);
      return group != 0 && group <= 0x0010 && group % 2 == 0;
    };
    if (plausible(false)) {
      const bool ex = is_upper(bytes[4]) && is_upper(bytes[5]);
      h.transfer_syntax = std::string(ex ? ts_explicit_le : ts_implicit_le);
    } else if (plausible(true) && is_upper(bytes[4]) && is_upper(bytes[5])) {
      h.transfer_syntax = std::string(ts_explicit_be);
    } else {
      return core::fail(core::error_code::corrupt_dicom,
                        fmt::format("'{}' is not DICOM (no 'DICM' marker at byte 128 and no "
                                    "dataset at byte 0)",
                                    origin));
    }
  }

  const auto& ts = h.transfer_syntax;
  if (ts == ts_implicit_le) {
    explicit_vr = false;
  } else if (ts == ts_explicit_be) {
    big_endian = true;
  } else if (ts == ts_deflated) {
    h.deflated = true;
  }
  // Some files declare explicit VR but are written implicit (and vice versa): trust the
  // bytes of the first element when they clearly disagree.
  if (pos + 6 <= bytes.size() && !h.deflated) {
    const bool ex = is_upper(bytes[pos + 4]) && is_upper(bytes[pos + 5]);
    if (ex != explicit_vr && !big_endian) explicit_vr = ex;
  }
  h.explicit_vr = explicit_vr;
  h.big_endian = big_endian;

  nested_values n;
  if (h.deflated) {
    auto inflated = inflate_raw(bytes.substr(pos), origin);
    if (!inflated) return tl::unexpected(inflated.error());
    h.inflated = std::move(*inflated);
    const reader ir(h.inflated, origin);
    dataset_parser p(ir, h, true, false);
    std::size_t ipos = 0;
    auto ok = p.parse(ipos, h.inflated.size(), 0, false, false);
    if (!ok) return tl::unexpected(ok.error());
    n = p.nested;
  } else {
    dataset_parser p(r, h, explicit_vr, big_endian);
    auto ok = p.parse(pos, bytes.size(), 0, false, false);
    if (!ok) return tl::unexpected(ok.error());
    n = p.nested;
  }
  if (!h.rescale_slope && n.slope) h.rescale_slope = n.slope;
  if (!h.rescale_intercept && n.intercept) h.rescale_intercept = n.intercept;
  if (!h.slice_thickness && n.thickness) h.slice_thickness = n.thickness;
  if (!h.spacing_between_slices && n.spacing) h.spacing_between_slices = n.spacing;
  if (h.window_centers.empty() && !n.centers.empty()) h.window_centers = n.centers;
  if (h.window_widths.empty() && !n.widths.empty()) h.window_widths = n.widths;
  if (h.voi_lut_function.empty()) h.voi_lut_function = n.voi_function;
  return h;
}

}  // namespace ctprep::dicom

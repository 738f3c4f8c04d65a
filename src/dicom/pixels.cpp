#include "ctprep/dicom/pixels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <sstream>

#include <fmt/format.h>
#include <gdcmImage.h>
#include <gdcmPhotometricInterpretation.h>
#include <gdcmPixelFormat.h>
#include <gdcmSequenceOfFragments.h>
#include <gdcmTrace.h>
#include <gdcmTransferSyntax.h>

namespace ctprep::dicom {
namespace {

tl::unexpected<core::error> corrupt(std::string_view origin, const std::string& what) {
  return core::fail(core::error_code::corrupt_dicom, fmt::format("'{}': {}", origin, what));
}
tl::unexpected<core::error> unsupported(std::string_view origin, const std::string& what) {
  return core::fail(core::error_code::unsupported_dicom, fmt::format("'{}': {}", origin, what));
}

// The library never prints (DESIGN): GDCM's trace goes to stderr unless silenced.
void silence_gdcm() {
  static std::once_flag once;
  std::call_once(once, [] {
    gdcm::Trace::SetDebug(false);
    gdcm::Trace::SetWarning(false);
    gdcm::Trace::SetError(false);
  });
}

std::uint8_t clamp_u8(double v) {
  return static_cast<std::uint8_t>(std::clamp(v, 0.0, 255.0));
}

// YBR_FULL to RGB (PS3.3 C.7.6.3.1.2), rounded to nearest.
void ybr_full_to_rgb(std::vector<std::uint8_t>& data) {
  for (std::size_t i = 0; i + 2 < data.size(); i += 3) {
    const double y = data[i];
    const double cb = data[i + 1] - 128.0;
    const double cr = data[i + 2] - 128.0;
    data[i] = clamp_u8(std::floor(y + 1.402 * cr + 0.5));
    data[i + 1] = clamp_u8(std::floor(y - 0.344136 * cb - 0.714136 * cr + 0.5));
    data[i + 2] = clamp_u8(std::floor(y + 1.772 * cb + 0.5));
  }
}

void interleave_planes(std::vector<std::uint8_t>& data, std::size_t pixels,
                       std::size_t bytes_per_sample) {
  std::vector<std::uint8_t> out(data.size());
  for (std::size_t p = 0; p < pixels; ++p) {
    for (std::size_t s = 0; s < 3; ++s) {
      std::memcpy(out.data() + (p * 3 + s) * bytes_per_sample,
                  data.data() + (s * pixels + p) * bytes_per_sample, bytes_per_sample);
    }
  }
  data.swap(out);
}

core::result<decoded_frame> decode_native(std::string_view bytes, const header& h, int frame,
                                          std::string_view origin) {
  decoded_frame f;
  if (!h.rows || !h.columns || *h.rows <= 0 || *h.columns <= 0) {
    return corrupt(origin, "Rows (0028,0010) / Columns (0028,0011) missing or zero");
  }
  if (!h.bits_allocated) return corrupt(origin, "BitsAllocated (0028,0100) missing");
  f.width = *h.columns;
  f.height = *h.rows;
  f.samples = h.samples_per_pixel.value_or(1);
  f.bits_allocated = *h.bits_allocated;
  f.bits_stored = h.bits_stored.value_or(f.bits_allocated);
  f.high_bit = h.high_bit.value_or(f.bits_stored - 1);
  f.is_signed = h.pixel_representation.value_or(0) == 1;
  f.photometric = h.photometric.empty() ? "MONOCHROME2" : h.photometric;
  if (f.bits_allocated != 8 && f.bits_allocated != 16 && f.bits_allocated != 32) {
    return unsupported(
        origin,
        fmt::format("BitsAllocated (0028,0100) {} not supported (8, 16 or 32)", f.bits_allocated));
  }
  if (f.samples != 1 && f.samples != 3) {
    return unsupported(origin,
                       fmt::format("SamplesPerPixel (0028,0002) {} not supported", f.samples));
  }
  // YBR_FULL_422 (PS3.3 C.7.6.3.1.2): Y0 Y1 Cb Cr per pair of pixels, 8 bits only.
  const bool ybr422 = f.photometric == "YBR_FULL_422";
  if ((ybr422 && (f.samples != 3 || f.bits_allocated != 8 || f.width % 2 != 0)) ||
      f.photometric == "YBR_PARTIAL_422" || f.photometric == "YBR_PARTIAL_420") {
    return unsupported(origin, fmt::format("PhotometricInterpretation (0028,0004) {} in native "
                                           "pixel data not supported here ({}-bit, {} columns)",
                                           f.photometric, f.bits_allocated, f.width));
  }
  const int frames = h.number_of_frames.value_or(1);
  if (frame < 0 || frame >= std::max(frames, 1)) {
    return corrupt(
        origin, fmt::format("frame {} requested, NumberOfFrames (0028,0008) is {}", frame, frames));
  }
  const std::size_t bps = static_cast<std::size_t>(f.bits_allocated / 8);
  const std::size_t pixels = static_cast<std::size_t>(f.width) * static_cast<std::size_t>(f.height);
  const std::size_t frame_bytes =
      ybr422 ? pixels * 2 : pixels * static_cast<std::size_t>(f.samples) * bps;
  const std::size_t need = frame_bytes * static_cast<std::size_t>(frame + 1);
  if (h.pixel_length < need) {
    return corrupt(
        origin,
        fmt::format("pixel data (7FE0,0010) holds {} bytes, frame {} needs {} "
                    "(Rows {} x Columns {} x SamplesPerPixel {} x BitsAllocated {}/8)",
                    h.pixel_length, frame, need, f.height, f.width, f.samples, f.bits_allocated));
  }
  const std::string_view source = h.deflated ? std::string_view(h.inflated) : bytes;
  if (h.pixel_offset + need > source.size()) {
    return corrupt(origin, "pixel data (7FE0,0010) runs past the end of the file");
  }
  const auto* p = reinterpret_cast<const std::uint8_t*>(source.data() + h.pixel_offset) +
                  frame_bytes * static_cast<std::size_t>(frame);
  const bool convert_needed =
      ybr422 || (h.big_endian && bps > 1) ||
      (f.samples == 3 && (h.planar_configuration.value_or(0) == 1 || f.photometric == "YBR_FULL"));
  if (!convert_needed) {
    f.borrowed = p;  // the common CT case: no copy
    return f;
  }
  f.data.assign(p, p + frame_bytes);
  if (ybr422) {
    std::vector<std::uint8_t> full(pixels * 3);
    for (std::size_t i = 0, o = 0; i + 3 < f.data.size(); i += 4, o += 6) {
      full[o] = f.data[i];
      full[o + 3] = f.data[i + 1];
      full[o + 1] = full[o + 4] = f.data[i + 2];
      full[o + 2] = full[o + 5] = f.data[i + 3];
    }
    f.data.swap(full);
    f.photometric = "YBR_FULL";
  }
  if (h.big_endian && bps > 1) {
    for (std::size_t i = 0; i < f.data.size(); i += bps)
      std::reverse(f.data.begin() + static_cast<std::ptrdiff_t>(i),
                   f.data.begin() + static_cast<std::ptrdiff_t>(i + bps));
  }
  if (f.samples == 3 && h.planar_configuration.value_or(0) == 1)
    interleave_planes(f.data, pixels, bps);
  if (f.samples == 3 && f.photometric == "YBR_FULL" && bps == 1) {
    ybr_full_to_rgb(f.data);
    f.photometric = "RGB";
  }
  return f;
}

// The fragments of encapsulated pixel data (PS3.5 A.4): items after the basic offset
// table, up to the sequence delimiter. Every length is checked against the bytes.
core::result<std::vector<std::string_view>> split_fragments(std::string_view data,
                                                            std::string_view origin) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  bool first = true;
  auto u16 = [&](std::size_t at) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>(data[at]) |
                                      static_cast<unsigned char>(data[at + 1]) << 8);
  };
  while (pos + 8 <= data.size()) {
    const std::uint16_t g = u16(pos);
    const std::uint16_t e = u16(pos + 2);
    const std::uint32_t len =
        static_cast<std::uint32_t>(u16(pos + 4)) | static_cast<std::uint32_t>(u16(pos + 6)) << 16;
    pos += 8;
    if (g == 0xFFFE && e == 0xE0DD) return out;
    if (g != 0xFFFE || e != 0xE000) {
      return corrupt(origin, fmt::format("encapsulated pixel data (7FE0,0010): expected an item "
                                         "(FFFE,E000), found ({:04X},{:04X})",
                                         g, e));
    }
    if (len > data.size() - pos) {
      return corrupt(origin, fmt::format("truncated: pixel data fragment of {} bytes, {} left", len,
                                         data.size() - pos));
    }
    if (!first) out.push_back(data.substr(pos, len));
    first = false;
    pos += len;
  }
  if (out.empty()) return corrupt(origin, "encapsulated pixel data (7FE0,0010) has no fragment");
  return out;  // no delimiter: tolerated when the fragments themselves are whole
}

// Encapsulated data goes to GDCM's codecs directly, described by our own header: GDCM's
// file parser is slow on odd files (seconds on some of pydicom's corpus) and asserts on
// others, so it never sees the file.
core::result<decoded_frame> decode_gdcm(std::string_view bytes, const header& h, int frame,
                                        std::string_view origin) {
  silence_gdcm();
  const std::string codec = syntax_label(h.transfer_syntax);
  decoded_frame f;
  if (!h.rows || !h.columns || *h.rows <= 0 || *h.columns <= 0 || *h.rows > 65535 ||
      *h.columns > 65535) {
    return corrupt(origin, "Rows (0028,0010) / Columns (0028,0011) missing or zero");
  }
  if (!h.bits_allocated) return corrupt(origin, "BitsAllocated (0028,0100) missing");
  f.width = *h.columns;
  f.height = *h.rows;
  f.samples = h.samples_per_pixel.value_or(1);
  f.bits_allocated = *h.bits_allocated;
  f.bits_stored = h.bits_stored.value_or(f.bits_allocated);
  f.high_bit = h.high_bit.value_or(f.bits_stored - 1);
  f.is_signed = h.pixel_representation.value_or(0) == 1;
  f.photometric = h.photometric.empty() ? (f.samples == 3 ? "RGB" : "MONOCHROME2") : h.photometric;
  if (f.bits_allocated != 8 && f.bits_allocated != 16 && f.bits_allocated != 32) {
    return unsupported(origin, fmt::format("BitsAllocated (0028,0100) {} not supported ({})",
                                           f.bits_allocated, codec));
  }
  if (f.samples != 1 && f.samples != 3) {
    return unsupported(origin,
                       fmt::format("SamplesPerPixel (0028,0002) {} not supported", f.samples));
  }
  if (f.bits_stored < 1 || f.bits_stored > f.bits_allocated || f.high_bit < f.bits_stored - 1 ||
      f.high_bit >= f.bits_allocated) {
    return corrupt(origin,
                   fmt::format("BitsStored (0028,0101) {} / HighBit (0028,0102) {} do not fit "
                               "BitsAllocated (0028,0100) {}",
                               f.bits_stored, f.high_bit, f.bits_allocated));
  }
  const auto pi = gdcm::PhotometricInterpretation::GetPIType(f.photometric.c_str());
  if (pi == gdcm::PhotometricInterpretation::UNKNOWN ||
      pi == gdcm::PhotometricInterpretation::PI_END) {
    return unsupported(
        origin,
        fmt::format("PhotometricInterpretation (0028,0004) '{}' not supported", f.photometric));
  }
  const auto ts = gdcm::TransferSyntax::GetTSType(h.transfer_syntax.c_str());
  // The codecs GDCM 3.0.21 decodes (NOTES.md); video and HTJ2K are not among them.
  static constexpr std::string_view decodable[] = {
      "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
      "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81",
      "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.5"};
  if (ts == gdcm::TransferSyntax::TS_END || std::find(std::begin(decodable), std::end(decodable),
                                                      h.transfer_syntax) == std::end(decodable)) {
    return unsupported(origin, fmt::format("transfer syntax {} not supported", codec));
  }
  // GDCM 3.0.21 scrambles the samples of 16/32-bit colour RLE (its own raw output of
  // pydicom's SC_rgb_rle_16bit.dcm is wrong): refuse rather than write wrong colours.
  if (f.samples == 3 && f.bits_allocated > 8 && ts == gdcm::TransferSyntax::RLELossless) {
    return unsupported(origin, fmt::format("{}-bit colour RLE is not decoded correctly by GDCM",
                                           f.bits_allocated));
  }
  const int frames = std::max(h.number_of_frames.value_or(1), 1);
  if (frame < 0 || frame >= frames) {
    return corrupt(
        origin, fmt::format("frame {} requested, NumberOfFrames (0028,0008) is {}", frame, frames));
  }
  if (frames > 4096) {
    return unsupported(origin, fmt::format("NumberOfFrames (0028,0008) {} too large", frames));
  }
  const std::string_view source = h.deflated ? std::string_view(h.inflated) : bytes;
  if (h.pixel_offset > source.size()) return corrupt(origin, "pixel data (7FE0,0010) out of range");
  auto fragments = split_fragments(source.substr(h.pixel_offset), origin);
  if (!fragments) return tl::unexpected(fragments.error());

  gdcm::Image img;
  img.SetNumberOfDimensions(frames > 1 ? 3 : 2);
  img.SetDimension(0, static_cast<unsigned>(f.width));
  img.SetDimension(1, static_cast<unsigned>(f.height));
  if (frames > 1) img.SetDimension(2, static_cast<unsigned>(frames));
  img.SetPixelFormat(gdcm::PixelFormat(
      static_cast<unsigned short>(f.samples), static_cast<unsigned short>(f.bits_allocated),
      static_cast<unsigned short>(f.bits_stored), static_cast<unsigned short>(f.high_bit),
      static_cast<unsigned short>(f.is_signed ? 1 : 0)));
  img.SetPhotometricInterpretation(gdcm::PhotometricInterpretation(pi));
  img.SetPlanarConfiguration(
      f.samples == 3 ? static_cast<unsigned>(h.planar_configuration.value_or(0) == 1) : 0u);
  img.SetTransferSyntax(gdcm::TransferSyntax(ts));
  gdcm::SmartPointer<gdcm::SequenceOfFragments> sq = new gdcm::SequenceOfFragments;
  for (const auto fragment : *fragments) {
    gdcm::Fragment frag;
    frag.SetByteValue(fragment.data(), static_cast<std::uint32_t>(fragment.size()));
    sq->AddFragment(frag);
  }
  gdcm::DataElement pixel_data(gdcm::Tag(0x7FE0, 0x0010));
  pixel_data.SetVR(gdcm::VR::OB);
  pixel_data.SetValue(*sq);
  img.SetDataElement(pixel_data);

  const std::size_t length = img.GetBufferLength();
  std::vector<char> buffer(length);
  bool decoded = false;
  try {
    decoded = img.GetBuffer(buffer.data());
  } catch (const std::exception& e) {
    return corrupt(
        origin, fmt::format("cannot decode pixel data (7FE0,0010) with {}: {}", codec, e.what()));
  }
  if (!decoded) {
    return corrupt(origin, fmt::format("cannot decode pixel data (7FE0,0010) with {}", codec));
  }
  // A codec may correct the description from the stream (JPEG 2000 signedness, JPEG
  // colour space): read it back.
  const gdcm::PixelFormat& pf = img.GetPixelFormat();
  f.bits_allocated = pf.GetBitsAllocated();
  f.bits_stored = pf.GetBitsStored();
  f.high_bit = pf.GetHighBit();
  f.is_signed = pf.GetPixelRepresentation() == 1;
  if (const char* out_pi =
          gdcm::PhotometricInterpretation::GetPIString(img.GetPhotometricInterpretation())) {
    f.photometric = out_pi;
    while (!f.photometric.empty() && f.photometric.back() == ' ') f.photometric.pop_back();
  }
  if (pf.GetSamplesPerPixel() != f.samples ||
      (f.bits_allocated != 8 && f.bits_allocated != 16 && f.bits_allocated != 32)) {
    return unsupported(origin, fmt::format("{} decoded to {} samples of {} bits", codec,
                                           pf.GetSamplesPerPixel(), f.bits_allocated));
  }
  const std::size_t bps = static_cast<std::size_t>(f.bits_allocated / 8);
  const std::size_t pixels = static_cast<std::size_t>(f.width) * static_cast<std::size_t>(f.height);
  const std::size_t frame_bytes = pixels * static_cast<std::size_t>(f.samples) * bps;
  if (length < frame_bytes * static_cast<std::size_t>(frame + 1)) {
    return corrupt(origin,
                   fmt::format("decoded buffer of {} bytes is smaller than frame {} needs ({})",
                               length, frame, codec));
  }
  const auto* p = reinterpret_cast<const std::uint8_t*>(buffer.data()) +
                  frame_bytes * static_cast<std::size_t>(frame);
  f.data.assign(p, p + frame_bytes);
  if (f.samples == 3 && img.GetPlanarConfiguration() == 1) interleave_planes(f.data, pixels, bps);
  // GDCM hands JPEG YBR data back upsampled but not colour-converted (checked against
  // pydicom on its corpus): YBR_FULL_422 is YBR_FULL here.
  if (f.samples == 3 && (f.photometric == "YBR_FULL" || f.photometric == "YBR_FULL_422") &&
      bps == 1) {
    ybr_full_to_rgb(f.data);
    f.photometric = "RGB";
  }
  return f;
}

// Everything that decides one output value, so a lookup table can be reused across the
// slices of a series (the table is rebuilt only when a parameter changes).
struct lut_key {
  int bits_allocated = 0, bits_stored = 0, high_bit = 0;
  bool is_signed = false;
  double slope = 1, intercept = 0;
  int windows = 0;  // 0: 16-bit HU output
  double centers[3] = {0, 0, 0};
  double widths[3] = {0, 0, 0};
  std::string function;
  bool mono1 = false;
  bool padding = false;
  std::int64_t pad_lo = 0, pad_hi = 0;
  friend bool operator==(const lut_key&, const lut_key&) = default;
};

std::int64_t stored_value(std::uint32_t raw, const lut_key& k) {
  const int shift = k.high_bit + 1 - k.bits_stored;
  const std::uint32_t mask = k.bits_stored >= 32 ? 0xFFFFFFFFu : ((1u << k.bits_stored) - 1u);
  std::uint32_t v = (shift > 0 ? raw >> shift : raw) & mask;
  if (k.is_signed && k.bits_stored < 32 && (v >> (k.bits_stored - 1)) & 1u) {
    return static_cast<std::int64_t>(v) - (std::int64_t{1} << k.bits_stored);
  }
  if (k.is_signed && k.bits_stored == 32) return static_cast<std::int32_t>(v);
  return static_cast<std::int64_t>(v);
}

// Output of one stored value: up to 3 bytes (8-bit) or one 16-bit value.
void map_value(std::int64_t s, const lut_key& k, std::uint8_t* out8, std::uint16_t* out16) {
  const bool pad = k.padding && s >= k.pad_lo && s <= k.pad_hi;
  const double x = static_cast<double>(s) * k.slope + k.intercept;
  if (k.windows == 0) {
    *out16 =
        pad ? 0
            : static_cast<std::uint16_t>(std::clamp(std::floor(x + 1024.0 + 0.5), 0.0, 65535.0));
    return;
  }
  for (int i = 0; i < k.windows; ++i) {
    std::uint8_t v =
        clamp_u8(std::floor(voi_value(x, k.centers[i], k.widths[i], k.function) + 0.5));
    if (k.mono1) v = static_cast<std::uint8_t>(255 - v);
    out8[i] = pad ? 0 : v;
  }
}

struct lut_cache {
  lut_key key;
  bool valid = false;
  std::vector<std::uint8_t> lut8;
  std::vector<std::uint16_t> lut16;
};

bool usable_width(double width, std::string_view function) {
  if (!std::isfinite(width)) return false;
  // PS3.3 C.11.2.1.2.1: LINEAR needs width >= 1; the others width > 0.
  return function == "LINEAR" ? width >= 1.0 : width > 0.0;
}

std::string format_number(double v) {
  return fmt::format("{:g}", v);
}

}  // namespace

double voi_value(double x, double c, double w, std::string_view function) noexcept {
  constexpr double ymin = 0, ymax = 255;
  if (function == "SIGMOID") {
    return (ymax - ymin) / (1.0 + std::exp(-4.0 * (x - c) / w)) + ymin;
  }
  if (function == "LINEAR_EXACT") {
    if (x <= c - w / 2) return ymin;
    if (x > c + w / 2) return ymax;
    return ((x - c) / w + 0.5) * (ymax - ymin) + ymin;
  }
  // LINEAR (C.11.2.1.2.1). With w == 1 the middle branch is empty, so no division by 0.
  if (x <= c - 0.5 - (w - 1) / 2) return ymin;
  if (x > c - 0.5 + (w - 1) / 2) return ymax;
  return ((x - (c - 0.5)) / (w - 1) + 0.5) * (ymax - ymin) + ymin;
}

core::result<decoded_frame> decode_frame(std::string_view bytes, const header& h, int frame,
                                         std::string_view origin) {
  if (!h.has_pixel_data) return corrupt(origin, "no pixel data (7FE0,0010)");
  if (is_native_syntax(h.transfer_syntax) && !h.encapsulated) {
    return decode_native(bytes, h, frame, origin);
  }
  if (is_native_syntax(h.transfer_syntax)) {
    return corrupt(origin, fmt::format("pixel data (7FE0,0010) is encapsulated but the transfer "
                                       "syntax {} is native",
                                       syntax_label(h.transfer_syntax)));
  }
  return decode_gdcm(bytes, h, frame, origin);
}

core::result<rendered> render(const decoded_frame& f, const header& h, const convert_options& o,
                              std::string_view origin) {
  rendered out;
  out.width = f.width;
  out.height = f.height;
  out.bit_depth = o.bit_depth;
  const std::size_t pixels = static_cast<std::size_t>(f.width) * static_cast<std::size_t>(f.height);
  const std::size_t bps = static_cast<std::size_t>(f.bits_allocated / 8);
  const std::uint8_t* px = f.sample_data();
  if (f.sample_bytes() < pixels * static_cast<std::size_t>(f.samples) * bps) {
    return core::fail(core::error_code::internal,
                      fmt::format("'{}': frame buffer too small", origin));
  }

  if (f.samples == 3) {
    // Colour input: no window (SPEC); converted to the output colour.
    if (o.bit_depth == 16) {
      return unsupported(origin,
                         "--bit-depth 16 needs a monochrome image; this one is " + f.photometric);
    }
    out.window_used = "none (colour image)";
    const int shift =
        bps == 1 ? 0 : std::max(0, f.bits_stored - 8) + (f.high_bit + 1 - f.bits_stored);
    auto sample = [&](std::size_t i) -> std::uint8_t {
      if (bps == 1) return px[i];
      std::uint32_t v = 0;
      if (bps == 2) {
        std::uint16_t t;
        std::memcpy(&t, px + i * 2, 2);
        v = t;
      } else {
        std::memcpy(&v, px + i * 4, 4);
      }
      return static_cast<std::uint8_t>(std::min<std::uint32_t>(v >> shift, 255));
    };
    if (o.colour == colour_mode::rgb) {
      out.channels = 3;
      out.pixels8.resize(pixels * 3);
      for (std::size_t i = 0; i < pixels * 3; ++i) out.pixels8[i] = sample(i);
    } else {
      out.channels = 1;
      out.pixels8.resize(pixels);
      for (std::size_t i = 0; i < pixels; ++i) {
        const double y =
            0.299 * sample(3 * i) + 0.587 * sample(3 * i + 1) + 0.114 * sample(3 * i + 2);
        out.pixels8[i] = clamp_u8(std::floor(y + 0.5));
      }
    }
    return out;
  }

  if (f.photometric != "MONOCHROME1" && f.photometric != "MONOCHROME2") {
    return unsupported(origin, fmt::format("PhotometricInterpretation (0028,0004) {} not supported",
                                           f.photometric));
  }
  if (f.bits_stored < 1 || f.bits_stored > f.bits_allocated || f.high_bit < f.bits_stored - 1 ||
      f.high_bit >= f.bits_allocated) {
    return corrupt(origin,
                   fmt::format("BitsStored (0028,0101) {} / HighBit (0028,0102) {} do not fit "
                               "BitsAllocated (0028,0100) {}",
                               f.bits_stored, f.high_bit, f.bits_allocated));
  }

  lut_key k;
  k.bits_allocated = f.bits_allocated;
  k.bits_stored = f.bits_stored;
  k.high_bit = f.high_bit;
  k.is_signed = f.is_signed;
  k.slope = h.rescale_slope.value_or(1.0);
  k.intercept = h.rescale_intercept.value_or(0.0);
  if (h.has_modality_lut_sequence && !h.rescale_slope && !h.rescale_intercept) {
    out.warnings.push_back(
        "Modality LUT Sequence (0028,3000) not applied: stored values used as is");
  }
  k.mono1 = f.photometric == "MONOCHROME1" && o.bit_depth == 8;
  if (h.pixel_padding_value) {
    auto as_stored = [&](std::uint32_t raw) -> std::int64_t {
      // (0028,0120) is US or SS like the pixels; read its 16 bits with their sign.
      if (f.is_signed) return static_cast<std::int16_t>(static_cast<std::uint16_t>(raw & 0xFFFF));
      return raw & 0xFFFF;
    };
    const auto pv = as_stored(*h.pixel_padding_value);
    const auto limit = h.pixel_padding_range_limit ? as_stored(*h.pixel_padding_range_limit) : pv;
    k.padding = true;
    k.pad_lo = std::min(pv, limit);
    k.pad_hi = std::max(pv, limit);
  }

  if (o.bit_depth == 16) {
    k.windows = 0;
    out.channels = 1;
    out.window_used = "none (16-bit HU + 1024)";
  } else {
    auto set_window = [&](int i, double c, double w) {
      k.centers[i] = c;
      k.widths[i] = w;
    };
    switch (o.window.kind) {
      case window_kind::brain:
        set_window(0, 40, 80);
        k.windows = 1;
        k.function = "LINEAR";
        out.window_used = "brain 40/80";
        break;
      case window_kind::subdural:
        set_window(0, 80, 200);
        k.windows = 1;
        k.function = "LINEAR";
        out.window_used = "subdural 80/200";
        break;
      case window_kind::bone:
        set_window(0, 600, 2800);
        k.windows = 1;
        k.function = "LINEAR";
        out.window_used = "bone 600/2800";
        break;
      case window_kind::custom:
        set_window(0, o.window.center, o.window.width);
        k.windows = 1;
        k.function = "LINEAR";
        out.window_used = fmt::format("custom {}/{}", format_number(o.window.center),
                                      format_number(o.window.width));
        break;
      case window_kind::multi:
        set_window(0, 40, 80);
        set_window(1, 80, 200);
        set_window(2, 600, 2800);
        k.windows = 3;
        k.function = "LINEAR";
        out.window_used = "multi (R brain 40/80, G subdural 80/200, B bone 600/2800)";
        break;
      case window_kind::header: {
        std::string function = h.voi_lut_function.empty() ? "LINEAR" : h.voi_lut_function;
        if (function != "LINEAR" && function != "LINEAR_EXACT" && function != "SIGMOID") {
          out.warnings.push_back(
              fmt::format("VOILUTFunction (0028,1056) '{}' unknown: LINEAR used", function));
          function = "LINEAR";
        }
        const bool have = !h.window_centers.empty() && !h.window_widths.empty();
        const double c = have ? h.window_centers[0] : 0;
        const double w = have ? h.window_widths[0] : 0;
        if (have && std::isfinite(c) && usable_width(w, function)) {
          set_window(0, c, w);
          k.function = function;
          out.window_used =
              fmt::format("header {}/{} {}", format_number(c), format_number(w), function);
        } else {
          set_window(0, 40, 80);
          k.function = "LINEAR";
          out.window_fell_back = true;
          out.window_used = "brain 40/80";
          out.warnings.push_back(!have ? std::string("no WindowCenter (0028,1050) / WindowWidth "
                                                     "(0028,1051): brain window 40/80 used")
                                       : fmt::format("unusable window {}/{} (WindowCenter "
                                                     "(0028,1050) / WindowWidth (0028,1051)): "
                                                     "brain window 40/80 used",
                                                     format_number(c), format_number(w)));
        }
        k.windows = 1;
        break;
      }
    }
    out.channels = (k.windows == 3 || o.colour == colour_mode::rgb) ? 3 : 1;
  }

  const int lut_channels = k.windows == 0 ? 1 : k.windows;
  const bool replicate = k.windows == 1 && out.channels == 3;
  if (k.windows == 0) {
    out.pixels16.resize(pixels);
  } else {
    out.pixels8.resize(pixels * static_cast<std::size_t>(out.channels));
  }

  if (f.bits_allocated <= 16) {
    thread_local lut_cache cache;
    const std::size_t entries = std::size_t{1} << f.bits_allocated;
    if (!cache.valid || !(cache.key == k)) {
      cache.key = k;
      cache.valid = true;
      if (k.windows == 0) {
        cache.lut16.resize(entries);
        for (std::size_t r = 0; r < entries; ++r) {
          map_value(stored_value(static_cast<std::uint32_t>(r), k), k, nullptr, &cache.lut16[r]);
        }
      } else {
        cache.lut8.resize(entries * static_cast<std::size_t>(lut_channels));
        for (std::size_t r = 0; r < entries; ++r) {
          map_value(stored_value(static_cast<std::uint32_t>(r), k), k,
                    &cache.lut8[r * static_cast<std::size_t>(lut_channels)], nullptr);
        }
      }
    }
    auto raw = [&](std::size_t i) -> std::size_t {
      if (f.bits_allocated == 8) return px[i];
      std::uint16_t v;
      std::memcpy(&v, px + 2 * i, 2);
      return v;
    };
    if (k.windows == 0) {
      for (std::size_t i = 0; i < pixels; ++i) out.pixels16[i] = cache.lut16[raw(i)];
    } else if (lut_channels == 1 && !replicate) {
      const std::uint8_t* lut = cache.lut8.data();
      if (f.bits_allocated == 16) {
        const auto* src = px;
        for (std::size_t i = 0; i < pixels; ++i) {
          std::uint16_t v;
          std::memcpy(&v, src + 2 * i, 2);
          out.pixels8[i] = lut[v];
        }
      } else {
        for (std::size_t i = 0; i < pixels; ++i) out.pixels8[i] = lut[px[i]];
      }
    } else {
      for (std::size_t i = 0; i < pixels; ++i) {
        const std::size_t r = raw(i);
        for (int c = 0; c < 3; ++c) {
          out.pixels8[i * 3 + static_cast<std::size_t>(c)] =
              cache.lut8[r * static_cast<std::size_t>(lut_channels) +
                         (replicate ? 0 : static_cast<std::size_t>(c))];
        }
      }
    }
  } else {
    for (std::size_t i = 0; i < pixels; ++i) {
      std::uint32_t r;
      std::memcpy(&r, px + 4 * i, 4);
      const auto s = stored_value(r, k);
      std::uint8_t v8[3] = {0, 0, 0};
      std::uint16_t v16 = 0;
      map_value(s, k, v8, &v16);
      if (k.windows == 0) {
        out.pixels16[i] = v16;
      } else {
        for (int c = 0; c < out.channels; ++c) {
          out.pixels8[i * static_cast<std::size_t>(out.channels) + static_cast<std::size_t>(c)] =
              v8[replicate ? 0 : c];
        }
      }
    }
  }
  return out;
}

}  // namespace ctprep::dicom

// libjpeg-turbo used directly where OpenCV's wrapper does too much (a full colour decode
// to check a file, a colour conversion of a gray image) or too little (it ignores
// libjpeg's warnings, so a truncated scan decodes "successfully" as grey).
#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <vector>

// jpeglib.h needs size_t and FILE declared before it.
#include <jerror.h>
#include <jpeglib.h>

#include <fmt/format.h>

#include "ctprep/core/rng.hpp"
#include "imaging/codec_internal.hpp"

namespace ctprep::imaging::detail {
namespace {

// libjpeg reports errors through a callback that must not return: longjmp back to the
// setjmp in the function that called libjpeg. Those functions keep only trivially
// destructible locals between setjmp and longjmp (C++ objects live outside them).
struct jpeg_failure {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool warned;
  bool ended_early;  // the data ran out (JWRN_JPEG_EOF): a truncated file
};

[[noreturn]] void on_jpeg_error(j_common_ptr info) {
  auto* failure = reinterpret_cast<jpeg_failure*>(info->err);
  (*info->err->format_message)(info, failure->message);
  std::longjmp(failure->jump, 1);
}

// Level -1 is a warning (corrupt data, premature end of file); higher levels are traces.
void on_jpeg_message(j_common_ptr info, int level) {
  auto* failure = reinterpret_cast<jpeg_failure*>(info->err);
  if (level < 0 && !failure->warned) {
    (*info->err->format_message)(info, failure->message);
    failure->warned = true;
    failure->ended_early = info->err->msg_code == JWRN_JPEG_EOF;
  }
}

void install_failure(jpeg_failure& failure) {
  jpeg_std_error(&failure.manager);
  failure.manager.error_exit = on_jpeg_error;
  failure.manager.emit_message = on_jpeg_message;
  failure.message[0] = '\0';
  failure.warned = false;
  failure.ended_early = false;
}

// A decompressor with our error handling, destroyed on every path out.
struct jpeg_reader {
  jpeg_decompress_struct info{};
  jpeg_failure failure{};
  jpeg_reader() {
    install_failure(failure);
    info.err = &failure.manager;
    jpeg_create_decompress(&info);
    // A progressive JPEG keeps every coefficient of the image: past this, libjpeg stops
    // with "Backing store not supported" instead of taking gigabytes for a forged header.
    info.mem->max_memory_to_use = 512L << 20;
  }
  ~jpeg_reader() { jpeg_destroy_decompress(&info); }
  jpeg_reader(const jpeg_reader&) = delete;
  jpeg_reader& operator=(const jpeg_reader&) = delete;
};

// OpenCV's limit (CV_IO_MAX_IMAGE_PIXELS): a forged 1 KB header claiming 65500x65500
// must not make us allocate gigabytes before the data runs out.
constexpr std::uint64_t max_pixels = 1ULL << 30;

bool too_large(const jpeg_decompress_struct& info, jpeg_failure& failure) {
  if (static_cast<std::uint64_t>(info.image_width) * info.image_height <= max_pixels) return false;
  std::snprintf(failure.message, sizeof failure.message, "%ux%u pixels is more than %llu",
                info.image_width, info.image_height, static_cast<unsigned long long>(max_pixels));
  return true;
}

// Points libjpeg at `bytes` and reads the header; false for a header over max_pixels.
// Called after the caller's setjmp: a libjpeg error longjmps back to it.
bool read_header(jpeg_decompress_struct& info, jpeg_failure& failure, std::string_view bytes) {
  jpeg_mem_src(&info, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&info, TRUE);
  return !too_large(info, failure);
}

tl::unexpected<core::error> jpeg_error(std::string_view origin, const jpeg_failure& failure) {
  return core::fail(
      core::error_code::bad_image,
      fmt::format("'{}' is {}: {}", origin, failure.ended_early ? "truncated" : "not a whole JPEG",
                  failure.message));
}

// Decodes every entropy-coded block at 1/8 scale: all the Huffman data is decoded (every
// corruption libjpeg can see is seen) while each block's inverse DCT is its DC term,
// and no whole-image buffer is made. `flat`: the DC image is one colour.
bool read_scaled(jpeg_decompress_struct& info, jpeg_failure& failure, std::string_view bytes,
                 image_digest& digest, std::vector<std::uint8_t>& row, bool& flat) {
  if (setjmp(failure.jump) != 0) return false;
  if (!read_header(info, failure, bytes)) return false;
  digest.width = static_cast<int>(info.image_width);
  digest.height = static_cast<int>(info.image_height);
  digest.channels = info.num_components == 1 ? 1 : 3;
  info.scale_num = 1;
  info.scale_denom = 8;
  info.do_fancy_upsampling = FALSE;
  if (info.jpeg_color_space == JCS_YCbCr) info.out_color_space = JCS_YCbCr;  // no conversion
  jpeg_start_decompress(&info);
  const std::size_t samples = static_cast<std::size_t>(info.output_width) *
                              static_cast<std::size_t>(info.output_components);
  row.resize(samples);
  std::uint8_t first[4] = {0, 0, 0, 0};
  const auto components = static_cast<std::size_t>(info.output_components);
  flat = true;
  while (info.output_scanline < info.output_height) {
    JSAMPROW target = row.data();
    const bool top = info.output_scanline == 0;
    jpeg_read_scanlines(&info, &target, 1);
    if (top) {
      for (std::size_t k = 0; k < components && k < 4; ++k) first[k] = row[k];
    }
    for (std::size_t i = 0; flat && i < samples; ++i) flat = row[i] == first[i % components];
  }
  jpeg_finish_decompress(&info);
  return !failure.warned;
}

// Reads the header; `layout` gets the scan when the file is one our own entropy scan
// covers (jpeg_scan.hpp): baseline or extended sequential Huffman, 8 bits, one scan with
// every component (gray, or YCbCr with 1x1 chroma), its tables defined, and no warning
// while reading the header. `data_at`: where the entropy-coded data begins.
bool read_layout(jpeg_decompress_struct& info, jpeg_failure& failure, std::string_view bytes,
                 image_digest& digest, std::optional<jpeg_scan_layout>& layout,
                 std::size_t& data_at) {
  if (setjmp(failure.jump) != 0) return false;
  if (!read_header(info, failure, bytes)) return false;
  digest.width = static_cast<int>(info.image_width);
  digest.height = static_cast<int>(info.image_height);
  digest.channels = info.num_components == 1 ? 1 : 3;
  data_at = bytes.size() - info.src->bytes_in_buffer;
  const bool sequential = info.progressive_mode == FALSE && info.arith_code == FALSE &&
                          info.data_precision == 8 && info.Ss == 0 && info.Se == DCTSIZE2 - 1 &&
                          info.Ah == 0 && info.Al == 0;
  const int count = info.comps_in_scan;
  if (failure.warned || !sequential || count != info.num_components || (count != 1 && count != 3)) {
    return true;
  }
  jpeg_scan_layout scan;
  scan.width = static_cast<int>(info.image_width);
  scan.height = static_cast<int>(info.image_height);
  scan.restart_interval = static_cast<int>(info.restart_interval);
  for (int i = 0; i < count; ++i) {
    const jpeg_component_info& c = *info.cur_comp_info[i];
    // libjpeg's upsampling at 1/8 scale is exact for these; others are left to it.
    const bool sampling_ok = count == 1 || (i == 0 ? c.h_samp_factor <= 2 && c.v_samp_factor <= 2
                                                   : c.h_samp_factor == 1 && c.v_samp_factor == 1);
    const bool tables_ok = c.quant_tbl_no >= 0 && c.quant_tbl_no < NUM_QUANT_TBLS &&
                           info.quant_tbl_ptrs[c.quant_tbl_no] != nullptr && c.dc_tbl_no >= 0 &&
                           c.dc_tbl_no < NUM_HUFF_TBLS && c.ac_tbl_no >= 0 &&
                           c.ac_tbl_no < NUM_HUFF_TBLS &&
                           info.dc_huff_tbl_ptrs[c.dc_tbl_no] != nullptr &&
                           info.ac_huff_tbl_ptrs[c.ac_tbl_no] != nullptr;
    if (!sampling_ok || !tables_ok) return true;
    scan.components.push_back({c.h_samp_factor, c.v_samp_factor, c.dc_tbl_no, c.ac_tbl_no});
  }
  const auto copy_table = [](const JHUFF_TBL& from, huffman_spec& to) {
    std::copy(std::begin(from.bits), std::end(from.bits), to.counts.begin());
    std::copy(std::begin(from.huffval), std::end(from.huffval), to.symbols.begin());
  };
  for (std::size_t t = 0; t < NUM_HUFF_TBLS; ++t) {
    if (info.dc_huff_tbl_ptrs[t] != nullptr) copy_table(*info.dc_huff_tbl_ptrs[t], scan.dc[t]);
    if (info.ac_huff_tbl_ptrs[t] != nullptr) copy_table(*info.ac_huff_tbl_ptrs[t], scan.ac[t]);
    scan.has_dc[t] = info.dc_huff_tbl_ptrs[t] != nullptr;
    scan.has_ac[t] = info.ac_huff_tbl_ptrs[t] != nullptr;
  }
  layout = std::move(scan);
  return true;
}

// The header read by libjpeg, then the entropy-coded data checked by our scan when it
// covers the file (unsupported otherwise); std::nullopt when libjpeg refuses the header.
std::optional<scan_outcome> scan_after_header(jpeg_reader& reader, std::string_view bytes,
                                              image_digest& digest) {
  std::optional<jpeg_scan_layout> layout;
  std::size_t data_at = 0;
  if (!read_layout(reader.info, reader.failure, bytes, digest, layout, data_at)) {
    return std::nullopt;
  }
  if (!layout) return scan_outcome{};
  return scan_entropy_coded_data(*layout, bytes.substr(data_at));
}

// Whether every pixel is the same: no AC energy and one DC value per component in the
// quantised coefficients (asked only when the DC image is flat, so rarely).
bool read_constant(jpeg_decompress_struct& info, jpeg_failure& failure, std::string_view bytes,
                   bool& constant) {
  if (setjmp(failure.jump) != 0) return false;
  if (!read_header(info, failure, bytes)) return false;
  jvirt_barray_ptr* planes = jpeg_read_coefficients(&info);
  constant = true;
  for (int c = 0; constant && c < info.num_components; ++c) {
    const jpeg_component_info& component = info.comp_info[c];
    JCOEF first_dc = 0;
    for (JDIMENSION row = 0; constant && row < component.height_in_blocks; ++row) {
      JBLOCKARRAY rows = (*info.mem->access_virt_barray)(reinterpret_cast<j_common_ptr>(&info),
                                                         planes[c], row, 1, FALSE);
      for (JDIMENSION b = 0; constant && b < component.width_in_blocks; ++b) {
        const JCOEF* block = rows[0][b];
        if (row == 0 && b == 0) first_dc = block[0];
        constant = block[0] == first_dc;
        for (int k = 1; constant && k < DCTSIZE2; ++k) constant = block[k] == 0;
      }
    }
  }
  jpeg_abort_decompress(&info);
  return true;
}

// A hash of what fixes the pixels: the quantisation, frame and Huffman segments and
// everything from the first scan on, leaving out APPn and COM segments (metadata), so a
// copy with other EXIF or JFIF data hashes equal. A malformed marker run hashes whole.
std::uint64_t jpeg_content_hash(std::string_view bytes) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  std::uint64_t h = 0x4A504547ULL;  // "JPEG"
  std::size_t at = 2;
  while (at + 4 <= bytes.size() && byte(at) == 0xFF) {
    const unsigned marker = byte(at + 1);
    if (marker == 0xDA) return core::content_hash(bytes.substr(at), h);
    const std::size_t length = static_cast<std::size_t>(byte(at + 2)) << 8 | byte(at + 3);
    if (length < 2 || at + 2 + length > bytes.size()) break;
    const bool metadata = (marker >= 0xE0 && marker <= 0xEF) || marker == 0xFE;
    if (!metadata) h = core::content_hash(bytes.substr(at, 2 + length), h);
    at += 2 + length;
  }
  return core::content_hash(bytes);
}

// Whether the frame is one this file reads and writes as raw planes (jpeg_read_raw_data,
// jpeg_write_raw_data): one component, or YCbCr 4:2:0 (luma 2x2, chroma 1x1), with the
// size a whole number of MCUs, so no plane has edge padding: the planes are then exactly
// what the scanline path's (null) colour conversion, down- and replicating upsampling
// would give or take, without those passes and copies.
bool whole_mcus(int width, int height, int components) {
  const int mcu = components == 1 ? DCTSIZE : 2 * DCTSIZE;
  return width > 0 && height > 0 && width % mcu == 0 && height % mcu == 0;
}

bool is_plain_420(const jpeg_decompress_struct& info) {
  const jpeg_component_info* c = info.comp_info;
  return c[0].h_samp_factor == 2 && c[0].v_samp_factor == 2 && c[1].h_samp_factor == 1 &&
         c[1].v_samp_factor == 1 && c[2].h_samp_factor == 1 && c[2].v_samp_factor == 1;
}

// The raw-plane decode of read_gray: luma straight into `gray`'s rows, chroma into a
// scratch band that is checked for 128 (neutral) and dropped.
void read_gray_raw(jpeg_decompress_struct& info, image_u8& gray, std::vector<std::uint8_t>& row,
                   bool& is_gray) {
  const bool ycc = info.num_components == 3;
  info.raw_data_out = TRUE;
  jpeg_start_decompress(&info);
  const int band = info.max_v_samp_factor * DCTSIZE;  // luma rows per call: 8 or 16
  const auto chroma_width = static_cast<std::size_t>(info.image_width) / 2;
  if (ycc) row.resize(chroma_width * 2 * DCTSIZE);
  JSAMPROW luma[2 * DCTSIZE], cb[DCTSIZE], cr[DCTSIZE];
  for (int i = 0; ycc && i < DCTSIZE; ++i) {
    cb[i] = row.data() + static_cast<std::size_t>(i) * chroma_width;
    cr[i] = row.data() + static_cast<std::size_t>(DCTSIZE + i) * chroma_width;
  }
  JSAMPARRAY planes[3] = {luma, cb, cr};
  while (info.output_scanline < info.output_height) {
    for (int i = 0; i < band; ++i) luma[i] = gray.row(static_cast<int>(info.output_scanline) + i);
    jpeg_read_raw_data(&info, planes, static_cast<JDIMENSION>(band));
    if (!ycc) continue;
    std::uint8_t off = 0;
    for (const std::uint8_t c : row) off |= static_cast<std::uint8_t>(c ^ 128);
    if (off != 0) {
      is_gray = false;
      return;
    }
  }
}

// Decodes into `gray` when the JPEG is gray; `is_gray` false for colour.
bool read_gray(jpeg_decompress_struct& info, jpeg_failure& failure, std::string_view bytes,
               image_u8& gray, std::vector<std::uint8_t>& row, bool& is_gray) {
  if (setjmp(failure.jump) != 0) return false;
  if (!read_header(info, failure, bytes)) return false;
  const bool ycc = info.num_components == 3 && info.jpeg_color_space == JCS_YCbCr;
  if (info.num_components != 1 && !ycc) {
    is_gray = false;
    return true;
  }
  info.out_color_space = ycc ? JCS_YCbCr : JCS_GRAYSCALE;
  gray = make_image(static_cast<int>(info.image_width), static_cast<int>(info.image_height), 1);
  is_gray = true;
  if (whole_mcus(gray.width, gray.height, info.num_components) && (!ycc || is_plain_420(info))) {
    read_gray_raw(info, gray, row, is_gray);
    if (!is_gray) {
      jpeg_abort_decompress(&info);
      return true;
    }
    jpeg_finish_decompress(&info);
    return !failure.warned;
  }
  info.do_fancy_upsampling = FALSE;  // chroma is only compared with 128 here
  jpeg_start_decompress(&info);
  const auto width = static_cast<std::size_t>(info.output_width);
  row.resize(width * 3);
  while (info.output_scanline < info.output_height) {
    std::uint8_t* out = gray.row(static_cast<int>(info.output_scanline));
    if (!ycc) {
      JSAMPROW target = out;
      jpeg_read_scanlines(&info, &target, 1);
      continue;
    }
    JSAMPROW target = row.data();
    jpeg_read_scanlines(&info, &target, 1);
    const std::uint8_t* p = row.data();
    std::uint8_t off = 0;
    for (std::size_t x = 0; x < width; ++x, p += 3) {
      out[x] = p[0];
      off |= static_cast<std::uint8_t>((p[1] ^ 128) | (p[2] ^ 128));
    }
    if (off != 0) {
      is_gray = false;
      jpeg_abort_decompress(&info);
      return true;
    }
  }
  jpeg_finish_decompress(&info);
  return !failure.warned;
}

struct gray_pixels {
  const std::uint8_t* pixels;
  int width, height;
  std::size_t stride;
};

// libjpeg's output into a growing byte vector (kept by the caller from call to call, so
// an encode does not start from jpeg_mem_dest's 4 KB buffer and copy at each doubling).
struct vector_destination {
  jpeg_destination_mgr manager;
  std::vector<std::uint8_t>* bytes;
  std::size_t written;  // set by term
};

void start_vector(j_compress_ptr info) {
  auto* d = reinterpret_cast<vector_destination*>(info->dest);
  if (d->bytes->size() < 64 * 1024) d->bytes->resize(64 * 1024);
  d->manager.next_output_byte = d->bytes->data();
  d->manager.free_in_buffer = d->bytes->size();
}

boolean grow_vector(j_compress_ptr info) {  // called when the buffer is full
  auto* d = reinterpret_cast<vector_destination*>(info->dest);
  const std::size_t used = d->bytes->size();
  d->bytes->resize(used * 2);
  d->manager.next_output_byte = d->bytes->data() + used;
  d->manager.free_in_buffer = d->bytes->size() - used;
  return TRUE;
}

void end_vector(j_compress_ptr info) {
  auto* d = reinterpret_cast<vector_destination*>(info->dest);
  d->written = d->bytes->size() - d->manager.free_in_buffer;
}

bool write_gray(jpeg_compress_struct& info, jpeg_failure& failure, const gray_pixels& gray,
                int quality, bool as_colour, vector_destination& destination,
                std::vector<std::uint8_t>& row) {
  if (setjmp(failure.jump) != 0) return false;
  destination.manager.init_destination = start_vector;
  destination.manager.empty_output_buffer = grow_vector;
  destination.manager.term_destination = end_vector;
  info.dest = &destination.manager;
  info.image_width = static_cast<JDIMENSION>(gray.width);
  info.image_height = static_cast<JDIMENSION>(gray.height);
  info.input_components = as_colour ? 3 : 1;
  info.in_color_space = as_colour ? JCS_YCbCr : JCS_GRAYSCALE;
  // As OpenCV's encoder: defaults, then the quality with baseline tables.
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  const auto width = static_cast<std::size_t>(gray.width);
  if (whole_mcus(gray.width, gray.height, as_colour ? 3 : 1)) {
    // Raw planes: luma is the image's own rows; chroma (4:2:0 after jpeg_set_defaults) is
    // 128, what libjpeg's 2x2 averaging of 128s gives. The same coefficients, so the same
    // bytes, without the per-row copies and the downsampling.
    info.raw_data_in = TRUE;
    jpeg_start_compress(&info, TRUE);
    const int band = info.max_v_samp_factor * DCTSIZE;
    if (as_colour) row.assign(width / 2, 128);
    JSAMPROW luma[2 * DCTSIZE], chroma[DCTSIZE];
    for (auto& r : chroma) r = row.data();
    JSAMPARRAY planes[3] = {luma, chroma, chroma};
    while (info.next_scanline < info.image_height) {
      for (int i = 0; i < band; ++i) {
        luma[i] = const_cast<JSAMPROW>(
            gray.pixels + (info.next_scanline + static_cast<unsigned>(i)) * gray.stride);
      }
      jpeg_write_raw_data(&info, planes, static_cast<JDIMENSION>(band));
    }
    jpeg_finish_compress(&info);
    return true;
  }
  jpeg_start_compress(&info, TRUE);
  if (as_colour) {
    row.assign(width * 3, 128);
  }
  while (info.next_scanline < info.image_height) {
    const std::uint8_t* in = gray.pixels + info.next_scanline * gray.stride;
    JSAMPROW source;
    if (as_colour) {
      for (std::size_t x = 0; x < width; ++x) row[3 * x] = in[x];
      source = row.data();
    } else {
      source = const_cast<JSAMPROW>(in);
    }
    jpeg_write_scanlines(&info, &source, 1);
  }
  jpeg_finish_compress(&info);
  return true;
}

}  // namespace

scan_outcome scan_jpeg(std::string_view bytes) {
  jpeg_reader reader;
  image_digest digest;
  return scan_after_header(reader, bytes, digest).value_or(scan_outcome{});
}

core::result<image_digest> verify_jpeg_with_libjpeg(std::string_view bytes,
                                                    std::string_view origin) {
  jpeg_reader reader;
  image_digest digest;
  thread_local std::vector<std::uint8_t> row;
  bool flat = false;
  bool ok = read_scaled(reader.info, reader.failure, bytes, digest, row, flat);
  if (ok && flat) ok = read_constant(reader.info, reader.failure, bytes, digest.constant);
  if (!ok) return jpeg_error(origin, reader.failure);
  digest.content_hash = jpeg_content_hash(bytes);
  return digest;
}

core::result<image_digest> verify_jpeg(std::string_view bytes, std::string_view origin) {
  image_digest digest;
  scan_outcome scanned;
  {
    jpeg_reader reader;
    auto outcome = scan_after_header(reader, bytes, digest);
    if (!outcome) return jpeg_error(origin, reader.failure);
    scanned = std::move(*outcome);
  }
  switch (scanned.verdict) {
    case scan_verdict::whole:
      digest.constant = scanned.constant;
      digest.content_hash = jpeg_content_hash(bytes);
      return digest;
    case scan_verdict::corrupt:
      return core::fail(
          core::error_code::bad_image,
          fmt::format("'{}' is {}: {}", origin,
                      scanned.truncated ? "truncated" : "not a whole JPEG", scanned.problem));
    case scan_verdict::unsupported:
      break;
  }
  return verify_jpeg_with_libjpeg(bytes, origin);
}

core::result<std::optional<image_u8>> decode_jpeg_gray(std::string_view bytes,
                                                       std::string_view origin) {
  jpeg_reader reader;
  image_u8 gray;
  thread_local std::vector<std::uint8_t> row;
  bool is_gray = false;
  if (!read_gray(reader.info, reader.failure, bytes, gray, row, is_gray)) {
    return jpeg_error(origin, reader.failure);
  }
  if (!is_gray) return std::optional<image_u8>{};
  return std::optional<image_u8>{std::move(gray)};
}

core::result<std::string> encode_jpeg_gray(const std::uint8_t* pixels, int width, int height,
                                           std::size_t stride, int quality, bool as_colour) {
  if (pixels == nullptr || width <= 0 || height <= 0 || stride < static_cast<std::size_t>(width)) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("cannot encode a {}x{} gray image with rows {} bytes apart",
                                  width, height, stride));
  }
  const gray_pixels gray{pixels, width, height, stride};
  jpeg_compress_struct info{};
  jpeg_failure failure{};
  install_failure(failure);
  info.err = &failure.manager;
  jpeg_create_compress(&info);
  thread_local std::vector<std::uint8_t> row, bytes;
  vector_destination destination{{}, &bytes, 0};
  const bool ok = write_gray(info, failure, gray, quality, as_colour, destination, row);
  jpeg_destroy_compress(&info);
  std::string out;
  if (ok) out.assign(reinterpret_cast<const char*>(bytes.data()), destination.written);
  if (!ok) {
    return core::fail(core::error_code::internal,
                      fmt::format("JPEG encoder failed: {}", failure.message));
  }
  return out;
}

}  // namespace ctprep::imaging::detail

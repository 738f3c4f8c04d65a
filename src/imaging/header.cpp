#include "ctprep/imaging/header.hpp"

#include <fstream>

#include <fmt/format.h>

namespace ctprep::imaging {
namespace {

std::uint32_t big_endian32(std::string_view b, std::size_t at) {
  return (std::uint32_t(static_cast<unsigned char>(b[at])) << 24) |
         (std::uint32_t(static_cast<unsigned char>(b[at + 1])) << 16) |
         (std::uint32_t(static_cast<unsigned char>(b[at + 2])) << 8) |
         std::uint32_t(static_cast<unsigned char>(b[at + 3]));
}
std::uint32_t big_endian16(std::string_view b, std::size_t at) {
  return (std::uint32_t(static_cast<unsigned char>(b[at])) << 8) |
         std::uint32_t(static_cast<unsigned char>(b[at + 1]));
}

core::result<image_header> bad(std::string_view origin, std::string_view why) {
  return core::fail(core::error_code::bad_image, fmt::format("'{}': {}", origin, why));
}

core::result<image_header> parse_png(std::string_view b, std::string_view origin) {
  // PNG signature (8 bytes), then the IHDR chunk: length, "IHDR", width, height, depth, colour.
  if (b.size() < 26 || b.substr(12, 4) != "IHDR") return bad(origin, "PNG without an IHDR chunk");
  const auto width = big_endian32(b, 16), height = big_endian32(b, 20);
  const auto colour = static_cast<unsigned char>(b[25]);
  if (width == 0 || height == 0) return bad(origin, "PNG with a zero size");
  int channels = 1;
  switch (colour) {
    case 0:
      channels = 1;
      break;
    case 2:
      channels = 3;
      break;
    case 3:
      channels = 3;
      break;  // palette, decoded to colour
    case 4:
      channels = 2;
      break;
    case 6:
      channels = 4;
      break;
    default:
      return bad(origin, fmt::format("PNG with unknown colour type {}", colour));
  }
  return image_header{image_format::png, width, height, channels};
}

core::result<image_header> parse_jpeg(std::string_view b, std::string_view origin) {
  std::size_t at = 2;
  while (at + 4 <= b.size()) {
    if (static_cast<unsigned char>(b[at]) != 0xFF) return bad(origin, "JPEG with a broken marker");
    const auto marker = static_cast<unsigned char>(b[at + 1]);
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      at += 2;
      continue;
    }
    const auto length = big_endian16(b, at + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      if (at + 10 > b.size()) break;
      const auto height = big_endian16(b, at + 5), width = big_endian16(b, at + 7);
      const int channels = static_cast<unsigned char>(b[at + 9]);
      if (width == 0 || height == 0) return bad(origin, "JPEG with a zero size");
      return image_header{image_format::jpeg, width, height, channels};
    }
    if (marker == 0xD9 || marker == 0xDA) break;  // end of image or start of scan: no SOF
    at += 2 + length;
  }
  return bad(origin, "JPEG without a frame header (SOF) in its first bytes");
}

}  // namespace

core::result<image_header> parse_image_header(std::string_view b, std::string_view origin) {
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) {
    return parse_png(b, origin);
  }
  if (b.size() >= 3 && static_cast<unsigned char>(b[0]) == 0xFF &&
      static_cast<unsigned char>(b[1]) == 0xD8) {
    return parse_jpeg(b, origin);
  }
  return bad(origin, "not a PNG or JPEG file");
}

core::result<image_header> read_image_header(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::fail(core::error_code::not_found,
                      fmt::format("image '{}' does not exist or cannot be opened", path.string()));
  }
  // Most headers are in the first 4 KiB; JPEGs with large EXIF/ICC blocks need more.
  std::string bytes;
  for (std::size_t want = 4096; want <= (std::size_t(1) << 24); want *= 8) {
    bytes.resize(want);
    in.clear();
    in.seekg(0);
    in.read(bytes.data(), static_cast<std::streamsize>(want));
    bytes.resize(static_cast<std::size_t>(in.gcount()));
    auto header = parse_image_header(bytes, path.string());
    if (header || bytes.size() < want) return header;
  }
  return bad(path.string(), "no image header in the first 16 MiB");
}

}  // namespace ctprep::imaging

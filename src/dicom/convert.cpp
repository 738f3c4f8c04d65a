#include "ctprep/dicom/convert.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmath>
#include <system_error>

#include <fmt/format.h>

#include "ctprep/core/files.hpp"
#include "ctprep/dicom/header.hpp"
#include "ctprep/dicom/pixels.hpp"
#include "ctprep/imaging/codec.hpp"

namespace ctprep::dicom {
namespace {

std::optional<double> number(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

// Non-image SOP classes (PS3.4 B.5): a file of these is skipped, not failed.
bool is_non_image_sop_class(std::string_view uid) {
  static constexpr std::string_view prefixes[] = {
      "1.2.840.10008.1.3.10",           // Media Storage Directory (DICOMDIR)
      "1.2.840.10008.5.1.4.1.1.88.",    // structured reports, KOS
      "1.2.840.10008.5.1.4.1.1.11.",    // presentation states
      "1.2.840.10008.5.1.4.1.1.9.",     // waveforms
      "1.2.840.10008.5.1.4.1.1.104.",   // encapsulated documents
      "1.2.840.10008.5.1.4.1.1.481.3",  // RT structure set
      "1.2.840.10008.5.1.4.1.1.481.5",  // RT plan
      "1.2.840.10008.5.1.4.1.1.66",     // raw data, spatial registration, fiducials
      "1.2.840.10008.5.1.4.1.1.67",     // real world value mapping
  };
  for (auto p : prefixes) {
    if (uid.starts_with(p)) return true;
  }
  return false;
}

std::string accepted_list(const convert_options& o) {
  std::string out;
  for (double t : o.accepted_thickness) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{:g}", t);
  }
  return out;
}

}  // namespace

core::result<window_spec> parse_window(std::string_view text) {
  if (text == "header") return window_spec{window_kind::header, 40, 80};
  if (text == "brain") return window_spec{window_kind::brain, 40, 80};
  if (text == "subdural") return window_spec{window_kind::subdural, 80, 200};
  if (text == "bone") return window_spec{window_kind::bone, 600, 2800};
  if (text == "multi") return window_spec{window_kind::multi, 40, 80};
  const auto slash = text.find('/');
  if (slash != std::string_view::npos) {
    const auto c = number(text.substr(0, slash));
    const auto w = number(text.substr(slash + 1));
    if (!c || !w) {
      return core::fail(core::error_code::bad_argument,
                        fmt::format("window '{}': C/W must be two numbers, e.g. 40/80", text));
    }
    // PS3.3 C.11.2.1.2.1: a LINEAR window is at least 1 wide.
    if (*w < 1.0) {
      return core::fail(core::error_code::bad_argument,
                        fmt::format("window '{}': width must be at least 1", text));
    }
    return window_spec{window_kind::custom, *c, *w};
  }
  return core::fail(
      core::error_code::bad_argument,
      fmt::format("window '{}': expected header, brain, subdural, bone, multi or C/W", text));
}

std::string window_spec_name(const window_spec& spec) {
  switch (spec.kind) {
    case window_kind::header:
      return "header";
    case window_kind::brain:
      return "brain";
    case window_kind::subdural:
      return "subdural";
    case window_kind::bone:
      return "bone";
    case window_kind::multi:
      return "multi";
    case window_kind::custom:
      return fmt::format("{:g}/{:g}", spec.center, spec.width);
  }
  return "header";
}

std::string_view outcome_name(convert_outcome outcome) noexcept {
  switch (outcome) {
    case convert_outcome::converted:
      return "converted";
    case convert_outcome::skipped_thickness:
      return "skipped_thickness";
    case convert_outcome::skipped_not_image:
      return "skipped_not_image";
    case convert_outcome::failed:
      return "failed";
  }
  return "failed";
}

bool thickness_accepted(double thickness, const convert_options& o) noexcept {
  for (double t : o.accepted_thickness) {
    // A small epsilon so that 5.1 against 5.0 +- 0.1 is inside despite binary rounding.
    if (std::abs(thickness - t) <= o.thickness_tolerance + 1e-9) return true;
  }
  return false;
}

core::result<converted_slice> convert_dicom(std::string_view bytes, std::string_view origin,
                                            const convert_options& o) {
  if (o.bit_depth != 8 && o.bit_depth != 16) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("bit depth {} not supported (8 or 16)", o.bit_depth));
  }
  if (o.frame < 0) {
    return core::fail(core::error_code::bad_argument, fmt::format("frame {} is negative", o.frame));
  }
  if (o.png_compression < 0 || o.png_compression > 9) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("PNG compression {} not in 0..9", o.png_compression));
  }
  if (o.window.kind == window_kind::custom && !(o.window.width >= 1.0)) {
    return core::fail(core::error_code::bad_argument, "custom window width must be at least 1");
  }

  converted_slice out;
  auto failed = [&](const core::error& e) {
    out.outcome = convert_outcome::failed;
    out.reason = e.message;
    return out;
  };
  auto h = parse_header(bytes, origin);
  if (!h) return failed(h.error());
  out.patient_id = h->patient_id;
  out.instance_number = h->instance_number;
  out.transfer_syntax = h->transfer_syntax;
  out.thickness = h->slice_thickness ? h->slice_thickness : h->spacing_between_slices;

  if (!h->has_pixel_data) {
    const std::string& sop =
        !h->sop_class_uid.empty() ? h->sop_class_uid : h->media_storage_sop_class;
    if (h->has_float_pixel_data) {
      return failed(core::error::make(
          core::error_code::unsupported_dicom,
          fmt::format("'{}': float pixel data (7FE0,0008/0009) not supported", origin)));
    }
    if (is_non_image_sop_class(sop) || !h->rows || !h->columns) {
      out.outcome = convert_outcome::skipped_not_image;
      out.reason = fmt::format("'{}': not an image: no pixel data (7FE0,0010){}", origin,
                               sop.empty() ? std::string() : fmt::format(", SOP class {}", sop));
      return out;
    }
    return failed(core::error::make(core::error_code::corrupt_dicom,
                                    fmt::format("'{}': no pixel data (7FE0,0010)", origin)));
  }

  if (o.filter_thickness) {
    if (!out.thickness) {
      out.warnings.push_back(
          "no SliceThickness (0018,0050) or SpacingBetweenSlices (0018,0088): kept");
    } else if (!thickness_accepted(*out.thickness, o)) {
      out.outcome = convert_outcome::skipped_thickness;
      out.reason = fmt::format(
          "{} {:g} mm not in the accepted list ({} mm, +-{:g})",
          h->slice_thickness ? "SliceThickness (0018,0050)" : "SpacingBetweenSlices (0018,0088)",
          *out.thickness, accepted_list(o), o.thickness_tolerance);
      return out;
    }
  }

  auto frame = decode_frame(bytes, *h, o.frame, origin);
  if (!frame) return failed(frame.error());
  auto image = render(*frame, *h, o, origin);
  if (!image) {
    if (image.error().code == core::error_code::internal) return tl::unexpected(image.error());
    return failed(image.error());
  }
  out.width = image->width;
  out.height = image->height;
  out.channels = image->channels;
  out.window_used = image->window_used;
  out.window_fell_back = image->window_fell_back;
  for (auto& w : image->warnings) out.warnings.push_back(std::move(w));

  core::result<std::string> png;
  if (image->bit_depth == 16) {
    imaging::image_u16 img16{image->width, image->height, std::move(image->pixels16)};
    png = imaging::encode_png(img16, o.png_compression);
  } else {
    imaging::image_u8 img8{image->width, image->height, image->channels, std::move(image->pixels8)};
    png = o.png_compression == 1 ? imaging::encode_png_fast(img8)
                                 : imaging::encode_png(img8, o.png_compression);
  }
  if (!png) return tl::unexpected(png.error());
  out.png_bytes = std::move(*png);
  out.outcome = convert_outcome::converted;
  return out;
}

core::result<converted_slice> convert_file(const std::filesystem::path& path,
                                           const convert_options& options) {
  // One buffer per thread, reused from file to file: a fresh 512 KB allocation per slice
  // costs page faults that show in the profile.
  thread_local std::string buffer;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int saved = errno;
    return core::fail(saved == ENOENT ? core::error_code::not_found : core::error_code::io_error,
                      fmt::format("cannot read '{}': {}", path.string(), std::strerror(saved)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return core::fail(core::error_code::io_error,
                      fmt::format("'{}' is not a regular file", path.string()));
  }
  buffer.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < buffer.size()) {
    const auto n = ::read(fd, buffer.data() + got, buffer.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  buffer.resize(got);
  auto result = convert_dicom(buffer, path.string(), options);
  if (buffer.capacity() > (std::size_t{64} << 20))
    std::string().swap(buffer);  // no giant leftovers
  return result;
}

}  // namespace ctprep::dicom

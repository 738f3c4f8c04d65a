#include "ctprep/dicom/synth.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <gdcmImageChangeTransferSyntax.h>
#include <gdcmImageReader.h>
#include <gdcmImageWriter.h>
#include <gdcmTrace.h>
#include <gdcmTransferSyntax.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/core/classes.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/core/parallel.hpp"
#include "ctprep/core/rng.hpp"

namespace ctprep::dicom {
namespace {

constexpr int size = 512;
constexpr std::int16_t padding_stored = -2000;
constexpr std::string_view ct_image_storage = "1.2.840.10008.5.1.4.1.1.2";

// A Part 10 writer for the few elements a CT slice needs, in the order of their tags.
class element_writer {
 public:
  element_writer(bool explicit_vr, bool big_endian) : explicit_(explicit_vr), big_(big_endian) {}

  void string(std::uint16_t g, std::uint16_t e, const char* vr, std::string_view v) {
    std::string value(v);
    if (value.size() % 2 != 0) value.push_back(vr[0] == 'U' && vr[1] == 'I' ? '\0' : ' ');
    header(g, e, vr, static_cast<std::uint32_t>(value.size()));
    out_ += value;
  }
  void us(std::uint16_t g, std::uint16_t e, std::uint16_t v) {
    header(g, e, "US", 2);
    put16(v);
  }
  void ss(std::uint16_t g, std::uint16_t e, std::int16_t v) {
    header(g, e, "SS", 2);
    put16(static_cast<std::uint16_t>(v));
  }
  void pixels(const std::vector<std::int16_t>& values) {
    header(0x7FE0, 0x0010, "OW", static_cast<std::uint32_t>(values.size() * 2));
    for (auto v : values) put16(static_cast<std::uint16_t>(v));
  }
  void ul(std::uint16_t g, std::uint16_t e, std::uint32_t v) {
    header(g, e, "UL", 4);
    put32(v);
  }
  void ob(std::uint16_t g, std::uint16_t e, std::string_view v) {
    header(g, e, "OB", static_cast<std::uint32_t>(v.size()));
    out_ += v;
  }
  std::string& bytes() { return out_; }

 private:
  void put16(std::uint16_t v) {
    if (big_) {
      out_.push_back(static_cast<char>(v >> 8));
      out_.push_back(static_cast<char>(v & 0xFF));
    } else {
      out_.push_back(static_cast<char>(v & 0xFF));
      out_.push_back(static_cast<char>(v >> 8));
    }
  }
  void put32(std::uint32_t v) {
    if (big_) {
      put16(static_cast<std::uint16_t>(v >> 16));
      put16(static_cast<std::uint16_t>(v & 0xFFFF));
    } else {
      put16(static_cast<std::uint16_t>(v & 0xFFFF));
      put16(static_cast<std::uint16_t>(v >> 16));
    }
  }
  void header(std::uint16_t g, std::uint16_t e, const char* vr, std::uint32_t length) {
    put16(g);
    put16(e);
    if (!explicit_) {
      put32(length);
      return;
    }
    out_.push_back(vr[0]);
    out_.push_back(vr[1]);
    const std::string_view v(vr, 2);
    if (v == "OB" || v == "OW" || v == "SQ" || v == "UN" || v == "UT") {
      put16(0);
      put32(length);
    } else {
      put16(static_cast<std::uint16_t>(length));
    }
  }
  std::string out_;
  bool explicit_;
  bool big_;
};

std::string make_uid(std::uint64_t seed, std::string_view what, std::string_view key, int index) {
  // 2.25.<integer> (PS3.5 B.2): a decimal of a stable hash.
  const auto h = core::stable_hash(fmt::format("{}|{}|{}", what, key, index), seed);
  return fmt::format("2.25.{}", h);
}

struct blob {
  double cx, cy, rx, ry;
  double z_center, z_half;  // in slice units
  double hu;
  std::int64_t category;
};

struct anatomy {
  double cx, cy, a, b;  // head centre and semi-axes at the widest slice
  std::vector<blob> blobs;
};

anatomy make_anatomy(const synth_slice_spec& spec) {
  auto r = core::rng::for_key(spec.seed, "synth-anatomy:" + spec.patient_id);
  anatomy an;
  an.cx = 256 + r.uniform(-12, 12);
  an.cy = 256 + r.uniform(-10, 10);
  an.a = r.uniform(160, 185);
  an.b = r.uniform(195, 220);
  const auto n = static_cast<int>(r.below(3));  // 0..2 bleeds per patient
  const double slices = std::max(1, spec.slices_in_series);
  for (int i = 0; i < n; ++i) {
    blob bl{};
    const double angle = r.uniform(0, 6.283185307179586);
    const double radial = r.uniform(0.15, 0.6);
    bl.cx = an.cx + std::cos(angle) * radial * an.a;
    bl.cy = an.cy + std::sin(angle) * radial * an.b;
    bl.rx = r.uniform(8, 26);
    bl.ry = r.uniform(8, 26);
    bl.z_center = r.uniform(0.3, 0.7) * slices;
    bl.z_half = std::max(1.0, r.uniform(0.05, 0.2) * slices);
    bl.hu = r.uniform(62, 80);
    bl.category = static_cast<std::int64_t>(r.below(6));
    an.blobs.push_back(bl);
  }
  return an;
}

// Fills the stored values (HU + 1024) and the boxes of the blobs that show on this slice.
void paint(const synth_slice_spec& spec, std::vector<std::int16_t>& stored,
           std::vector<synth_box>& boxes) {
  const anatomy an = make_anatomy(spec);
  const double slices = std::max(1, spec.slices_in_series);
  const double t = (spec.instance - 0.5) / slices;  // 0 at the skull base, 1 at the vertex
  const double scale =
      std::max(0.35, std::sqrt(std::max(0.0, 1.0 - std::pow((t - 0.45) / 0.65, 2))));
  const double a = an.a * scale;
  const double b = an.b * scale;
  const double ia = a - 9;
  const double ib = b - 9;
  const bool ventricles = t > 0.3 && t < 0.7;
  struct live_blob {
    double cx, cy, rx, ry, hu;
    std::int64_t category;
    int minx = size, miny = size, maxx = -1, maxy = -1;
  };
  std::vector<live_blob> live;
  for (const auto& bl : an.blobs) {
    const double dz = (spec.instance - 0.5 - bl.z_center) / bl.z_half;
    if (std::abs(dz) >= 1) continue;
    const double f = std::sqrt(1 - dz * dz);
    live.push_back({bl.cx, bl.cy, bl.rx * f, bl.ry * f, bl.hu, bl.category});
  }
  auto noise = core::rng::for_key(spec.seed, "synth-noise:" + spec.patient_id,
                                  static_cast<std::uint64_t>(spec.instance));
  stored.assign(static_cast<std::size_t>(size) * size, padding_stored);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const double fx = x - 255.5;
      const double fy = y - 255.5;
      if (fx * fx + fy * fy > 256.0 * 256.0) continue;  // outside the field of view: padding
      const std::uint64_t bits = noise.next();
      // Two 16-bit uniforms summed: a triangular noise in [-1, 1).
      const double n =
          (static_cast<double>(bits & 0xFFFF) + static_cast<double>((bits >> 16) & 0xFFFF)) /
              65536.0 -
          1.0;
      const double dx = x - an.cx;
      const double dy = y - an.cy;
      double hu;
      if ((dx * dx) / (a * a) + (dy * dy) / (b * b) > 1) {
        hu = -1000 + 15 * n;  // air
      } else if ((dx * dx) / (ia * ia) + (dy * dy) / (ib * ib) > 1) {
        hu = 1100 + 300 * n;  // skull
      } else {
        hu = 34 + 5 * n;  // grey matter
        if ((dx * dx) / (0.36 * ia * ia) + (dy * dy) / (0.36 * ib * ib) < 1) hu = 27 + 5 * n;
        if (ventricles) {
          for (const double side : {-1.0, 1.0}) {
            const double vx = dx - side * 0.12 * ia;
            const double vy = dy + 0.05 * ib;
            if ((vx * vx) / (0.06 * 0.06 * ia * ia) + (vy * vy) / (0.22 * 0.22 * ib * ib) < 1) {
              hu = 7 + 4 * n;
            }
          }
        }
        for (auto& bl : live) {
          const double bx = x - bl.cx;
          const double by = y - bl.cy;
          if ((bx * bx) / (bl.rx * bl.rx) + (by * by) / (bl.ry * bl.ry) < 1) {
            hu = bl.hu + 4 * n;
            bl.minx = std::min(bl.minx, x);
            bl.miny = std::min(bl.miny, y);
            bl.maxx = std::max(bl.maxx, x);
            bl.maxy = std::max(bl.maxy, y);
          }
        }
      }
      stored[static_cast<std::size_t>(y) * size + static_cast<std::size_t>(x)] =
          static_cast<std::int16_t>(std::clamp(std::lround(hu + 1024), -2000L, 32767L));
    }
  }
  for (const auto& bl : live) {
    if (bl.maxx < 0) continue;
    boxes.push_back(
        {bl.category, core::box{static_cast<double>(bl.minx), static_cast<double>(bl.miny),
                                static_cast<double>(bl.maxx - bl.minx + 1),
                                static_cast<double>(bl.maxy - bl.miny + 1)}});
  }
}

std::string ds(double v) {
  return fmt::format("{:g}", v);
}

std::string write_native(const synth_slice_spec& spec, const std::vector<std::int16_t>& stored,
                         bool explicit_vr, bool big_endian, std::string_view syntax_uid) {
  const std::string sop_instance = make_uid(spec.seed, "sop", spec.patient_id, spec.instance);
  const std::string study = make_uid(spec.seed, "study", spec.patient_id, 0);
  const std::string series = make_uid(spec.seed, "series", spec.patient_id, spec.series_number);

  element_writer meta(true, false);
  meta.ob(0x0002, 0x0001, std::string_view("\0\1", 2));
  meta.string(0x0002, 0x0002, "UI", ct_image_storage);
  meta.string(0x0002, 0x0003, "UI", sop_instance);
  meta.string(0x0002, 0x0010, "UI", syntax_uid);
  meta.string(0x0002, 0x0012, "UI", "2.25.1234567890123456789");
  meta.string(0x0002, 0x0013, "SH", "CTPREP_SYNTH");
  element_writer group_length(true, false);
  group_length.ul(0x0002, 0x0000, static_cast<std::uint32_t>(meta.bytes().size()));

  element_writer d(explicit_vr, big_endian);
  d.string(0x0008, 0x0008, "CS", "ORIGINAL\\PRIMARY\\AXIAL");
  // Fixed creation date/time: GDCM adds the current ones when they are absent, and the
  // bytes must not depend on the clock.
  d.string(0x0008, 0x0012, "DA", "20240101");
  d.string(0x0008, 0x0013, "TM", "000000");
  d.string(0x0008, 0x0016, "UI", ct_image_storage);
  d.string(0x0008, 0x0018, "UI", sop_instance);
  d.string(0x0008, 0x0020, "DA", "20240101");
  d.string(0x0008, 0x0030, "TM", "000000");
  d.string(0x0008, 0x0060, "CS", "CT");
  d.string(0x0008, 0x0070, "LO", "ctprep synthetic");
  d.string(0x0010, 0x0010, "PN", "SYNTH^" + spec.patient_id);
  d.string(0x0010, 0x0020, "LO", spec.patient_id);
  d.string(0x0018, 0x0050, "DS", ds(spec.thickness));
  d.string(0x0018, 0x0060, "DS", "120");
  d.string(0x0020, 0x000D, "UI", study);
  d.string(0x0020, 0x000E, "UI", series);
  d.string(0x0020, 0x0011, "IS", std::to_string(spec.series_number));
  d.string(0x0020, 0x0013, "IS", std::to_string(spec.instance));
  d.string(0x0020, 0x0032, "DS",
           fmt::format("-125\\-125\\{}", ds(spec.thickness * (spec.instance - 1))));
  d.string(0x0020, 0x0037, "DS", "1\\0\\0\\0\\1\\0");
  d.us(0x0028, 0x0002, 1);
  d.string(0x0028, 0x0004, "CS", "MONOCHROME2");
  d.us(0x0028, 0x0010, size);
  d.us(0x0028, 0x0011, size);
  d.string(0x0028, 0x0030, "DS", "0.48828125\\0.48828125");
  d.us(0x0028, 0x0100, 16);
  d.us(0x0028, 0x0101, 16);
  d.us(0x0028, 0x0102, 15);
  d.us(0x0028, 0x0103, 1);
  d.ss(0x0028, 0x0120, padding_stored);
  d.string(0x0028, 0x1050, "DS", spec.multi_valued_window ? "40\\300" : "40");
  d.string(0x0028, 0x1051, "DS", spec.multi_valued_window ? "80\\1500" : "80");
  d.string(0x0028, 0x1052, "DS", "-1024");
  d.string(0x0028, 0x1053, "DS", "1");
  d.string(0x0028, 0x1054, "LO", "HU");
  d.pixels(stored);

  std::string out(128, '\0');
  out += "DICM";
  out += group_length.bytes();
  out += meta.bytes();
  out += d.bytes();
  return out;
}

void silence_gdcm() {
  static std::once_flag once;
  std::call_once(once, [] {
    gdcm::Trace::SetDebug(false);
    gdcm::Trace::SetWarning(false);
    gdcm::Trace::SetError(false);
  });
}

core::result<std::string> transcode(const std::string& explicit_bytes, synth_syntax syntax) {
  silence_gdcm();
  gdcm::TransferSyntax::TSType target = gdcm::TransferSyntax::RLELossless;
  switch (syntax) {
    case synth_syntax::rle:
      target = gdcm::TransferSyntax::RLELossless;
      break;
    case synth_syntax::jpeg_ls:
      target = gdcm::TransferSyntax::JPEGLSLossless;
      break;
    case synth_syntax::j2k:
      target = gdcm::TransferSyntax::JPEG2000Lossless;
      break;
    case synth_syntax::jpeg_lossless:
      target = gdcm::TransferSyntax::JPEGLosslessProcess14_1;
      break;
    default:
      return explicit_bytes;
  }
  std::istringstream in(explicit_bytes);
  gdcm::ImageReader reader;
  reader.SetStream(in);
  if (!reader.Read()) {
    return core::fail(core::error_code::internal, "synth: GDCM cannot read the slice it was given");
  }
  gdcm::ImageChangeTransferSyntax change;
  change.SetTransferSyntax(gdcm::TransferSyntax(target));
  change.SetInput(reader.GetImage());
  if (!change.Change()) {
    return core::fail(core::error_code::internal,
                      fmt::format("synth: GDCM cannot encode {}", synth_syntax_name(syntax)));
  }
  std::ostringstream os;
  gdcm::ImageWriter writer;
  writer.SetFile(reader.GetFile());
  writer.SetImage(change.GetOutput());
  writer.SetStream(os);
  if (!writer.Write()) {
    return core::fail(core::error_code::internal,
                      fmt::format("synth: GDCM cannot write {}", synth_syntax_name(syntax)));
  }
  return os.str();
}

}  // namespace

core::result<synth_syntax> parse_synth_syntax(std::string_view name) {
  for (auto s :
       {synth_syntax::explicit_le, synth_syntax::implicit_le, synth_syntax::explicit_be,
        synth_syntax::rle, synth_syntax::jpeg_ls, synth_syntax::j2k, synth_syntax::jpeg_lossless}) {
    if (synth_syntax_name(s) == name) return s;
  }
  return core::fail(core::error_code::bad_argument,
                    fmt::format("syntax '{}': expected explicit, implicit, big, rle, jpegls, j2k "
                                "or jpeg-lossless",
                                name));
}

std::string_view synth_syntax_name(synth_syntax s) noexcept {
  switch (s) {
    case synth_syntax::explicit_le:
      return "explicit";
    case synth_syntax::implicit_le:
      return "implicit";
    case synth_syntax::explicit_be:
      return "big";
    case synth_syntax::rle:
      return "rle";
    case synth_syntax::jpeg_ls:
      return "jpegls";
    case synth_syntax::j2k:
      return "j2k";
    case synth_syntax::jpeg_lossless:
      return "jpeg-lossless";
  }
  return "explicit";
}

std::string_view synth_syntax_uid(synth_syntax s) noexcept {
  switch (s) {
    case synth_syntax::explicit_le:
      return "1.2.840.10008.1.2.1";
    case synth_syntax::implicit_le:
      return "1.2.840.10008.1.2";
    case synth_syntax::explicit_be:
      return "1.2.840.10008.1.2.2";
    case synth_syntax::rle:
      return "1.2.840.10008.1.2.5";
    case synth_syntax::jpeg_ls:
      return "1.2.840.10008.1.2.4.80";
    case synth_syntax::j2k:
      return "1.2.840.10008.1.2.4.90";
    case synth_syntax::jpeg_lossless:
      return "1.2.840.10008.1.2.4.70";
  }
  return "1.2.840.10008.1.2.1";
}

core::result<synth_slice> synthesize_slice(const synth_slice_spec& spec) {
  if (spec.patient_id.empty() || spec.patient_id.size() > 64 ||
      spec.patient_id.find_first_of("\\\0", 0, 2) != std::string::npos) {
    return core::fail(
        core::error_code::bad_argument,
        fmt::format("synth: patient id '{}' is empty, too long or has '\\'", spec.patient_id));
  }
  if (spec.instance < 1 || spec.slices_in_series < 1 || !(spec.thickness > 0) ||
      !std::isfinite(spec.thickness)) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("synth: instance {}, {} slices, thickness {} impossible",
                                  spec.instance, spec.slices_in_series, spec.thickness));
  }
  synth_slice out;
  paint(spec, out.stored, out.boxes);
  const bool implicit = spec.syntax == synth_syntax::implicit_le;
  const bool big = spec.syntax == synth_syntax::explicit_be;
  const bool native = implicit || big || spec.syntax == synth_syntax::explicit_le;
  out.bytes = write_native(
      spec, out.stored, !implicit, big,
      native ? synth_syntax_uid(spec.syntax) : synth_syntax_uid(synth_syntax::explicit_le));
  if (!native) {
    auto coded = transcode(out.bytes, spec.syntax);
    if (!coded) return tl::unexpected(coded.error());
    out.bytes = std::move(*coded);
  }
  return out;
}

core::result<synth_result> write_series(const synth_options& o) {
  if (o.series < 1 || o.slices < 1 || o.series > 100000 || o.slices > 10000) {
    return core::fail(
        core::error_code::bad_argument,
        fmt::format("synth: {} series of {} slices: both must be at least 1", o.series, o.slices));
  }
  if (!(o.wrong_thickness_fraction >= 0 && o.wrong_thickness_fraction <= 1) ||
      !(o.thick_55_fraction >= 0 && o.thick_55_fraction <= 1)) {
    return core::fail(core::error_code::bad_argument, "synth: fractions must be within [0, 1]");
  }
  // Patient ids: distinct 9-digit numbers, as in the real feedback CSV.
  std::vector<std::string> patients;
  std::set<std::uint64_t> used;
  auto pr = core::rng::for_key(o.seed, "synth-patients");
  while (patients.size() < static_cast<std::size_t>(o.series)) {
    const auto id = 500000000 + pr.below(400000000);
    if (used.insert(id).second) patients.push_back(std::to_string(id));
  }
  const std::size_t total = static_cast<std::size_t>(o.series) * static_cast<std::size_t>(o.slices);
  // Exact shares of thicknesses over all slices, placed by a seeded shuffle.
  std::vector<std::size_t> order(total);
  for (std::size_t i = 0; i < total; ++i) order[i] = i;
  auto tr = core::rng::for_key(o.seed, "synth-thickness");
  tr.shuffle(order.begin(), order.end());
  const auto wrong = static_cast<std::size_t>(
      std::llround(o.wrong_thickness_fraction * static_cast<double>(total)));
  const auto thick = static_cast<std::size_t>(
      std::llround(o.thick_55_fraction * static_cast<double>(total - wrong)));
  static constexpr double wrong_values[] = {1.0, 2.5, 10.0, 0.625, 3.0};
  std::vector<double> thickness(total, 5.0);
  for (std::size_t k = 0; k < total; ++k) {
    if (k < wrong)
      thickness[order[k]] = wrong_values[k % 5];
    else if (k < wrong + thick)
      thickness[order[k]] = 5.5;
  }

  synth_result result;
  result.files.resize(total);
  std::vector<std::optional<core::error>> errors(total);
  core::parallel_for(total, o.jobs, [&](std::size_t i) {
    const int s = static_cast<int>(i / static_cast<std::size_t>(o.slices));
    const int inst = static_cast<int>(i % static_cast<std::size_t>(o.slices)) + 1;
    synth_slice_spec spec;
    spec.patient_id = patients[static_cast<std::size_t>(s)];
    spec.instance = inst;
    spec.slices_in_series = o.slices;
    spec.thickness = thickness[i];
    spec.syntax = o.syntax;
    spec.seed = o.seed;
    spec.multi_valued_window = s % 3 == 2;
    auto slice = synthesize_slice(spec);
    if (!slice) {
      errors[i] = slice.error();
      return;
    }
    auto& f = result.files[i];
    f.path = o.out_dir / spec.patient_id / fmt::format("{}.dcm", inst);
    f.patient_id = spec.patient_id;
    f.instance = inst;
    f.thickness = spec.thickness;
    f.boxes = std::move(slice->boxes);
    if (auto ok = core::write_file_atomic(f.path, slice->bytes); !ok) errors[i] = ok.error();
  });
  for (auto& e : errors) {
    if (e) return tl::unexpected(*e);
  }

  auto& coco = result.boxes;
  coco.categories = core::make_categories(core::six_class_names);
  std::int64_t annotation_id = 1;
  for (std::size_t i = 0; i < total; ++i) {
    const auto& f = result.files[i];
    core::image img;
    img.id = static_cast<std::int64_t>(i) + 1;
    img.file_name = fmt::format("{}_{}.png", f.patient_id, f.instance);
    img.width = size;
    img.height = size;
    coco.images.push_back(img);
    for (const auto& b : f.boxes) {
      core::annotation a;
      a.id = annotation_id++;
      a.image_id = img.id;
      a.category_id = b.category_id;
      a.bbox = b.bbox;
      a.area = b.bbox.w * b.bbox.h;
      coco.annotations.push_back(a);
    }
  }
  result.coco_path = o.out_dir / std::string(synth_coco_name);
  if (auto ok = coco::write_file(result.coco_path, coco); !ok) return tl::unexpected(ok.error());
  return result;
}

}  // namespace ctprep::dicom

#include <cmath>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/core/json_writer.hpp"

namespace ctprep::coco {
namespace {

void write_extra(core::json_writer& w, const core::extra_fields& extra) {
  for (const auto& [k, v] : extra) {
    w.key(k);
    w.raw(v);
  }
}

}  // namespace

std::string to_json(const core::dataset& d, const write_options& options) {
  core::json_writer w(options.indent);
  w.begin_object();
  if (!d.info.empty()) {
    w.key("info");
    w.raw(d.info);
  }
  if (!d.licenses.empty()) {
    w.key("licenses");
    w.raw(d.licenses);
  }
  w.key("categories");
  w.begin_array();
  for (const auto& c : d.categories) {
    w.begin_object();
    w.field("id", c.id);
    w.field("name", c.name);
    if (!c.supercategory.empty()) w.field("supercategory", c.supercategory);
    write_extra(w, c.extra);
    w.end_object();
  }
  w.end_array();
  w.key("images");
  w.begin_array();
  for (const auto& im : d.images) {
    w.begin_object();
    w.field("id", im.id);
    w.field("file_name", im.file_name);
    w.field("width", im.width);
    w.field("height", im.height);
    write_extra(w, im.extra);
    w.end_object();
  }
  w.end_array();
  w.key("annotations");
  w.begin_array();
  for (const auto& a : d.annotations) {
    w.begin_object();
    w.field("id", a.id);
    w.field("image_id", a.image_id);
    w.field("category_id", a.category_id);
    w.key("bbox");
    const double b[4] = {a.bbox.x, a.bbox.y, a.bbox.w, a.bbox.h};
    w.inline_numbers(b, 4);
    w.field("area", a.area);
    w.field("iscrowd", a.iscrowd);
    write_extra(w, a.extra);
    w.end_object();
  }
  w.end_array();
  write_extra(w, d.extra);
  w.end_object();
  return w.take();
}

core::result<void> write_file(const std::filesystem::path& path, const core::dataset& data,
                              const write_options& options) {
  for (const auto& a : data.annotations) {
    const auto& b = a.bbox;
    if (!std::isfinite(b.x) || !std::isfinite(b.y) || !std::isfinite(b.w) || !std::isfinite(b.h) ||
        !std::isfinite(a.area)) {
      return core::fail(core::error_code::bad_argument,
                        fmt::format("annotation {} has a non-finite number; not writing '{}'", a.id,
                                    path.string()));
    }
  }
  return core::write_file_atomic(path, to_json(data, options));
}

}  // namespace ctprep::coco

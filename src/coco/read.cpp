#include <cmath>
#include <string>
#include <unordered_set>

#include <fmt/format.h>
#include <simdjson.h>

#include "ctprep/coco/coco.hpp"
#include "json_error.hpp"

namespace ctprep::coco {
namespace {

using core::error_code;
using core::fail;
using simdjson::dom::element;
using simdjson::dom::element_type;

// Where a byte offset falls, as 1-based line:column.
std::string line_column(std::string_view text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fmt::format("{}:{}", line, column);
}

// simdjson says what is wrong but not where; locate_json_error, run only on this error
// path, gives the byte offset.
core::error describe_malformed(std::string_view json, std::string_view origin,
                               simdjson::error_code simd_error) {
  if (const auto where = locate_json_error(json)) {
    return core::error::make(
        error_code::malformed_json,
        fmt::format("'{}' at byte {} (line:column {}): {}", origin, where->offset,
                    line_column(json, where->offset), where->what));
  }
  return core::error::make(error_code::malformed_json,
                           fmt::format("'{}': {}", origin, simdjson::error_message(simd_error)));
}

std::string_view type_name(element_type t) {
  switch (t) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
      return "an integer";
    case element_type::DOUBLE:
      return "a number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

// A JSON path such as annotations[17].bbox[2], built only when an error needs it:
// formatting a path for every field read would cost more than the parse itself.
struct json_path {
  std::string_view list;
  std::size_t index = npos;
  std::string_view key = {};
  std::size_t sub = npos;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  [[nodiscard]] json_path with_key(std::string_view k) const { return {list, index, k, npos}; }
  [[nodiscard]] json_path with_sub(std::size_t i) const { return {list, index, key, i}; }
  [[nodiscard]] std::string str() const {
    std::string out(list);
    if (index != npos) out += fmt::format("[{}]", index);
    if (!key.empty()) out += fmt::format(".{}", key);
    if (sub != npos) out += fmt::format("[{}]", sub);
    return out;
  }
};

}  // namespace
}  // namespace ctprep::coco

template <>
struct fmt::formatter<ctprep::coco::json_path> : fmt::formatter<std::string> {
  auto format(const ctprep::coco::json_path& p, fmt::format_context& ctx) const {
    return fmt::formatter<std::string>::format(p.str(), ctx);
  }
};

namespace ctprep::coco {
namespace {

// Reads one file's objects; every error carries the origin and the JSON path.
class reader {
 public:
  explicit reader(std::string_view origin) : origin_(origin) {}

  core::error type_error(const json_path& path, std::string_view wanted, element e) const {
    return core::error::make(
        error_code::bad_coco,
        fmt::format("'{}': {} must be {}, found {}", origin_, path, wanted, type_name(e.type())));
  }
  core::error coco_error(std::string_view details) const {
    return core::error::make(error_code::bad_coco, fmt::format("'{}': {}", origin_, details));
  }

  core::result<std::int64_t> integer(element e, const json_path& path) const {
    if (e.type() == element_type::INT64) return std::int64_t(e.get_int64().value_unsafe());
    if (e.type() == element_type::UINT64) {
      return tl::unexpected(coco_error(fmt::format("{} is out of range", path)));
    }
    return tl::unexpected(type_error(path, "an integer", e));
  }

  core::result<double> number(element e, const json_path& path) const {
    switch (e.type()) {
      case element_type::INT64:
        return static_cast<double>(e.get_int64().value_unsafe());
      case element_type::UINT64:
        return static_cast<double>(e.get_uint64().value_unsafe());
      case element_type::DOUBLE: {
        const double v = e.get_double().value_unsafe();
        if (!std::isfinite(v)) {
          return tl::unexpected(coco_error(fmt::format("{} is not finite", path)));
        }
        return v;
      }
      default:
        return tl::unexpected(type_error(path, "a number", e));
    }
  }

  core::result<std::string> string(element e, const json_path& path) const {
    if (e.type() != element_type::STRING) return tl::unexpected(type_error(path, "a string", e));
    return std::string(e.get_string().value_unsafe());
  }

  core::result<core::box> bbox(element e, const json_path& path) const {
    if (e.type() != element_type::ARRAY) return tl::unexpected(type_error(path, "an array", e));
    const simdjson::dom::array array = e.get_array().value_unsafe();
    if (array.size() != 4) {
      return tl::unexpected(coco_error(fmt::format(
          "{} must have 4 numbers [x, y, width, height], found {}", path, array.size())));
    }
    double v[4];
    std::size_t i = 0;
    for (element item : array) {
      auto n = number(item, path.with_sub(i));
      if (!n) return tl::unexpected(n.error());
      v[i++] = *n;
    }
    if (v[2] < 0 || v[3] < 0) {
      return tl::unexpected(coco_error(
          fmt::format("{} has a negative size [{}, {}, {}, {}]", path, v[0], v[1], v[2], v[3])));
    }
    return core::box{v[0], v[1], v[2], v[3]};
  }

  core::result<core::category> category(element e, const json_path& path) const {
    if (e.type() != element_type::OBJECT) return tl::unexpected(type_error(path, "an object", e));
    core::category c;
    bool has_id = false, has_name = false;
    const simdjson::dom::object object = e.get_object().value_unsafe();
    for (auto field : object) {
      const std::string_view key = field.key;
      const auto here = [&] { return path.with_key(key); };
      if (key == "id") {
        auto v = integer(field.value, here());
        if (!v) return tl::unexpected(v.error());
        c.id = *v;
        has_id = true;
      } else if (key == "name") {
        auto v = string(field.value, here());
        if (!v) return tl::unexpected(v.error());
        c.name = std::move(*v);
        has_name = true;
      } else if (key == "supercategory") {
        auto v = string(field.value, here());
        if (!v) return tl::unexpected(v.error());
        c.supercategory = std::move(*v);
      } else {
        c.extra.emplace_back(std::string(key), simdjson::minify(field.value));
      }
    }
    if (!has_id || !has_name) {
      return tl::unexpected(
          coco_error(fmt::format("{} lacks \"{}\"", path, has_id ? "name" : "id")));
    }
    return c;
  }

  core::result<core::image> image(element e, const json_path& path) const {
    if (e.type() != element_type::OBJECT) return tl::unexpected(type_error(path, "an object", e));
    core::image im;
    bool has_id = false, has_name = false, has_width = false, has_height = false;
    const simdjson::dom::object object = e.get_object().value_unsafe();
    for (auto field : object) {
      const std::string_view key = field.key;
      const auto here = [&] { return path.with_key(key); };
      if (key == "id") {
        auto v = integer(field.value, here());
        if (!v) return tl::unexpected(v.error());
        im.id = *v;
        has_id = true;
      } else if (key == "file_name") {
        auto v = string(field.value, here());
        if (!v) return tl::unexpected(v.error());
        im.file_name = std::move(*v);
        has_name = true;
      } else if (key == "width" || key == "height") {
        auto v = integer(field.value, here());
        if (!v) return tl::unexpected(v.error());
        if (*v <= 0) {
          return tl::unexpected(
              coco_error(fmt::format("{} must be positive, found {}", here(), *v)));
        }
        (key == "width" ? im.width : im.height) = *v;
        (key == "width" ? has_width : has_height) = true;
      } else {
        im.extra.emplace_back(std::string(key), simdjson::minify(field.value));
      }
    }
    const char* missing = !has_id       ? "id"
                          : !has_name   ? "file_name"
                          : !has_width  ? "width"
                          : !has_height ? "height"
                                        : nullptr;
    if (missing) return tl::unexpected(coco_error(fmt::format("{} lacks \"{}\"", path, missing)));
    return im;
  }

  core::result<core::annotation> annotation(element e, const json_path& path) const {
    if (e.type() != element_type::OBJECT) return tl::unexpected(type_error(path, "an object", e));
    core::annotation a;
    bool has_id = false, has_image = false, has_category = false, has_bbox = false,
         has_area = false;
    const simdjson::dom::object object = e.get_object().value_unsafe();
    for (auto field : object) {
      const std::string_view key = field.key;
      const auto here = [&] { return path.with_key(key); };
      if (key == "id" || key == "image_id" || key == "category_id" || key == "iscrowd") {
        auto v = integer(field.value, here());
        if (!v) return tl::unexpected(v.error());
        if (key == "id")
          a.id = *v, has_id = true;
        else if (key == "image_id")
          a.image_id = *v, has_image = true;
        else if (key == "category_id")
          a.category_id = *v, has_category = true;
        else
          a.iscrowd = *v;
      } else if (key == "bbox") {
        auto v = bbox(field.value, here());
        if (!v) return tl::unexpected(v.error());
        a.bbox = *v;
        has_bbox = true;
      } else if (key == "area") {
        auto v = number(field.value, here());
        if (!v) return tl::unexpected(v.error());
        a.area = *v;
        has_area = true;
      } else {
        a.extra.emplace_back(std::string(key), simdjson::minify(field.value));
      }
    }
    const char* missing = !has_id         ? "id"
                          : !has_image    ? "image_id"
                          : !has_category ? "category_id"
                          : !has_bbox     ? "bbox"
                                          : nullptr;
    if (missing) return tl::unexpected(coco_error(fmt::format("{} lacks \"{}\"", path, missing)));
    if (!has_area) a.area = a.bbox.w * a.bbox.h;  // COCO consumers expect it; derive it
    return a;
  }

  template <typename T, typename F>
  core::result<std::vector<T>> list(element e, std::string_view name, F&& read_one) const {
    if (e.type() != element_type::ARRAY) {
      return tl::unexpected(type_error(json_path{name}, "an array", e));
    }
    const simdjson::dom::array array = e.get_array().value_unsafe();
    std::vector<T> out;
    out.reserve(array.size());
    std::size_t i = 0;
    for (element item : array) {
      auto v = read_one(item, json_path{name, i++});
      if (!v) return tl::unexpected(v.error());
      out.push_back(std::move(*v));
    }
    return out;
  }

 private:
  std::string_view origin_;
};

template <typename T>
core::result<void> check_unique_ids(const std::vector<T>& items, std::string_view list,
                                    const reader& r) {
  std::unordered_set<std::int64_t> seen;
  seen.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!seen.insert(items[i].id).second) {
      return tl::unexpected(
          r.coco_error(fmt::format("{}[{}].id {} is a duplicate", list, i, items[i].id)));
    }
  }
  return {};
}

core::result<void> check_references(const core::dataset& d, const reader& r) {
  std::unordered_set<std::int64_t> images, categories;
  images.reserve(d.images.size());
  for (const auto& im : d.images) images.insert(im.id);
  for (const auto& c : d.categories) categories.insert(c.id);
  for (std::size_t i = 0; i < d.annotations.size(); ++i) {
    const auto& a = d.annotations[i];
    if (!images.contains(a.image_id)) {
      return tl::unexpected(r.coco_error(fmt::format(
          "annotations[{}].image_id {} names no image (annotation id {})", i, a.image_id, a.id)));
    }
    if (!categories.contains(a.category_id)) {
      return tl::unexpected(r.coco_error(
          fmt::format("annotations[{}].category_id {} names no category (annotation id {})", i,
                      a.category_id, a.id)));
    }
  }
  return {};
}

core::result<core::dataset> parse_padded(const simdjson::padded_string& json,
                                         std::string_view origin) {
  // One parser per thread, reused: its buffers stay allocated (and paged in) between
  // reads, which matters when a command reads several split files.
  thread_local simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(json).get(root); err) {
    return tl::unexpected(
        describe_malformed(std::string_view(json.data(), json.size()), origin, err));
  }
  reader r(origin);
  if (root.type() != element_type::OBJECT) {
    return tl::unexpected(r.type_error(json_path{"the top level"}, "an object", root));
  }
  core::dataset d;
  bool has_images = false, has_categories = false;
  const simdjson::dom::object object = root.get_object().value_unsafe();
  for (auto field : object) {
    const std::string_view key = field.key;
    if (key == "images") {
      auto v = r.list<core::image>(field.value, key,
                                   [&](element e, const json_path& p) { return r.image(e, p); });
      if (!v) return tl::unexpected(v.error());
      d.images = std::move(*v);
      has_images = true;
    } else if (key == "annotations") {
      auto v = r.list<core::annotation>(
          field.value, key, [&](element e, const json_path& p) { return r.annotation(e, p); });
      if (!v) return tl::unexpected(v.error());
      d.annotations = std::move(*v);
    } else if (key == "categories") {
      auto v = r.list<core::category>(
          field.value, key, [&](element e, const json_path& p) { return r.category(e, p); });
      if (!v) return tl::unexpected(v.error());
      d.categories = std::move(*v);
      has_categories = true;
    } else if (key == "info") {
      d.info = simdjson::minify(field.value);
    } else if (key == "licenses") {
      d.licenses = simdjson::minify(field.value);
    } else {
      d.extra.emplace_back(std::string(key), simdjson::minify(field.value));
    }
  }
  if (!has_images) return tl::unexpected(r.coco_error("the top level lacks \"images\""));
  if (!has_categories) return tl::unexpected(r.coco_error("the top level lacks \"categories\""));
  if (auto ok = check_unique_ids(d.images, "images", r); !ok) return tl::unexpected(ok.error());
  if (auto ok = check_unique_ids(d.annotations, "annotations", r); !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = check_unique_ids(d.categories, "categories", r); !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = check_references(d, r); !ok) return tl::unexpected(ok.error());
  return d;
}

}  // namespace

core::result<core::dataset> parse(std::string_view json, std::string_view origin) {
  return parse_padded(simdjson::padded_string(json), origin);
}

core::result<core::dataset> read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return fail(error_code::not_found, fmt::format("COCO file '{}' does not exist", path.string()));
  }
  simdjson::padded_string json;
  if (auto err = simdjson::padded_string::load(path.string()).get(json); err) {
    return fail(error_code::io_error,
                fmt::format("cannot read '{}': {}", path.string(), simdjson::error_message(err)));
  }
  return parse_padded(json, path.string());
}

}  // namespace ctprep::coco

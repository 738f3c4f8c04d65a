#include "ctprep/coco/results.hpp"

#include <cmath>
#include <unordered_map>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <simdjson.h>

namespace ctprep::coco {
namespace {

using core::error_code;
using simdjson::dom::element;
using simdjson::dom::element_type;

bool starts_with_any(std::string_view text, std::initializer_list<std::string_view> words) {
  for (auto w : words) {
    if (text.starts_with(w)) return true;
  }
  return false;
}

// simdjson says what is wrong, RapidJSON (only on this error path) says where. Python's
// json.dump writes NaN and Infinity as bare tokens: name them for what they are.
core::error describe_malformed(std::string_view json, std::string_view origin,
                               simdjson::error_code simd_error) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    auto offset = std::min(doc.GetErrorOffset(), json.size());
    if (offset > 0 && json[offset - 1] == '-') --offset;  // "-Infinity" fails after the sign
    const auto rest = json.substr(offset);
    if (starts_with_any(rest, {"NaN", "Infinity", "-Infinity", "-NaN"})) {
      return core::error::make(
          error_code::bad_coco,
          fmt::format("'{}' at byte {}: a non-finite number ({}) is not a valid score or box "
                      "coordinate",
                      origin, offset, rest.substr(0, rest.find_first_of(",]} \n"))));
    }
    return core::error::make(error_code::malformed_json,
                             fmt::format("'{}' at byte {}: {}", origin, offset,
                                         rapidjson::GetParseError_En(doc.GetParseError())));
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

class parser_state {
 public:
  explicit parser_state(std::string_view origin) : origin_(origin) {}

  core::error error(std::size_t i, std::string_view key, std::string_view what) const {
    return core::error::make(
        error_code::bad_coco,
        fmt::format("'{}': results[{}]{}{} {}", origin_, i, key.empty() ? "" : ".", key, what));
  }
  core::error type_error(std::size_t i, std::string_view key, std::string_view wanted,
                         element e) const {
    return error(i, key, fmt::format("must be {}, found {}", wanted, type_name(e.type())));
  }

  // A finite double from an integer or floating JSON number.
  bool number(element e, double& out) const {
    switch (e.type()) {
      case element_type::INT64:
        out = static_cast<double>(e.get_int64().value_unsafe());
        return true;
      case element_type::UINT64:
        out = static_cast<double>(e.get_uint64().value_unsafe());
        return true;
      case element_type::DOUBLE:
        out = e.get_double().value_unsafe();
        return true;
      default:
        return false;
    }
  }

  core::result<void> one(element e, std::size_t i, result_set& out) {
    if (e.type() != element_type::OBJECT) {
      return tl::unexpected(type_error(i, "", "an object", e));
    }
    detection d;
    bool has_image = false, has_name = false, has_category = false, has_bbox = false,
         has_score = false;
    const simdjson::dom::object object = e.get_object().value_unsafe();
    for (auto field : object) {
      const std::string_view key = field.key;
      const element v = field.value;
      if (key == "image_id") {
        if (v.type() != element_type::INT64) {
          return tl::unexpected(type_error(i, key, "an integer", v));
        }
        d.image_id = v.get_int64().value_unsafe();
        has_image = true;
      } else if (key == "file_name") {
        if (v.type() != element_type::STRING) {
          return tl::unexpected(type_error(i, key, "a string", v));
        }
        const std::string_view name = v.get_string().value_unsafe();
        auto [it, inserted] = names_.try_emplace(std::string(name), 0);
        if (inserted) {
          it->second = static_cast<std::uint32_t>(out.file_names.size());
          out.file_names.emplace_back(name);
        }
        d.name_index = it->second;
        has_name = true;
      } else if (key == "category_id") {
        if (v.type() != element_type::INT64) {
          return tl::unexpected(type_error(i, key, "an integer", v));
        }
        d.category_id = v.get_int64().value_unsafe();
        has_category = true;
      } else if (key == "score") {
        if (!number(v, d.score)) return tl::unexpected(type_error(i, key, "a number", v));
        if (!std::isfinite(d.score)) return tl::unexpected(error(i, key, "is not finite"));
        has_score = true;
      } else if (key == "bbox") {
        if (v.type() != element_type::ARRAY) {
          return tl::unexpected(type_error(i, key, "an array", v));
        }
        const auto array = v.get_array().value_unsafe();
        double b[4];
        std::size_t n = 0;
        for (element item : array) {
          if (n == 4) break;
          if (!number(item, b[n])) {
            return tl::unexpected(type_error(i, fmt::format("bbox[{}]", n), "a number", item));
          }
          if (!std::isfinite(b[n])) {
            return tl::unexpected(error(i, fmt::format("bbox[{}]", n), "is not finite"));
          }
          ++n;
        }
        if (n != 4 || array.size() != 4) {
          return tl::unexpected(error(
              i, key,
              fmt::format("must have 4 numbers [x, y, width, height], found {}", array.size())));
        }
        if (b[2] < 0 || b[3] < 0) {
          return tl::unexpected(error(
              i, key, fmt::format("has a negative size [{}, {}, {}, {}]", b[0], b[1], b[2], b[3])));
        }
        d.bbox = {b[0], b[1], b[2], b[3]};
        has_bbox = true;
      }
    }
    if (has_image && has_name) {
      return tl::unexpected(error(i, "", "has both \"image_id\" and \"file_name\""));
    }
    const char* missing = !(has_image || has_name) ? "image_id\" or \"file_name"
                          : !has_category          ? "category_id"
                          : !has_bbox              ? "bbox"
                          : !has_score             ? "score"
                                                   : nullptr;
    if (missing) return tl::unexpected(error(i, "", fmt::format("lacks \"{}\"", missing)));
    out.detections.push_back(d);
    return {};
  }

 private:
  std::string_view origin_;
  std::unordered_map<std::string, std::uint32_t> names_;
};

core::result<result_set> parse_padded(const simdjson::padded_string& json,
                                      std::string_view origin) {
  const std::string_view text(json.data(), json.size());
  // A file with nothing in it is "no detections", like []: a detector that found
  // nothing on the split may write either.
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return result_set{};
  simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(json).get(root); err) {
    return tl::unexpected(describe_malformed(text, origin, err));
  }
  if (root.type() != element_type::ARRAY) {
    return core::fail(error_code::bad_coco,
                      fmt::format("'{}': the top level must be an array of detections, found {}",
                                  origin, type_name(root.type())));
  }
  const auto array = root.get_array().value_unsafe();
  result_set out;
  out.detections.reserve(array.size());
  parser_state state(origin);
  std::size_t i = 0;
  for (element e : array) {
    if (auto ok = state.one(e, i, out); !ok) return tl::unexpected(ok.error());
    ++i;
  }
  const bool by_id =
      !out.detections.empty() && out.detections.front().image_id != detection::no_image;
  for (std::size_t k = 0; k < out.detections.size(); ++k) {
    if ((out.detections[k].image_id != detection::no_image) != by_id) {
      return core::fail(error_code::bad_coco,
                        fmt::format("'{}': results[{}] keys its image by {} but results[0] by {}; "
                                    "use one of image_id or file_name throughout",
                                    origin, k, by_id ? "file_name" : "image_id",
                                    by_id ? "image_id" : "file_name"));
    }
  }
  return out;
}

}  // namespace

core::result<result_set> parse_results(std::string_view json, std::string_view origin) {
  return parse_padded(simdjson::padded_string(json), origin);
}

core::result<result_set> read_results(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return core::fail(error_code::not_found,
                      fmt::format("predictions file '{}' does not exist", path.string()));
  }
  simdjson::padded_string json;
  if (auto err = simdjson::padded_string::load(path.string()).get(json); err) {
    return core::fail(error_code::io_error, fmt::format("cannot read '{}': {}", path.string(),
                                                        simdjson::error_message(err)));
  }
  return parse_padded(json, path.string());
}

}  // namespace ctprep::coco

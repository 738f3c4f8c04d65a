#include "ctprep/coco/results.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>
#include <simdjson.h>

#include "ctprep/core/memory.hpp"
#include "ctprep/core/parallel.hpp"
#include "json_error.hpp"

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

// simdjson says what is wrong, locate_json_error (only on this error path) says where.
// Python's json.dump writes NaN and Infinity as bare tokens: name them for what they are.
core::error describe_malformed(std::string_view json, std::string_view origin,
                               simdjson::error_code simd_error) {
  if (const auto where = locate_json_error(json)) {
    auto offset = std::min(where->offset, json.size());
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
                             fmt::format("'{}' at byte {}: {}", origin, offset, where->what));
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

  core::result<void> one(element e, std::size_t i, detection& out,
                         std::vector<std::string>& file_names) {
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
          it->second = static_cast<std::uint32_t>(file_names.size());
          file_names.emplace_back(name);
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
    out = d;
    return {};
  }

 private:
  std::string_view origin_;
  std::unordered_map<std::string, std::uint32_t> names_;
};

// Parses one JSON array of detections held in `data` (SIMDJSON_PADDING readable bytes
// after it).
core::result<simdjson::dom::array> parse_array(simdjson::dom::parser& parser, const char* data,
                                               std::size_t size, std::string_view origin) {
  element root;
  if (auto err = parser.parse(data, size, false).get(root); err) {
    return tl::unexpected(describe_malformed(std::string_view(data, size), origin, err));
  }
  if (root.type() != element_type::ARRAY) {
    return core::fail(error_code::bad_coco,
                      fmt::format("'{}': the top level must be an array of detections, found {}",
                                  origin, type_name(root.type())));
  }
  return root.get_array().value_unsafe();
}

// Reads the array's detections into out[0, array.size()).
core::result<void> read_array(simdjson::dom::array array, std::string_view origin, detection* out,
                              std::vector<std::string>& file_names) {
  parser_state state(origin);
  std::size_t i = 0;
  for (element e : array) {
    if (auto ok = state.one(e, i, out[i], file_names); !ok) return tl::unexpected(ok.error());
    ++i;
  }
  return {};
}

// A vector of n detections on huge pages (see core/memory.hpp).
std::vector<detection> make_detections(std::size_t n) {
  std::vector<detection> v;
  v.reserve(n);
  core::advise_huge_pages(v.data(), n * sizeof(detection));
  v.resize(n);
  return v;
}

core::result<void> check_one_key(const result_set& out, std::string_view origin) {
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
  return {};
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Where to cut a top-level array "[e0, e1, ...]" into runs of whole elements of about
// `target` bytes: the offsets of commas found as "}" ws "," ws "{". A comma inside a
// string could look the same; a cut there leaves a string open in both halves, which
// then fail to parse, and the caller falls back to parsing the file whole.
std::vector<std::size_t> find_cuts(std::string_view text, std::size_t open, std::size_t close,
                                   std::size_t target) {
  std::vector<std::size_t> cuts;
  std::size_t pos = open + target;
  while (pos < close) {
    const auto brace = text.find('}', pos);
    if (brace == std::string_view::npos || brace >= close) break;
    std::size_t k = brace + 1;
    while (k < close && is_space(text[k])) ++k;
    if (k < close && text[k] == ',') {
      std::size_t j = k + 1;
      while (j < close && is_space(text[j])) ++j;
      if (j < close && text[j] == '{') {
        cuts.push_back(k);
        pos = k + target;
        continue;
      }
    }
    pos = brace + 1;
  }
  return cuts;
}

// A buffer for JSON text with simdjson's padding, on huge pages when large.
struct text_buffer {
  std::unique_ptr<char[]> data;
  std::size_t size = 0;
  explicit text_buffer(std::size_t n) : data(new char[n + simdjson::SIMDJSON_PADDING]), size(n) {}
};

core::result<result_set> parse_text(const char* data, std::size_t size, std::string_view origin,
                                    unsigned jobs, std::size_t run_bytes) {
  const std::string_view text(data, size);
  // A file with nothing in it is "no detections", like []: a detector that found
  // nothing on the split may write either.
  const auto open = text.find_first_not_of(" \t\r\n");
  if (open == std::string_view::npos) return result_set{};
  const auto close = text.find_last_not_of(" \t\r\n");
  const std::size_t chunk_bytes = run_bytes != 0 ? run_bytes : std::size_t{1} << 20;
  std::vector<std::size_t> cuts;
  if (text[open] == '[' && text[close] == ']' && size > 2 * chunk_bytes) {
    cuts = find_cuts(text, open, close, chunk_bytes);
  }
  const auto whole = [&]() -> core::result<result_set> {
    simdjson::dom::parser parser;
    auto array = parse_array(parser, data, size, origin);
    if (!array) return tl::unexpected(array.error());
    result_set out;
    out.detections = make_detections(array->size());
    if (auto ok = read_array(*array, origin, out.detections.data(), out.file_names); !ok) {
      return tl::unexpected(ok.error());
    }
    if (auto ok = check_one_key(out, origin); !ok) return tl::unexpected(ok.error());
    return out;
  };
  if (cuts.empty()) return whole();

  // Runs of elements parsed in parallel, each wrapped in [ ] in a worker's own buffer,
  // by a parser allocated once per worker for the longest run. Each run writes into
  // its own stretch of one vector, and the stretches are then closed up in order. A
  // detection takes at least 57 bytes of JSON ({"image_id":0,"category_id":0,
  // "bbox":[0,0,0,0],"score":0} plus a comma), so a stretch of bytes / 56 + 1 slots
  // cannot overflow (if it did, the whole-file parse takes over).
  const std::size_t runs = cuts.size() + 1;
  constexpr std::size_t min_detection_bytes = 56;
  std::vector<std::size_t> begin(runs), end(runs), slot(runs + 1, 0), count(runs, 0);
  std::size_t longest = 0;
  for (std::size_t r = 0; r < runs; ++r) {
    begin[r] = r == 0 ? open + 1 : cuts[r - 1] + 1;
    end[r] = r + 1 == runs ? close : cuts[r];
    longest = std::max(longest, end[r] - begin[r] + 2);
    slot[r + 1] = slot[r] + (end[r] - begin[r]) / min_detection_bytes + 1;
  }
  result_set out;
  out.detections = make_detections(slot[runs]);
  std::vector<std::vector<std::string>> names(runs);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  const auto worker = [&] {
    simdjson::dom::parser parser;
    if (parser.allocate(longest) != simdjson::SUCCESS) {
      failed = true;
      return;
    }
    const std::unique_ptr<char[]> buffer(new char[longest + simdjson::SIMDJSON_PADDING]);
    for (std::size_t r = next.fetch_add(1); r < runs && !failed; r = next.fetch_add(1)) {
      const std::size_t n = end[r] - begin[r] + 2;
      buffer[0] = '[';
      std::memcpy(buffer.get() + 1, data + begin[r], n - 2);
      buffer[n - 1] = ']';
      auto array = parse_array(parser, buffer.get(), n, origin);
      // Any error is found again, with its true position, by the whole-file parse.
      if (!array || array->size() > slot[r + 1] - slot[r] ||
          !read_array(*array, origin, out.detections.data() + slot[r], names[r])) {
        failed = true;
        return;
      }
      count[r] = array->size();
    }
  };
  {
    const unsigned threads =
        static_cast<unsigned>(std::min<std::size_t>(core::resolve_jobs(jobs), runs));
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
  }
  if (failed) return whole();

  std::unordered_map<std::string_view, std::uint32_t> global;
  std::vector<std::uint32_t> local_to_global;
  std::size_t kept = 0;
  for (std::size_t r = 0; r < runs; ++r) {
    local_to_global.clear();
    for (const auto& name : names[r]) {
      auto [it, inserted] =
          global.try_emplace(name, static_cast<std::uint32_t>(out.file_names.size()));
      if (inserted) out.file_names.push_back(name);
      local_to_global.push_back(it->second);
    }
    for (std::size_t j = 0; j < count[r]; ++j) {
      detection d = out.detections[slot[r] + j];
      if (d.name_index != detection::no_name) d.name_index = local_to_global[d.name_index];
      out.detections[kept++] = d;
    }
  }
  out.detections.resize(kept);
  if (auto ok = check_one_key(out, origin); !ok) return tl::unexpected(ok.error());
  return out;
}

}  // namespace

core::result<result_set> parse_results(std::string_view json, std::string_view origin,
                                       unsigned jobs, std::size_t run_bytes) {
  text_buffer buffer(json.size());
  if (!json.empty()) std::memcpy(buffer.data.get(), json.data(), json.size());
  return parse_text(buffer.data.get(), json.size(), origin, jobs, run_bytes);
}

core::result<result_set> read_results(const std::filesystem::path& path, unsigned jobs) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return core::fail(error_code::not_found,
                      fmt::format("predictions file '{}' does not exist", path.string()));
  }
  const auto cannot_read = [&](std::string_view why) {
    return core::fail(error_code::io_error,
                      fmt::format("cannot read '{}': {}", path.string(), why));
  };
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return cannot_read(std::strerror(errno));
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    std::fclose(file);
    return cannot_read(ec.message());
  }
  text_buffer buffer(static_cast<std::size_t>(size));
  core::advise_huge_pages(buffer.data.get(), buffer.size);
  const auto got = std::fread(buffer.data.get(), 1, buffer.size, file);
  const bool read_error = std::ferror(file) != 0;
  std::fclose(file);
  if (read_error || got != buffer.size) return cannot_read("short read");
  return parse_text(buffer.data.get(), buffer.size, path.string(), jobs, 0);
}

}  // namespace ctprep::coco

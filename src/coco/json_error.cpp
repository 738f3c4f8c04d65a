#include "json_error.hpp"

#include <vector>

#include <fmt/format.h>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

namespace ctprep::coco {
namespace {

// The offset of the bracket that opens level max_depth + 1, if any. Brackets inside
// strings do not count; up to the first syntax error this is the nesting a parser sees.
std::optional<std::size_t> too_deep_at(std::string_view json, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

std::optional<json_error_location> rapidjson_error(std::string_view json) {
  // In-situ parsing needs a writable, NUL-terminated copy; it unescapes strings in place
  // instead of on RapidJSON's stack. UTF-8 validation reads a whole sequence (up to 3
  // bytes after its lead byte) before it looks at any of them: pad with NULs so that a
  // lead byte at the end never reads past the copy (an overflow the fuzz target found).
  std::vector<char> copy(json.begin(), json.end());
  copy.resize(json.size() + 8, '\0');
  rapidjson::InsituStringStream stream(copy.data());
  rapidjson::BaseReaderHandler<> ignore;
  rapidjson::Reader reader;
  constexpr unsigned flags = rapidjson::kParseInsituFlag | rapidjson::kParseValidateEncodingFlag;
  const auto result = reader.Parse<flags>(stream, ignore);
  if (!result.IsError()) {
    // The copy ends at the first NUL byte of the text: an embedded NUL is what is wrong.
    if (json.find('\0') != std::string_view::npos) {
      return json_error_location{json.find('\0'), "Invalid value (a NUL byte)."};
    }
    return std::nullopt;
  }
  return json_error_location{result.Offset(), rapidjson::GetParseError_En(result.Code())};
}

}  // namespace

std::optional<json_error_location> locate_json_error(std::string_view json, std::size_t max_depth) {
  const auto deep = too_deep_at(json, max_depth);
  if (!deep) return rapidjson_error(json);
  // Parse only what comes before the bracket that goes too deep: an error there comes
  // first; otherwise that prefix just ends early, and the depth is the error.
  auto before = rapidjson_error(json.substr(0, *deep));
  if (before && before->offset < *deep) return before;
  return json_error_location{*deep,
                             fmt::format("More than {} nested arrays and objects.", max_depth)};
}

}  // namespace ctprep::coco

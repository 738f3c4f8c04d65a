// Where malformed JSON goes wrong, for error messages. simdjson (the parser on every fast
// path) says what is wrong but not where; this finds the byte offset, and runs only on
// the error path.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ctprep::coco {

struct json_error_location {
  std::size_t offset = 0;  // byte offset of the first error
  std::string what;        // e.g. "Missing a comma or ']' after an array element."
};

// nullopt when the text is well-formed JSON as far as this check sees (the caller then
// falls back to simdjson's message). Nesting deeper than `max_depth` (simdjson's default
// limit) is an error at the bracket that goes too deep: a recursive parser would
// otherwise overflow the native stack on "[[[[...". RapidJSON's full-precision number
// path and its lazily allocated stack have undefined behaviour on some inputs (found by
// the fuzz targets under UBSan), so strings are parsed in place and numbers with normal
// precision: the location does not depend on either.
[[nodiscard]] std::optional<json_error_location> locate_json_error(std::string_view json,
                                                                   std::size_t max_depth = 1024);

}  // namespace ctprep::coco

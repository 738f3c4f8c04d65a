// Locating the error in malformed JSON: offsets, nesting deeper than the limit, and no
// crash on input that makes a recursive parser overflow the stack.
#include <string>

#include <gtest/gtest.h>

#include "coco/json_error.hpp"
#include "ctprep/coco/coco.hpp"
#include "ctprep/coco/results.hpp"

namespace ctprep::coco {
namespace {

TEST(json_error, names_the_byte_of_the_first_error) {
  const auto where = locate_json_error(R"({"images": [1, 2,, 3]})");
  ASSERT_TRUE(where);
  EXPECT_EQ(where->offset, 17u);
  EXPECT_EQ(where->what, "Invalid value.");
  EXPECT_FALSE(locate_json_error(R"({"a": [1, "x]", {"b": null}]})"));
  const auto trailing = locate_json_error("[1] 2");
  ASSERT_TRUE(trailing);
  EXPECT_EQ(trailing->offset, 4u);
  const auto nul = locate_json_error(std::string("[1]\0", 4));
  ASSERT_TRUE(nul);
  EXPECT_EQ(nul->offset, 3u);
}

TEST(json_error, nesting_deeper_than_the_limit_is_an_error_at_the_bracket) {
  const auto deep = locate_json_error(R"([{"a": [["]]]]"]]}])", 3);
  ASSERT_TRUE(deep);
  EXPECT_EQ(deep->offset, 8u);  // brackets inside the string do not count
  EXPECT_EQ(deep->what, "More than 3 nested arrays and objects.");
  // An error before that bracket comes first.
  const auto earlier = locate_json_error("[1 2, [[[[", 3);
  ASSERT_TRUE(earlier);
  EXPECT_EQ(earlier->offset, 3u);
  EXPECT_FALSE(locate_json_error("[[[]]]", 3));
}

TEST(json_error, a_million_open_brackets_are_malformed_json_not_a_crash) {
  const std::string deep(1'000'000, '[');
  auto results = parse_results(deep, "p.json");
  ASSERT_FALSE(results);
  EXPECT_EQ(results.error().code, core::error_code::malformed_json);
  EXPECT_NE(results.error().message.find("'p.json' at byte 1024: More than 1024 nested"),
            std::string::npos)
      << results.error().message;
  auto dataset = parse("{\"images\": " + deep, "d.json");
  ASSERT_FALSE(dataset);
  EXPECT_EQ(dataset.error().code, core::error_code::malformed_json);
  EXPECT_NE(dataset.error().message.find("'d.json' at byte 1034 (line:column 1:1035)"),
            std::string::npos)
      << dataset.error().message;
}

TEST(json_error, a_utf8_lead_byte_at_the_end_is_invalid_encoding) {
  // Found by fuzz/evaluate_results_fuzz: a string opened by a lead byte and the end.
  for (const std::string text : {"\"\xf3", "\"\xf2", "[\"a\xe2", "\"\xc3"}) {
    const auto where = locate_json_error(text);
    ASSERT_TRUE(where) << text;
    EXPECT_LE(where->offset, text.size());
    auto results = parse_results(text, "p.json");
    ASSERT_FALSE(results);
    EXPECT_EQ(results.error().code, core::error_code::malformed_json);
  }
}

}  // namespace
}  // namespace ctprep::coco

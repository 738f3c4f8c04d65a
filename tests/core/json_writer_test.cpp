#include "ctprep/core/json_writer.hpp"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace ctprep::core {
namespace {

TEST(json_writer, writes_compact_json_in_the_order_given) {
  json_writer w;
  w.begin_object();
  w.field("b", std::int64_t{1});
  w.field("a", "x\"y\\z\n\x01");
  w.key("list");
  w.begin_array();
  w.value(0.1);
  w.value(true);
  w.null();
  w.end_array();
  w.key("empty");
  w.begin_object();
  w.end_object();
  w.end_object();
  EXPECT_EQ(w.take(), R"({"b":1,"a":"x\"y\\z\n\u0001","list":[0.1,true,null],"empty":{}})");
}

TEST(json_writer, indents_for_humans) {
  json_writer w(2);
  w.begin_object();
  w.field("a", std::int64_t{1});
  w.key("b");
  w.begin_array();
  w.value(std::int64_t{2});
  w.end_array();
  w.end_object();
  EXPECT_EQ(w.take(), "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}\n");
}

TEST(json_writer, numbers_are_the_shortest_text_that_reads_back_exactly) {
  std::string out;
  json_writer::append_number(out, 0.1 + 0.2);
  EXPECT_EQ(out, "0.30000000000000004");
  out.clear();
  json_writer::append_number(out, 12.0);
  EXPECT_EQ(out, "12");
  out.clear();
  json_writer::append_number(out, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(out, "null");
}

}  // namespace
}  // namespace ctprep::core

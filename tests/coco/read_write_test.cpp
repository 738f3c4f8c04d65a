#include <limits>

#include <gtest/gtest.h>

#include "ctprep/coco/coco.hpp"
#include "support/testing.hpp"

namespace ctprep::coco {
namespace {

const std::string data_dir = std::string(CTPREP_TEST_DATA) + "/coco/";

// Parses `json` expecting an error; returns its message.
std::string error_of(std::string_view json, core::error_code expected) {
  auto r = parse(json, "f.json");
  EXPECT_FALSE(r) << "parsed: " << json;
  if (r) return {};
  EXPECT_EQ(r.error().code, expected) << r.error().message;
  return r.error().message;
}

constexpr std::string_view minimal_head =
    R"({"categories":[{"id":0,"name":"EDH"}],"images":[{"id":1,"file_name":"1_2.png","width":8,"height":8}],)";

TEST(coco_read, reads_every_field_of_a_roboflow_export) {
  auto d = read_file(data_dir + "roboflow_export.json");
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_EQ(d->categories.size(), 8u);
  EXPECT_EQ(d->categories[0].name, "-");
  EXPECT_EQ(d->categories[7].name, "SDH");
  ASSERT_EQ(d->images.size(), 2u);
  EXPECT_EQ(d->images[0].file_name, "525190930_29_png.rf.3f4e5d6c7b8a.jpg");
  EXPECT_EQ(d->images[0].width, 512);
  ASSERT_EQ(d->annotations.size(), 2u);
  EXPECT_EQ(d->annotations[0].bbox, (core::box{120.5, 200.25, 33.333333333333336, 41}));
  EXPECT_DOUBLE_EQ(d->annotations[0].area, 1366.6666666666667);
  // Unknown fields are kept, in order, as JSON text.
  ASSERT_EQ(d->images[1].extra.size(), 3u);
  EXPECT_EQ(d->images[1].extra[0].first, "license");
  EXPECT_EQ(d->images[1].extra[2].second, R"({"name":"x","tags":["a",1,null,true]})");
  EXPECT_EQ(d->annotations[1].extra[0],
            (std::pair<std::string, std::string>{"segmentation", "[[1,2,3,4]]"}));
  EXPECT_NE(d->info.find("roboflow.com"), std::string::npos);
  EXPECT_NE(d->licenses.find("CC BY 4.0"), std::string::npos);
}

TEST(coco_read, derives_a_missing_area_and_keeps_top_level_extras) {
  auto d = read_file(data_dir + "v3_split.json");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_DOUBLE_EQ(d->annotations[1].area, 0.1 * 7);
  EXPECT_EQ(d->annotations[1].iscrowd, 0);
  ASSERT_EQ(d->extra.size(), 1u);
  EXPECT_EQ(d->extra[0].second, R"("instances")");
}

TEST(coco_round_trip, read_write_read_is_the_identity_on_every_fixture) {
  for (const char* name : {"roboflow_export.json", "v3_split.json"}) {
    auto first = read_file(data_dir + name);
    ASSERT_TRUE(first) << first.error().message;
    for (int indent : {0, 2}) {
      const auto text = to_json(*first, {indent});
      auto second = parse(text, "written");
      ASSERT_TRUE(second) << second.error().message;
      EXPECT_EQ(*first, *second) << name << " indent " << indent;
      EXPECT_EQ(to_json(*second, {indent}), text) << "writing is not deterministic";
    }
  }
}

TEST(coco_write, uses_a_fixed_key_order_and_shortest_numbers) {
  core::dataset d;
  d.categories.push_back({0, "EDH", "hemorrhage", {}});
  d.images.push_back({7, "a\"b.png", 512, 256, {{"license", "1"}}});
  d.annotations.push_back({3, 7, 0, {0.1, 2, 10.5, 1.0 / 3}, 3.5, 0, {}});
  EXPECT_EQ(
      to_json(d),
      R"({"categories":[{"id":0,"name":"EDH","supercategory":"hemorrhage"}],)"
      R"("images":[{"id":7,"file_name":"a\"b.png","width":512,"height":256,"license":1}],)"
      R"("annotations":[{"id":3,"image_id":7,"category_id":0,"bbox":[0.1,2,10.5,0.3333333333333333],"area":3.5,"iscrowd":0}]})");
}

TEST(coco_write, writes_atomically_and_refuses_non_finite_numbers) {
  testing::temp_dir dir;
  core::dataset d;
  d.categories.push_back({0, "EDH", "", {}});
  d.images.push_back({1, "1_2.png", 8, 8, {}});
  d.annotations.push_back({1, 1, 0, {0, 0, 1, 1}, 1, 0, {}});
  const auto path = dir / "out.json";
  ASSERT_TRUE(write_file(path, d));
  auto back = read_file(path);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, d);
  d.annotations[0].bbox.w = std::numeric_limits<double>::infinity();
  auto r = write_file(path, d);
  ASSERT_FALSE(r);
  EXPECT_EQ(*read_file(path), *back) << "the old file must survive";
}

TEST(coco_read, reports_malformed_json_with_byte_offset_and_line_column) {
  // The second comma of line 3 is byte 29 (0-based) and column 14 (1-based).
  const auto message =
      error_of("{\n  \"images\": [\n    {\"id\": 1,,}\n  ]\n}", core::error_code::malformed_json);
  EXPECT_NE(message.find("'f.json' at byte 29 (line:column 3:14)"), std::string::npos) << message;
  EXPECT_TRUE(message.starts_with("malformed_json: ")) << message;
  const auto truncated = error_of(R"({"images": [{"id": 1)", core::error_code::malformed_json);
  EXPECT_NE(truncated.find("'f.json' at byte"), std::string::npos) << truncated;
  error_of("", core::error_code::malformed_json);
  error_of(R"({"a": 1e999})", core::error_code::malformed_json);
}

TEST(coco_read, names_the_json_path_of_a_wrong_type) {
  std::string json(minimal_head);
  json += R"("annotations":[{"id":1,"image_id":1,"category_id":0,"bbox":[1,2,3,4]},)"
          R"({"id":2,"image_id":1,"category_id":0,"bbox":[1,2,"3",4]}]})";
  EXPECT_EQ(error_of(json, core::error_code::bad_coco),
            "bad_coco: 'f.json': annotations[1].bbox[2] must be a number, found a string");
  EXPECT_EQ(error_of(R"({"images":{},"categories":[]})", core::error_code::bad_coco),
            "bad_coco: 'f.json': images must be an array, found an object");
  EXPECT_EQ(error_of(R"([1,2])", core::error_code::bad_coco),
            "bad_coco: 'f.json': the top level must be an object, found an array");
  EXPECT_EQ(
      error_of(R"({"images":[{"id":1.5,"file_name":"a","width":1,"height":1}],"categories":[]})",
               core::error_code::bad_coco),
      "bad_coco: 'f.json': images[0].id must be an integer, found a number");
}

TEST(coco_read, rejects_missing_required_fields) {
  EXPECT_EQ(error_of(R"({"categories":[]})", core::error_code::bad_coco),
            "bad_coco: 'f.json': the top level lacks \"images\"");
  EXPECT_EQ(error_of(R"({"images":[{"id":1,"width":1,"height":1}],"categories":[]})",
                     core::error_code::bad_coco),
            "bad_coco: 'f.json': images[0] lacks \"file_name\"");
  std::string json(minimal_head);
  json += R"("annotations":[{"id":1,"image_id":1,"bbox":[1,2,3,4]}]})";
  EXPECT_EQ(error_of(json, core::error_code::bad_coco),
            "bad_coco: 'f.json': annotations[0] lacks \"category_id\"");
}

TEST(coco_read, rejects_duplicate_ids) {
  EXPECT_EQ(error_of(R"({"images":[{"id":1,"file_name":"a","width":1,"height":1},)"
                     R"({"id":1,"file_name":"b","width":1,"height":1}],"categories":[]})",
                     core::error_code::bad_coco),
            "bad_coco: 'f.json': images[1].id 1 is a duplicate");
  std::string json(minimal_head);
  json += R"("annotations":[{"id":5,"image_id":1,"category_id":0,"bbox":[1,2,3,4]},)"
          R"({"id":5,"image_id":1,"category_id":0,"bbox":[1,2,3,4]}]})";
  EXPECT_EQ(error_of(json, core::error_code::bad_coco),
            "bad_coco: 'f.json': annotations[1].id 5 is a duplicate");
}

TEST(coco_read, rejects_annotations_naming_missing_images_or_categories) {
  std::string json(minimal_head);
  EXPECT_EQ(
      error_of(json + R"("annotations":[{"id":1,"image_id":9,"category_id":0,"bbox":[1,2,3,4]}]})",
               core::error_code::bad_coco),
      "bad_coco: 'f.json': annotations[0].image_id 9 names no image (annotation id 1)");
  EXPECT_EQ(
      error_of(json + R"("annotations":[{"id":1,"image_id":1,"category_id":4,"bbox":[1,2,3,4]}]})",
               core::error_code::bad_coco),
      "bad_coco: 'f.json': annotations[0].category_id 4 names no category (annotation id 1)");
}

TEST(coco_read, rejects_boxes_with_negative_sizes_or_wrong_arity) {
  std::string json(minimal_head);
  EXPECT_EQ(
      error_of(json + R"("annotations":[{"id":1,"image_id":1,"category_id":0,"bbox":[1,2,-3,4]}]})",
               core::error_code::bad_coco),
      "bad_coco: 'f.json': annotations[0].bbox has a negative size [1, 2, -3, 4]");
  EXPECT_EQ(
      error_of(json + R"("annotations":[{"id":1,"image_id":1,"category_id":0,"bbox":[1,2,3]}]})",
               core::error_code::bad_coco),
      "bad_coco: 'f.json': annotations[0].bbox must have 4 numbers [x, y, width, height], found 3");
}

TEST(coco_read, names_a_missing_file) {
  auto r = read_file("/nonexistent/_annotations.coco.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::error_code::not_found);
  EXPECT_NE(r.error().message.find("/nonexistent/_annotations.coco.json"), std::string::npos);
}

}  // namespace
}  // namespace ctprep::coco

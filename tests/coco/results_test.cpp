#include "ctprep/coco/results.hpp"

#include <gtest/gtest.h>

#include "support/testing.hpp"

namespace ctprep::coco {
namespace {

TEST(coco_results, reads_detections_keyed_by_image_id) {
  auto r = parse_results(
      R"([{"image_id": 3, "category_id": 2, "bbox": [1, 2.5, 3, 4], "score": 0.75, "extra": [1]},
          {"score": 1, "bbox": [0, 0, 0, 0], "category_id": 0, "image_id": -7}])",
      "p.json");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->detections.size(), 2u);
  EXPECT_EQ(r->detections[0].image_id, 3);
  EXPECT_EQ(r->detections[0].category_id, 2);
  EXPECT_EQ(r->detections[0].bbox, (core::box{1, 2.5, 3, 4}));
  EXPECT_EQ(r->detections[0].score, 0.75);
  EXPECT_EQ(r->detections[1].image_id, -7);
  EXPECT_EQ(r->detections[1].score, 1.0);
  EXPECT_TRUE(r->file_names.empty());
}

TEST(coco_results, reads_detections_keyed_by_file_name) {
  auto r = parse_results(
      R"([{"file_name": "a.png", "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},
          {"file_name": "b.png", "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},
          {"file_name": "a.png", "category_id": 0, "bbox": [1, 2, 3, 4], "score": 0.5}])",
      "p.json");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->file_names, (std::vector<std::string>{"a.png", "b.png"}));
  EXPECT_EQ(r->detections[0].name_index, 0u);
  EXPECT_EQ(r->detections[1].name_index, 1u);
  EXPECT_EQ(r->detections[2].name_index, 0u);
  EXPECT_EQ(r->detections[0].image_id, detection::no_image);
}

TEST(coco_results, an_empty_array_or_an_empty_file_is_no_detections) {
  for (const char* text : {"[]", "", "  \n"}) {
    auto r = parse_results(text, "p.json");
    ASSERT_TRUE(r) << text;
    EXPECT_TRUE(r->detections.empty());
  }
}

TEST(coco_results, names_non_finite_tokens) {
  for (const char* token : {"NaN", "Infinity", "-Infinity"}) {
    const auto text =
        std::string(R"([{"image_id": 1, "category_id": 0, "bbox": [1, 2, 3, 4], "score": )") +
        token + "}]";
    auto r = parse_results(text, "p.json");
    ASSERT_FALSE(r) << token;
    EXPECT_EQ(r.error().code, core::error_code::bad_coco);
    EXPECT_NE(r.error().message.find("non-finite"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(std::string("(") + token + ")"), std::string::npos)
        << r.error().message;
  }
  auto r = parse_results(
      R"([{"image_id": 1, "category_id": 0, "bbox": [1, NaN, 3, 4], "score": 1}])", "p.json");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("non-finite"), std::string::npos);
}

TEST(coco_results, rejects_numbers_too_large_for_a_double) {
  auto r = parse_results(
      R"([{"image_id": 1, "category_id": 0, "bbox": [1, 2, 3, 4], "score": 1e999}])", "p.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::error_code::malformed_json) << r.error().message;
}

struct bad_case {
  const char* json;
  const char* message;
};

TEST(coco_results, rejects_malformed_detections_with_their_path) {
  const bad_case cases[] = {
      {R"({"image_id": 1})", "top level must be an array"},
      {R"([1])", "results[0] must be an object"},
      {R"([{"category_id": 0, "bbox": [1, 2, 3, 4], "score": 1}])",
       "results[0] lacks \"image_id\" or \"file_name\""},
      {R"([{"image_id": 1, "bbox": [1, 2, 3, 4], "score": 1}])",
       "results[0] lacks \"category_id\""},
      {R"([{"image_id": 1, "category_id": 0, "score": 1}])", "results[0] lacks \"bbox\""},
      {R"([{"image_id": 1, "category_id": 0, "bbox": [1, 2, 3, 4]}])",
       "results[0] lacks \"score\""},
      {R"([{"image_id": 1.5, "category_id": 0, "bbox": [1, 2, 3, 4], "score": 1}])",
       "results[0].image_id must be an integer"},
      {R"([{"image_id": 1, "category_id": "0", "bbox": [1, 2, 3, 4], "score": 1}])",
       "results[0].category_id must be an integer"},
      {R"([{"image_id": 1, "category_id": 0, "bbox": [1, 2, 3], "score": 1}])",
       "results[0].bbox must have 4 numbers"},
      {R"([{"image_id": 1, "category_id": 0, "bbox": [1, 2, 3, 4, 5], "score": 1}])",
       "results[0].bbox must have 4 numbers"},
      {R"([{"image_id": 1, "category_id": 0, "bbox": [1, 2, -3, 4], "score": 1}])",
       "results[0].bbox has a negative size"},
      {R"([{"image_id": 1, "category_id": 0, "bbox": [1, null, 3, 4], "score": 1}])",
       "results[0].bbox[1] must be a number"},
      {R"([{"image_id": 1, "category_id": 0, "bbox": [1, 2, 3, 4], "score": "high"}])",
       "results[0].score must be a number"},
      {R"([{"image_id": 1, "file_name": "a.png", "category_id": 0, "bbox": [1, 2, 3, 4], "score": 1}])",
       "has both"},
      {R"([{"image_id": 1, "category_id": 0, "bbox": [1, 2, 3, 4], "score": 1},
           {"file_name": "a.png", "category_id": 0, "bbox": [1, 2, 3, 4], "score": 1}])",
       "results[1] keys its image by file_name"},
      {R"([{"image_id": 1, "category_id": 0, "bbox": [1, 2, 3, 4], "score": 1},)", "at byte"},
  };
  for (const auto& c : cases) {
    auto r = parse_results(c.json, "p.json");
    ASSERT_FALSE(r) << c.json;
    EXPECT_NE(r.error().message.find(c.message), std::string::npos)
        << c.json << " -> " << r.error().message;
    EXPECT_NE(r.error().message.find("p.json"), std::string::npos) << r.error().message;
  }
}

TEST(coco_results, reads_a_file_and_reports_a_missing_one) {
  testing::temp_dir dir;
  testing::write_text(dir / "p.json",
                      R"([{"image_id": 1, "category_id": 0, "bbox": [1, 2, 3, 4], "score": 1}])");
  auto r = read_results(dir / "p.json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->detections.size(), 1u);
  auto missing = read_results(dir / "none.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::error_code::not_found);
}

}  // namespace
}  // namespace ctprep::coco

namespace ctprep::coco {
namespace {

// More than 2 MB: parsed as runs of detections by several threads.
std::string large_results(std::size_t n, bool by_name, std::size_t bad_at = SIZE_MAX,
                          const std::string& odd_name = {}) {
  std::string s = "[\n";
  for (std::size_t i = 0; i < n; ++i) {
    std::string image = by_name ? "\"file_name\": \"" + (odd_name.empty() ? "img_" : odd_name) +
                                      std::to_string(i % 997) + ".png" + "\""
                                : "\"image_id\": " + std::to_string(i % 997);
    s += "{" + image + ", \"category_id\": " + std::to_string(i % 6) + ", \"bbox\": [" +
         std::to_string(i % 500) + ".5, 2, 30, 40], \"score\": " +
         (i == bad_at ? std::string("\"x\"")
                      : std::to_string(static_cast<double>(i % 1000) / 1000)) +
         "}";
    s += i + 1 < n ? ",\n" : "\n";
  }
  return s + "]";
}

void expect_same(const result_set& a, const result_set& b) {
  ASSERT_EQ(a.detections.size(), b.detections.size());
  EXPECT_EQ(a.file_names, b.file_names);
  for (std::size_t i = 0; i < a.detections.size(); ++i) {
    const auto& x = a.detections[i];
    const auto& y = b.detections[i];
    ASSERT_TRUE(x.image_id == y.image_id && x.name_index == y.name_index &&
                x.category_id == y.category_id && x.bbox == y.bbox && x.score == y.score)
        << i;
  }
}

TEST(coco_results, a_large_file_parses_the_same_whatever_the_thread_count) {
  for (const bool by_name : {false, true}) {
    const auto text = large_results(40000, by_name);
    ASSERT_GT(text.size(), 2u << 20);
    auto one = parse_results(text, "p.json", 1);
    auto many = parse_results(text, "p.json", 3);
    ASSERT_TRUE(one) << one.error().message;
    ASSERT_TRUE(many) << many.error().message;
    EXPECT_EQ(one->detections.size(), 40000u);
    EXPECT_EQ(one->detections[39999].bbox.x, 499.5);
    if (by_name) {
      EXPECT_EQ(one->file_names.size(), 997u);
    }
    expect_same(*one, *many);
  }
}

TEST(coco_results, a_large_file_reports_the_true_index_of_a_bad_detection) {
  const auto text = large_results(40000, false, 31234);
  for (unsigned jobs : {1u, 2u}) {
    auto r = parse_results(text, "p.json", jobs);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("results[31234].score must be a number"), std::string::npos)
        << r.error().message;
  }
}

TEST(coco_results, braces_and_commas_inside_a_name_do_not_split_a_detection) {
  // Every name holds what looks like an element boundary: cuts fall inside strings,
  // fail, and the file is read whole.
  const std::string odd = "a}, {b";
  const auto text = large_results(40000, true, SIZE_MAX, odd);
  auto r = parse_results(text, "p.json", 2);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->detections.size(), 40000u);
  EXPECT_EQ(r->file_names[r->detections[7].name_index], odd + "7.png");
  EXPECT_EQ(r->file_names.size(), 997u);
}

TEST(coco_results, runs_of_a_few_dozen_bytes_give_the_result_and_errors_of_the_whole_text) {
  for (const bool by_name : {false, true}) {
    const auto text = large_results(50, by_name);
    auto whole = parse_results(text, "p.json", 1);
    auto cut = parse_results(text, "p.json", 2, 64);
    ASSERT_TRUE(whole) << whole.error().message;
    ASSERT_TRUE(cut) << cut.error().message;
    EXPECT_EQ(cut->detections.size(), 50u);
    expect_same(*whole, *cut);
  }
  // A bad detection in the fourth run and a file mixing both keys: the same message.
  const auto bad = large_results(50, false, 37);
  auto whole_bad = parse_results(bad, "p.json", 1);
  auto cut_bad = parse_results(bad, "p.json", 2, 64);
  ASSERT_FALSE(whole_bad);
  ASSERT_FALSE(cut_bad);
  EXPECT_EQ(cut_bad.error().message, whole_bad.error().message);
  EXPECT_NE(cut_bad.error().message.find("results[37].score"), std::string::npos);
  const std::string mixed =
      R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5},
          {"image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5},
          {"file_name": "c.png", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}])";
  auto cut_mixed = parse_results(mixed, "p.json", 2, 24);
  ASSERT_FALSE(cut_mixed);
  EXPECT_EQ(cut_mixed.error().message, parse_results(mixed, "p.json", 1).error().message);
  EXPECT_NE(cut_mixed.error().message.find("results[2] keys its image by file_name"),
            std::string::npos)
      << cut_mixed.error().message;
}

}  // namespace
}  // namespace ctprep::coco

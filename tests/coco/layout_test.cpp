#include "ctprep/coco/layout.hpp"

#include <gtest/gtest.h>

#include "ctprep/coco/coco.hpp"
#include "support/testing.hpp"

namespace ctprep::coco {
namespace {

TEST(find_splits, finds_split_folders_in_train_valid_test_order) {
  testing::temp_dir dir;
  for (const char* s : {"test", "train", "valid"}) {
    testing::write_split(dir / s, testing::make_dataset({{"1_2.png", {}}}));
  }
  auto splits = find_splits(dir.path());
  ASSERT_TRUE(splits) << splits.error().message;
  ASSERT_EQ(splits->size(), 3u);
  EXPECT_EQ((*splits)[0].name, "train");
  EXPECT_EQ((*splits)[1].name, "valid");
  EXPECT_EQ((*splits)[2].name, "test");
}

TEST(find_splits, a_flat_folder_is_one_split_named_after_it) {
  testing::temp_dir dir;
  testing::write_split(dir / "pool", testing::make_dataset({{"1_2.png", {}}}));
  auto splits = find_splits(dir / "pool");
  ASSERT_TRUE(splits);
  ASSERT_EQ(splits->size(), 1u);
  EXPECT_EQ((*splits)[0].name, "pool");
}

TEST(find_splits, names_what_is_missing) {
  testing::temp_dir dir;
  auto none = find_splits(dir / "absent");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, core::error_code::not_found);
  auto empty = find_splits(dir.path());
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, core::error_code::not_found);
  std::filesystem::create_directories(dir / "train");
  auto no_json = find_splits(dir.path());
  ASSERT_FALSE(no_json);
  EXPECT_NE(no_json.error().message.find("train"), std::string::npos);
  EXPECT_NE(no_json.error().message.find("_annotations.coco.json"), std::string::npos);
}

}  // namespace
}  // namespace ctprep::coco

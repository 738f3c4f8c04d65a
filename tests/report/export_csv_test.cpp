#include "ctprep/report/export_csv.hpp"

#include <gtest/gtest.h>

#include "support/testing.hpp"

namespace ctprep::report {
namespace {

TEST(export_csv, writes_the_seed_columns_in_order_one_row_per_image) {
  testing::temp_dir dir;
  testing::write_split(
      dir / "train",
      testing::make_dataset({{"v3_thick_7_2_aug1.jpg", {{2, {1, 1, 2, 2}}, {5, {1, 1, 3, 3}}}},
                             {"roboflow_7_1_png.rf.z.jpg", {{1, {0, 0, 1, 1}}}}}));
  testing::write_split(dir / "test", testing::make_dataset({{"9_3.png", {}}}));
  auto csv = export_csv(dir.path(), "v4");
  ASSERT_TRUE(csv) << csv.error().message;
  EXPECT_EQ(*csv,
            "patient_id,instance_no,filename,split,source,has_intraparenchymal_hemorrhage,"
            "has_intraventricular_hemorrhage,has_subarachnoid_hemorrhage,has_epidural_hemorrhage,"
            "has_subdural_hemorrhage,has_hemorrhage_contusion,has_no_hemorrhage,"
            "total_hemorrhages_on_image,modelVersion\r\n"
            "7,1,roboflow_7_1_png.rf.z.jpg,train,roboflow,0,0,0,0,0,1,0,1,v4\r\n"
            "7,2,v3_thick_7_2_aug1.jpg,train,v3,1,0,0,0,1,0,0,2,v4\r\n"
            "9,3,9_3.png,test,no_hem,0,0,0,0,0,0,1,0,v4\r\n");
}

TEST(export_csv, maps_four_class_categories_by_name) {
  testing::temp_dir dir;
  // 4-class ids: 0 IPH, 1 IVH, 2 SAH, 3 SDH.
  testing::write_split(dir / "valid",
                       testing::make_dataset({{"v3_1_2.png", {{1, {0, 0, 1, 1}}}}}, true));
  auto csv = export_csv(dir.path(), "v4");
  ASSERT_TRUE(csv);
  EXPECT_NE(csv->find("1,2,v3_1_2.png,valid,v3,0,1,0,0,0,0,0,1,v4\r\n"), std::string::npos) << *csv;
}

TEST(export_csv, quotes_fields_as_rfc_4180_requires) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  testing::temp_dir dir;
  testing::write_split(dir / "train", testing::make_dataset({{"1_2_a,b.png", {}}}));
  auto csv = export_csv(dir.path(), "v4 \"beta\"");
  ASSERT_TRUE(csv);
  EXPECT_NE(csv->find("1,2,\"1_2_a,b.png\",train,no_hem,0,0,0,0,0,0,1,0,\"v4 \"\"beta\"\"\"\r\n"),
            std::string::npos)
      << *csv;
}

TEST(export_csv, fails_naming_a_file_that_breaks_the_identity_rule) {
  testing::temp_dir dir;
  testing::write_split(dir / "train", testing::make_dataset({{"1_2.png", {}}, {"scan.png", {}}}));
  auto csv = export_csv(dir.path(), "v4");
  ASSERT_FALSE(csv);
  EXPECT_EQ(csv.error().code, core::error_code::bad_identity);
  EXPECT_NE(csv.error().message.find("'scan.png'"), std::string::npos);
}

TEST(export_csv, reads_the_version_from_metadata_yaml) {
  testing::temp_dir dir;
  EXPECT_EQ(dataset_version(dir.path()), "");
  testing::write_text(dir / "metadata.yaml", "version: v5\ntype: 6class\n");
  EXPECT_EQ(dataset_version(dir.path()), "v5");
  testing::write_text(dir / "metadata.yaml", "version: [unclosed\n");
  EXPECT_EQ(dataset_version(dir.path()), "");
}

}  // namespace
}  // namespace ctprep::report

#include "ctprep/pipeline/feedback_csv.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "support/testing.hpp"

namespace ctprep::pipeline {
namespace {

TEST(feedback_csv, reads_fp_and_tn_rows_in_csv_order) {
  const std::string text =
      "patient_id,instance_no,classification_result,image_url\n"
      "520892552,14,False Positive (FP),s3://b/520892552/14.dcm\n"
      "591645860,2,True Negative (TN),s3://b/591645860/2.dcm\n"
      "591645860,3,Unknown,s3://b/591645860/3.dcm\n"
      "7,1,True Negative (TN),https://b.s3.amazonaws.com/7/1.dcm\n";
  auto t = parse_feedback_csv(text, "f.csv");
  ASSERT_TRUE(t) << t.error().message;
  ASSERT_EQ(t->rows.size(), 3u);
  EXPECT_EQ(t->records, 4u);
  EXPECT_EQ(t->other_class, 1u);
  EXPECT_EQ(t->rows[0].id, (core::slice_id{"520892552", "14"}));
  EXPECT_EQ(t->rows[0].cls, feedback_class::fp);
  EXPECT_EQ(t->rows[0].line, 2u);
  EXPECT_EQ(t->rows[0].url, "s3://b/520892552/14.dcm");
  EXPECT_EQ(t->rows[1].cls, feedback_class::tn);
  EXPECT_EQ(t->rows[2].id, (core::slice_id{"7", "1"}));
  EXPECT_EQ(t->rows[2].line, 5u);
  EXPECT_EQ(t->count(feedback_class::fp), 1u);
  EXPECT_EQ(t->count(feedback_class::tn), 2u);
}

TEST(feedback_csv, handles_bom_crlf_quotes_spaces_and_extra_columns) {
  const std::string text =
      "\xEF\xBB\xBF"
      "id, patient_id ,instance_no,classification_result,image_url,note\r\n"
      "1, 0042 , 007 , \"False Positive (FP)\" ,\"s3://b/a,b.dcm\",\"say \"\"hi\"\"\r\nthere\"\r\n"
      "2,43,8.0,true negative (tn),s3://b/43/8.dcm,\r\n"
      "\r\n"
      "3,44,9,TN,\"s3://b/44/9.dcm\"";  // no final line break
  auto t = parse_feedback_csv(text, "f.csv");
  ASSERT_TRUE(t) << t.error().message;
  ASSERT_EQ(t->rows.size(), 3u);
  EXPECT_EQ(t->rows[0].id, (core::slice_id{"42", "7"}));
  EXPECT_EQ(t->rows[0].cls, feedback_class::fp);
  EXPECT_EQ(t->rows[0].url, "s3://b/a,b.dcm");
  EXPECT_EQ(t->rows[1].id, (core::slice_id{"43", "8"}));
  EXPECT_EQ(t->rows[1].line, 4u);  // the quoted field of record 1 spans two lines
  EXPECT_EQ(t->rows[2].id, (core::slice_id{"44", "9"}));
  EXPECT_EQ(t->rows[2].line, 6u);
  EXPECT_EQ(t->rows[2].url, "s3://b/44/9.dcm");
}

TEST(feedback_csv, reads_a_duplicate_slice_once_and_fp_wins) {
  const std::string text =
      "patient_id,instance_no,classification_result,image_url\n"
      "1,1,True Negative (TN),u1\n"
      "2,2,True Negative (TN),u2\n"
      "1,01,False Positive (FP),u1-again\n"
      "2,2,True Negative (TN),u2-again\n";
  auto t = parse_feedback_csv(text, "f.csv");
  ASSERT_TRUE(t) << t.error().message;
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->duplicates, 2u);
  EXPECT_EQ(t->rows[0].cls, feedback_class::fp);
  EXPECT_EQ(t->rows[0].url, "u1");
  EXPECT_EQ(t->rows[1].url, "u2");
}

TEST(feedback_csv, records_rows_with_bad_ids_and_skips_them) {
  const std::string text =
      "patient_id,instance_no,classification_result,image_url\n"
      "../../etc,1,FP,u\n"
      "5,1.5,TN,u\n"
      ",2,TN,u\n"
      "6,2,TN,u\n";
  auto t = parse_feedback_csv(text, "f.csv");
  ASSERT_TRUE(t) << t.error().message;
  ASSERT_EQ(t->rows.size(), 1u);
  ASSERT_EQ(t->invalid.size(), 3u);
  EXPECT_EQ(t->invalid[0].line, 2u);
  EXPECT_EQ(t->invalid[0].reason, "patient_id '../../etc' is not a number");
  EXPECT_EQ(t->invalid[1].reason, "instance_no '1.5' is not a number");
  EXPECT_EQ(t->invalid[2].line, 4u);
}

TEST(feedback_csv, names_a_missing_column) {
  auto t = parse_feedback_csv("patient_id,instance_no,image_url\n1,2,u\n", "meta/f.csv");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, core::error_code::bad_csv);
  EXPECT_EQ(t.error().message,
            "bad_csv: 'meta/f.csv' has no column 'classification_result' (header line 1)");
  auto no_url = parse_feedback_csv("patient_id,instance_no,classification_result\n1,2,FP\n", "f");
  ASSERT_FALSE(no_url);
  EXPECT_NE(no_url.error().message.find("'image_url'"), std::string::npos);
  auto without = parse_feedback_csv("patient_id,instance_no,classification_result\n1,2,FP\n", "f",
                                    /*need_url=*/false);
  ASSERT_TRUE(without);
  EXPECT_EQ(without->rows.size(), 1u);
  EXPECT_EQ(without->rows[0].url, "");
}

TEST(feedback_csv, rejects_broken_quoting_with_the_line) {
  auto open = parse_feedback_csv(
      "patient_id,instance_no,classification_result,image_url\n1,2,FP,u\n3,4,\"FP,u\n", "f.csv");
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().message, "bad_csv: 'f.csv' line 3: quoted field never closed");
  auto stray = parse_feedback_csv(
      "patient_id,instance_no,classification_result,image_url\n1,2,F\"P,u\n", "f.csv");
  ASSERT_FALSE(stray);
  EXPECT_EQ(stray.error().message, "bad_csv: 'f.csv' line 2: stray quote inside an unquoted field");
  auto after = parse_feedback_csv(
      "patient_id,instance_no,classification_result,image_url\n1,2,\"FP\"x,u\n", "f.csv");
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().message, "bad_csv: 'f.csv' line 2: text after a closing quote");
  auto empty = parse_feedback_csv("", "f.csv");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "bad_csv: 'f.csv' is empty");
}

TEST(feedback_csv, reads_a_full_size_file) {
  // The real file's shape: about 325,000 rows, about 200 FP.
  std::string text = "patient_id,instance_no,classification_result,image_url,created_at\r\n";
  constexpr int n = 325000;
  for (int i = 0; i < n; ++i) {
    text += fmt::format("{},{},{},s3://bucket/{}/{}.dcm,2024-01-01\r\n", 500000000 + i / 40, i % 40,
                        i % 1625 == 0 ? "False Positive (FP)" : "True Negative (TN)",
                        500000000 + i / 40, i % 40);
  }
  testing::temp_dir dir;
  testing::write_text(dir / "f.csv", text);
  auto t = read_feedback_csv(dir / "f.csv");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->rows.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(t->count(feedback_class::fp), 200u);
  EXPECT_EQ(t->rows.back().id, (core::slice_id{std::to_string(500000000 + (n - 1) / 40), "39"}));
  EXPECT_EQ(t->rows.back().line, static_cast<std::size_t>(n + 1));
}

TEST(feedback_csv, reports_a_missing_file_as_not_found) {
  auto t = read_feedback_csv("/nonexistent/f.csv");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, core::error_code::not_found);
}

}  // namespace
}  // namespace ctprep::pipeline

// `ctprep download` end to end: the built binary against a real S3 (s3rver) behind our
// SigV4-verifying, fault-injecting proxy.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include <fmt/format.h>

#include "support/s3_server.hpp"
#include "support/testing.hpp"

namespace ctprep {
namespace {
namespace fs = std::filesystem;
using testing::run_ctprep;

std::string blob(int i) {
  std::string s(3000 + i * 100, '\0');
  for (std::size_t k = 0; k < s.size(); ++k)
    s[k] = static_cast<char>((k * 13 + static_cast<std::size_t>(i)) & 0xff);
  return s;
}

class download_cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::find_node().empty() ||
        !fs::exists(testing::servers_dir() / "node_modules" / "s3rver")) {
      return;
    }
    objects_ = std::make_unique<testing::temp_dir>();
    for (int i = 1; i <= 8; ++i) {
      testing::write_text(objects_->path() / "raw" / "100" / fmt::format("{}.dcm", i), blob(i));
    }
    testing::s3_server_options o;
    o.objects = objects_->path();
    server_ = std::make_unique<testing::s3_server>(o);
  }
  static void TearDownTestSuite() {
    server_.reset();
    objects_.reset();
  }
  void SetUp() override {
    CTPREP_REQUIRE_S3_SERVER();
    ASSERT_TRUE(server_);
    server_->set_faults("{}");
    server_->clear_requests();
    // Rows: FP 100_3 and 100_7; TN 100_1, 100_2, 100_4 (virtual-hosted https URL),
    // 100_5 (missing key), 100_6 (path-style https URL).
    testing::write_text(
        dir_ / "f.csv",
        "patient_id,instance_no,classification_result,image_url\r\n"
        "100,1,True Negative (TN),s3://raw/100/1.dcm\r\n"
        "100,2,True Negative (TN),s3://raw/100/2.dcm\r\n"
        "100,3,False Positive (FP),s3://raw/100/3.dcm\r\n"
        "100,4,True Negative (TN),https://raw.s3.eu-west-1.amazonaws.com/100/4.dcm\r\n"
        "100,5,True Negative (TN),s3://raw/100/absent.dcm\r\n"
        "100,6,True Negative (TN),https://s3.amazonaws.com/raw/100/6.dcm\r\n"
        "100,7,False Positive (FP),s3://raw/100/7.dcm\r\n"
        "100,8,Unsure,s3://raw/100/8.dcm\r\n");
    testing::write_text(dir_ / ".env",
                        fmt::format("AWS_ACCESS_KEY={}\nAWS_SECRET_KEY={}\n",
                                    server_->options().access_key, server_->options().secret_key));
  }

  std::vector<std::string> args(std::vector<std::string> extra) const {
    std::vector<std::string> a = {"download",
                                  "--csv-path",
                                  (dir_ / "f.csv").string(),
                                  "--output-dir",
                                  (dir_ / "pool").string(),
                                  "--data-root",
                                  (dir_ / "data").string(),
                                  "--endpoint-url",
                                  server_->endpoint(),
                                  "--env-file",
                                  (dir_ / ".env").string(),
                                  "--retry-base-ms",
                                  "5"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  // outcome per id from the JSON-lines log
  static std::map<std::string, std::string> outcomes(const fs::path& log) {
    std::map<std::string, std::string> out;
    std::istringstream in(testing::read_text(log));
    for (std::string line; std::getline(in, line);) {
      const auto id_at = line.find("\"id\":\"") + 6;
      const auto id = line.substr(id_at, line.find('"', id_at) - id_at);
      const auto o_at = line.find("\"outcome\":\"") + 11;
      const auto r_at = line.find("\"reason\":\"") + 10;
      out[id] = line.substr(o_at, line.find('"', o_at) - o_at) + ":" +
                line.substr(r_at, line.find('"', r_at) - r_at);
    }
    return out;
  }

  testing::temp_dir dir_;
  static inline std::unique_ptr<testing::temp_dir> objects_;
  static inline std::unique_ptr<testing::s3_server> server_;
};

TEST_F(download_cli, dry_run_prints_the_fp_first_plan_and_fetches_nothing) {
  auto r = run_ctprep(args({"--dry-run", "--max-images", "3"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.out.find("Records: 8 (FP 2, TN 5, other classification 1, duplicates 0, invalid ids 0)"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("FP (high priority): 2 in CSV, 0 already in datasets, 0 already downloaded, "
                       "2 missing -> 2 to fetch"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("To fetch: 3 (FP 2, TN 1)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Dry run: nothing fetched."), std::string::npos);
  EXPECT_TRUE(server_->requests().empty());
  EXPECT_FALSE(fs::exists(dir_ / "pool"));
}

TEST_F(download_cli, stores_dicoms_with_exact_per_item_outcomes_and_resumes_without_refetching) {
  server_->set_faults(R"({"raw/100/1.dcm": ["503", "reset"], "raw/100/2.dcm": ["truncate"]})");
  auto r = run_ctprep(args({"--keep-dicom", (dir_ / "dicom").string(), "--no-convert"}));
  EXPECT_EQ(r.exit_code, 8) << r.out << r.err;  // one object is missing
  EXPECT_NE(r.out.find("✅ Successful: 6"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("❌ Failed: 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 × 404 NoSuchKey"), std::string::npos) << r.out;
  for (int i : {1, 2, 3, 4, 6, 7}) {
    EXPECT_EQ(testing::read_text(dir_ / "dicom" / fmt::format("100_{}.dcm", i)), blob(i)) << i;
    EXPECT_EQ(server_->count_requests(
                  {fmt::format("\"key\":\"100/{}.dcm\"", i), "\"fault\":null", "\"status\":200"}),
              1)
        << i;
  }
  EXPECT_FALSE(fs::exists(dir_ / "dicom" / "100_8.dcm"));  // "Unsure" rows are not fetched
  EXPECT_EQ(server_->count_requests({"\"region\":\"eu-west-1\"", "100/4.dcm"}), 1);
  const auto log = outcomes(dir_ / "dicom" / ".download-log.jsonl");
  EXPECT_EQ(log, (std::map<std::string, std::string>{{"100_1", "ok:"},
                                                     {"100_2", "ok:"},
                                                     {"100_3", "ok:"},
                                                     {"100_4", "ok:"},
                                                     {"100_5", "failed:404 NoSuchKey"},
                                                     {"100_6", "ok:"},
                                                     {"100_7", "ok:"}}));

  // Re-run: only the missing object is asked for again.
  server_->clear_requests();
  r = run_ctprep(args({"--keep-dicom", (dir_ / "dicom").string(), "--no-convert"}));
  EXPECT_EQ(r.exit_code, 8) << r.out << r.err;
  EXPECT_NE(r.out.find("5 in CSV, 0 already in datasets, 4 already downloaded"), std::string::npos)
      << r.out;
  ASSERT_EQ(server_->requests().size(), 1u);
  EXPECT_NE(server_->requests()[0].find("100/absent.dcm"), std::string::npos);
}

TEST_F(download_cli, skips_slices_already_in_the_datasets) {
  testing::write_split(dir_ / "v3" / "train", testing::make_dataset({{"v3_thick_100_3.jpg", {}}}));
  testing::write_split(dir_ / "v3" / "valid", testing::make_dataset({{"thin_100_1.jpg", {}}}));
  testing::write_split(dir_ / "v3" / "test", testing::make_dataset({}));
  auto r = run_ctprep(args({"--existing", (dir_ / "v3").string(), "--dry-run"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("FP (high priority): 2 in CSV, 1 already in datasets, 0 already downloaded, "
                       "1 missing -> 1 to fetch"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("To fetch: 5 (FP 1, TN 4)"), std::string::npos) << r.out;
}

TEST_F(download_cli, a_wrong_secret_exits_6_with_a_clear_message_and_writes_nothing) {
  testing::write_text(dir_ / ".env",
                      fmt::format("AWS_ACCESS_KEY={}\nAWS_SECRET_KEY=WrongSecret123\n",
                                  server_->options().access_key));
  auto r =
      run_ctprep(args({"--keep-dicom", (dir_ / "dicom").string(), "--no-convert", "--jobs", "2"}));
  EXPECT_EQ(r.exit_code, 6) << r.out << r.err;
  EXPECT_NE(r.err.find("ctprep download: auth: credentials refused: 403 SignatureDoesNotMatch for "
                       "'s3://raw/100/3.dcm' (credentials from env file"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "dicom"));
  EXPECT_FALSE(fs::exists(dir_ / "pool"));
  EXPECT_EQ(r.out.find("WrongSecret123"), std::string::npos);
  EXPECT_EQ(r.err.find("WrongSecret123"), std::string::npos);
  EXPECT_LE(server_->requests().size(), 2u);  // stopped at once, not 7 refusals
}

TEST_F(download_cli, missing_credentials_and_an_unreachable_endpoint_exit_6) {
  testing::write_text(dir_ / ".env", "# nothing\n");
  auto r = run_ctprep(args({"--keep-dicom", (dir_ / "dicom").string(), "--no-convert"}));
  EXPECT_EQ(r.exit_code, 6) << r.out << r.err;
  EXPECT_NE(r.err.find("auth: no AWS credentials found"), std::string::npos) << r.err;

  auto a = args({"--keep-dicom", (dir_ / "dicom").string(), "--no-convert", "--retries", "0",
                 "--no-sign-request"});
  const auto at = std::find(a.begin(), a.end(), server_->endpoint());
  *at = "http://127.0.0.1:9";  // nothing listens there
  r = run_ctprep(a);
  EXPECT_EQ(r.exit_code, 6) << r.out << r.err;
  EXPECT_NE(r.err.find("network: nothing could be fetched: connection failed"), std::string::npos)
      << r.err;
}

TEST_F(download_cli, rejects_bad_options) {
  EXPECT_EQ(run_ctprep(args({"--no-convert"})).exit_code, 2);
  EXPECT_EQ(run_ctprep(args({"--shard", "4/4", "--dry-run"})).exit_code, 2);
  EXPECT_EQ(run_ctprep(args({"--addressing-style", "sideways"})).exit_code, 2);
  auto r = run_ctprep({"download", "--csv-path", (dir_ / "none.csv").string(), "--data-root",
                       (dir_ / "data").string(), "--dry-run"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
}

}  // namespace
}  // namespace ctprep

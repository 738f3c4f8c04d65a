// `ctprep download` end to end: the built binary against a real S3 (s3rver) behind our
// SigV4-verifying, fault-injecting proxy.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/dicom/convert.hpp"
#include "ctprep/dicom/synth.hpp"
#include "ctprep/imaging/codec.hpp"
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

// Larger than what a streamed body stages before writing (256 KB), not a whole number
// of pages.
std::string big_blob(int i) {
  std::string s(1200 * 1024 + 77 * static_cast<std::size_t>(i), '\0');
  for (std::size_t k = 0; k < s.size(); ++k)
    s[k] = static_cast<char>(((k >> 3) * 29 + k + static_cast<std::size_t>(i)) & 0xff);
  return s;
}

// Waits (up to 60 s) until the server has seen a request for `key`.
void wait_for_request(const testing::s3_server& server, const std::string& key) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (server.count_requests({fmt::format("\"key\":\"{}\"", key)}) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    ::usleep(50000);
  }
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
    for (int i = 1; i <= 3; ++i) {
      testing::write_text(objects_->path() / "raw" / "101" / fmt::format("{}.dcm", i), big_blob(i));
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

// --no-convert streams bodies to temp files in whole pages: killed in the middle of a
// body, the run leaves a page-aligned partial temp file and never a final name; the
// re-run removes it and ends with the exact objects, fetching finished ones no more.
TEST_F(download_cli, a_no_convert_run_killed_mid_body_resumes_with_exact_files) {
  testing::write_text(dir_ / "big.csv",
                      "patient_id,instance_no,classification_result,image_url\n"
                      "101,1,True Negative (TN),s3://raw/101/1.dcm\n"
                      "101,2,True Negative (TN),s3://raw/101/2.dcm\n"
                      "101,3,True Negative (TN),s3://raw/101/3.dcm\n");
  server_->set_faults(R"({"raw/101/2.dcm": ["stall"]})", /*stall_ms=*/60000);
  auto a = args({"--keep-dicom", (dir_ / "dicom").string(), "--no-convert", "--jobs", "1",
                 "--stall-timeout", "120", "--quiet"});
  a[2] = (dir_ / "big.csv").string();
  const pid_t pid = testing::start_ctprep(a);
  ASSERT_GT(pid, 0);
  wait_for_request(*server_, "101/2.dcm");
  ::usleep(500000);  // half of the body arrives, then the server stalls
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(testing::read_text(dir_ / "dicom" / "101_1.dcm"), big_blob(1));
  EXPECT_FALSE(fs::exists(dir_ / "dicom" / "101_2.dcm"));
  int temps = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "dicom")) {
    const auto name = e.path().filename().string();
    if (!name.starts_with(".101_2.dcm.tmp.")) continue;
    ++temps;
    const auto size = fs::file_size(e.path());
    EXPECT_GT(size, 0u);
    EXPECT_EQ(size % 4096, 0u) << size;
    EXPECT_LE(size, big_blob(2).size() / 2);
    EXPECT_EQ(testing::read_text(e.path()), big_blob(2).substr(0, size));
  }
  EXPECT_EQ(temps, 1);

  server_->set_faults("{}");
  auto r = run_ctprep(a);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(testing::read_text(dir_ / "dicom" / fmt::format("101_{}.dcm", i)), big_blob(i)) << i;
  }
  EXPECT_EQ(server_->count_requests({"\"key\":\"101/1.dcm\"", "\"status\":200"}), 1);
  for (const auto& e : fs::directory_iterator(dir_ / "dicom")) {
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  }
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

// ---- with conversion: synthetic DICOM slices in the bucket ---------------------------

namespace ctprep {
namespace {

std::string synth_bytes(int instance, double thickness) {
  dicom::synth_slice_spec spec;
  spec.patient_id = "200";
  spec.instance = instance;
  spec.slices_in_series = 16;
  spec.thickness = thickness;
  spec.seed = 7;
  auto s = dicom::synthesize_slice(spec);
  if (!s) throw std::runtime_error(s.error().message);
  return s->bytes;
}

class download_convert_cli : public ::testing::Test {
 protected:
  static constexpr int slices = 12;
  static void SetUpTestSuite() {
    if (testing::find_node().empty() ||
        !fs::exists(testing::servers_dir() / "node_modules" / "s3rver")) {
      return;
    }
    objects_ = std::make_unique<testing::temp_dir>();
    for (int i = 1; i <= slices; ++i) {
      // Slice 5 is 3 mm thick (skipped by the filter); slice 6 is not DICOM.
      const std::string bytes = i == 6 ? std::string("not a dicom file at all")
                                       : synth_bytes(i, i == 5 ? 3.0 : (i % 2 ? 5.0 : 5.5));
      testing::write_text(objects_->path() / "ct" / "200" / fmt::format("{}.dcm", i), bytes);
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
    std::string csv = "patient_id,instance_no,classification_result,image_url\n";
    for (int i = 1; i <= slices; ++i) {
      csv += fmt::format("200,{},{},s3://ct/200/{}.dcm\n", i,
                         i == 9 ? "False Positive (FP)" : "True Negative (TN)", i);
    }
    testing::write_text(dir_ / "f.csv", csv);
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
                                  (dir_ / "creds.env").string(),
                                  "--retry-base-ms",
                                  "5"};
    testing::write_text(dir_ / "creds.env",
                        fmt::format("AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\n",
                                    server_->options().access_key, server_->options().secret_key));
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  // Every PNG in the pool decodes; returns their names.
  std::set<std::string> decodable_pngs() const {
    std::set<std::string> out;
    if (!fs::exists(dir_ / "pool")) return out;
    for (const auto& e : fs::directory_iterator(dir_ / "pool")) {
      const auto name = e.path().filename().string();
      if (!name.ends_with(".png") || name.starts_with(".")) continue;
      auto img = imaging::decode_image(testing::read_text(e.path()), name);
      EXPECT_TRUE(img) << name << " does not decode";
      if (img) out.insert(name);
    }
    return out;
  }

  testing::temp_dir dir_;
  static inline std::unique_ptr<testing::temp_dir> objects_;
  static inline std::unique_ptr<testing::s3_server> server_;
};

TEST_F(download_convert_cli, converts_skips_by_thickness_fails_bad_dicom_and_annotates) {
  auto r = run_ctprep(args({"--keep-dicom", (dir_ / "dicom").string(), "--annotate", "--jobs", "4",
                            "--convert-threads", "2"}));
  EXPECT_EQ(r.exit_code, 8) << r.out << r.err;
  EXPECT_NE(r.out.find("✅ Successful: 10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("⏭️  Skipped (slice thickness): 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("❌ Failed: 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("📊 Total attempted: 12"), std::string::npos) << r.out;
  // Secrets never appear anywhere.
  for (const auto& text :
       {r.out, r.err, testing::read_text(dir_ / "pool" / ".download-log.jsonl")}) {
    EXPECT_EQ(text.find(server_->options().secret_key), std::string::npos);
  }
  dicom::convert_options defaults;
  for (int i = 1; i <= slices; ++i) {
    const auto png = dir_ / "pool" / fmt::format("200_{}.png", i);
    if (i == 5 || i == 6) {
      EXPECT_FALSE(fs::exists(png)) << i;
      continue;
    }
    // The exact bytes `convert` makes of the same object.
    const auto source =
        testing::read_text(objects_->path() / "ct" / "200" / fmt::format("{}.dcm", i));
    auto expected = dicom::convert_dicom(source, "x", defaults);
    ASSERT_TRUE(expected);
    EXPECT_EQ(testing::read_text(png), expected->png_bytes) << i;
    EXPECT_EQ(testing::read_text(dir_ / "dicom" / fmt::format("200_{}.dcm", i)), source) << i;
    EXPECT_EQ(server_->count_requests({fmt::format("\"key\":\"200/{}.dcm\"", i)}), 1) << i;
  }
  const auto log = testing::read_text(dir_ / "pool" / ".download-log.jsonl");
  EXPECT_NE(log.find(R"("id":"200_5","class":"TN","url":"s3://ct/200/5.dcm","outcome":"skipped")"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(R"("id":"200_6","class":"TN","url":"s3://ct/200/6.dcm","outcome":"failed")"),
            std::string::npos)
      << log;
  auto coco = coco::read_file(dir_ / "pool" / "_annotations.coco.json");
  ASSERT_TRUE(coco) << coco.error().message;
  EXPECT_EQ(coco->images.size(), 10u);
  EXPECT_EQ(coco->images.front().file_name, "200_1.png");
  EXPECT_EQ(coco->images.front().width, 512);
  EXPECT_TRUE(coco->annotations.empty());
}

TEST_F(download_convert_cli, a_run_killed_half_way_resumes_to_a_complete_pool) {
  // Slice 7 stalls (longer than the test waits): with one transfer in flight the run
  // stops there, having finished slices 9 (FP first), 1, 2, 3, 4.
  server_->set_faults(R"({"ct/200/7.dcm": ["stall"]})", /*stall_ms=*/60000);
  auto a = args({"--jobs", "1", "--stall-timeout", "120", "--quiet"});
  const pid_t pid = testing::start_ctprep(a);
  ASSERT_GT(pid, 0);
  wait_for_request(*server_, "200/7.dcm");
  ::usleep(300000);  // let the conversions before the stall finish (or not: either is fine)
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  const auto after_kill = decodable_pngs();  // every PNG there decodes: none half-written
  EXPECT_LE(after_kill.size(), 5u);
  EXPECT_GE(after_kill.size(), 1u);

  server_->set_faults("{}");
  auto r = run_ctprep(args({"--quiet"}));
  EXPECT_EQ(r.exit_code, 8) << r.out << r.err;  // slice 6 is not DICOM
  EXPECT_NE(r.out.find("✅ Successful: " + std::to_string(10 - after_kill.size())),
            std::string::npos)
      << r.out;
  const auto all = decodable_pngs();
  EXPECT_EQ(all.size(), 10u);
  for (const auto& name : after_kill) {
    // Finished before the kill: fetched once, never again.
    const auto inst = name.substr(4, name.size() - 8);
    EXPECT_EQ(
        server_->count_requests({fmt::format("\"key\":\"200/{}.dcm\"", inst), "\"status\":200"}), 1)
        << name;
  }
  for (const auto& e : fs::directory_iterator(dir_ / "pool")) {
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  }
}

TEST_F(download_convert_cli, shards_split_the_plan_so_each_slice_is_fetched_once) {
  auto r0 = run_ctprep(args({"--shard", "0/2", "--no-filter-thickness", "--quiet"}));
  auto r1 = run_ctprep(args({"--shard", "1/2", "--no-filter-thickness", "--quiet"}));
  // Slice 6 (not DICOM) is in exactly one of them.
  EXPECT_TRUE((r0.exit_code == 8 && r1.exit_code == 0) || (r0.exit_code == 0 && r1.exit_code == 8))
      << r0.out << r0.err << r1.out << r1.err;
  EXPECT_NE(r0.out.find("Shard 0/2: "), std::string::npos) << r0.out;
  EXPECT_EQ(decodable_pngs().size(), 11u);
  for (int i = 1; i <= slices; ++i) {
    EXPECT_EQ(server_->count_requests({fmt::format("\"key\":\"200/{}.dcm\"", i)}), 1) << i;
  }
}

}  // namespace
}  // namespace ctprep

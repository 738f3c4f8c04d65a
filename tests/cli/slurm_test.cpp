// `ctprep slurm-script download` + `ctprep download-merge` on a real one-node Slurm
// cluster (tests/support/slurm_cluster), against s3rver behind the SigV4-verifying,
// fault-injecting proxy (tests/support/s3_server.hpp).
//
// Rule for "fetched exactly once": the proxy logs every request; for each planned object
// exactly one request is an un-faulted 200 (the one whose body became the PNG). Requests
// that met an injected fault (503, reset...) are retries the fault caused: an object with
// k injected faults is requested exactly k + 1 times. Unplanned objects are never asked for.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "ctprep/dicom/synth.hpp"
#include "ctprep/imaging/codec.hpp"
#include "ctprep/pipeline/download.hpp"
#include "support/s3_server.hpp"
#include "support/slurm_cluster.hpp"
#include "support/testing.hpp"

namespace ctprep {
namespace {
namespace fs = std::filesystem;
using testing::run_ctprep;

constexpr int slices = 16;      // objects in the bucket
constexpr int max_images = 14;  // the plan: FP 3, 7, 11, 15, then TN in CSV order
constexpr std::array<int, max_images> planned = {3, 7, 11, 15, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13};
constexpr std::uint64_t shards = 4;

std::string key_of(int instance) {
  return fmt::format("\"key\":\"300/{}.dcm\"", instance);
}

class slurm_cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    missing_ = testing::slurm_cluster::missing_programs();
    if (!missing_.empty() || testing::find_node().empty() ||
        !fs::exists(testing::servers_dir() / "node_modules" / "s3rver")) {
      return;
    }
    objects_ = std::make_unique<testing::temp_dir>();
    for (int i = 1; i <= slices; ++i) {
      dicom::synth_slice_spec spec;
      spec.patient_id = "300";
      spec.instance = i;
      spec.slices_in_series = slices;
      spec.seed = 11;
      auto s = dicom::synthesize_slice(spec);
      ASSERT_TRUE(s) << s.error().message;
      testing::write_text(objects_->path() / "ct" / "300" / fmt::format("{}.dcm", i), s->bytes);
    }
    testing::s3_server_options o;
    o.objects = objects_->path();
    server_ = std::make_unique<testing::s3_server>(o);
    try {
      cluster_ = std::make_unique<testing::slurm_cluster>();
    } catch (const std::exception& e) {
      cluster_error_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    cluster_.reset();
    server_.reset();
    objects_.reset();
  }
  void SetUp() override {
    // Slurm missing is a failure, not a skip: CI installs it (scripts/setup.d/slurm.packages).
    ASSERT_TRUE(missing_.empty()) << "Slurm/munge programs missing: " << missing_
                                  << ": run scripts/setup";
    CTPREP_REQUIRE_S3_SERVER();
    ASSERT_TRUE(server_);
    ASSERT_TRUE(cluster_) << "the Slurm test cluster did not start: " << cluster_error_;
    server_->set_faults("{}");
    std::string csv = "patient_id,instance_no,classification_result,image_url\n";
    for (int i = 1; i <= slices; ++i) {
      csv += fmt::format("300,{},{},s3://ct/300/{}.dcm\n", i,
                         i % 4 == 3 ? "False Positive (FP)" : "True Negative (TN)", i);
    }
    testing::write_text(dir_ / "f.csv", csv);
    testing::write_text(dir_ / "creds.env",
                        fmt::format("AWS_ACCESS_KEY={}\nAWS_SECRET_KEY={}\n",
                                    server_->options().access_key, server_->options().secret_key));
    // The plan of a single process, and each planned instance's shard.
    for (int i : planned) {
      shard_of_[i] = pipeline::shard_of({"300", std::to_string(i)}, shards);
    }
    server_->clear_requests();
  }

  // The same plan in one process: the reference pool.
  void make_reference() {
    auto r = run_ctprep(download_args(dir_ / "reference", {"--annotate"}));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    server_->clear_requests();
  }

  std::vector<std::string> download_args(const fs::path& out,
                                         std::vector<std::string> extra = {}) const {
    std::vector<std::string> a = {"download",
                                  "--csv-path",
                                  (dir_ / "f.csv").string(),
                                  "--output-dir",
                                  out.string(),
                                  "--data-root",
                                  (dir_ / "data").string(),
                                  "--max-images",
                                  std::to_string(max_images),
                                  "--endpoint-url",
                                  server_->endpoint(),
                                  "--env-file",
                                  (dir_ / "creds.env").string(),
                                  "--retry-base-ms",
                                  "5",
                                  "--convert-threads",
                                  "1",
                                  "--quiet"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  // Writes the job script for `out` and returns its path.
  fs::path write_script(const fs::path& out, std::vector<std::string> extra = {}) const {
    auto a = download_args(out, std::move(extra));
    a[0] = "download";
    a.insert(a.begin(), "slurm-script");
    a.insert(a.end(), {"--shards", std::to_string(shards), "--log-dir",
                       (dir_ / "slurm-logs").string(), "--cpus-per-task", "1"});
    auto r = run_ctprep(a);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto path = dir_ / fmt::format("{}.sbatch", out.filename().string());
    testing::write_text(path, r.out);
    return path;
  }

  // Runs `bash script [args]`; returns (array job id, merge job id).
  std::pair<std::string, std::string> submit(const fs::path& script,
                                             std::vector<std::string> args = {}) const {
    std::vector<std::string> words = {"bash", script.string()};
    words.insert(words.end(), args.begin(), args.end());
    auto r = testing::run_command(words);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::smatch m;
    if (!std::regex_search(r.output, m, std::regex(R"(job array (\d+) .*merge: job (\d+))"))) {
      ADD_FAILURE() << "no job ids in: " << r.output;
      return {};
    }
    return {m[1].str(), m[2].str()};
  }

  // The pool's files (not the hidden logs and records): name -> bytes.
  static std::map<std::string, std::string> pool(const fs::path& dir) {
    std::map<std::string, std::string> out;
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir)) {
      const auto name = e.path().filename().string();
      if (e.is_regular_file() && !name.starts_with(".")) out[name] = testing::read_text(e.path());
    }
    return out;
  }

  void expect_same_pool(const fs::path& dir) const {
    const auto expected = pool(dir_ / "reference");
    const auto got = pool(dir);
    ASSERT_EQ(expected.size(), static_cast<std::size_t>(max_images) + 1);  // + the COCO file
    std::set<std::string> expected_names, got_names;
    for (const auto& [name, bytes] : expected) expected_names.insert(name);
    for (const auto& [name, bytes] : got) got_names.insert(name);
    ASSERT_EQ(got_names, expected_names) << logs();
    for (const auto& [name, bytes] : expected) {
      EXPECT_TRUE(got.at(name) == bytes) << name << " differs from the single-process run";
    }
  }

  std::string logs() const {
    std::string out;
    if (!fs::exists(dir_ / "slurm-logs")) return out;
    for (const auto& e : fs::directory_iterator(dir_ / "slurm-logs")) {
      out += "--- " + e.path().filename().string() + "\n" + testing::read_text(e.path());
    }
    return out + cluster_->log_tail();
  }

  testing::temp_dir dir_;
  std::map<int, std::uint64_t> shard_of_;  // planned instance -> shard
  static inline std::string missing_;
  static inline std::string cluster_error_;
  static inline std::unique_ptr<testing::temp_dir> objects_;
  static inline std::unique_ptr<testing::s3_server> server_;
  static inline std::unique_ptr<testing::slurm_cluster> cluster_;
};

TEST_F(slurm_cli, a_job_array_of_4_shards_fetches_each_object_once_and_merges_to_the_single_run) {
  // Faults on every object of shard 2: each is refused once (503), then cut off half-way.
  std::string faults;
  int faulted = 0;
  for (const auto& [i, shard] : shard_of_) {
    if (shard != 2) continue;
    faults +=
        fmt::format("{}\"ct/300/{}.dcm\": [\"503\", \"reset\"]", faults.empty() ? "" : ", ", i);
    ++faulted;
  }
  ASSERT_GT(faulted, 0);
  ASSERT_NO_FATAL_FAILURE(make_reference());
  server_->set_faults("{" + faults + "}");

  const auto script = write_script(dir_ / "pool");
  const auto text = testing::read_text(script);
  EXPECT_NE(text.find("#SBATCH --array=0-3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("_%A_%a.out\n"), std::string::npos) << text;
  EXPECT_NE(text.find("--shard \"${SLURM_ARRAY_TASK_ID}/${shards}\""), std::string::npos);
  const auto [array_id, merge_id] = submit(script);
  ASSERT_FALSE(merge_id.empty());
  ASSERT_TRUE(cluster_->wait_for_job(merge_id)) << logs();
  ASSERT_TRUE(cluster_->wait_for_job(array_id)) << logs();

  const auto states = cluster_->job_states(array_id);
  ASSERT_EQ(states.size(), shards) << logs();
  for (std::uint64_t k = 0; k < shards; ++k) {
    EXPECT_EQ(states.at(fmt::format("{}_{}", array_id, k)), "COMPLETED") << k << logs();
  }
  EXPECT_EQ(cluster_->job_states(merge_id).at(merge_id), "COMPLETED") << logs();
  // The merge job waited for the array (afterok): it started after every task ended.
  const auto merge_start = cluster_->job_field(merge_id, "StartTime").at(merge_id);
  for (const auto& [task, end] : cluster_->job_field(array_id, "EndTime")) {
    EXPECT_GE(merge_start, end) << task;  // ISO times compare as text
  }
  EXPECT_NE(text.find("--dependency=afterok:"), std::string::npos);

  for (int i = 1; i <= slices; ++i) {
    const bool in_plan = shard_of_.contains(i);
    const int faults_here = in_plan && shard_of_.at(i) == 2 ? 2 : 0;
    EXPECT_EQ(server_->count_requests({key_of(i), "\"fault\":null", "\"status\":200"}),
              in_plan ? 1 : 0)
        << i;
    EXPECT_EQ(server_->count_requests({key_of(i)}), in_plan ? 1 + faults_here : 0) << i;
  }
  expect_same_pool(dir_ / "pool");
  const auto summary = testing::read_text(dir_ / "pool" / ".download-summary.json");
  EXPECT_NE(summary.find("\"ok\": 14"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"complete\": true"), std::string::npos) << summary;
}

TEST_F(slurm_cli, a_shard_killed_half_way_blocks_the_merge_until_rerun_alone_then_matches) {
  // Shard 1's third object stalls: with one transfer in flight the task stops there.
  std::vector<int> shard1;
  for (int i : planned) {
    if (shard_of_.at(i) == 1) shard1.push_back(i);
  }
  ASSERT_GE(shard1.size(), 3u) << "choose a CSV that gives shard 1 three slices";
  const int stalled = shard1[2];
  ASSERT_NO_FATAL_FAILURE(make_reference());
  server_->set_faults(fmt::format(R"({{"ct/300/{}.dcm": ["stall"]}})", stalled),
                      /*stall_ms=*/60000);
  const auto script = write_script(dir_ / "pool", {"--jobs", "1", "--stall-timeout", "120"});
  const auto [array_id, merge_id] = submit(script);
  ASSERT_FALSE(merge_id.empty());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (server_->count_requests({key_of(stalled)}) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(server_->count_requests({key_of(stalled)}), 1) << logs();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto cancelled = testing::run_command({"scancel", array_id + "_1"});
  ASSERT_EQ(cancelled.exit_code, 0) << cancelled.output;
  ASSERT_TRUE(cluster_->wait_for_job(array_id)) << logs();
  ASSERT_TRUE(cluster_->wait_for_job(merge_id)) << logs();
  EXPECT_EQ(cluster_->job_states(array_id).at(array_id + "_1"), "CANCELLED") << logs();
  // afterok cannot be met any more: the merge job was cancelled, it never ran.
  EXPECT_NE(cluster_->job_states(merge_id).at(merge_id), "COMPLETED") << logs();
  EXPECT_FALSE(fs::exists(dir_ / "pool" / "_annotations.coco.json"));

  // What the kill left: whole PNGs only, shard 1 short of its items.
  std::set<int> finished_at_kill;
  for (const auto& [name, bytes] : pool(dir_ / "pool")) {
    EXPECT_TRUE(imaging::decode_image(bytes, name)) << name << " is not a whole PNG";
    const int i = std::stoi(name.substr(4));
    if (shard_of_.at(i) == 1) finished_at_kill.insert(i);
  }
  EXPECT_LT(finished_at_kill.size(), shard1.size());
  EXPECT_FALSE(finished_at_kill.contains(stalled));

  // The merge refuses, names the shard, writes nothing.
  auto merge =
      run_ctprep({"download-merge", "--output-dir", (dir_ / "pool").string(), "--shards", "4"});
  EXPECT_EQ(merge.exit_code, 7) << merge.out << merge.err;
  EXPECT_NE(merge.err.find("validation_failed: 1 of 4 shards incomplete (1)"), std::string::npos)
      << merge.err;
  EXPECT_NE(merge.out.find("shard 1/4: its last run did not finish"), std::string::npos)
      << merge.out;
  EXPECT_FALSE(fs::exists(dir_ / "pool" / "_annotations.coco.json"));
  EXPECT_FALSE(fs::exists(dir_ / "pool" / ".download-summary.json"));

  // Shard 1 alone again (sbatch --array=1), then the merge after it.
  server_->set_faults("{}");
  const auto before = server_->requests().size();
  const auto [rerun_id, remerge_id] = submit(script, {"rerun", "1"});
  ASSERT_FALSE(remerge_id.empty());
  ASSERT_TRUE(cluster_->wait_for_job(remerge_id)) << logs();
  EXPECT_EQ(cluster_->job_states(rerun_id).at(rerun_id + "_1"), "COMPLETED") << logs();
  EXPECT_EQ(cluster_->job_states(remerge_id).at(remerge_id), "COMPLETED") << logs();

  // The re-run asked only for shard 1's unfinished objects, once each.
  const auto all = server_->requests();
  std::map<std::string, int> rerun_gets;
  for (std::size_t r = before; r < all.size(); ++r) {
    const auto at = all[r].find("\"key\":\"") + 7;
    ++rerun_gets[all[r].substr(at, all[r].find('"', at) - at)];
  }
  std::map<std::string, int> expected;
  for (int i : shard1) {
    if (!finished_at_kill.contains(i)) expected[fmt::format("300/{}.dcm", i)] = 1;
  }
  EXPECT_EQ(rerun_gets, expected);
  expect_same_pool(dir_ / "pool");
  for (const auto& e : fs::directory_iterator(dir_ / "pool")) {
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  }
}

TEST_F(slurm_cli, with_merge_after_any_a_shard_with_a_missing_object_does_not_block_the_merge) {
  // One more FP row whose object does not exist: its shard ends with exit 8.
  testing::write_text(dir_ / "f.csv", testing::read_text(dir_ / "f.csv") +
                                          "300,99,False Positive (FP),s3://ct/300/absent.dcm\n");
  const auto any_script = dir_ / "any.sbatch";
  auto a = download_args(dir_ / "pool");
  a.insert(a.begin(), "slurm-script");
  a.insert(a.end(), {"--shards", std::to_string(shards), "--log-dir",
                     (dir_ / "slurm-logs").string(), "--merge-after", "any"});
  auto made = run_ctprep(a);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_NE(made.out.find("after=(--dependency=afterany:"), std::string::npos) << made.out;
  testing::write_text(any_script, made.out);
  const auto [array_id, merge_id] = submit(any_script);
  ASSERT_FALSE(merge_id.empty());
  ASSERT_TRUE(cluster_->wait_for_job(merge_id)) << logs();
  const auto failed_shard = pipeline::shard_of({"300", "99"}, shards);
  EXPECT_EQ(
      cluster_->job_field(array_id, "ExitCode").at(fmt::format("{}_{}", array_id, failed_shard)),
      "8:0")
      << logs();
  // The merge ran, wrote the pool and lists the failure; exit 8 (partial).
  EXPECT_EQ(cluster_->job_field(merge_id, "ExitCode").at(merge_id), "8:0") << logs();
  const auto coco = testing::read_text(dir_ / "pool" / "_annotations.coco.json");
  EXPECT_NE(coco.find("\"300_12.png\""), std::string::npos);  // the plan's last slice
  EXPECT_EQ(coco.find("300_99.png"), std::string::npos);
  const auto summary = testing::read_text(dir_ / "pool" / ".download-summary.json");
  EXPECT_NE(summary.find("\"id\": \"300_99\""), std::string::npos) << summary;
  EXPECT_NE(summary.find("404 NoSuchKey"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"ok\": 13"), std::string::npos) << summary;
}

TEST_F(slurm_cli, slurm_script_and_merge_reject_bad_input) {
  auto r = run_ctprep({"slurm-script", "download", "--csv-pth", "x.csv", "--shards", "4"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--csv-pth"), std::string::npos) << r.err;
  r = run_ctprep({"slurm-script", "download", "--shard", "1/4", "--shards", "4"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_ctprep({"slurm-script", "download", "--shards", "0"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_ctprep({"slurm-script", "convert", "--shards", "2"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // Quoting: a value with a quote and a space reaches the task as one word.
  r = run_ctprep({"slurm-script", "download", "--csv-path", "it's here.csv", "--shards", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(R"(download_args=(--csv-path 'it'\''s here.csv'))"), std::string::npos)
      << r.out;

  // A shard that never ran is named; no folder at all is exit 3.
  fs::create_directories(dir_ / "empty");
  r = run_ctprep({"download-merge", "--output-dir", (dir_ / "empty").string(), "--shards", "2"});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_NE(r.out.find("shard 0/2: never ran"), std::string::npos) << r.out;
  r = run_ctprep({"download-merge", "--output-dir", (dir_ / "none").string(), "--shards", "2"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(run_ctprep(download_args(dir_ / "p", {"--shard", "2/2", "--dry-run"})).exit_code, 2);
  EXPECT_EQ(run_ctprep(download_args(dir_ / "p", {"--shard", "1-2", "--dry-run"})).exit_code, 2);
  // A shard must log (the merge reads the logs) and leaves the COCO file to the merge.
  r = run_ctprep(download_args(dir_ / "p", {"--shard", "0/2", "--no-log"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--no-log with --shard"), std::string::npos) << r.err;
  EXPECT_EQ(run_ctprep(download_args(dir_ / "p", {"--shard", "0/2", "--annotate"})).exit_code, 2);
  EXPECT_FALSE(fs::exists(dir_ / "p"));
}

}  // namespace
}  // namespace ctprep

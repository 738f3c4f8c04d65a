// End-to-end: `ctprep run` on a synthetic demo world with a local object store, its
// checkpoints, its manifest, and a run killed half-way then re-run.
#include <csignal>
#include <map>
#include <set>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ctprep/pipeline/manifest.hpp"
#include "support/s3_server.hpp"
#include "support/testing.hpp"

namespace ctprep {
namespace {
namespace fs = std::filesystem;
using testing::run_ctprep;

void make_world(const fs::path& dir) {
  ASSERT_EQ(
      run_ctprep({"synth", "world", "--out", (dir / "data").string(), "--scale", "demo", "--quiet"})
          .exit_code,
      0);
  auto store = run_ctprep({"synth", "store", "--data-root", (dir / "data").string(), "--store",
                           (dir / "store").string(), "--tn-rows", "40"});
  ASSERT_EQ(store.exit_code, 0) << store.err;
}

// Path -> SHA-256 of every file of the release except the records that name the run
// itself: the manifest (stage timings), validation.json and report.html (they name the
// absolute paths checked, and the two runs compared live in different folders).
std::map<std::string, std::string> release_hashes(const fs::path& data_root) {
  std::map<std::string, std::string> out;
  auto entries = pipeline::hash_tree(data_root / "training_datasets" / "v4");
  EXPECT_TRUE(entries);
  if (!entries) return out;
  for (const auto& e : *entries) {
    if (e.path == "validation.json" || e.path == "report.html") continue;
    out[e.path] = e.sha256 + (e.link.empty() ? "" : " -> " + e.link);
  }
  return out;
}

// The paths whose hash differs, or that only one of the trees has (readable on failure,
// unlike two maps of several hundred entries).
std::vector<std::string> differing_paths(const std::map<std::string, std::string>& a,
                                         const std::map<std::string, std::string>& b) {
  std::vector<std::string> out;
  for (const auto& [path, hash] : a) {
    auto it = b.find(path);
    if (it == b.end() || it->second != hash) out.push_back(path);
  }
  for (const auto& [path, hash] : b) {
    if (!a.contains(path)) out.push_back(path + " (only in the second)");
  }
  return out;
}

std::size_t count_files(const fs::path& dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    n += it->is_regular_file(ec) ? 1 : 0;
  }
  return n;
}

std::vector<std::string> run_args(const fs::path& dir) {
  return {"run", "--data-root", (dir / "data").string(), "--max-images", "25", "--quiet"};
}

TEST(cli_run, runs_the_whole_workflow_offline_and_a_rerun_skips_every_stage) {
  testing::temp_dir dir;
  make_world(dir.path());
  auto first = run_ctprep(run_args(dir.path()));
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const auto release = dir / "data" / "training_datasets" / "v4";
  for (const char* d :
       {"6class_coco", "6class_coco_original", "4class_coco", "4class_coco_original"}) {
    EXPECT_TRUE(fs::exists(release / d / "train" / "_annotations.coco.json")) << d;
  }
  EXPECT_TRUE(fs::exists(dir / "data" / "metadata" / "v4_dataset_6class.csv"));
  EXPECT_TRUE(fs::exists(dir / "data" / "metadata" / "v4_dataset_4class.csv"));
  EXPECT_TRUE(fs::exists(dir / "data" / ".ctprep" / "run.json"));
  EXPECT_NE(first.out.find("━━━ summary ━━━"), std::string::npos);

  auto verify = run_ctprep({"verify-manifest", release.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  const auto before = release_hashes(dir / "data");
  auto second = run_ctprep(run_args(dir.path()));
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(std::count(second.out.begin(), second.out.end(), '\n') > 0, true);
  for (const char* stage :
       {"download", "annotate", "prepare", "validate", "analyze", "export-csv"}) {
    EXPECT_NE(second.out.find(std::string(stage) +
                              std::string(12 - std::string(stage).size(), ' ') + " up to date"),
              std::string::npos)
        << stage << "\n"
        << second.out;
  }
  EXPECT_EQ(release_hashes(dir / "data"), before);

  // A tampered output is found by verify-manifest, and --force prepare rebuilds it.
  const auto some_image = release / "6class_coco_original" / "valid";
  for (const auto& f : fs::directory_iterator(some_image)) {
    if (f.path().extension() == ".json") continue;
    // Replace the file (originals are hard links into the pool: writing through the link
    // would damage the pool too).
    fs::remove(f.path());
    testing::write_text(f.path(), "tampered");
    break;
  }
  EXPECT_EQ(run_ctprep({"verify-manifest", release.string()}).exit_code, 7);
  auto forced = run_ctprep({"run", "--data-root", (dir / "data").string(), "--max-images", "25",
                            "--quiet", "--force", "prepare"});
  ASSERT_EQ(forced.exit_code, 0) << forced.out << forced.err;
  EXPECT_EQ(release_hashes(dir / "data"), before);
}

TEST(cli_run, a_run_killed_half_way_and_rerun_ends_with_the_same_bytes) {
  testing::temp_dir clean, killed;
  make_world(clean.path());
  make_world(killed.path());
  auto no_download = [](const fs::path& d) {
    auto args = run_args(d);
    args.push_back("--skip-download");
    return args;
  };
  ASSERT_EQ(run_ctprep(no_download(clean.path())).exit_code, 0);

  // Start the same run and SIGKILL it half-way through prepare. The
  // download stage is left out: its own resume is tested in download_test.cpp, and a
  // re-run download fetches --max-images *more* slices by design (what is already in the
  // pool counts as present).
  const pid_t child = testing::start_ctprep(no_download(killed.path()));
  ASSERT_GT(child, 0);
  // Kill it in the middle of prepare: once its staging folder holds some images (or after
  // 20 s, whatever stage that is).
  const auto staging = killed / "data" / "training_datasets" / "v4" / ".ctprep-staging";
  for (int i = 0; i < 2000 && count_files(staging) < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";

  auto rerun = run_ctprep(no_download(killed.path()));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  EXPECT_EQ(differing_paths(release_hashes(killed / "data"), release_hashes(clean / "data")),
            std::vector<std::string>{});
  EXPECT_EQ(testing::read_text(killed / "data" / "metadata" / "v4_dataset_6class.csv"),
            testing::read_text(clean / "data" / "metadata" / "v4_dataset_6class.csv"));
}

// The demo world served from a real S3 server (s3rver behind the SigV4-verifying proxy):
// synth world uploads its store with signed PUTs, then `ctprep run` fetches through
// injected faults, and the release is byte for byte the one made from a file:// store.
TEST(cli_run, the_workflow_against_s3_with_faults_gives_the_release_of_a_local_store) {
  CTPREP_REQUIRE_S3_SERVER();
  testing::temp_dir local, remote, objects;
  make_world(local.path());
  ASSERT_EQ(run_ctprep(run_args(local.path())).exit_code, 0);

  fs::create_directories(objects / "demo-bucket");  // an empty bucket to upload into
  testing::s3_server_options so;
  so.objects = objects.path();
  testing::s3_server server(so);
  testing::write_text(remote / ".env",
                      fmt::format("AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\n", so.access_key,
                                  so.secret_key));
  const std::vector<std::string> s3 = {"--endpoint-url", server.endpoint(), "--env-file",
                                       (remote / ".env").string()};
  auto world_args = std::vector<std::string>{
      "synth", "world",       "--out",           (remote / "data").string(),  "--scale",
      "demo",  "--quiet",     "--with-store",    (remote / "store").string(), "--tn-rows",
      "40",    "--store-url", "s3://demo-bucket"};
  world_args.insert(world_args.end(), s3.begin(), s3.end());
  auto world = run_ctprep(world_args);
  ASSERT_EQ(world.exit_code, 0) << world.out << world.err;
  const int puts = server.count_requests({"\"method\":\"PUT\"", "\"status\":200"});
  EXPECT_GT(puts, 40);
  EXPECT_EQ(server.count_requests({"\"method\":\"PUT\"", "\"signed\":true"}), puts);

  // A fault on every object the CSV lists (which of them the plan takes is download's
  // business): each fetched object meets one fault, is retried, and arrives once.
  const std::vector<std::string> kinds = {"503", "reset", "truncate", "500"};
  std::string faults;
  {
    std::istringstream csv(
        testing::read_text(remote / "data" / "metadata" / "no_hemorrhage_positive_feedback.csv"));
    std::size_t n = 0;
    for (std::string line; std::getline(csv, line);) {
      const auto at = line.find("s3://demo-bucket/");
      if (at == std::string::npos) continue;
      auto key = line.substr(at + 5);
      if (key.ends_with('\r')) key.pop_back();
      faults += fmt::format(R"({}"{}": ["{}"])", faults.empty() ? "" : ", ", key,
                            kinds[n++ % kinds.size()]);
    }
    ASSERT_GT(n, 25u);
  }
  server.set_faults("{" + faults + "}");
  server.clear_requests();

  auto args = run_args(remote.path());
  args.insert(args.end(), s3.begin(), s3.end());
  auto run = run_ctprep(args);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(differing_paths(release_hashes(remote / "data"), release_hashes(local / "data")),
            std::vector<std::string>{});
  EXPECT_EQ(testing::read_text(remote / "data" / "metadata" / "v4_dataset_6class.csv"),
            testing::read_text(local / "data" / "metadata" / "v4_dataset_6class.csv"));

  // Every fetched object met its fault, was retried, and was fetched successfully once.
  std::multiset<std::string> fetched;
  int faults_met = 0;
  for (const auto& r : server.requests()) {
    if (r.find("\"method\":\"GET\"") == std::string::npos) continue;
    if (r.find("\"fault\":null") == std::string::npos) {
      ++faults_met;
      continue;
    }
    if (r.find("\"status\":200") == std::string::npos) continue;
    const auto at = r.find("\"key\":\"");
    fetched.insert(r.substr(at + 7, r.find('"', at + 7) - at - 7));
  }
  EXPECT_EQ(fetched.size(), 25u);
  EXPECT_EQ(std::set<std::string>(fetched.begin(), fetched.end()).size(), fetched.size());
  EXPECT_EQ(faults_met, 25);
}

TEST(cli_run, bad_inputs_have_their_exit_codes) {
  testing::temp_dir dir;
  EXPECT_EQ(run_ctprep({"run", "--data-root", (dir / "absent").string()}).exit_code, 3);
  fs::create_directories(dir / "data");
  EXPECT_EQ(
      run_ctprep({"run", "--data-root", (dir / "data").string(), "--force", "nope"}).exit_code, 2);
  testing::write_text(dir / "run.yaml", "max-images: [1\n");
  EXPECT_EQ(run_ctprep({"run", "--config", (dir / "run.yaml").string()}).exit_code, 4);
  testing::write_text(dir / "run.yaml", "bogus-option: 1\n");
  auto unknown = run_ctprep({"run", "--config", (dir / "run.yaml").string()});
  EXPECT_EQ(unknown.exit_code, 4);
  EXPECT_NE(unknown.err.find("unknown option 'bogus-option'"), std::string::npos) << unknown.err;
  EXPECT_EQ(run_ctprep({"run", "--config", (dir / "none.yaml").string()}).exit_code, 3);
  auto http_store =
      run_ctprep({"synth", "world", "--out", (dir / "w").string(), "--quiet", "--with-store",
                  (dir / "s").string(), "--store-url", "https://example.org/bucket"});
  EXPECT_EQ(http_store.exit_code, 2);
  EXPECT_NE(http_store.err.find("only s3:// URLs are uploaded"), std::string::npos)
      << http_store.err;
}

TEST(cli_run, a_config_file_sets_options_and_flags_override_it) {
  testing::temp_dir dir;
  testing::write_text(dir / "run.yaml", "data-root: " + (dir / "from-config").string() + "\n");
  auto from_config = run_ctprep({"run", "--config", (dir / "run.yaml").string()});
  EXPECT_EQ(from_config.exit_code, 3);
  EXPECT_NE(from_config.err.find("from-config"), std::string::npos) << from_config.err;
  auto overridden = run_ctprep({"run", "--config", (dir / "run.yaml").string(), "--data-root",
                                (dir / "from-flag").string()});
  EXPECT_EQ(overridden.exit_code, 3);
  EXPECT_NE(overridden.err.find("from-flag"), std::string::npos) << overridden.err;
}

}  // namespace
}  // namespace ctprep

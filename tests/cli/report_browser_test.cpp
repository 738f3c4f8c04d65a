// End-to-end in a real browser: `ctprep report` on a dataset made here, opened by headless
// Chromium with the network off. Checks that the page loads without a console message
// (the page has no script, so any message is a CSP violation or a load error), that every
// image decodes, and that the numbers in the page are analyze's. Skips when Chromium is
// not installed (scripts/setup.d/report.packages installs it for CI). The screenshot is
// kept as <build>/report-screenshot.png for a person to look at.
#include <chrono>
#include <cstdlib>
#include <map>
#include <regex>

#include <gtest/gtest.h>

#include "ctprep/report/analyze.hpp"
#include "support/testing.hpp"

namespace ctprep {
namespace {

namespace fs = std::filesystem;
using testing::test_image;

std::string find_chromium() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    const auto end = std::min(dirs.find(':', start), dirs.size());
    for (const char* name : {"chromium", "chromium-browser"}) {
      const auto candidate = fs::path(dirs.substr(start, end - start)) / name;
      std::error_code ec;
      if (fs::is_regular_file(candidate, ec)) return candidate.string();
    }
    start = end + 1;
  }
  return {};
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct browser_run {
  int exit_code = -1;
  std::string out, err;
  double seconds = 0;
};

// One headless Chromium run with the network off; `mode` is --dump-dom or --screenshot=F.
browser_run run_chromium(const std::string& chromium, const fs::path& page, const std::string& mode,
                         const fs::path& scratch) {
  const auto profile = scratch / "profile";
  const std::string command =
      "timeout 120 " + quote(chromium) +
      " --headless --no-sandbox --disable-gpu --user-data-dir=" + quote(profile.string()) +
      " --window-size=1400,4200 --virtual-time-budget=5000"
      " --host-resolver-rules=" +
      quote("MAP * ~NOTFOUND, EXCLUDE localhost") +
      " --disable-background-networking --disable-component-update --disable-sync"
      " --no-first-run --enable-logging=stderr " +
      quote(mode) + " " + quote("file://" + fs::absolute(page).string()) + " >" +
      quote((scratch / "out").string()) + " 2>" + quote((scratch / "err").string()) + " </dev/null";
  const auto start = std::chrono::steady_clock::now();
  int status = std::system(command.c_str());
  // A browser that does not start in time on a loaded machine gets one more chance.
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) status = std::system(command.c_str());
  browser_run r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  r.out = testing::read_text(scratch / "out");
  r.err = testing::read_text(scratch / "err");
  return r;
}

std::vector<std::string> console_lines(const std::string& err) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < err.size()) {
    auto end = err.find('\n', start);
    if (end == std::string::npos) end = err.size();
    const auto line = err.substr(start, end - start);
    if (line.find(":CONSOLE") != std::string::npos) out.push_back(line);
    start = end + 1;
  }
  return out;
}

// A release-like dataset: 3 splits, every class, augmented train (3 versions), pool
// negatives, one patient leaking into test, with metadata, validation and evaluation.
void write_release(const fs::path& root) {
  std::vector<test_image> train, valid, test;
  for (int p = 0; p < 14; ++p) {
    const auto patient = std::to_string(500100 + p);
    for (int slice = 1; slice <= 3; ++slice) {
      const std::int64_t cls = (p + slice) % 6;
      const double x = 8 + 9 * slice, y = 10 + 5 * p % 40, w = 14 + 3 * slice, h = 10 + p % 9;
      std::vector<std::pair<std::int64_t, core::box>> boxes{{cls, {x, y, w, h}}};
      if (slice == 2) boxes.push_back({(cls + 2) % 6, {60, 60, 20, 24}});
      const auto stem = (p % 2 ? "v3_thick_" : "roboflow_") + patient + "_" + std::to_string(slice);
      for (int k = 0; k < 3; ++k)
        train.push_back({stem + "_aug" + std::to_string(k) + ".png", boxes});
    }
    for (int k = 0; k < 3; ++k) {
      train.push_back({patient + "_9_aug" + std::to_string(k) + ".png", {}});
    }
  }
  for (int p = 0; p < 6; ++p) {
    const auto patient = std::to_string(600100 + p);
    for (int slice = 1; slice <= 2; ++slice) {
      (p < 4 ? valid : test)
          .push_back({"v3_" + patient + "_" + std::to_string(slice) + ".png",
                      {{(p * 2 + slice) % 6, {20, 24, 18.0 + 4 * slice, 16}}}});
    }
    (p < 4 ? valid : test).push_back({patient + "_7.png", {}});
  }
  test.push_back({"v3_500100_44.png", {{2, {30, 30, 12, 12}}}});  // patient 500100 is in train
  testing::write_split(root / "train", testing::make_dataset(train, false, 128));
  testing::write_split(root / "valid", testing::make_dataset(valid, false, 128));
  testing::write_split(root / "test", testing::make_dataset(test, false, 128));
  testing::write_text(root / "metadata.yaml",
                      "ctprep_metadata: 1\nversion: v4\ntype: 6class\nvariant: augmented\n"
                      "seed: 42\ntool_version: 0.1.0\nrecipe_digest: sha256:0123abcd\n"
                      "created: 2026-01-01T00:00:00Z\nbalance:\n  target_ratio: 0.5\n");
}

TEST(report_browser, page_loads_offline_every_image_decodes_and_numbers_equal_analyze) {
  const auto chromium = find_chromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium is not installed (scripts/setup installs it from "
                    "scripts/setup.d/report.packages)";
  }
  testing::temp_dir dir;
  const auto dataset = dir / "v4";
  write_release(dataset);
  testing::write_text(dir / "validation.json", R"({"dataset_dir": "v4", "kind": "6class augmented",
 "passed": false, "errors": 1, "warnings": 0, "rules": [
 {"id": "coco", "title": "COCO format validity", "status": "passed", "errors": 0, "warnings": 0,
  "lines": [{"status": "pass", "text": "Train: valid COCO"}], "notes": []},
 {"id": "leakage", "title": "Zero patient leakage", "status": "failed", "errors": 1, "warnings": 0,
  "lines": [{"status": "fail", "text": "Train/Test share 1 patient"}], "notes": []}],
 "findings": [{"rule": "leakage", "severity": "error", "split": "test", "file": "v3_500100_44.png",
  "message": "patient 500100 is also in train"}]})");

  const auto out = dir / "report.html";
  auto made =
      testing::run_ctprep({"report", "--dataset-dir", dataset.string(), "--out", out.string(),
                           "--validation-json", (dir / "validation.json").string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const auto page = testing::read_text(out);

  // analyze --json prints the numbers the library computes; the page must show the same.
  auto analysis = report::analyze_dataset(dataset);
  ASSERT_TRUE(analysis);
  auto printed = testing::run_ctprep({"analyze", "--dataset-dir", dataset.string(), "--json"});
  ASSERT_EQ(printed.exit_code, 0);
  ASSERT_EQ(printed.out, report::to_json(*analysis));

  // 1. The page as shipped (strict CSP, no script): a screenshot, and not one console line.
  const fs::path build_dir = fs::path(CTPREP_BINARY).parent_path();
  const auto screenshot = build_dir / "report-screenshot.png";
  fs::remove(screenshot);
  testing::temp_dir shot_scratch;
  auto shot =
      run_chromium(chromium, out, "--screenshot=" + screenshot.string(), shot_scratch.path());
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  ASSERT_TRUE(fs::exists(screenshot)) << shot.err;
  EXPECT_GT(fs::file_size(screenshot), 50000u);
  EXPECT_EQ(console_lines(shot.err), std::vector<std::string>{}) << shot.err;
  fs::copy_file(out, build_dir / "report-browser-test.html", fs::copy_options::overwrite_existing);

  // 2. A copy with a checker script (the CSP relaxed for it alone) dumps the DOM after load:
  //    every <img> decoded (naturalWidth > 0), no script error, and the load time.
  auto checked = page;
  const std::string csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";
  const auto csp_at = checked.find(csp);
  ASSERT_NE(csp_at, std::string::npos);
  checked.replace(csp_at, csp.size(), csp + "; script-src 'unsafe-inline'");
  const std::string checker = R"(<script>
window.__errors = 0;
window.addEventListener('error', function () { window.__errors++; }, true);
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images);
  var bad = images.filter(function (i) { return !i.complete || i.naturalWidth === 0; });
  var b = document.body;
  b.setAttribute('data-images', String(images.length));
  b.setAttribute('data-broken-images', String(bad.length));
  b.setAttribute('data-errors', String(window.__errors));
  b.setAttribute('data-load-ms', String(Math.round(performance.now())));
});
</script>)";
  const auto body_at = checked.find("<body>");
  ASSERT_NE(body_at, std::string::npos);
  checked.insert(body_at + 6, checker);
  const auto checked_path = dir / "report-checked.html";
  testing::write_text(checked_path, checked);
  testing::temp_dir dom_scratch;
  auto dom = run_chromium(chromium, checked_path, "--dump-dom", dom_scratch.path());
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_EQ(console_lines(dom.err), std::vector<std::string>{}) << dom.err;

  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom.out, m, std::regex(R"re(data-images="(\d+)")re")))
      << "the checker did not run; stderr:\n"
      << dom.err << "\nDOM head:\n"
      << dom.out.substr(0, 2000);
  const int images = std::stoi(m[1]);
  EXPECT_GE(images, 6 * 12);  // six class sheets of 12, negatives, augmentation rows
  ASSERT_TRUE(std::regex_search(dom.out, m, std::regex(R"re(data-broken-images="(\d+)")re")));
  EXPECT_EQ(m[1], "0");
  ASSERT_TRUE(std::regex_search(dom.out, m, std::regex(R"re(data-errors="(\d+)")re")));
  EXPECT_EQ(m[1], "0");
  // The load time is recorded, not asserted (no timed tests: the machine is shared);
  // bench/report measures it.
  ASSERT_TRUE(std::regex_search(dom.out, m, std::regex(R"re(data-load-ms="(\d+)")re")));
  RecordProperty("load_ms", std::string(m[1]));

  // 3. The numbers in the rendered DOM equal analyze's.
  std::map<std::string, std::string> shown;
  const std::regex cell(R"re(data-k="([^"]+)">([^<]*)<)re");
  for (std::sregex_iterator it(dom.out.begin(), dom.out.end(), cell), end; it != end; ++it) {
    std::string v = (*it)[2];
    std::erase(v, ',');
    shown.emplace((*it)[1], v);
  }
  std::map<std::string, std::uint64_t> expected;
  for (const auto& s : analysis->splits) {
    expected[s.name + ".images"] = s.images;
    expected[s.name + ".originals"] = s.originals;
    expected[s.name + ".augmented"] = s.augmented;
    expected[s.name + ".annotations"] = s.annotations;
    expected[s.name + ".patients"] = s.patients;
    expected[s.name + ".images_with_hemorrhage"] = s.images_with_hemorrhage;
    expected[s.name + ".images_without_hemorrhage"] = s.images_without_hemorrhage;
    for (const auto& c : s.classes) {
      expected[s.name + ".class." + c.name + ".annotations"] = c.annotations;
      expected[s.name + ".class." + c.name + ".images"] = c.images;
    }
  }
  for (const auto& c : analysis->classes) {
    expected["all.class." + c.name + ".annotations"] = c.annotations;
    expected["all.class." + c.name + ".original_images"] = c.original_images;
  }
  for (const auto& o : analysis->overlaps)
    expected["overlap." + o.first + "." + o.second] = o.patients;
  expected["total.patients"] = analysis->total_patients;
  expected["total.originals"] = analysis->total_originals;
  ASSERT_EQ(expected.size(), 3u * 7 + 3u * 12 + 12 + 3 + 2);
  for (const auto& [key, value] : expected) {
    ASSERT_TRUE(shown.contains(key)) << key << " is not in the page";
    EXPECT_EQ(shown[key], std::to_string(value)) << key;
  }
  EXPECT_EQ(shown["overlap.train.test"], "1");
  EXPECT_NE(dom.out.find("data-rule=\"leakage\""), std::string::npos);
  EXPECT_NE(dom.out.find("data-h=\"recipe_digest\" title=\"sha256:0123abcd\">sha256:0123abcd<"),
            std::string::npos);
}

}  // namespace
}  // namespace ctprep

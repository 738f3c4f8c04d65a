// End-to-end: `ctprep synth world` then `ctprep prepare` on it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/core/identity.hpp"
#include "ctprep/core/rng.hpp"
#include "support/testing.hpp"

extern char** environ;

namespace ctprep {
namespace {
namespace fs = std::filesystem;
using testing::run_ctprep;

const char* splits[] = {"train", "valid", "test"};

class prepare_cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new testing::temp_dir();
    const auto r = run_ctprep({"synth", "world", "--out", (world_->path() / "data").string(),
                               "--scale", "demo", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
  }
  static fs::path data() { return world_->path() / "data"; }
  static testing::run_result prepare(const fs::path& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"prepare", "--data-root", data().string(), "--output",
                                     out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_ctprep(args);
  }
  static testing::temp_dir* world_;
};
testing::temp_dir* prepare_cli::world_ = nullptr;

// Every file and symlink under `root` with a digest of its bytes (or its link target).
std::map<std::string, std::string> tree(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const auto rel = fs::relative(it->path(), root).string();
    if (it->is_symlink())
      out[rel] = "-> " + fs::read_symlink(it->path()).string();
    else if (it->is_regular_file())
      out[rel] = fmt::format("{:016x}", core::stable_hash(testing::read_text(it->path())));
  }
  return out;
}

core::dataset read_json(const fs::path& dir) {
  auto d = coco::read_file(dir / coco::annotations_file_name);
  EXPECT_TRUE(d) << (d ? "" : d.error().message);
  return d ? *d : core::dataset{};
}

TEST_F(prepare_cli, builds_the_four_datasets_with_no_patient_in_two_splits) {
  testing::temp_dir out;
  const auto r = prepare(out.path(), {"--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (auto step : {"[1/9]", "[2/9]", "[3/9]", "[4/9]", "[4.5/9]", "[5/9]", "[5.5/9]", "[5.6/9]",
                    "[6/9]", "[6.1/9]", "[6.2/9]", "[6.5/9]", "[7/9]", "[8/9]", "[9/9]"}) {
    EXPECT_NE(r.out.find(step), std::string::npos) << step;
  }
  // The world lists 3 files it never wrote: they are named as dropped.
  EXPECT_NE(r.err.find("missing files (dropped): 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing pool files (dropped): 1"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out / ".ctprep-staging"));

  const auto original = out / "6class_coco_original";
  std::map<std::string, std::string> split_of_patient;
  std::size_t without_total = 0, with_total = 0;
  for (auto split : splits) {
    const auto d = read_json(original / split);
    ASSERT_EQ(d.categories.size(), 6u);
    std::size_t with = 0;
    std::set<std::int64_t> images_with_boxes;
    for (const auto& a : d.annotations) {
      images_with_boxes.insert(a.image_id);
      const auto& im = d.images[static_cast<std::size_t>(a.image_id)];
      // Boxes inside the image, area recomputed.
      EXPECT_GE(a.bbox.x, 0);
      EXPECT_LE(a.bbox.x + a.bbox.w, static_cast<double>(im.width));
      EXPECT_LE(a.bbox.y + a.bbox.h, static_cast<double>(im.height));
      EXPECT_DOUBLE_EQ(a.area, a.bbox.w * a.bbox.h);
    }
    with = images_with_boxes.size();
    with_total += with;
    without_total += d.images.size() - with;
    for (const auto& im : d.images) {
      auto id = core::parse_slice_identity(im.file_name);
      ASSERT_TRUE(id) << im.file_name;
      auto [it, inserted] = split_of_patient.emplace(id->patient, split);
      EXPECT_EQ(it->second, split) << "patient " << id->patient << " in two splits";
      // Originals are hard links to the sources, not copies.
      struct stat st {};
      ASSERT_EQ(::stat((original / split / im.file_name).c_str(), &st), 0) << im.file_name;
      EXPECT_GE(st.st_nlink, 2u) << im.file_name;
    }
  }
  EXPECT_GT(without_total, 0u);
  EXPECT_GT(with_total, 0u);

  // The augmented set: train ×3 by name, version 0 is the original byte for byte.
  const auto orig_train = read_json(original / "train");
  const auto aug_train = read_json(out / "6class_coco/train");
  std::set<std::string> aug_names;
  for (const auto& im : aug_train.images) aug_names.insert(im.file_name);
  const auto metadata = testing::read_text(out / "6class_coco/metadata.yaml");
  std::size_t listed_dropped = 0;
  for (const auto& im : orig_train.images) {
    const auto stem = fs::path(im.file_name).stem().string(),
               ext = fs::path(im.file_name).extension().string();
    const auto v0 = stem + "_aug0" + ext;
    ASSERT_TRUE(aug_names.count(v0)) << v0;
    EXPECT_EQ(testing::read_text(out / "6class_coco/train" / v0),
              testing::read_text(original / "train" / im.file_name));
    for (int k = 1; k < 3; ++k) {
      const auto vk = fmt::format("{}_aug{}{}", stem, k, ext);
      if (!aug_names.count(vk)) {
        EXPECT_NE(metadata.find(vk), std::string::npos)
            << vk << " neither written nor listed as dropped";
        ++listed_dropped;
      } else {
        EXPECT_TRUE(fs::exists(out / "6class_coco/train" / vk));
      }
    }
  }
  EXPECT_EQ(aug_train.images.size() + listed_dropped, 3 * orig_train.images.size());
  EXPECT_EQ(read_json(out / "6class_coco/valid").images.size(),
            read_json(original / "valid").images.size());

  // 4-class: relative symlinks that resolve; only IPH..SDH; images emptied of boxes dropped.
  for (auto [four, six] : {std::pair{"4class_coco_original", "6class_coco_original"},
                           std::pair{"4class_coco", "6class_coco"}}) {
    for (auto split : splits) {
      const auto d4 = read_json(out / four / split);
      const auto d6 = read_json(out / six / split);
      ASSERT_EQ(d4.categories.size(), 4u);
      EXPECT_EQ(d4.categories[0].name, "IPH");
      for (const auto& a : d4.annotations) EXPECT_LT(a.category_id, 4);
      std::map<std::string, std::size_t> six_boxes, six_kept;
      std::map<std::int64_t, std::string> name_of;
      for (const auto& im : d6.images) name_of[im.id] = im.file_name;
      for (const auto& a : d6.annotations) {
        ++six_boxes[name_of[a.image_id]];
        if (a.category_id >= 2) ++six_kept[name_of[a.image_id]];
      }
      std::set<std::string> in_four;
      for (const auto& im : d4.images) {
        in_four.insert(im.file_name);
        const auto link = out / four / split / im.file_name;
        ASSERT_TRUE(fs::is_symlink(link)) << link;
        const auto target = fs::read_symlink(link);
        EXPECT_TRUE(target.is_relative()) << target;
        EXPECT_EQ(target, fs::path("..") / ".." / six / split / im.file_name);
        EXPECT_TRUE(fs::is_regular_file(link)) << "dangling " << link;
      }
      for (const auto& im : d6.images) {
        const bool emptied = six_boxes[im.file_name] > 0 && six_kept[im.file_name] == 0;
        EXPECT_EQ(in_four.count(im.file_name) == 0, emptied) << im.file_name;
      }
    }
  }
  const auto meta4 = testing::read_text(out / "4class_coco/metadata.yaml");
  EXPECT_NE(meta4.find("type: 4class"), std::string::npos);
  EXPECT_NE(meta4.find("empty_image_policy: drop"), std::string::npos);
  EXPECT_EQ(meta4.find("created:"),
            std::string::npos);  // no wall-clock time without SOURCE_DATE_EPOCH
}

TEST_F(prepare_cli, gives_byte_identical_trees_for_jobs_1_and_2) {
  testing::temp_dir a, b;
  const auto ra = prepare(a.path(), {"--jobs", "1", "--quiet"});
  const auto rb = prepare(b.path(), {"--jobs", "2", "--quiet"});
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  const auto ta = tree(a.path()), tb = tree(b.path());
  EXPECT_GT(ta.size(), 400u);
  EXPECT_EQ(ta, tb);
}

TEST_F(prepare_cli, fills_exactly_the_shortfall_fp_first_and_says_when_the_pool_is_short) {
  testing::temp_dir out;
  ::setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  const auto r =
      prepare(out.path(), {"--skip-augmentation", "--four-class-empty", "keep-negative"});
  ::unsetenv("SOURCE_DATE_EPOCH");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto meta = testing::read_text(out / "6class_coco_original/metadata.yaml");
  EXPECT_NE(meta.find("created: 2023-11-14T22:13:20Z"), std::string::npos) << meta;
  // keep-negative: the 4-class sets keep every image, emptied ones as negatives.
  for (auto split : splits) {
    EXPECT_EQ(read_json(out / "4class_coco_original" / split).images.size(),
              read_json(out / "6class_coco_original" / split).images.size());
  }
  EXPECT_NE(testing::read_text(out / "4class_coco_original/metadata.yaml")
                .find("empty_image_policy: keep-negative"),
            std::string::npos);
  // Every split reaches with == without unless the pool could not give more.
  for (auto split : splits) {
    const auto d = read_json(out / "6class_coco_original" / split);
    std::set<std::int64_t> with;
    for (const auto& a : d.annotations) with.insert(a.image_id);
    const auto without = d.images.size() - with.size();
    const auto line_start = meta.find(fmt::format("    {}: {{with_hemorrhage:", split));
    ASSERT_NE(line_start, std::string::npos);
    const auto line = meta.substr(line_start, meta.find('\n', line_start) - line_start);
    const auto short_by = std::stoul(line.substr(line.find("short_by: ") + 10));
    EXPECT_EQ(without + short_by, with.size()) << split;
    if (short_by > 0) {
      EXPECT_NE(r.err.find(fmt::format("{} is short by {}", split, short_by)), std::string::npos);
    }
  }
  // The pool's FP slices are all used before any TN is left over.
  EXPECT_NE(meta.find("pool_left: {fp: 0,"), std::string::npos) << meta;
}

TEST_F(prepare_cli, a_rerun_leaves_no_stale_file_and_a_killed_run_leaves_the_old_dataset) {
  testing::temp_dir out;
  ASSERT_EQ(prepare(out.path(), {"--quiet", "--seed", "1"}).exit_code, 0);
  testing::write_text(out / "6class_coco/train/stale_from_last_year.jpg", "x");
  ASSERT_EQ(prepare(out.path(), {"--quiet", "--seed", "1"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(out / "6class_coco/train/stale_from_last_year.jpg"));
  const auto before = tree(out.path());

  // A run with another seed, killed while it writes: the old dataset stays as it was.
  std::vector<std::string> args = {
      CTPREP_BINARY, "prepare", "--data-root", data().string(), "--output", out.path().string(),
      "--quiet",     "--seed",  "2",           "--jobs",        "1"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(::posix_spawn(&pid, CTPREP_BINARY, nullptr, nullptr, argv.data(), environ), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(out / ".ctprep-staging/6class_coco/train") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";
  auto after = tree(out.path());
  std::erase_if(after, [](const auto& kv) { return kv.first.starts_with(".ctprep-staging"); });
  EXPECT_EQ(after, before);
  // A re-run cleans the leftovers and succeeds.
  ASSERT_EQ(prepare(out.path(), {"--quiet", "--seed", "2", "--skip-augmentation"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(out / ".ctprep-staging"));
  EXPECT_NE(tree(out.path()), before);
}

TEST_F(prepare_cli, dry_run_stops_after_the_clip_and_writes_nothing) {
  testing::temp_dir out;
  const auto r = prepare(out / "v4", {"--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("[5.6/9]"), std::string::npos);
  EXPECT_EQ(r.out.find("[6/9]"), std::string::npos);
  EXPECT_NE(r.out.find("Dry run:"), std::string::npos);
  EXPECT_FALSE(fs::exists(out / "v4"));
}

TEST_F(prepare_cli, print_recipe_shows_the_builtin_v4_recipe) {
  const auto r = run_ctprep({"prepare", "--print-recipe"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("training_datasets/v3/filtered_4class/coco"), std::string::npos);
  EXPECT_NE(r.out.find("drop: [\"-\", \"0\"]"), std::string::npos);
  EXPECT_NE(r.out.find("seed: 42"), std::string::npos);
  testing::temp_dir dir;
  testing::write_text(dir / "r.yaml", r.out);
  const auto again =
      run_ctprep({"prepare", "--recipe", (dir / "r.yaml").string(), "--print-recipe"});
  EXPECT_EQ(again.out, r.out);
}

TEST_F(prepare_cli, reports_bad_inputs_with_their_exit_codes) {
  testing::temp_dir dir;
  // A recipe with an unknown key.
  testing::write_text(dir / "bad.yaml", "seed: 1\nshuffle: true\n");
  auto r = run_ctprep(
      {"prepare", "--recipe", (dir / "bad.yaml").string(), "--data-root", data().string()});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("unknown key 'shuffle'"), std::string::npos) << r.err;
  // A source folder that is missing.
  testing::write_text(dir / "missing.yaml",
                      "sources:\n  - {name: v3, path: nowhere/coco, prefix: v3_, classes: {IPH: "
                      "IPH}}\npool: null\n");
  r = run_ctprep({"prepare", "--recipe", (dir / "missing.yaml").string(), "--data-root",
                  data().string(), "--output", (dir / "o").string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("nowhere"), std::string::npos) << r.err;
  // A class of the source that maps to nothing.
  testing::write_text(
      dir / "unmapped.yaml",
      "sources:\n  - {name: v3, path: training_datasets/v3/filtered_4class/coco, prefix: v3_, "
      "classes: {IPH: IPH, IVH: IVH, SAH: SAH}}\n");
  r = run_ctprep({"prepare", "--recipe", (dir / "unmapped.yaml").string(), "--data-root",
                  data().string(), "--output", (dir / "o").string()});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("category 'SDH'"), std::string::npos) << r.err;
  // An inconsistent COCO file (an annotation of an image that does not exist).
  const auto bad_src = dir / "src/train";
  auto d = testing::make_dataset({{"1_1.png", {{2, {1, 1, 5, 5}}}}});
  testing::write_split(bad_src, d);
  testing::write_text(
      bad_src / "_annotations.coco.json",
      testing::read_text(bad_src / "_annotations.coco.json")
          .replace(testing::read_text(bad_src / "_annotations.coco.json").find("\"image_id\":0"),
                   12, "\"image_id\":7"));
  testing::write_text(
      dir / "inconsistent.yaml",
      fmt::format(
          "data_root: {}\nsources:\n  - {{name: s, path: src, prefix: s_, classes: {{IPH: IPH, "
          "EDH: EDH, HC: HC, IVH: IVH, SAH: SAH, SDH: SDH}}}}\npool: null\n",
          dir.path().string()));
  r = run_ctprep({"prepare", "--recipe", (dir / "inconsistent.yaml").string(), "--output",
                  (dir / "o").string()});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  // An output folder that cannot be created.
  testing::write_text(dir / "file", "x");
  r = prepare(dir / "file/v4", {"--skip-augmentation"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
}

}  // namespace
}  // namespace ctprep

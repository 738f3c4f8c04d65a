#include "ctprep/pipeline/manifest.hpp"

#include <gtest/gtest.h>

#include "ctprep/core/files.hpp"
#include "support/testing.hpp"

namespace ctprep::pipeline {
namespace {
namespace fs = std::filesystem;

TEST(sha256, matches_the_published_test_vectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  testing::temp_dir dir;
  testing::write_text(dir / "f", "abc");
  EXPECT_EQ(*sha256_file(dir / "f"), sha256_hex("abc"));
}

void write_release(const fs::path& root) {
  testing::write_text(root / "6class_coco" / "train" / "a.png", "pixels");
  testing::write_text(root / "6class_coco" / "metadata.yaml", "version: v4\n");
  testing::write_text(root / ".ctprep" / "run.json", "{}");
  fs::create_directories(root / "4class_coco" / "train");
  fs::create_symlink("../../6class_coco/train/a.png", root / "4class_coco" / "train" / "a.png");
  manifest m;
  m.tool_version = "0.1.0";
  m.seed = 42;
  m.files = *hash_tree(root, 2);
  ASSERT_TRUE(core::write_file_atomic(root / manifest_file_name, to_json(m)));
}

TEST(manifest, hashes_every_output_and_skips_dot_folders_and_itself) {
  testing::temp_dir dir;
  write_release(dir.path());
  auto entries = hash_tree(dir.path());
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].path, "4class_coco/train/a.png");
  EXPECT_EQ((*entries)[0].link, "../../6class_coco/train/a.png");
  EXPECT_EQ((*entries)[0].sha256, sha256_hex("pixels"));
  EXPECT_EQ((*entries)[1].path, "6class_coco/metadata.yaml");
  EXPECT_EQ((*entries)[2].size, 6u);
}

TEST(manifest, an_intact_release_verifies_and_every_kind_of_change_is_named) {
  testing::temp_dir dir;
  write_release(dir.path());
  auto clean = verify_manifest(dir.path());
  ASSERT_TRUE(clean) << clean.error().message;
  EXPECT_TRUE(clean->empty());

  testing::write_text(dir / "6class_coco" / "train" / "a.png", "tampered");
  testing::write_text(dir / "6class_coco" / "train" / "new.png", "x");
  fs::remove(dir / "6class_coco" / "metadata.yaml");
  auto changed = verify_manifest(dir.path());
  ASSERT_TRUE(changed);
  ASSERT_EQ(changed->size(), 4u);
  EXPECT_EQ((*changed)[0].path, "4class_coco/train/a.png");  // its target changed
  EXPECT_EQ((*changed)[0].problem, "changed");
  EXPECT_EQ((*changed)[1].problem, "missing");
  EXPECT_EQ((*changed)[2].problem, "changed");
  EXPECT_EQ((*changed)[3].path, "6class_coco/train/new.png");
  EXPECT_EQ((*changed)[3].problem, "extra");
}

TEST(manifest, a_missing_or_broken_manifest_is_an_error) {
  testing::temp_dir dir;
  auto missing = verify_manifest(dir.path());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::error_code::not_found);
  testing::write_text(dir / "manifest.json", "{\"files\": 3}");
  auto broken = verify_manifest(dir.path());
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, core::error_code::malformed_json);
}

}  // namespace
}  // namespace ctprep::pipeline

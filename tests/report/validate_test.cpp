#include "ctprep/report/validate.hpp"

#include <set>

#include <gtest/gtest.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/imaging/codec.hpp"
#include "support/release_fixture.hpp"
#include "support/testing.hpp"

namespace ctprep::report {
namespace {
namespace fs = std::filesystem;
using testing::metadata_spec;
using testing::split_list;

validation run(const fs::path& dir, validate_options options = {}) {
  if (options.jobs == 0) options.jobs = 2;
  auto v = validate_dataset(dir, options);
  if (!v) ADD_FAILURE() << v.error().message;
  return v ? *v : validation{};
}

std::set<std::string> rules_of(const validation& v) {
  std::set<std::string> out;
  for (const auto& f : v.findings) out.insert(f.rule);
  return out;
}

std::vector<finding> findings_of(const validation& v, std::string_view rule) {
  std::vector<finding> out;
  for (const auto& f : v.findings) {
    if (f.rule == rule) out.push_back(f);
  }
  return out;
}

using rule_set = std::set<std::string>;

// The 6-class original variant with metadata (or not), after `mutate`.
template <typename F>
fs::path write_original(const testing::temp_dir& dir, F&& mutate, bool with_metadata = true) {
  auto splits = testing::release_originals();
  mutate(splits);
  const auto root = dir / "6class_coco_original";
  testing::write_dataset(root, splits);
  if (with_metadata)
    testing::write_text(root / "metadata.yaml", testing::metadata_yaml(splits, {}));
  return root;
}

fs::path write_original(const testing::temp_dir& dir, bool with_metadata = true) {
  return write_original(
      dir, [](split_list&) {}, with_metadata);
}

core::dataset& split(split_list& s, std::string_view name) {
  for (auto& [n, d] : s) {
    if (n == name) return d;
  }
  throw std::runtime_error("no split");
}

// ---------- datasets that pass ----------

TEST(validate, passes_a_clean_original_dataset_with_zero_findings) {
  testing::temp_dir dir;
  const auto v = run(write_original(dir));
  EXPECT_TRUE(v.findings.empty()) << to_text(v);
  EXPECT_TRUE(v.passed());
  EXPECT_EQ(v.expected_classes, 6);
  EXPECT_EQ(v.expected_classes_from, "metadata.yaml");
  EXPECT_EQ(v.kind, "6class original");
  ASSERT_EQ(v.rules.size(), 10u);
  EXPECT_EQ(v.rules[0].id, "coco");
  EXPECT_EQ(v.rules[7].id, "four_class");
  EXPECT_NE(to_text(v).find("✓ VALIDATION PASSED - Dataset ready for training!"),
            std::string::npos);
  EXPECT_NE(to_text(v).find("✓ Train: 12/12 images readable"), std::string::npos) << to_text(v);
}

TEST(validate, passes_a_clean_dataset_without_metadata_and_says_what_it_softened) {
  testing::temp_dir dir;
  const auto v = run(write_original(dir, false));
  EXPECT_TRUE(v.findings.empty()) << to_text(v);
  EXPECT_FALSE(v.has_metadata);
  EXPECT_EQ(v.expected_classes_from, "categories");
  EXPECT_NE(to_text(v).find("no metadata.yaml"), std::string::npos);
}

TEST(validate, passes_every_variant_of_a_clean_release_with_zero_findings) {
  testing::temp_dir dir;
  testing::write_release(dir.path());
  const auto dirs = find_datasets(dir.path());
  ASSERT_EQ(dirs.size(), 4u);
  EXPECT_EQ(dirs[0].filename(), "4class_coco");
  auto all = validate_datasets(dirs, {0, false, 2, {}});
  ASSERT_TRUE(all) << all.error().message;
  for (const auto& v : *all) {
    EXPECT_TRUE(v.findings.empty()) << to_text(v);
  }
  EXPECT_EQ((*all)[0].kind, "4class augmented");
  EXPECT_EQ((*all)[3].kind, "6class original");
  // The augmented 6-class set was compared with its originals.
  EXPECT_NE(to_text((*all)[2]).find("36/36 originals byte-identical"), std::string::npos)
      << to_text((*all)[2]);
  EXPECT_NE(to_text((*all)[0]).find("dropped, policy drop"), std::string::npos)
      << to_text((*all)[0]);
}

TEST(validate, gives_the_same_findings_whatever_the_thread_count) {
  testing::temp_dir dir;
  const auto root = write_original(dir, [](split_list& s) {
    split(s, "train").annotations[0].bbox.w = 90;
    split(s, "valid").images[3].file_name = "v3_thick_100000_7.png";
  });
  std::filesystem::resize_file(root / "test" / "102002_2.png", 40);
  validate_options one{0, false, 1, {}}, two{0, false, 2, {}};
  EXPECT_EQ(to_json(run(root, one)), to_json(run(root, two)));
  EXPECT_FALSE(run(root, one).findings.empty());
}

// ---------- rule 1: COCO validity ----------

TEST(validate_coco, flags_category_ids_that_differ_from_the_expected_set) {
  testing::temp_dir dir;
  const auto root = write_original(
      dir,
      [](split_list& s) {
        for (auto& [name, d] : s) std::swap(d.categories[2].name, d.categories[3].name);
        // keep the boxes' classes by name: IPH boxes now point to id 3
        for (auto& [name, d] : s) {
          for (auto& a : d.annotations) {
            if (a.category_id == 2)
              a.category_id = 3;
            else if (a.category_id == 3)
              a.category_id = 2;
          }
        }
      },
      false);
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"coco"}) << to_text(v);
  const auto f = findings_of(v, "coco");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_NE(f[0].message.find("category IPH has id 3, expected 2"), std::string::npos);
}

TEST(validate_coco, reports_an_inconsistent_coco_file_as_a_finding_and_checks_the_rest) {
  testing::temp_dir dir;
  const auto root = write_original(dir);
  auto json = testing::read_text(root / "valid" / "_annotations.coco.json");
  // Two images with id 0.
  const auto pos = json.find("\"id\":1,\"file_name\"");
  ASSERT_NE(pos, std::string::npos) << json.substr(0, 400);
  json.replace(pos, 6, "\"id\":0");
  testing::write_text(root / "valid" / "_annotations.coco.json", json);
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"coco"}) << to_text(v);
  EXPECT_NE(findings_of(v, "coco")[0].message.find("duplicate"), std::string::npos);
  EXPECT_NE(to_text(v).find("Valid annotations invalid"), std::string::npos);
}

TEST(validate_coco, flags_categories_that_differ_between_splits) {
  testing::temp_dir dir;
  const auto root = write_original(
      dir,
      [](split_list& s) {
        split(s, "test").categories[5].id = 9;
        for (auto& a : split(s, "test").annotations) {
          if (a.category_id == 5) a.category_id = 9;
        }
      },
      false);
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"coco"}) << to_text(v);
}

TEST(validate, fails_with_not_found_or_malformed_json_when_there_is_nothing_to_validate) {
  testing::temp_dir dir;
  EXPECT_EQ(validate_dataset(dir / "absent").error().code, core::error_code::not_found);
  const auto root = write_original(dir);
  testing::write_text(root / "test" / "_annotations.coco.json", "{\"images\": [");
  EXPECT_EQ(validate_dataset(root).error().code, core::error_code::malformed_json);
}

// ---------- rule 2: class coverage ----------

TEST(validate_classes, flags_a_class_missing_from_a_split_when_enough_patients_have_it) {
  testing::temp_dir dir;
  const auto root = write_original(dir, [](split_list& s) {
    for (auto& a : split(s, "test").annotations) {
      if (a.category_id == 0) a.category_id = 2;  // EDH boxes become IPH
    }
  });
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"classes"}) << to_text(v);
  const auto f = findings_of(v, "classes");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].level, severity::error);
  EXPECT_EQ(f[0].split, "test");
  EXPECT_NE(f[0].message.find("no EDH boxes although 4 patients"), std::string::npos)
      << f[0].message;
}

TEST(validate_classes, only_warns_when_too_few_patients_have_the_class) {
  testing::temp_dir dir;
  const auto root = write_original(dir, [](split_list& s) {
    for (auto& [name, d] : s) {
      if (name == "train") continue;
      for (auto& a : d.annotations) {
        if (a.category_id == 0) a.category_id = 2;
      }
    }
  });
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"classes"}) << to_text(v);
  for (const auto& f : findings_of(v, "classes")) EXPECT_EQ(f.level, severity::warning);
  EXPECT_TRUE(v.passed());
}

// ---------- rule 3: leakage ----------

TEST(validate_leakage, sees_a_v3_thick_patient_in_two_splits) {
  testing::temp_dir dir;
  const auto root = write_original(dir, [](split_list& s) {
    // A valid hemorrhage slice that belongs to train's patient 100000.
    split(s, "valid").images[2].file_name = "v3_thick_100000_9.png";
  });
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"leakage"}) << to_text(v);
  const auto f = findings_of(v, "leakage");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].file, "v3_thick_100000_9.png");
  EXPECT_NE(f[0].message.find("patient 100000 is in train"), std::string::npos) << f[0].message;
}

TEST(validate_leakage, sees_a_renamed_copy_of_a_slice_by_its_pixels) {
  testing::temp_dir dir;
  const auto root = write_original(dir);
  // test's first negative is replaced by train's first negative, under test's name.
  fs::copy_file(root / "train" / "100000_2.png", root / "test" / "102000_2.png",
                fs::copy_options::overwrite_existing);
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"leakage"}) << to_text(v);
  const auto f = findings_of(v, "leakage");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].split, "test");
  EXPECT_NE(f[0].message.find("train/100000_2.png"), std::string::npos) << f[0].message;
}

TEST(validate_leakage, finds_a_re_encoded_copy_too_because_it_hashes_pixels) {
  testing::temp_dir dir;
  const auto root = write_original(dir);
  auto bytes = testing::read_text(root / "train" / "100001_2.png");
  auto image = imaging::decode_image(bytes, "x");
  ASSERT_TRUE(image);
  testing::write_text(root / "valid" / "101001_2.png", *imaging::encode_png(*image, 9));
  ASSERT_NE(testing::read_text(root / "valid" / "101001_2.png"), bytes);
  EXPECT_EQ(rules_of(run(root)), rule_set{"leakage"});
}

// ---------- rule 4: images ----------

TEST(validate_images, flags_a_truncated_png) {
  testing::temp_dir dir;
  const auto root = write_original(dir);
  const auto file = root / "train" / "100003_2.png";
  fs::resize_file(file, fs::file_size(file) - 30);
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"images"}) << to_text(v);
  const auto f = findings_of(v, "images");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].file, "100003_2.png");
  EXPECT_NE(to_text(v).find("Train: 11/12 images readable"), std::string::npos);
}

TEST(validate_images, flags_a_truncated_jpeg_that_a_lenient_decoder_would_accept) {
  testing::temp_dir dir;
  const auto root = write_original(dir);
  const auto file = root / "valid" / "roboflow_101001_1_png.rf.ab11.jpg";
  fs::resize_file(file, fs::file_size(file) * 2 / 3);
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"images"}) << to_text(v);
  EXPECT_NE(findings_of(v, "images")[0].message.find("truncated"), std::string::npos);
}

TEST(validate_images, flags_an_image_whose_size_differs_from_the_json) {
  testing::temp_dir dir;
  const auto root = write_original(dir);
  testing::write_test_image(root / "test" / "102004_2.png", 64, 60, 77);
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"images"}) << to_text(v);
  EXPECT_EQ(findings_of(v, "images")[0].message, "image is 64x60 but the JSON says 64x64");
}

TEST(validate_images, checks_sizes_from_headers_when_skipping_the_decode) {
  testing::temp_dir dir;
  const auto root = write_original(dir);
  const auto file = root / "train" / "100003_2.png";
  fs::resize_file(file, fs::file_size(file) - 30);  // header intact: not seen without decode
  testing::write_test_image(root / "test" / "102004_2.png", 64, 60, 77);
  const auto v = run(root, {0, true, 2, {}});
  EXPECT_EQ(rules_of(v), rule_set{"images"}) << to_text(v);
  ASSERT_EQ(findings_of(v, "images").size(), 1u);
  EXPECT_EQ(findings_of(v, "images")[0].file, "102004_2.png");
}

TEST(validate_images, flags_an_orphan_file_and_a_missing_one) {
  testing::temp_dir dir;
  const auto root = write_original(dir);
  testing::write_test_image(root / "valid" / "101009_9.png", 64, 64, 200);
  testing::write_text(root / "valid" / "notes.txt", "x");
  fs::remove(root / "test" / "102005_2.png");
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"images"}) << to_text(v);
  const auto f = findings_of(v, "images");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].file, "101009_9.png");
  EXPECT_EQ(f[0].level, severity::error);
  EXPECT_EQ(f[1].file, "notes.txt");
  EXPECT_EQ(f[1].level, severity::warning);
  EXPECT_EQ(f[2].message, "file is missing");
}

TEST(validate_images, flags_two_entries_naming_the_same_file) {
  testing::temp_dir dir;
  const auto root = write_original(dir, [](split_list& s) {
    auto& d = split(s, "train");
    auto copy = d.images[7];
    copy.id = 99;
    d.images.push_back(copy);
  });
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"images"}) << to_text(v);
  EXPECT_EQ(findings_of(v, "images")[0].message, "named by image ids 7 and 99");
}

// ---------- rule 5: boxes ----------

TEST(validate_boxes, flags_a_box_past_the_edge) {
  testing::temp_dir dir;
  const auto root = write_original(dir, [](split_list& s) {
    auto& a = split(s, "valid").annotations[3];
    a.bbox = {50, 40, 20, 10};  // 50 + 20 > 64
    a.area = 200;
  });
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"boxes"}) << to_text(v);
  const auto f = findings_of(v, "boxes");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("outside the 64x64 image"), std::string::npos);
  EXPECT_NE(to_text(v).find("Valid: 11/12 boxes valid (91.7%)"), std::string::npos) << to_text(v);
}

TEST(validate_boxes, tolerates_half_a_pixel_and_flags_zero_size_and_stale_area) {
  testing::temp_dir dir;
  const auto root = write_original(dir, [](split_list& s) {
    auto& d = split(s, "train").annotations;
    d[0].bbox = {-0.4, 0, 64.8, 10};  // within 0.5 px: fine
    d[0].area = 648;
    d[1].bbox.w = 0;
    d[1].area = 0;
    d[2].area = 5000;  // clipped box whose area was not recomputed
  });
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"boxes"}) << to_text(v);
  const auto f = findings_of(v, "boxes");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_NE(f[0].message.find("zero width or height"), std::string::npos);
  EXPECT_NE(f[1].message.find("has area 5000"), std::string::npos);
}

// ---------- rule 6: augmentation ----------

struct augmented_release {
  fs::path original, augmented;
};

template <typename F>
augmented_release write_augmented(const testing::temp_dir& dir, F&& mutate) {
  const auto originals = testing::release_originals();
  auto splits = testing::release_augmented(originals);
  augmented_release r{dir / "6class_coco_original", dir / "6class_coco"};
  testing::write_dataset(r.original, originals);
  testing::write_text(r.original / "metadata.yaml", testing::metadata_yaml(originals, {}));
  mutate(splits);
  testing::write_augmented_dataset(r.augmented, r.original, splits);
  testing::write_text(r.augmented / "metadata.yaml",
                      testing::metadata_yaml(
                          splits, {"6class", "augmented", "../6class_coco_original", 3, "", -1}));
  return r;
}

void remove_image(core::dataset& d, std::string_view name) {
  auto it = std::find_if(d.images.begin(), d.images.end(),
                         [&](const core::image& im) { return im.file_name == name; });
  ASSERT_NE(it, d.images.end());
  const auto id = it->id;
  d.images.erase(it);
  std::erase_if(d.annotations, [&](const core::annotation& a) { return a.image_id == id; });
}

TEST(validate_augmentation, flags_a_missing_aug2) {
  testing::temp_dir dir;
  const auto r = write_augmented(
      dir, [](split_list& s) { remove_image(split(s, "train"), "v3_thick_100002_1_aug2.png"); });
  const auto v = run(r.augmented);
  EXPECT_EQ(rules_of(v), rule_set{"augmentation"}) << to_text(v);
  const auto f = findings_of(v, "augmentation");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].file, "v3_thick_100002_1_aug2.png");
}

TEST(validate_augmentation, accepts_a_version_recorded_as_dropped) {
  testing::temp_dir dir;
  const auto r = write_augmented(
      dir, [](split_list& s) { remove_image(split(s, "train"), "v3_thick_100002_1_aug2.png"); });
  auto yaml = testing::read_text(r.augmented / "metadata.yaml");
  const auto pos = yaml.find("dropped: []");
  ASSERT_NE(pos, std::string::npos);
  yaml.replace(pos, 11, "dropped: [v3_thick_100002_1_aug2.png]");
  testing::write_text(r.augmented / "metadata.yaml", yaml);
  const auto v = run(r.augmented);
  EXPECT_TRUE(v.findings.empty()) << to_text(v);
}

TEST(validate_augmentation, flags_an_aug0_that_is_not_byte_identical_to_the_original) {
  testing::temp_dir dir;
  const auto r = write_augmented(dir, [](split_list&) {});
  testing::write_test_image(r.augmented / "train" / "100004_2_aug0.png", 64, 64, 222);
  const auto v = run(r.augmented);
  EXPECT_EQ(rules_of(v), rule_set{"augmentation"}) << to_text(v);
  const auto f = findings_of(v, "augmentation");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("not byte-identical"), std::string::npos);
}

TEST(validate_augmentation, flags_augmented_names_in_valid) {
  testing::temp_dir dir;
  const auto root = write_original(
      dir, [](split_list& s) { split(s, "valid").images[8].file_name = "101002_2_aug1.png"; });
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"augmentation"}) << to_text(v);
}

// ---------- rule 7: balance ----------

TEST(validate_balance, flags_an_unbalanced_split) {
  testing::temp_dir dir;
  const auto root = write_original(dir, [](split_list& s) {
    for (const char* name : {"101003_2.png", "101004_2.png", "101005_2.png"}) {
      remove_image(split(s, "valid"), name);
    }
  });
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"balance"}) << to_text(v);
  const auto f = findings_of(v, "balance");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].split, "valid");
  EXPECT_EQ(f[0].level, severity::error);
  EXPECT_NE(f[0].message.find("off by 3"), std::string::npos) << f[0].message;
}

TEST(validate_balance, only_warns_without_metadata_and_accepts_one_image_off) {
  testing::temp_dir dir;
  const auto root = write_original(
      dir,
      [](split_list& s) {
        remove_image(split(s, "train"), "100005_2.png");  // one off: fine
        for (const char* name : {"101003_2.png", "101004_2.png", "101005_2.png"}) {
          remove_image(split(s, "valid"), name);
        }
      },
      false);
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"balance"}) << to_text(v);
  const auto f = findings_of(v, "balance");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].level, severity::warning);
  EXPECT_TRUE(v.passed());
}

// ---------- rule 8: 4-class ----------

struct four_release {
  fs::path six, four;
};

template <typename F>
four_release write_four(const testing::temp_dir& dir, F&& mutate) {
  const auto six = testing::release_originals();
  std::int64_t dropped = 0;
  auto four = testing::release_four_class(six, &dropped);
  four_release r{dir / "6class_coco_original", dir / "4class_coco_original"};
  testing::write_dataset(r.six, six);
  mutate(four, dropped);
  testing::write_linked_dataset(r.four, r.six, four);
  testing::write_text(r.four / "metadata.yaml",
                      testing::metadata_yaml(four, {"4class", "original", "", 0, "drop", dropped}));
  return r;
}

TEST(validate_four_class, flags_an_absolute_symlink) {
  testing::temp_dir dir;
  const auto r = write_four(dir, [](split_list&, std::int64_t&) {});
  const auto link = r.four / "train" / "v3_thick_100002_1.png";
  fs::remove(link);
  fs::create_symlink(fs::absolute(r.six / "train" / "v3_thick_100002_1.png"), link);
  const auto v = run(r.four);
  EXPECT_EQ(rules_of(v), rule_set{"four_class"}) << to_text(v);
  const auto f = findings_of(v, "four_class");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("absolute symlink"), std::string::npos);
}

TEST(validate_four_class, flags_a_dangling_symlink_and_a_link_leaving_the_tree) {
  testing::temp_dir dir;
  const auto r = write_four(dir, [](split_list&, std::int64_t&) {});
  fs::remove(r.six / "valid" / "101004_2.png");  // the 6-class file is gone
  const auto v = run(r.four);
  EXPECT_EQ(rules_of(v), rule_set{"four_class"}) << to_text(v);
  EXPECT_NE(findings_of(v, "four_class")[0].message.find("dangling symlink"), std::string::npos);

  // A relative link that climbs out of the release folder.
  testing::temp_dir outside;
  testing::write_test_image(outside / "x.png", 64, 64, 99);
  const auto link = r.four / "test" / "102004_2.png";
  fs::remove(link);
  fs::create_symlink(fs::relative(outside / "x.png", link.parent_path()), link);
  const auto w = run(r.four);
  bool leaves = false;
  for (const auto& f : findings_of(w, "four_class")) {
    leaves = leaves || f.message.find("resolves outside the dataset tree") != std::string::npos;
  }
  EXPECT_TRUE(leaves) << to_text(w);
}

TEST(validate_four_class, follows_a_link_to_a_link_to_where_it_really_ends) {
  testing::temp_dir dir;
  const auto r = write_four(dir, [](split_list&, std::int64_t&) {});
  // 4-class -> a link inside the 6-class folder -> a file outside the release: the first
  // hop stays in the tree, the file does not.
  testing::temp_dir outside;
  testing::write_test_image(outside / "x.png", 64, 64, 99);
  const auto hop = r.six / "test" / "hop.png";
  fs::create_symlink(fs::relative(outside / "x.png", hop.parent_path()), hop);
  const auto link = r.four / "test" / "102004_2.png";
  fs::remove(link);
  fs::create_symlink(hop.lexically_relative(link.parent_path()), link);
  const auto v = run(r.four);
  bool leaves = false;
  for (const auto& f : findings_of(v, "four_class")) {
    leaves = leaves || (f.message.find("resolves outside the dataset tree") != std::string::npos &&
                        f.message.find("symlink to '../../6class_coco_original/test/hop.png'") !=
                            std::string::npos);
  }
  EXPECT_TRUE(leaves) << to_text(v);
}

TEST(validate_four_class, flags_an_edh_box_left_in_the_four_class_set) {
  testing::temp_dir dir;
  const auto r = write_four(dir, [](split_list& s, std::int64_t&) {
    for (auto& [name, d] : s) d.categories.push_back({4, "EDH", "hemorrhage", {}});
    auto& train = split(s, "train");
    train.annotations.push_back({900, train.images[0].id, 4, {8, 8, 16, 16}, 256, 0, {}});
  });
  const auto v = run(r.four);
  EXPECT_EQ(rules_of(v), rule_set{"four_class"}) << to_text(v);
  bool box = false;
  for (const auto& f : findings_of(v, "four_class")) {
    box = box || f.message == "annotation 900 is an EDH box in a 4-class dataset";
  }
  EXPECT_TRUE(box) << to_text(v);
}

TEST(validate_four_class, flags_an_image_emptied_of_its_boxes_but_kept) {
  testing::temp_dir dir;
  const auto r = write_four(dir, [](split_list& s, std::int64_t&) {
    // v3_thick_100000_1.png had only EDH and HC boxes: the drop policy removes it.
    auto& train = split(s, "train");
    train.images.push_back({500, "v3_thick_100000_1.png", 64, 64, {}});
  });
  const auto v = run(r.four);
  EXPECT_EQ(rules_of(v), rule_set{"four_class"}) << to_text(v);
  bool emptied = false;
  for (const auto& f : findings_of(v, "four_class")) {
    emptied = emptied || f.message.find("emptied of its EDH/HC boxes") != std::string::npos;
  }
  EXPECT_TRUE(emptied) << to_text(v);
}

TEST(validate_four_class, flags_a_source_image_missing_from_the_four_class_set) {
  testing::temp_dir dir;
  const auto r = write_four(
      dir, [](split_list& s, std::int64_t&) { remove_image(split(s, "test"), "102003_2.png"); });
  const auto v = run(r.four);
  EXPECT_EQ(rules_of(v), rule_set{"four_class"}) << to_text(v);
}

// ---------- additional: metadata, duplicates ----------

TEST(validate_metadata, flags_counts_that_differ_from_the_data) {
  testing::temp_dir dir;
  const auto root = write_original(dir);
  auto yaml = testing::read_text(root / "metadata.yaml");
  const auto pos = yaml.find("test: {images: 12");
  ASSERT_NE(pos, std::string::npos);
  yaml.replace(pos, 17, "test: {images: 13");
  testing::write_text(root / "metadata.yaml", yaml + "unknown_key: ignored\n");
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"metadata"}) << to_text(v);
  EXPECT_EQ(findings_of(v, "metadata")[0].message,
            "splits.test.images is 13 but the split holds 12");
}

TEST(validate_metadata, reports_unreadable_yaml_as_a_finding) {
  testing::temp_dir dir;
  const auto root = write_original(dir);
  testing::write_text(root / "metadata.yaml", "type: [unclosed\n");
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"metadata"}) << to_text(v);
}

TEST(validate_duplicates, warns_about_one_slice_twice_in_a_split) {
  testing::temp_dir dir;
  const auto root = write_original(dir, [](split_list& s) {
    // The pool slice 100001_2 is in the split twice, once with the no_hem_ prefix.
    split(s, "train").images[9].file_name = "no_hem_100001_2.png";
  });
  const auto v = run(root);
  EXPECT_EQ(rules_of(v), rule_set{"duplicates"}) << to_text(v);
  EXPECT_TRUE(v.passed());
}

// ---------- output ----------

TEST(validate_report, groups_failures_by_rule_and_names_the_first_items) {
  testing::temp_dir dir;
  const auto root = write_original(dir, [](split_list& s) {
    for (auto& a : split(s, "train").annotations) a.bbox.x = 60;
  });
  const auto v = run(root);
  const auto text = to_text(v, 3);
  EXPECT_NE(text.find("✗ VALIDATION FAILED: 12 errors"), std::string::npos) << text;
  EXPECT_NE(text.find("[boxes] 12 errors"), std::string::npos);
  EXPECT_NE(text.find("  ... and 9 more"), std::string::npos);
  EXPECT_NE(text.find("✗ Train: 0/12 boxes valid (0.0%)"), std::string::npos);
  const auto json = to_json(v);
  EXPECT_NE(json.find("\"rule\": \"boxes\""), std::string::npos) << json.substr(0, 2000);
  EXPECT_NE(json.find("\"severity\": \"error\""), std::string::npos);
  EXPECT_NE(json.find("\"passed\": false"), std::string::npos);
}

}  // namespace
}  // namespace ctprep::report

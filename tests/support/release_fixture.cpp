#include "support/release_fixture.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/core/classes.hpp"
#include "ctprep/core/identity.hpp"
#include "support/testing.hpp"

namespace ctprep::testing {
namespace fs = std::filesystem;

split_list release_originals() {
  split_list out;
  const char* names[] = {"train", "valid", "test"};
  for (int k = 0; k < 3; ++k) {
    std::vector<test_image> images;
    for (int i = 0; i < 6; ++i) {
      const int pid = 100000 + 1000 * k + i;
      const auto name = i % 2 == 0 ? fmt::format("v3_thick_{}_1.png", pid)
                                   : fmt::format("roboflow_{}_1_png.rf.ab{}{}.jpg", pid, k, i);
      images.push_back({name, {{i, {8, 8, 16, 16}}, {(i + 1) % 6, {30, 30, 12, 10}}}});
    }
    for (int i = 0; i < 6; ++i)
      images.push_back({fmt::format("{}_2.png", 100000 + 1000 * k + i), {}});
    out.emplace_back(names[k], make_dataset(images));
  }
  return out;
}

namespace {
std::string aug_name(const std::string& name, int k) {
  const auto dot = name.rfind('.');
  return fmt::format("{}_aug{}{}", name.substr(0, dot), k, name.substr(dot));
}
}  // namespace

split_list release_augmented(const split_list& originals, int multiplier) {
  split_list out = originals;
  auto& train = out.front().second;
  const auto& source = originals.front().second;
  train.images.clear();
  train.annotations.clear();
  std::int64_t image_id = 0, annotation_id = 0;
  for (const auto& im : source.images) {
    for (int k = 0; k < multiplier; ++k) {
      auto copy = im;
      copy.id = image_id++;
      copy.file_name = aug_name(im.file_name, k);
      train.images.push_back(copy);
      for (const auto& a : source.annotations) {
        if (a.image_id != im.id) continue;
        auto b = a;
        b.id = annotation_id++;
        b.image_id = copy.id;
        train.annotations.push_back(b);
      }
    }
  }
  return out;
}

split_list release_four_class(const split_list& six, std::int64_t* dropped) {
  split_list out;
  std::int64_t removed = 0;
  for (const auto& [name, d] : six) {
    core::dataset f;
    f.categories = core::make_categories(core::four_class_names);
    std::unordered_map<std::int64_t, std::string> category_name;
    for (const auto& c : d.categories) category_name.emplace(c.id, c.name);
    for (const auto& im : d.images) {
      std::vector<core::annotation> kept;
      bool had = false;
      for (const auto& a : d.annotations) {
        if (a.image_id != im.id) continue;
        had = true;
        const auto& cname = category_name.at(a.category_id);
        auto it =
            std::find(std::begin(core::four_class_names), std::end(core::four_class_names), cname);
        if (it == std::end(core::four_class_names)) continue;
        auto b = a;
        b.category_id = it - std::begin(core::four_class_names);
        kept.push_back(b);
      }
      if (had && kept.empty()) {
        ++removed;
        continue;
      }
      f.images.push_back(im);
      f.annotations.insert(f.annotations.end(), kept.begin(), kept.end());
    }
    out.emplace_back(name, std::move(f));
  }
  if (dropped) *dropped = removed;
  return out;
}

std::string metadata_yaml(const split_list& splits, const metadata_spec& spec) {
  std::string y = "ctprep_metadata: 1\nversion: v4\n";
  y += fmt::format("type: {}\nvariant: {}\n", spec.type, spec.variant);
  std::vector<std::string> classes;
  for (const auto& c : splits.front().second.categories) classes.push_back(c.name);
  y += fmt::format("classes: [{}]\nseed: 42\ntool_version: 0.1.0\n", fmt::join(classes, ", "));
  if (!spec.original_dataset.empty())
    y += fmt::format("original_dataset: {}\n", spec.original_dataset);
  std::string balance = "balance:\n  target_ratio: 0.5\n  per_split:\n";
  y += "splits:\n";
  for (const auto& [name, d] : splits) {
    std::set<std::int64_t> boxed;
    for (const auto& a : d.annotations) boxed.insert(a.image_id);
    std::set<std::string> patients;
    std::uint64_t originals = 0, with = 0, without = 0, o_with = 0, o_without = 0;
    for (const auto& im : d.images) {
      const bool has = boxed.contains(im.id);
      ++(has ? with : without);
      const auto v = core::augmentation_version(im.file_name);
      if (!v || *v == 0) {
        ++originals;
        ++(has ? o_with : o_without);
      }
      if (auto id = core::parse_slice_identity(im.file_name)) patients.insert(id->patient);
    }
    y += fmt::format(
        "  {}: {{images: {}, originals: {}, patients: {}, with_hemorrhage: {}, "
        "without_hemorrhage: {}, annotations: {}}}\n",
        name, d.images.size(), originals, patients.size(), with, without, d.annotations.size());
    balance += fmt::format(
        "    {}: {{with_hemorrhage: {}, without_before: {}, shortfall: {}, added_fp: 0, "
        "added_tn: 0, without_after: {}, short_by: 0}}\n",
        name, o_with, o_without, o_with > o_without ? o_with - o_without : 0, o_without);
  }
  y += balance + "  pool_left: {fp: 0, tn: 0}\n";
  if (spec.multiplier > 0) {
    y += fmt::format("augmentation:\n  multiplier: {}\n  splits: [train]\n  dropped: []\n",
                     spec.multiplier);
  }
  if (!spec.empty_image_policy.empty()) {
    y += fmt::format("four_class:\n  empty_image_policy: {}\n  dropped_images: {}\n",
                     spec.empty_image_policy, spec.dropped_images);
  }
  return y;
}

void write_dataset(const fs::path& dir, const split_list& splits, unsigned first_seed) {
  unsigned seed = first_seed;
  for (const auto& [name, d] : splits) {
    write_split(dir / name, d, seed);
    seed += static_cast<unsigned>(d.images.size());
  }
}

void write_augmented_dataset(const fs::path& dir, const fs::path& original_dir,
                             const split_list& splits, unsigned first_seed) {
  auto seed = static_cast<unsigned char>(first_seed & 0xFF);
  for (const auto& [name, d] : splits) {
    fs::create_directories(dir / name);
    for (const auto& im : d.images) {
      const auto v = core::augmentation_version(im.file_name);
      const auto target = dir / name / im.file_name;
      if (!v || *v == 0) {
        fs::copy_file(original_dir / name / core::original_file_name(im.file_name), target,
                      fs::copy_options::overwrite_existing);
      } else {
        write_test_image(target, static_cast<int>(im.width), static_cast<int>(im.height), seed++);
      }
    }
    auto ok = coco::write_file(dir / name / coco::annotations_file_name, d);
    if (!ok) throw std::runtime_error(ok.error().message);
  }
}

void write_linked_dataset(const fs::path& dir, const fs::path& source_dir,
                          const split_list& splits) {
  const auto source_name = source_dir.filename();
  for (const auto& [name, d] : splits) {
    fs::create_directories(dir / name);
    for (const auto& im : d.images) {
      fs::create_symlink(fs::path("..") / ".." / source_name / name / im.file_name,
                         dir / name / im.file_name);
    }
    auto ok = coco::write_file(dir / name / coco::annotations_file_name, d);
    if (!ok) throw std::runtime_error(ok.error().message);
  }
}

void write_release(const fs::path& root) {
  const auto originals = release_originals();
  const auto augmented = release_augmented(originals);
  std::int64_t dropped_original = 0, dropped_augmented = 0;
  const auto four_original = release_four_class(originals, &dropped_original);
  const auto four_augmented = release_four_class(augmented, &dropped_augmented);

  write_dataset(root / "6class_coco_original", originals);
  write_text(root / "6class_coco_original" / "metadata.yaml", metadata_yaml(originals, {}));

  write_augmented_dataset(root / "6class_coco", root / "6class_coco_original", augmented);
  write_text(root / "6class_coco" / "metadata.yaml",
             metadata_yaml(augmented, {"6class", "augmented", "../6class_coco_original", 3}));

  write_linked_dataset(root / "4class_coco_original", root / "6class_coco_original", four_original);
  write_text(root / "4class_coco_original" / "metadata.yaml",
             metadata_yaml(four_original, {"4class", "original", "", 0, "drop", dropped_original}));

  write_linked_dataset(root / "4class_coco", root / "6class_coco", four_augmented);
  write_text(root / "4class_coco" / "metadata.yaml",
             metadata_yaml(four_augmented, {"4class", "augmented", "../4class_coco_original", 3,
                                            "drop", dropped_augmented}));
}

}  // namespace ctprep::testing

// Rules that compare a dataset with the one it was derived from: 6 (augmentation:
// versions, _aug0 against the original dataset) and 8 (4-class: symlinks, EDH/HC
// filtering, the empty-image policy, against the 6-class source the links point to).
#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

#include <sys/stat.h>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/coco/layout.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/core/parallel.hpp"
#include "report/validate_internal.hpp"

namespace ctprep::report::detail {
namespace {

// A box as (category name, x, y, w, h): compared by name, never by id.
using named_box = std::tuple<std::string, double, double, double, double>;

std::vector<named_box> named_boxes(const core::dataset& d,
                                   const std::unordered_map<std::int64_t, std::string>& names,
                                   const std::vector<std::size_t>& annotations, bool drop_removed) {
  std::vector<named_box> out;
  for (auto a : annotations) {
    const auto& ann = d.annotations[a];
    const auto it = names.find(ann.category_id);
    const std::string name = it == names.end() ? std::to_string(ann.category_id) : it->second;
    if (drop_removed && is_removed_class(name)) continue;
    out.emplace_back(name, ann.bbox.x, ann.bbox.y, ann.bbox.w, ann.bbox.h);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool same_boxes(const std::vector<named_box>& a, const std::vector<named_box>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::get<0>(a[i]) != std::get<0>(b[i])) return false;
    if (std::abs(std::get<1>(a[i]) - std::get<1>(b[i])) > 1e-6 ||
        std::abs(std::get<2>(a[i]) - std::get<2>(b[i])) > 1e-6 ||
        std::abs(std::get<3>(a[i]) - std::get<3>(b[i])) > 1e-6 ||
        std::abs(std::get<4>(a[i]) - std::get<4>(b[i])) > 1e-6) {
      return false;
    }
  }
  return true;
}

// A dataset folder loaded for comparison (the original variant, a 6-class source).
struct reference_split {
  fs::path dir;
  core::dataset data;
  std::unordered_map<std::string, std::size_t> index_of_name;
  std::vector<std::vector<std::size_t>> boxes_of;
  std::unordered_map<std::int64_t, std::string> category_name;
};

core::result<reference_split> load_reference(const fs::path& dir) {
  auto data = coco::read_file(dir / coco::annotations_file_name);
  if (!data) return tl::unexpected(data.error());
  reference_split r;
  r.dir = dir;
  r.data = std::move(*data);
  std::unordered_map<std::int64_t, std::size_t> by_id;
  r.boxes_of.resize(r.data.images.size());
  for (std::size_t i = 0; i < r.data.images.size(); ++i) {
    r.index_of_name.emplace(r.data.images[i].file_name, i);
    by_id.emplace(r.data.images[i].id, i);
  }
  for (std::size_t a = 0; a < r.data.annotations.size(); ++a) {
    r.boxes_of[by_id.at(r.data.annotations[a].image_id)].push_back(a);
  }
  for (const auto& cat : r.data.categories) r.category_name.emplace(cat.id, cat.name);
  return r;
}

// Byte identity of two files: the same inode (a hard link) is identical without reading.
bool identical_files(const fs::path& a, const fs::path& b) {
  struct stat sa {
  }, sb{};
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  if (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino) return true;
  if (sa.st_size != sb.st_size) return false;
  auto x = core::read_file(a), y = core::read_file(b);
  return x && y && *x == *y;
}

// Where the original (unaugmented) variant of an augmented dataset is.
std::optional<fs::path> original_dataset_dir(const context& c, std::string& how) {
  std::error_code ec;
  if (c.meta.original_dataset) {
    how = "metadata.yaml original_dataset";
    return (c.root / *c.meta.original_dataset).lexically_normal();
  }
  auto root = fs::absolute(c.root, ec).lexically_normal();
  if (root.filename().empty()) root = root.parent_path();
  const auto sibling = root.parent_path() / (root.filename().string() + "_original");
  if (fs::is_directory(sibling, ec)) {
    how = "the sibling folder (no original_dataset in metadata.yaml)";
    return sibling;
  }
  return std::nullopt;
}

bool in(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

std::string aug_name(const std::string& original, int k) {
  const auto dot = original.rfind('.');
  if (dot == std::string::npos) return fmt::format("{}_aug{}", original, k);
  return fmt::format("{}_aug{}{}", original.substr(0, dot), k, original.substr(dot));
}

}  // namespace

void check_augmentation(context& c) {
  c.begin_rule(rule_augmentation, "Verifying augmentation");
  const std::vector<std::string> aug_splits =
      c.meta.augmented_splits ? *c.meta.augmented_splits : std::vector<std::string>{"train"};

  // Splits that are never augmented hold no augmented names.
  for (const auto& s : c.splits) {
    if (!s.loaded || (c.augmented && in(aug_splits, s.name))) continue;
    std::uint64_t found = 0;
    for (std::size_t i = 0; i < s.data.images.size(); ++i) {
      if (!s.version[i]) continue;
      ++found;
      c.add(severity::error, s.name, s.data.images[i].file_name,
            c.augmented ? "an augmented version in a split that is never augmented"
                        : "an augmented version in a dataset that metadata.yaml says is original");
    }
    c.line(found == 0 ? line_status::pass : line_status::fail,
           found == 0 ? fmt::format("{}: no augmented names", capitalize(s.name))
                      : fmt::format("{}: {} augmented names", capitalize(s.name), found));
  }
  if (!c.augmented) {
    c.note("an original (unaugmented) variant: only the absence of _aug names was checked");
    return;
  }

  int multiplier = 0;
  if (c.meta.multiplier) {
    multiplier = static_cast<int>(*c.meta.multiplier);
  } else {
    for (const auto& s : c.splits) {
      if (!s.loaded || !in(aug_splits, s.name)) continue;
      for (const auto& v : s.version) {
        if (v) multiplier = std::max(multiplier, *v + 1);
      }
    }
    c.note(
        fmt::format("no augmentation.multiplier in metadata.yaml: {} inferred from the "
                    "highest _aug<k> present, and no dropped versions are known",
                    multiplier));
  }
  std::string how;
  const auto original_dir = original_dataset_dir(c, how);
  if (!original_dir) {
    c.note(
        "original dataset not found (no original_dataset in metadata.yaml, no <name>_original "
        "sibling): _aug0 was not compared with the originals");
  }

  struct pair_to_compare {
    std::string split, file;
    fs::path a, b;
  };
  std::vector<pair_to_compare> pairs;

  for (const auto& s : c.splits) {
    if (!s.loaded) continue;
    const bool augmented_split = in(aug_splits, s.name);
    std::optional<reference_split> reference;
    if (original_dir) {
      auto r = load_reference(*original_dir / s.name);
      if (r) {
        reference = std::move(*r);
      } else {
        c.add(severity::error, s.name, "",
              fmt::format("cannot read the original dataset's {} split: {}", s.name,
                          r.error().message));
      }
    }
    if (!augmented_split) {
      // valid/test of the augmented variant are the original's, file for file.
      if (!reference) continue;
      const auto errors_before = c.current->errors;
      std::set<std::string> names;
      for (std::size_t i = 0; i < s.data.images.size(); ++i) {
        const auto& name = s.data.images[i].file_name;
        names.insert(name);
        auto it = reference->index_of_name.find(name);
        if (it == reference->index_of_name.end()) {
          c.add(severity::error, s.name, name, "not in the original dataset's split");
          continue;
        }
        if (!same_boxes(named_boxes(s.data, s.category_name, s.boxes_of[i], false),
                        named_boxes(reference->data, reference->category_name,
                                    reference->boxes_of[it->second], false))) {
          c.add(severity::error, s.name, name, "its boxes differ from the original dataset's");
        }
        pairs.push_back({s.name, name, s.dir / name, reference->dir / name});
      }
      for (const auto& im : reference->data.images) {
        if (!names.contains(im.file_name)) {
          c.add(severity::error, s.name, im.file_name,
                "in the original dataset's split but missing here");
        }
      }
      c.line(c.current->errors == errors_before ? line_status::pass : line_status::fail,
             fmt::format("{}: same {} images as the original dataset", capitalize(s.name),
                         thousands(s.data.images.size())));
      continue;
    }

    // Group the versions by the original they came from.
    const auto errors_before = c.current->errors;
    std::map<std::string, std::map<int, std::size_t>> groups;
    for (std::size_t i = 0; i < s.data.images.size(); ++i) {
      const auto& name = s.data.images[i].file_name;
      if (!s.version[i]) {
        c.add(severity::error, s.name, name, "not an augmented version (no _aug<k> suffix)");
        continue;
      }
      groups[core::original_file_name(name)][*s.version[i]] = i;
    }
    std::uint64_t versions = 0, dropped = 0;
    for (const auto& [original, have] : groups) {
      versions += have.size();
      for (const auto& [k, i] : have) {
        const auto& name = s.data.images[i].file_name;
        if (k >= multiplier) {
          c.add(severity::error, s.name, name,
                fmt::format("version {} is beyond the multiplier {}", k, multiplier));
        }
        if (c.meta.dropped_versions.contains(name)) {
          c.add(severity::error, s.name, name,
                "metadata.yaml lists it as dropped, yet it is present");
        }
      }
      for (int k = 0; k < multiplier; ++k) {
        if (have.contains(k)) continue;
        const auto expected = aug_name(original, k);
        if (c.meta.dropped_versions.contains(expected)) {
          ++dropped;
          continue;
        }
        // In a 4-class set a version leaves with its EDH/HC boxes; rule 8 checks every
        // image of the 6-class source is present or rightly dropped.
        if (c.four_class && k > 0) continue;
        c.add(severity::error, s.name, expected,
              k == 0 ? "missing _aug0 (the original itself)"
                     : fmt::format("missing _aug{} of {} (not recorded as dropped)", k, original));
      }
      if (!reference) continue;
      const auto it = reference->index_of_name.find(original);
      const auto zero = have.find(0);
      if (it == reference->index_of_name.end()) {
        c.add(severity::error, s.name,
              zero != have.end() ? s.data.images[zero->second].file_name : original,
              fmt::format("no original '{}' in {}", original, (reference->dir).string()));
        continue;
      }
      if (zero == have.end()) continue;
      const auto& name0 = s.data.images[zero->second].file_name;
      if (!same_boxes(named_boxes(s.data, s.category_name, s.boxes_of[zero->second], false),
                      named_boxes(reference->data, reference->category_name,
                                  reference->boxes_of[it->second], false))) {
        c.add(severity::error, s.name, name0, "_aug0's boxes differ from the original's");
      }
      pairs.push_back({s.name, name0, s.dir / name0, reference->dir / original});
    }
    if (reference) {
      for (const auto& im : reference->data.images) {
        if (!groups.contains(im.file_name)) {
          c.add(severity::error, s.name, im.file_name,
                "an original with no augmented versions in this split");
        }
      }
    }
    const double ratio =
        groups.empty() ? 0.0 : static_cast<double>(versions) / static_cast<double>(groups.size());
    const bool ok = c.current->errors == errors_before;
    c.line(
        ok ? line_status::pass : line_status::fail,
        fmt::format("{}: augmentation multiplier {:.2f}x (expected {}x{})", capitalize(s.name),
                    ratio, multiplier,
                    dropped > 0 ? fmt::format(", {} versions dropped as recorded", dropped) : ""));
    c.line(ok ? line_status::pass : line_status::fail,
           fmt::format("{}: original images: {}", capitalize(s.name), thousands(groups.size())));
    c.line(
        ok ? line_status::pass : line_status::fail,
        fmt::format("{}: total after augmentation: {}", capitalize(s.name), thousands(versions)));
  }

  // Byte identity, in parallel (files may be large and many).
  std::vector<char> same(pairs.size(), 0);
  core::parallel_for(pairs.size(), c.options.jobs, [&](std::size_t i) {
    same[i] = identical_files(pairs[i].a, pairs[i].b) ? 1 : 0;
  });
  std::uint64_t differing = 0;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (same[i]) continue;
    ++differing;
    c.add(severity::error, pairs[i].split, pairs[i].file,
          fmt::format("not byte-identical to the original {}", pairs[i].b.string()));
  }
  if (original_dir) {
    c.line(differing == 0 ? line_status::pass : line_status::fail,
           fmt::format("{}/{} originals byte-identical in {} (found by {})",
                       thousands(pairs.size() - differing), thousands(pairs.size()),
                       original_dir->string(), how));
  } else {
    c.line(line_status::skip, "_aug0 not compared with the originals (original dataset not found)");
  }
}

void check_four_class(context& c) {
  c.begin_rule(rule_four_class, "Checking 4-class dataset");
  std::error_code ec;
  auto tree = fs::weakly_canonical(fs::absolute(c.root, ec), ec);
  if (tree.filename().empty()) tree = tree.parent_path();
  tree = tree.parent_path();
  const auto inside = [&](const fs::path& p) {
    auto rel = p.lexically_relative(tree);
    return !rel.empty() && *rel.begin() != "..";
  };

  std::uint64_t links = 0, copies = 0;
  const auto errors_before = c.current->errors;
  for (const auto& s : c.splits) {
    if (!s.loaded) continue;
    for (std::size_t i = 0; i < s.entries.size(); ++i) {
      const auto& e = s.entries[i];
      const auto& name = s.data.images[i].file_name;
      if (!e.is_symlink) {
        if (e.exists) ++copies;
        continue;
      }
      ++links;
      if (fs::path(e.link_target).is_absolute()) {
        c.add(severity::error, s.name, name,
              fmt::format("absolute symlink to '{}': it breaks when the dataset moves",
                          e.link_target));
      } else if (!e.resolves) {
        c.add(severity::error, s.name, name,
              fmt::format("dangling symlink to '{}'", e.link_target));
      } else if (!inside(e.resolved)) {
        c.add(severity::error, s.name, name,
              fmt::format("symlink to '{}' resolves outside the dataset tree {}", e.link_target,
                          tree.string()));
      }
    }
  }
  if (links > 0 || c.four_class) {
    c.line(c.current->errors == errors_before ? line_status::pass : line_status::fail,
           fmt::format("Symlinks valid ({} relative links resolving inside {})", thousands(links),
                       tree.string()));
  }
  if (c.meta.type && *c.meta.type == "4class" && copies > 0) {
    c.add(severity::warning, "", "",
          fmt::format("{} images are copies, not relative symlinks into the 6-class set", copies));
  }
  if (!c.four_class) {
    if (links == 0) c.line(line_status::skip, "Not a 4-class dataset (no symlinks)");
    c.note("not a 4-class dataset: EDH/HC filtering does not apply");
    return;
  }

  // No EDH/HC category or box.
  const auto errors_filter = c.current->errors;
  for (const auto& s : c.splits) {
    if (!s.loaded) continue;
    for (const auto& cat : s.data.categories) {
      if (is_removed_class(cat.name)) {
        c.add(severity::error, s.name, "",
              fmt::format("category {} (id {}) in a 4-class dataset", cat.name, cat.id));
      }
    }
    for (std::size_t i = 0; i < s.data.images.size(); ++i) {
      for (auto a : s.boxes_of[i]) {
        const auto& ann = s.data.annotations[a];
        const auto& cname = s.category_name.at(ann.category_id);
        if (is_removed_class(cname)) {
          c.add(severity::error, s.name, s.data.images[i].file_name,
                fmt::format("annotation {} is an {} box in a 4-class dataset", ann.id, cname));
        }
      }
    }
  }
  c.line(c.current->errors == errors_filter ? line_status::pass : line_status::fail,
         "EDH/HC filtered (no EDH/HC category or box)");

  // Against the 6-class source the links point to.
  const std::string policy = c.meta.empty_image_policy.value_or("drop");
  if (!c.meta.empty_image_policy) {
    c.note("no four_class.empty_image_policy in metadata.yaml: assumed drop (the default)");
  }
  const auto errors_source = c.current->errors;
  std::uint64_t dropped = 0, compared = 0;
  bool all_sources = true;
  for (const auto& s : c.splits) {
    if (!s.loaded) continue;
    std::set<fs::path> folders;
    for (const auto& e : s.entries) {
      if (e.is_symlink && e.resolves) folders.insert(e.resolved.parent_path());
    }
    if (folders.size() != 1 || s.data.images.empty()) {
      all_sources = false;
      c.note(
          fmt::format("{}: images are not all symlinks into one folder, so the filtering "
                      "was not compared with a 6-class source",
                      s.name));
      continue;
    }
    auto source = load_reference(*folders.begin());
    if (!source) {
      all_sources = false;
      c.add(severity::error, s.name, "",
            fmt::format("cannot read the 6-class source the links point to: {}",
                        source.error().message));
      continue;
    }
    if (source->dir.filename() != s.name) {
      c.add(
          severity::error, s.name, "",
          fmt::format("links point into the source's '{}' split", source->dir.filename().string()));
    }
    std::set<std::string> linked;
    for (std::size_t i = 0; i < s.data.images.size(); ++i) {
      const auto& e = s.entries[i];
      const auto& name = s.data.images[i].file_name;
      if (!e.is_symlink || !e.resolves) continue;
      const auto target = e.resolved.filename().string();
      linked.insert(target);
      auto it = source->index_of_name.find(target);
      if (it == source->index_of_name.end()) {
        c.add(severity::error, s.name, name,
              fmt::format("links to '{}', which the 6-class source's JSON does not name", target));
        continue;
      }
      ++compared;
      const auto& src_boxes = source->boxes_of[it->second];
      const auto kept = named_boxes(s.data, s.category_name, s.boxes_of[i], false);
      if (!same_boxes(kept, named_boxes(source->data, source->category_name, src_boxes, true))) {
        c.add(severity::error, s.name, name,
              "its boxes are not the 6-class source's boxes minus EDH/HC");
      } else if (kept.empty() && !src_boxes.empty() && policy == "drop") {
        c.add(severity::error, s.name, name,
              "emptied of its EDH/HC boxes but kept: the drop policy removes it (it would "
              "teach the model that a bleed is no bleed)");
      }
    }
    for (std::size_t j = 0; j < source->data.images.size(); ++j) {
      const auto& src_name = source->data.images[j].file_name;
      if (linked.contains(src_name)) continue;
      const auto& src_boxes = source->boxes_of[j];
      const bool only_removed =
          !src_boxes.empty() &&
          named_boxes(source->data, source->category_name, src_boxes, true).empty();
      if (only_removed && policy == "drop") {
        ++dropped;
      } else {
        c.add(severity::error, s.name, src_name,
              only_removed ? "missing: the keep-negative policy keeps images emptied of EDH/HC"
                           : "in the 6-class source but missing from the 4-class set");
      }
    }
  }
  if (all_sources && c.meta.four_class_dropped_images &&
      *c.meta.four_class_dropped_images != dropped) {
    c.add(severity::error, "", "metadata.yaml",
          fmt::format("four_class.dropped_images is {} but {} source images were rightly dropped",
                      *c.meta.four_class_dropped_images, dropped));
  }
  if (compared > 0 || c.current->errors > errors_source) {
    c.line(c.current->errors == errors_source ? line_status::pass : line_status::fail,
           fmt::format("Images follow the 6-class source ({} compared, {} dropped, policy {})",
                       thousands(compared), thousands(dropped), policy));
  } else {
    c.line(line_status::skip, "Filtering not compared with a 6-class source (no symlinks)");
  }
}

}  // namespace ctprep::report::detail

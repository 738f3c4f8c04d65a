// The stages of prepare up to the balance: pure functions from items to items/reports.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <regex>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/coco/layout.hpp"
#include "ctprep/core/classes.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/core/parallel.hpp"
#include "ctprep/core/rng.hpp"
#include "ctprep/imaging/header.hpp"
#include "ctprep/pipeline/annotate.hpp"
#include "ctprep/pipeline/prepare.hpp"

namespace ctprep::pipeline {
namespace fs = std::filesystem;
using core::error_code;

namespace {

std::int64_t six_class_id(std::string_view name) {
  for (std::size_t i = 0; i < std::size(core::six_class_names); ++i) {
    if (core::six_class_names[i] == name) return static_cast<std::int64_t>(i);
  }
  return -1;
}

core::result<core::slice_id> identity_of(std::string_view file_name, const std::regex* pattern) {
  if (pattern == nullptr) return core::parse_slice_identity(file_name);
  std::cmatch m;
  const std::string name(file_name);
  std::smatch sm;
  if (!std::regex_search(name, sm, *pattern)) {
    return core::fail(error_code::bad_identity,
                      fmt::format("'{}' does not match the source's identity_pattern", file_name));
  }
  auto patient = core::canonical_digits(sm[1].str());
  auto instance = core::canonical_digits(sm[2].str());
  if (!patient || !instance) {
    return core::fail(error_code::bad_identity,
                      fmt::format("'{}': identity_pattern groups are not numbers", file_name));
  }
  return core::slice_id{*patient, *instance};
}

// Orders patient ids numerically (canonical digits: shorter is smaller).
bool patient_less(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

}  // namespace

core::result<loaded_source> load_source(const recipe_source& source, const fs::path& data_root) {
  const fs::path dir = data_root / source.path;
  auto splits = coco::load_splits(dir);
  if (!splits) return tl::unexpected(splits.error());
  std::optional<std::regex> pattern;
  if (!source.identity_pattern.empty()) pattern.emplace(source.identity_pattern);
  const std::set<std::string> drop(source.drop.begin(), source.drop.end());

  loaded_source out;
  out.name = source.name;
  for (auto& split : *splits) {
    const auto origin = split.ref.json_path.string();
    // Category id -> 6-class id (-1: dropped name), read by name from this file.
    std::unordered_map<std::int64_t, std::pair<std::int64_t, std::string>> cats;
    for (const auto& c : split.data.categories) {
      std::int64_t target = -1;
      if (auto it = source.classes.find(c.name); it != source.classes.end()) {
        target = six_class_id(it->second);
      } else if (drop.count(c.name) == 0) {
        target = -2;  // maps to nothing: an error if any box uses it
      }
      cats[c.id] = {target, c.name};
    }
    std::unordered_map<std::int64_t, std::size_t> index_of_image;
    const std::size_t first = out.items.size();
    for (const auto& im : split.data.images) {
      auto id = identity_of(im.file_name, pattern ? &*pattern : nullptr);
      if (!id) {
        out.bad_names.push_back(im.file_name);
        continue;
      }
      slice_item item;
      item.file_name = source.prefix + im.file_name;
      item.path = split.ref.dir / im.file_name;
      item.width = im.width;
      item.height = im.height;
      item.id = std::move(*id);
      item.source = source.name;
      index_of_image[im.id] = out.items.size();
      out.items.push_back(std::move(item));
    }
    out.images_per_split[split.ref.name] += out.items.size() - first;
    for (const auto& a : split.data.annotations) {
      const auto cat = cats.find(a.category_id);
      if (cat == cats.end()) {
        return core::fail(
            error_code::bad_coco,
            fmt::format("'{}': annotation {} uses category {}, which the file does not define",
                        origin, a.id, a.category_id));
      }
      const auto& [target, name] = cat->second;
      if (target == -2) {
        return core::fail(
            error_code::bad_recipe,
            fmt::format("category '{}' of '{}' maps to nothing: add it to the classes or "
                        "the drop list of source '{}'",
                        name, origin, source.name));
      }
      const auto im = index_of_image.find(a.image_id);
      if (im == index_of_image.end()) continue;  // its image had a bad name (reported)
      if (target < 0) {
        ++out.dropped_per_name[name];
        continue;
      }
      ++out.boxes_per_name[name];
      out.items[im->second].boxes.push_back({target, a.bbox});
    }
  }
  return out;
}

core::result<loaded_source> load_pool(const fs::path& dir, std::string_view prefix, unsigned jobs) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return core::fail(error_code::not_found,
                      fmt::format("no-hemorrhage pool folder '{}' does not exist", dir.string()));
  }
  core::dataset data;
  const auto json = dir / coco::annotations_file_name;
  if (fs::is_regular_file(json, ec)) {
    auto read = coco::read_file(json);
    if (!read) return tl::unexpected(read.error());
    data = std::move(*read);
  } else {
    // No COCO file yet (annotate not run): the folder's images are the pool.
    auto annotated = annotate_folder(dir, {jobs, nullptr});
    if (!annotated) return tl::unexpected(annotated.error());
    data = std::move(annotated->data);
  }
  loaded_source out;
  out.name = "no_hem";
  for (const auto& im : data.images) {
    auto id = core::parse_slice_identity(im.file_name);
    if (!id) {
      out.bad_names.push_back(im.file_name);
      continue;
    }
    slice_item item;
    item.file_name = std::string(prefix) + im.file_name;
    item.path = dir / im.file_name;
    item.width = im.width;
    item.height = im.height;
    item.id = std::move(*id);
    item.source = "no_hem";
    out.items.push_back(std::move(item));
  }
  std::size_t with_boxes = 0;
  for (const auto& a : data.annotations) with_boxes += a.category_id >= 0 ? 1 : 0;
  if (with_boxes > 0) out.dropped_per_name["(pool boxes ignored)"] = with_boxes;
  out.images_per_split["pool"] = out.items.size();
  return out;
}

merge_result merge_sources(std::vector<loaded_source> sources) {
  merge_result out;
  std::map<core::slice_id, std::size_t> seen;  // identity -> index in out.items
  for (auto& source : sources) {
    for (auto& item : source.items) {
      auto [it, inserted] = seen.emplace(item.id, out.items.size());
      if (inserted) {
        out.items.push_back(std::move(item));
        continue;
      }
      auto& kept = out.items[it->second];
      std::error_code ec;
      if (!fs::exists(kept.path, ec) && fs::exists(item.path, ec)) {
        out.duplicates.push_back({item.file_name, kept.file_name});
        kept = std::move(item);
      } else {
        out.duplicates.push_back({kept.file_name, item.file_name});
      }
    }
  }
  return out;
}

missing_report drop_missing(std::vector<slice_item>& items, unsigned jobs) {
  enum class state { ok, missing, broken };
  std::vector<state> states(items.size(), state::ok);
  std::vector<std::string> reasons(items.size());
  std::vector<char> fixed(items.size(), 0);
  core::parallel_for(items.size(), jobs, [&](std::size_t i) {
    auto& item = items[i];
    std::error_code ec;
    if (!fs::is_regular_file(item.path, ec)) {
      states[i] = state::missing;
      return;
    }
    auto header = imaging::read_image_header(item.path);
    if (!header) {
      states[i] = state::broken;
      reasons[i] = header.error().message;
      return;
    }
    if (header->width != item.width || header->height != item.height) {
      item.width = header->width;
      item.height = header->height;
      fixed[i] = 1;
    }
  });
  missing_report report;
  std::vector<slice_item> kept;
  kept.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    report.size_fixed += static_cast<std::size_t>(fixed[i]);
    if (states[i] == state::missing)
      report.missing.push_back(items[i].file_name);
    else if (states[i] == state::broken)
      report.broken.push_back(items[i].file_name + ": " + reasons[i]);
    else
      kept.push_back(std::move(items[i]));
  }
  items = std::move(kept);
  return report;
}

clip_report clip_boxes(std::vector<slice_item>& items) {
  clip_report report;
  std::vector<slice_item> kept;
  kept.reserve(items.size());
  for (auto& item : items) {
    const bool had = !item.boxes.empty();
    const auto w = static_cast<double>(item.width), h = static_cast<double>(item.height);
    std::vector<imaging::labeled_box> boxes;
    for (auto b : item.boxes) {
      const double x0 = std::max(0.0, b.bbox.x), y0 = std::max(0.0, b.bbox.y);
      const double x1 = std::min(w, b.bbox.x + b.bbox.w), y1 = std::min(h, b.bbox.y + b.bbox.h);
      if (x0 != b.bbox.x || y0 != b.bbox.y || x1 != b.bbox.x + b.bbox.w ||
          y1 != b.bbox.y + b.bbox.h) {
        ++report.clipped;
      }
      if (x1 - x0 < 1.0 || y1 - y0 < 1.0) {
        ++report.dropped_boxes;
        continue;
      }
      b.bbox = {x0, y0, x1 - x0, y1 - y0};
      boxes.push_back(b);
    }
    item.boxes = std::move(boxes);
    if (had && item.boxes.empty()) {
      // A slice whose every box was invalid is not a negative: keeping it would be label noise.
      report.emptied_images.push_back(item.file_name);
      continue;
    }
    kept.push_back(std::move(item));
  }
  items = std::move(kept);
  return report;
}

split_result split_patients(const std::vector<slice_item>& items, double valid_fraction,
                            double test_fraction, std::uint64_t seed) {
  struct patient {
    std::string id;
    std::vector<std::size_t> items;
    unsigned classes = 0;   // bit c: some image has class c
    std::size_t order = 0;  // position after the seeded shuffle
    std::size_t split = no_split;
  };
  std::map<std::string, std::size_t> index;
  std::vector<patient> patients;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto [it, inserted] = index.emplace(items[i].id.patient, patients.size());
    if (inserted) patients.push_back({items[i].id.patient, {}, 0, 0, no_split});
    auto& p = patients[it->second];
    p.items.push_back(i);
    for (const auto& b : items[i].boxes) {
      if (b.category >= 0 && b.category < 6) p.classes |= 1u << b.category;
    }
  }
  // Deterministic for the seed: start from patient-id order, then a portable shuffle.
  std::sort(patients.begin(), patients.end(),
            [](const patient& a, const patient& b) { return patient_less(a.id, b.id); });
  std::vector<std::size_t> order(patients.size());
  std::iota(order.begin(), order.end(), 0);
  core::rng random(seed);
  random.shuffle(order.begin(), order.end());
  for (std::size_t k = 0; k < order.size(); ++k) patients[order[k]].order = k;

  split_result r;
  const std::size_t n = items.size();
  r.targets[1] = static_cast<std::size_t>(std::llround(static_cast<double>(n) * valid_fraction));
  r.targets[2] = static_cast<std::size_t>(std::llround(static_cast<double>(n) * test_fraction));
  r.targets[0] = n - std::min(n, r.targets[1] + r.targets[2]);
  std::array<std::size_t, split_count> size{};
  std::array<unsigned, split_count> covered{};
  auto assign = [&](patient& p, std::size_t s) {
    p.split = s;
    size[s] += p.items.size();
    covered[s] |= p.classes;
  };

  // Phase 1, class coverage: rarest class first, smallest split first, put in a patient
  // that has the class (preferring one that covers most missing classes, then the
  // smallest, then the shuffled order) so every split sees every class that at least
  // three patients have.
  std::array<std::size_t, 6> class_patients{};
  for (const auto& p : patients) {
    for (unsigned c = 0; c < 6; ++c) class_patients[c] += (p.classes >> c) & 1u;
  }
  std::array<unsigned, 6> classes_by_rarity = {0, 1, 2, 3, 4, 5};
  std::stable_sort(classes_by_rarity.begin(), classes_by_rarity.end(),
                   [&](unsigned a, unsigned b) { return class_patients[a] < class_patients[b]; });
  for (unsigned c : classes_by_rarity) {
    if (class_patients[c] < 3) continue;
    for (std::size_t s : {std::size_t{2}, std::size_t{1}, std::size_t{0}}) {
      if ((covered[s] >> c) & 1u) continue;
      patient* best = nullptr;
      int best_gain = -1;
      for (auto& p : patients) {
        if (p.split != no_split || !((p.classes >> c) & 1u)) continue;
        const int gain = std::popcount(p.classes & ~covered[s]);
        if (best == nullptr || gain > best_gain ||
            (gain == best_gain &&
             (p.items.size() < best->items.size() ||
              (p.items.size() == best->items.size() && p.order < best->order)))) {
          best = &p;
          best_gain = gain;
        }
      }
      if (best != nullptr) assign(*best, s);
    }
  }

  // Phase 2, sizes: the rest, largest patient first (shuffled order among equals), each
  // to the split furthest below its target; small patients at the end fine-tune.
  std::vector<patient*> rest;
  for (auto& p : patients) {
    if (p.split == no_split) rest.push_back(&p);
  }
  std::sort(rest.begin(), rest.end(), [](const patient* a, const patient* b) {
    return a->items.size() != b->items.size() ? a->items.size() > b->items.size()
                                              : a->order < b->order;
  });
  for (auto* p : rest) {
    std::size_t best = 0;
    double best_deficit = -1e300;
    for (std::size_t s = 0; s < split_count; ++s) {
      const double deficit = static_cast<double>(r.targets[s]) - static_cast<double>(size[s]);
      if (deficit > best_deficit) {
        best = s;
        best_deficit = deficit;
      }
    }
    assign(*p, best);
  }

  r.assignment.assign(items.size(), 0);
  for (const auto& p : patients) {
    ++r.patients[p.split];
    for (auto i : p.items) {
      r.assignment[i] = p.split;
      ++r.images[p.split];
      unsigned mask = 0;
      for (const auto& b : items[i].boxes) {
        if (b.category >= 0 && b.category < 6) mask |= 1u << b.category;
      }
      for (unsigned c = 0; c < 6; ++c) r.class_images[p.split][c] += (mask >> c) & 1u;
    }
  }
  for (unsigned c = 0; c < 6; ++c) {
    if (class_patients[c] == 0) continue;
    for (std::size_t s = 0; s < split_count; ++s) {
      if (r.class_images[s][c] > 0) continue;
      r.coverage_warnings.push_back(
          fmt::format("class {} ({} patient{}) is missing from {}{}", core::six_class_names[c],
                      class_patients[c], class_patients[c] == 1 ? "" : "s", split_names[s],
                      class_patients[c] < 3 ? " (fewer than 3 patients have it)" : ""));
    }
  }
  return r;
}

balance_result balance_splits(const std::vector<slice_item>& items,
                              const std::vector<std::size_t>& assignment,
                              const std::vector<slice_item>& pool, const feedback_table* feedback,
                              double target_ratio) {
  balance_result r;
  std::unordered_map<std::string, std::size_t> patient_split;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto& b = r.per_split[assignment[i]];
    (items[i].has_hemorrhage() ? b.with_hemorrhage : b.without_before) += 1;
    patient_split.emplace(items[i].id.patient, assignment[i]);
  }
  std::array<std::size_t, split_count> need{};
  for (std::size_t s = 0; s < split_count; ++s) {
    auto& b = r.per_split[s];
    const auto target = static_cast<std::size_t>(
        std::llround(static_cast<double>(b.with_hemorrhage) * target_ratio / (1.0 - target_ratio)));
    b.shortfall = target > b.without_before ? target - b.without_before : 0;
    need[s] = b.shortfall;
  }

  // Priority order: FP (CSV order), TN (CSV order), unlisted (file name order).
  std::map<core::slice_id, std::pair<pool_tier, std::size_t>> listed;
  if (feedback != nullptr) {
    for (std::size_t k = 0; k < feedback->rows.size(); ++k) {
      const auto& row = feedback->rows[k];
      listed.emplace(row.id,
                     std::pair{row.cls == feedback_class::fp ? pool_tier::fp : pool_tier::tn, k});
    }
  }
  r.pool_tiers.resize(pool.size());
  std::vector<std::tuple<int, std::size_t, std::string, std::size_t>>
      order;  // tier, row, name, index
  order.reserve(pool.size());
  for (std::size_t i = 0; i < pool.size(); ++i) {
    auto it = listed.find(pool[i].id);
    const auto tier = it == listed.end() ? pool_tier::unlisted : it->second.first;
    const std::size_t row = it == listed.end() ? 0 : it->second.second;
    r.pool_tiers[i] = tier;
    ++r.pool_available[static_cast<std::size_t>(tier)];
    order.emplace_back(static_cast<int>(tier), row, pool[i].file_name, i);
  }
  std::sort(order.begin(), order.end());

  r.pool_assignment.assign(pool.size(), no_split);
  for (const auto& [tier, row, name, i] : order) {
    std::size_t s = no_split;
    if (auto bound = patient_split.find(pool[i].id.patient); bound != patient_split.end()) {
      s = bound->second;
      if (need[s] == 0) continue;
    } else {
      // A new patient: the split with the largest share of its shortfall still open.
      double best = 0;
      for (std::size_t k = 0; k < split_count; ++k) {
        if (need[k] == 0) continue;
        const double share =
            static_cast<double>(need[k]) / static_cast<double>(r.per_split[k].shortfall);
        if (s == no_split || share > best) {
          s = k;
          best = share;
        }
      }
      if (s == no_split) continue;
      patient_split.emplace(pool[i].id.patient, s);
    }
    r.pool_assignment[i] = s;
    --need[s];
    auto& b = r.per_split[s];
    if (tier == 0)
      ++b.added_fp;
    else if (tier == 1)
      ++b.added_tn;
    else
      ++b.added_unlisted;
  }
  for (std::size_t i = 0; i < pool.size(); ++i) {
    if (r.pool_assignment[i] == no_split) ++r.pool_left[static_cast<std::size_t>(r.pool_tiers[i])];
  }
  for (std::size_t s = 0; s < split_count; ++s) {
    auto& b = r.per_split[s];
    b.without_after = b.without_before + b.added_fp + b.added_tn + b.added_unlisted;
    b.short_by = need[s];
  }
  return r;
}

}  // namespace ctprep::pipeline

// Rules 1 (COCO), 2 (class coverage), 3 (leakage), 5 (boxes) and the additional
// duplicate-slice check.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ctprep/coco/coco.hpp"
#include "report/validate_internal.hpp"

namespace ctprep::report::detail {
namespace {

using category_list = std::vector<std::pair<std::int64_t, std::string>>;

category_list categories_of(const split_state& s) {
  category_list out;
  for (const auto& cat : s.data.categories) out.emplace_back(cat.id, cat.name);
  std::sort(out.begin(), out.end());
  return out;
}

std::string describe(const category_list& list) {
  std::vector<std::string> parts;
  for (const auto& [id, name] : list) parts.push_back(fmt::format("{}={}", id, name));
  return fmt::format("[{}]", fmt::join(parts, ", "));
}

// Problems of one category list against the expected set, by name and id. In a
// 4-class dataset EDH/HC are left to rule 8, which reports them.
std::vector<std::string> expected_set_problems(const context& c, const category_list& list) {
  std::vector<std::string> problems;
  std::map<std::string, int> seen;
  for (const auto& [id, name] : list) {
    if (++seen[name] == 2)
      problems.push_back(fmt::format("category name '{}' appears twice", name));
  }
  for (std::size_t i = 0; i < c.expected_names.size(); ++i) {
    const auto& want = c.expected_names[i];
    auto it =
        std::find_if(list.begin(), list.end(), [&](const auto& p) { return p.second == want; });
    if (it == list.end()) {
      problems.push_back(fmt::format("lacks category {} (id {})", want, i));
    } else if (it->first != static_cast<std::int64_t>(i)) {
      problems.push_back(fmt::format("category {} has id {}, expected {}", want, it->first, i));
    }
  }
  for (const auto& [id, name] : list) {
    if (c.four_class && is_removed_class(name)) continue;
    if (std::find(c.expected_names.begin(), c.expected_names.end(), name) ==
        c.expected_names.end()) {
      problems.push_back(fmt::format("unexpected category '{}' (id {})", name, id));
    }
  }
  return problems;
}

std::string joined(const std::vector<std::string>& names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

void check_coco(context& c) {
  c.begin_rule(rule_coco, "Validating COCO format");
  for (const auto& s : c.splits) {
    if (!s.loaded) {
      c.add(severity::error, s.name, std::string(coco::annotations_file_name), s.load_error);
      c.line(line_status::fail, fmt::format("{} annotations invalid", capitalize(s.name)));
      continue;
    }
    if (s.data.images.empty()) {
      c.add(severity::warning, s.name, std::string(coco::annotations_file_name),
            "the split holds no images");
    }
    c.line(s.data.images.empty() ? line_status::warn : line_status::pass,
           fmt::format("{} annotations valid ({} images, {} annotations, {} categories)",
                       capitalize(s.name), thousands(s.data.images.size()),
                       thousands(s.data.annotations.size()), s.data.categories.size()));
  }

  // The same categories in every split, then the expected set, once per distinct list.
  std::vector<std::pair<category_list, std::vector<std::string>>> distinct;
  for (const auto& s : c.splits) {
    if (!s.loaded) continue;
    auto list = categories_of(s);
    auto it = std::find_if(distinct.begin(), distinct.end(),
                           [&](const auto& d) { return d.first == list; });
    if (it == distinct.end())
      distinct.push_back({std::move(list), {s.name}});
    else
      it->second.push_back(s.name);
  }
  if (distinct.size() > 1) {
    for (std::size_t k = 1; k < distinct.size(); ++k) {
      for (const auto& split : distinct[k].second) {
        c.add(severity::error, split, "",
              fmt::format("categories {} differ from {}'s {}", describe(distinct[k].first),
                          distinct[0].second.front(), describe(distinct[0].first)));
      }
    }
    c.line(line_status::fail, "Categories differ between splits");
  } else if (!distinct.empty()) {
    c.line(line_status::pass, "Categories identical in every split");
  }
  if (c.expected_names.empty()) {
    c.line(line_status::skip, "Class set not checked (unknown)");
    c.note(
        "no --expected-classes, no type in metadata.yaml and the category names are neither "
        "the 6- nor the 4-class set: only consistency between splits was checked");
    return;
  }
  const auto errors_before = c.current->errors;
  for (const auto& [list, splits] : distinct) {
    for (const auto& problem : expected_set_problems(c, list)) {
      c.add(severity::error, splits.front(), "",
            fmt::format("{} (categories of {})", problem, joined(splits)));
    }
  }
  c.line(c.current->errors == errors_before ? line_status::pass : line_status::fail,
         fmt::format("Categories are the {}-class set by name and id ({}; from {})",
                     c.expected_classes, joined(c.expected_names), c.expected_from));
}

void check_classes(context& c) {
  c.begin_rule(rule_classes, "Checking class distribution");
  std::vector<std::string> classes = c.expected_names;
  if (classes.empty()) {
    std::set<std::string> names;
    for (const auto& s : c.splits) {
      for (const auto& cat : s.data.categories) names.insert(cat.name);
    }
    classes.assign(names.begin(), names.end());
    c.note("class set unknown: checked the categories the files declare");
  }
  // Patients per class over the whole dataset: a class that fewer than three patients
  // have cannot be in every split of a patient-level split (SPEC prepare).
  std::map<std::string, std::set<std::string>> patients_of_class;
  for (const auto& s : c.splits) {
    if (!s.loaded) continue;
    for (std::size_t i = 0; i < s.data.images.size(); ++i) {
      if (!s.identity[i]) continue;
      for (auto a : s.boxes_of[i]) {
        patients_of_class[s.category_name.at(s.data.annotations[a].category_id)].insert(
            s.identity[i]->patient);
      }
    }
  }
  for (const auto& s : c.splits) {
    if (!s.loaded) {
      c.line(line_status::skip,
             fmt::format("{}: not checked (its COCO file is invalid)", capitalize(s.name)));
      continue;
    }
    std::map<std::string, std::uint64_t> boxes;
    for (const auto& a : s.data.annotations) ++boxes[s.category_name.at(a.category_id)];
    std::vector<std::string> missing;
    bool any_error = false;
    for (const auto& name : classes) {
      if (boxes[name] > 0) continue;
      missing.push_back(name);
      const auto patients = patients_of_class[name].size();
      if (patients < 3) {
        c.add(severity::warning, s.name, "",
              fmt::format("no {} boxes; only {} patients in the dataset have {}, too few for "
                          "every split",
                          name, patients, name));
      } else {
        any_error = true;
        c.add(severity::error, s.name, "",
              fmt::format("no {} boxes although {} patients in the dataset have {}", name, patients,
                          name));
      }
    }
    if (missing.empty()) {
      c.line(line_status::pass,
             fmt::format("All {} classes present in {}", classes.size(), s.name));
    } else {
      c.line(any_error ? line_status::fail : line_status::warn,
             fmt::format("{} lacks {}", capitalize(s.name), joined(missing)));
    }
  }
}

void check_leakage(context& c) {
  c.begin_rule(rule_leakage, "Checking patient-level leakage");
  // patient -> first file naming it, per split.
  std::vector<std::map<std::string, std::string>> patients(c.splits.size());
  std::uint64_t unreadable_names = 0;
  for (std::size_t k = 0; k < c.splits.size(); ++k) {
    const auto& s = c.splits[k];
    if (!s.loaded) continue;
    for (std::size_t i = 0; i < s.data.images.size(); ++i) {
      const auto& name = s.data.images[i].file_name;
      if (!s.identity[i]) {
        ++unreadable_names;
        c.add(severity::error, s.name, name,
              "the slice-identity rule cannot read a patient and instance from this name, so "
              "its leakage cannot be checked");
        continue;
      }
      patients[k].emplace(s.identity[i]->patient, name);
    }
  }
  if (unreadable_names > 0) {
    c.line(line_status::fail,
           fmt::format("{} file names without a slice identity", unreadable_names));
  }
  for (std::size_t a = 0; a < c.splits.size(); ++a) {
    for (std::size_t b = a + 1; b < c.splits.size(); ++b) {
      std::uint64_t shared = 0;
      for (const auto& [patient, file] : patients[b]) {
        auto it = patients[a].find(patient);
        if (it == patients[a].end()) continue;
        ++shared;
        c.add(severity::error, c.splits[b].name, file,
              fmt::format("patient {} is in {} ({}) and in {} ({})", patient, c.splits[a].name,
                          it->second, c.splits[b].name, file));
      }
      c.line(shared == 0 ? line_status::pass : line_status::fail,
             fmt::format("{} {}/{} overlap ({} patients)", shared == 0 ? "No" : "Found",
                         capitalize(c.splits[a].name), capitalize(c.splits[b].name), shared));
    }
  }

  // A renamed copy of a slice escapes the name rule; identical content does not.
  std::map<std::uint64_t, std::vector<std::pair<std::size_t, std::string>>> holders;
  std::uint64_t compared = 0, blank = 0;
  for (std::size_t k = 0; k < c.splits.size(); ++k) {
    const auto& s = c.splits[k];
    if (!s.loaded) continue;
    for (std::size_t i = 0; i < s.entries.size(); ++i) {
      const auto* check = s.entries[i].check;
      if (!check || !check->readable) continue;
      if (check->constant) {
        ++blank;
        continue;
      }
      ++compared;
      auto& h = holders[check->content_hash];
      if (std::none_of(h.begin(), h.end(), [&](const auto& p) { return p.first == k; })) {
        h.emplace_back(k, s.data.images[i].file_name);
      }
    }
  }
  std::uint64_t copies = 0;
  for (const auto& [hash, list] : holders) {
    for (std::size_t j = 1; j < list.size(); ++j) {
      ++copies;
      const auto& [k, file] = list[j];
      c.add(severity::error, c.splits[k].name, file,
            fmt::format("identical {} to {}/{}: the same slice in two splits",
                        c.options.skip_image_validation ? "file" : "pixels",
                        c.splits[list[0].first].name, list[0].second));
    }
  }
  c.line(copies == 0 ? line_status::pass : line_status::fail,
         fmt::format("{} identical slice in two splits ({} images compared by {} hash)",
                     copies == 0 ? "No" : fmt::format("{} times an", copies), thousands(compared),
                     c.options.skip_image_validation ? "file" : "pixel"));
  if (c.options.skip_image_validation) {
    c.note(
        "--skip-image-validation: copies are found by file bytes, so a re-encoded copy "
        "is not seen");
  }
  if (blank > 0) {
    c.note(fmt::format("{} blank images (one grey level) are left out of the copy check", blank));
  }
}

void check_boxes(context& c) {
  c.begin_rule(rule_boxes, "Validating bounding boxes");
  constexpr double edge_tolerance = 0.5;  // px, the tolerance for rounding
  for (const auto& s : c.splits) {
    if (!s.loaded) {
      c.line(line_status::skip,
             fmt::format("{}: not checked (its COCO file is invalid)", capitalize(s.name)));
      continue;
    }
    std::unordered_map<std::int64_t, const core::image*> image_of;
    for (const auto& im : s.data.images) image_of.emplace(im.id, &im);
    const auto errors_before = c.current->errors;
    std::uint64_t valid = 0;
    for (const auto& a : s.data.annotations) {
      const auto& im = *image_of.at(a.image_id);
      const auto& b = a.bbox;
      const auto W = static_cast<double>(im.width), H = static_cast<double>(im.height);
      const auto where = [&] {
        return fmt::format("annotation {} [{}, {}, {}, {}]", a.id, b.x, b.y, b.w, b.h);
      };
      std::string problem;
      if (!std::isfinite(b.x) || !std::isfinite(b.y) || !std::isfinite(b.w) ||
          !std::isfinite(b.h)) {
        problem = "is not finite";
      } else if (!(b.w > 0) || !(b.h > 0)) {
        problem = "has zero width or height";
      } else if (b.x < -edge_tolerance || b.y < -edge_tolerance || b.x + b.w > W + edge_tolerance ||
                 b.y + b.h > H + edge_tolerance) {
        problem = fmt::format("is outside the {}x{} image", im.width, im.height);
      } else if (std::abs(a.area - b.w * b.h) > std::max(0.5, 0.01 * b.w * b.h)) {
        problem = fmt::format("has area {} but width x height is {}", a.area, b.w * b.h);
      } else if (!s.category_name.contains(a.category_id)) {
        problem = fmt::format("has category {}, which the file does not declare", a.category_id);
      }
      if (!problem.empty()) {
        c.add(severity::error, s.name, im.file_name, fmt::format("{} {}", where(), problem));
        continue;
      }
      if (a.iscrowd != 0) {
        c.add(severity::warning, s.name, im.file_name,
              fmt::format("{} has iscrowd {}: COCO evaluation ignores it", where(), a.iscrowd));
      }
      ++valid;
    }
    const auto total = s.data.annotations.size();
    c.line(c.current->errors == errors_before ? line_status::pass : line_status::fail,
           fmt::format("{}: {}/{} boxes valid ({})", capitalize(s.name), thousands(valid),
                       thousands(total), total == 0 ? "100.0%" : percent(valid, total)));
  }
}

void check_duplicates(context& c) {
  c.begin_rule(rule_duplicates, "Checking duplicate slices within a split");
  for (const auto& s : c.splits) {
    if (!s.loaded) continue;
    const auto warnings_before = c.current->warnings;
    // The same slice twice among the originals (e.g. from two sources).
    std::map<core::slice_id, std::string> first;
    std::map<std::uint64_t, std::pair<core::slice_id, std::string>> content;
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < s.data.images.size(); ++i) {
      const auto& name = s.data.images[i].file_name;
      if (!names.insert(name).second) continue;  // one file named twice: rule 4's finding
      const auto& id = s.identity[i];
      if (id && is_original(s.version[i])) {
        auto [it, fresh] = first.emplace(*id, name);
        if (!fresh) {
          c.add(severity::warning, s.name, name,
                fmt::format("slice {} is already in the split as {}", core::to_string(*id),
                            it->second));
        }
      }
      // Identical content under two identities (augmented versions of one slice may
      // legitimately equal their original).
      const auto* check = s.entries[i].check;
      if (!id || !check || !check->readable || check->constant) continue;
      auto [it, fresh] = content.emplace(check->content_hash, std::make_pair(*id, name));
      if (!fresh && it->second.first != *id) {
        c.add(severity::warning, s.name, name,
              fmt::format("identical {} to {} (slice {}), another slice",
                          c.options.skip_image_validation ? "file" : "pixels", it->second.second,
                          core::to_string(it->second.first)));
      }
    }
    const auto found = c.current->warnings - warnings_before;
    c.line(found == 0 ? line_status::pass : line_status::warn,
           fmt::format("{}: {} duplicate slices", capitalize(s.name), found));
  }
}

}  // namespace ctprep::report::detail

// Rule 7 (balance per split) and the additional rule "metadata" (metadata.yaml agrees
// with the data it describes).
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "report/validate_internal.hpp"

namespace ctprep::report::detail {
namespace {

struct split_counts {
  std::uint64_t images = 0, originals = 0, annotations = 0, with = 0, without = 0;
  std::uint64_t original_with = 0, original_without = 0, patients = 0;
};

split_counts count(const split_state& s) {
  split_counts n;
  n.images = s.data.images.size();
  n.annotations = s.data.annotations.size();
  std::set<std::string> patients;
  for (std::size_t i = 0; i < s.data.images.size(); ++i) {
    const bool has = !s.boxes_of[i].empty();
    ++(has ? n.with : n.without);
    if (is_original(s.version[i])) {
      ++n.originals;
      ++(has ? n.original_with : n.original_without);
    }
    if (s.identity[i]) patients.insert(s.identity[i]->patient);
  }
  n.patients = patients.size();
  return n;
}

}  // namespace

void check_balance(context& c) {
  c.begin_rule(rule_balance, "Analyzing class balance");
  const double ratio = c.meta.target_ratio.value_or(0.5);
  if (c.four_class) {
    c.note(
        "a 4-class variant keeps the 6-class images minus those emptied of EDH/HC, so its "
        "no-hemorrhage share is reported, not checked");
  } else if (!c.meta.present) {
    c.note(
        "no metadata.yaml: target 50%, and a split off target is a warning because a pool "
        "that ran short cannot be told from a mistake");
  }
  c.line(line_status::pass, "No-hemorrhage images among the originals (no _aug suffix or _aug0):");
  for (const auto& s : c.splits) {
    if (!s.loaded) continue;
    const auto n = count(s);
    const auto originals = n.original_with + n.original_without;
    // Target: without / (with + without) = ratio.
    const auto target = static_cast<std::uint64_t>(
        std::llround(static_cast<double>(n.original_with) * ratio / (1.0 - ratio)));
    const auto diff =
        n.original_without > target ? n.original_without - target : target - n.original_without;
    std::string text =
        fmt::format("  {}: {}/{} ({})", capitalize(s.name), thousands(n.original_without),
                    thousands(originals), percent(n.original_without, originals));
    line_status status = line_status::pass;
    const auto rec = c.meta.balance.find(s.name);
    const metadata_balance_split* recorded = rec == c.meta.balance.end() ? nullptr : &rec->second;
    if (recorded && recorded->with_hemorrhage && *recorded->with_hemorrhage != n.original_with) {
      status = line_status::fail;
      c.add(severity::error, s.name, "metadata.yaml",
            fmt::format("balance.per_split.{}.with_hemorrhage is {} but the split holds {} "
                        "originals with hemorrhage",
                        s.name, *recorded->with_hemorrhage, n.original_with));
    }
    if (recorded && recorded->without_after && *recorded->without_after != n.original_without) {
      status = line_status::fail;
      c.add(severity::error, s.name, "metadata.yaml",
            fmt::format("balance.per_split.{}.without_after is {} but the split holds {} "
                        "originals without hemorrhage",
                        s.name, *recorded->without_after, n.original_without));
    }
    if (c.four_class) {
      // reported only (the recorded counts were still compared above)
    } else if (diff <= 1) {
      text += fmt::format(", target {} ±1", thousands(target));
    } else if (recorded && recorded->short_by && *recorded->short_by > 0 &&
               n.original_without < target &&
               n.original_without + *recorded->short_by + 1 >= target) {
      text +=
          fmt::format(", {} short of {}: the pool ran short (recorded)", diff, thousands(target));
    } else if (recorded && recorded->shortfall && *recorded->shortfall == 0 &&
               n.original_without > target) {
      text += fmt::format(", {} above {}: already above target before balancing (recorded)", diff,
                          thousands(target));
    } else {
      const bool hard = c.meta.present;
      status = hard ? line_status::fail : line_status::warn;
      c.add(hard ? severity::error : severity::warning, s.name, "",
            fmt::format("{} of {} originals have no hemorrhage ({}); the target {} is {} images "
                        "for its {} with hemorrhage, off by {}",
                        n.original_without, originals, percent(n.original_without, originals),
                        percent(static_cast<std::uint64_t>(std::llround(ratio * 1000)), 1000),
                        target, n.original_with, diff));
    }
    c.line(status, text);
  }
}

void check_metadata(context& c) {
  c.begin_rule(rule_metadata, "Checking metadata.yaml against the data");
  const auto& m = c.meta;
  if (!m.present) {
    c.line(line_status::skip, "No metadata.yaml");
    c.note(
        "no metadata.yaml: the class set comes from the categories, the multiplier from the "
        "file names, balance imbalance is a warning, the 4-class policy is assumed drop");
    return;
  }
  for (const auto& p : m.problems) c.add(severity::error, "", "metadata.yaml", p);
  if (c.options.expected_classes != 0 && m.type &&
      *m.type != fmt::format("{}class", c.options.expected_classes)) {
    c.add(severity::error, "", "metadata.yaml",
          fmt::format("type is {} but --expected-classes is {}", *m.type,
                      c.options.expected_classes));
  }
  if (m.classes) {
    for (const auto& s : c.splits) {
      if (!s.loaded) continue;
      std::vector<std::pair<std::int64_t, std::string>> cats;
      for (const auto& cat : s.data.categories) cats.emplace_back(cat.id, cat.name);
      std::sort(cats.begin(), cats.end());
      std::vector<std::string> names;
      for (auto& [id, name] : cats) {
        // EDH/HC left in a 4-class set are rule 8's finding.
        if (!(c.four_class && is_removed_class(name))) names.push_back(name);
      }
      auto recorded = *m.classes;
      if (c.four_class)
        std::erase_if(recorded, [](const std::string& n) { return is_removed_class(n); });
      if (names != recorded) {
        c.add(severity::error, s.name, "metadata.yaml",
              fmt::format("classes [{}] differ from the split's categories in id order [{}]",
                          fmt::join(*m.classes, ", "), fmt::join(names, ", ")));
      }
      break;  // rule 1 checks the splits agree
    }
  }
  std::uint64_t compared = 0;
  std::set<std::string> seen;
  for (const auto& s : c.splits) {
    seen.insert(s.name);
    if (!s.loaded) continue;
    const auto it = m.splits.find(s.name);
    if (it == m.splits.end()) {
      if (!m.splits.empty()) {
        c.add(severity::error, s.name, "metadata.yaml",
              fmt::format("splits has no entry for {}", s.name));
      }
      continue;
    }
    const auto n = count(s);
    const auto compare = [&](const char* key, const std::optional<std::uint64_t>& recorded,
                             std::uint64_t actual) {
      if (!recorded) return;
      ++compared;
      if (*recorded != actual) {
        c.add(severity::error, s.name, "metadata.yaml",
              fmt::format("splits.{}.{} is {} but the split holds {}", s.name, key, *recorded,
                          actual));
      }
    };
    compare("images", it->second.images, n.images);
    compare("originals", it->second.originals, n.originals);
    compare("patients", it->second.patients, n.patients);
    compare("with_hemorrhage", it->second.with_hemorrhage, n.with);
    compare("without_hemorrhage", it->second.without_hemorrhage, n.without);
    compare("annotations", it->second.annotations, n.annotations);
  }
  for (const auto& [name, counts] : m.splits) {
    if (!seen.contains(name)) {
      c.add(severity::error, name, "metadata.yaml",
            fmt::format("splits.{} is recorded but the dataset has no such split", name));
    }
  }
  c.line(c.current->errors == 0 ? line_status::pass : line_status::fail,
         fmt::format("metadata.yaml agrees with the data ({} counts compared)", compared));
}

}  // namespace ctprep::report::detail

// prepare: runs the stages in SPEC order, logs each numbered step, writes the four
// output folders into a staging folder beside the target and swaps them in at the end.
#include "ctprep/pipeline/prepare.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/core/classes.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/core/parallel.hpp"

namespace ctprep::pipeline {
namespace fs = std::filesystem;
using core::error_code;

namespace {

constexpr std::string_view staging_name = ".ctprep-staging";

// One image of an output split.
struct out_entry {
  std::string name;
  std::int64_t width = 0, height = 0;
  std::vector<imaging::labeled_box> boxes;
  std::string source;
  std::string patient;
  bool original = true;  // version 0 or not augmented
};
using out_split = std::vector<out_entry>;
using out_dataset = std::array<out_split, split_count>;

std::string percent(std::size_t part, std::size_t whole) {
  return whole == 0 ? "0.0%"
                    : fmt::format("{:.1f}%",
                                  100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

std::string thousands(std::size_t n) {
  auto s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string capital(std::string_view s) {
  std::string out(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

void list_some(const log_sinks& log, std::string_view title, const std::vector<std::string>& names,
               std::size_t limit = 20) {
  if (names.empty()) return;
  log.warn(fmt::format("{}: {}", title, names.size()));
  for (std::size_t i = 0; i < names.size() && i < limit; ++i)
    log.info(fmt::format("    - {}", names[i]));
  if (names.size() > limit) log.info(fmt::format("    ... and {} more", names.size() - limit));
}

// Hard link (no copy of the pixels); a copy when the filesystem refuses links.
core::result<void> link_or_copy(const fs::path& from, const fs::path& to) {
  if (::link(from.c_str(), to.c_str()) == 0) return {};
  const int err = errno;
  if (err == EXDEV || err == EPERM || err == EMLINK || err == ENOTSUP) {
    std::error_code ec;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (!ec) return {};
    return core::fail(
        error_code::not_writable,
        fmt::format("cannot copy '{}' to '{}': {}", from.string(), to.string(), ec.message()));
  }
  return core::fail(
      error_code::not_writable,
      fmt::format("cannot link '{}' to '{}': {}", from.string(), to.string(), std::strerror(err)));
}

core::result<void> write_plain(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out)
    return core::fail(error_code::not_writable, fmt::format("cannot write '{}'", path.string()));
  return {};
}

core::dataset to_coco(const out_split& split, bool four_class) {
  core::dataset d;
  d.categories = four_class ? core::make_categories(core::four_class_names)
                            : core::make_categories(core::six_class_names);
  std::int64_t image_id = 0, annotation_id = 0;
  d.images.reserve(split.size());
  for (const auto& e : split) {
    d.images.push_back({image_id, e.name, e.width, e.height, {}});
    for (const auto& b : e.boxes) {
      d.annotations.push_back(
          {annotation_id++, image_id, b.category, b.bbox, b.bbox.w * b.bbox.h, 0, {}});
    }
    ++image_id;
  }
  return d;
}

std::string created_field() {
  const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
  if (epoch == nullptr || *epoch == '\0') return {};
  char* end = nullptr;
  const long long v = std::strtoll(epoch, &end, 10);
  if (end == nullptr || *end != '\0') return {};
  const std::time_t t = static_cast<std::time_t>(v);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct metadata_inputs {
  const recipe* r = nullptr;
  std::string type;     // 6class | 4class
  std::string variant;  // original | augmented
  std::string original_dataset;
  std::string six_class_dataset;
  std::vector<std::pair<std::string, std::size_t>> sources;
  const balance_result* balance = nullptr;
  int multiplier = 1;
  std::vector<std::string> augmentation_dropped;
  std::size_t four_class_dropped = 0;
};

std::string yaml_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string metadata_yaml(const metadata_inputs& m, const out_dataset& data) {
  const auto& r = *m.r;
  std::string y;
  y += "ctprep_metadata: 1\n";
  y += fmt::format("version: {}\n", r.version);
  y += fmt::format("type: {}\n", m.type);
  y += fmt::format("variant: {}\n", m.variant);
  const bool four = m.type == "4class";
  y += "classes: [";
  const auto names = four ? std::span<const std::string_view>(core::four_class_names)
                          : std::span<const std::string_view>(core::six_class_names);
  for (std::size_t i = 0; i < names.size(); ++i) y += fmt::format("{}{}", i ? ", " : "", names[i]);
  y += "]\n";
  y += fmt::format("seed: {}\n", r.seed);
  y += fmt::format("tool_version: {}\n", CTPREP_VERSION);
  y += fmt::format("recipe_digest: {}\n", recipe_digest(r));
  if (auto created = created_field(); !created.empty()) y += fmt::format("created: {}\n", created);
  if (!m.original_dataset.empty()) y += fmt::format("original_dataset: {}\n", m.original_dataset);
  if (!m.six_class_dataset.empty())
    y += fmt::format("six_class_dataset: {}\n", m.six_class_dataset);
  y += "sources:\n";
  for (const auto& [name, n] : m.sources)
    y += fmt::format("  - {{name: {}, images: {}}}\n", name, n);
  y += "splits:\n";
  for (std::size_t s = 0; s < split_count; ++s) {
    std::size_t originals = 0, with = 0, annotations = 0;
    std::set<std::string> patients;
    for (const auto& e : data[s]) {
      originals += e.original ? 1 : 0;
      with += e.boxes.empty() ? 0 : 1;
      annotations += e.boxes.size();
      patients.insert(e.patient);
    }
    y += fmt::format(
        "  {}: {{images: {}, originals: {}, patients: {}, with_hemorrhage: {}, without_hemorrhage: "
        "{}, "
        "annotations: {}}}\n",
        split_names[s], data[s].size(), originals, patients.size(), with, data[s].size() - with,
        annotations);
  }
  if (m.balance != nullptr) {
    const auto& b = *m.balance;
    y += "balance:\n";
    y += fmt::format("  target_ratio: {}\n", r.target_ratio);
    y += "  per_split:\n";
    for (std::size_t s = 0; s < split_count; ++s) {
      const auto& p = b.per_split[s];
      std::size_t with = p.with_hemorrhage, without = p.without_after;
      if (four) {  // re-counted on this folder's originals
        with = without = 0;
        for (const auto& e : data[s]) {
          if (!e.original) continue;
          (e.boxes.empty() ? without : with) += 1;
        }
      }
      y += fmt::format(
          "    {}: {{with_hemorrhage: {}, without_before: {}, shortfall: {}, added_fp: {}, "
          "added_tn: {}, "
          "added_unlisted: {}, without_after: {}, short_by: {}}}\n",
          split_names[s], with, p.without_before, p.shortfall, p.added_fp, p.added_tn,
          p.added_unlisted, without, p.short_by);
    }
    y += fmt::format("  pool_left: {{fp: {}, tn: {}, unlisted: {}}}\n", b.pool_left[0],
                     b.pool_left[1], b.pool_left[2]);
  }
  if (m.variant == "augmented") {
    y += "augmentation:\n";
    y += fmt::format("  multiplier: {}\n", m.multiplier);
    y += "  splits: [train]\n";
    y += "  dropped: [";
    for (std::size_t i = 0; i < m.augmentation_dropped.size(); ++i) {
      y += (i ? ", " : "") + yaml_string(m.augmentation_dropped[i]);
    }
    y += "]\n";
  }
  if (four) {
    y += "four_class:\n";
    y += fmt::format("  empty_image_policy: {}\n", policy_name(r.four_class_empty));
    y += fmt::format("  dropped_images: {}\n", m.four_class_dropped);
  }
  return y;
}

core::result<void> write_split_json(const fs::path& dir, const out_split& split, bool four_class) {
  return coco::write_file(dir / coco::annotations_file_name, to_coco(split, four_class));
}

std::string aug_name(std::string_view name, int k) {
  const auto dot = name.rfind('.');
  const auto stem = dot == std::string_view::npos ? name : name.substr(0, dot);
  const auto ext = dot == std::string_view::npos ? std::string_view{} : name.substr(dot);
  return fmt::format("{}_aug{}{}", stem, k, ext);
}

bool is_png(std::string_view name) {
  std::string ext(name.substr(std::min(
      name.size(), name.rfind('.') == std::string_view::npos ? name.size() : name.rfind('.'))));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png";
}

// Swaps `staged` into `target` atomically (renameat2 RENAME_EXCHANGE) when the target
// exists, so a failure at any moment leaves either the old or the new folder in place.
core::result<void> swap_in(const fs::path& staged, const fs::path& target) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(target, ec))) {
    if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
      return core::fail(
          error_code::not_writable,
          fmt::format("cannot replace '{}': {}", target.string(), std::strerror(errno)));
    }
    return {};
  }
  if (::rename(staged.c_str(), target.c_str()) != 0) {
    return core::fail(error_code::not_writable,
                      fmt::format("cannot create '{}': {}", target.string(), std::strerror(errno)));
  }
  return {};
}

}  // namespace

core::result<prepare_report> run_prepare(const prepare_options& o, const log_sinks& log) {
  const auto& r = o.r;
  prepare_report report;
  auto warn = [&](const std::string& line) {
    ++report.warnings;
    log.warn(line);
  };

  // ---- [1/9]..[4/9] load and remap every source ----
  std::vector<loaded_source> sources;
  for (std::size_t k = 0; k < r.sources.size(); ++k) {
    const auto& src = r.sources[k];
    const int load_step = k == 0 ? 1 : 3;
    log.info(fmt::format("\n[{}/9] Loading {} from {}...", load_step, src.name,
                         (o.data_root / src.path).string()));
    auto loaded = load_source(src, o.data_root);
    if (!loaded) return tl::unexpected(loaded.error());
    std::string per_split;
    for (const auto& [split, n] : loaded->images_per_split)
      per_split += fmt::format(" {}: {}", split, n);
    log.info(fmt::format("  {} images ({} )", loaded->items.size(),
                         per_split.empty() ? "" : per_split.substr(1)));
    if (!loaded->bad_names.empty()) {
      warn(fmt::format("{} file names of {} break the identity rule and are skipped",
                       loaded->bad_names.size(), src.name));
      list_some(log, "  unreadable names", loaded->bad_names);
    }
    log.info(fmt::format("\n[{}/9] Remapping {} classes by name to the 6-class set...",
                         load_step + 1, src.name));
    for (const auto& [name, n] : loaded->boxes_per_name) {
      log.info(fmt::format("  {} -> {}: {} boxes", name, src.classes.at(name), n));
    }
    for (const auto& [name, n] : loaded->dropped_per_name) {
      log.info(fmt::format("  '{}' dropped: {} boxes", name, n));
    }
    sources.push_back(std::move(*loaded));
  }

  // ---- [4.5/9] the pool ----
  std::vector<slice_item> pool;
  if (!r.pool_path.empty()) {
    log.info(fmt::format("\n[4.5/9] Loading the no-hemorrhage pool from {} (kept apart)...",
                         (o.data_root / r.pool_path).string()));
    auto loaded = load_pool(o.data_root / r.pool_path, r.pool_prefix, o.jobs);
    if (!loaded) return tl::unexpected(loaded.error());
    if (!loaded->bad_names.empty()) {
      warn(fmt::format("{} pool file names break the identity rule and are skipped",
                       loaded->bad_names.size()));
      list_some(log, "  unreadable names", loaded->bad_names);
    }
    for (const auto& [what, n] : loaded->dropped_per_name) warn(fmt::format("{}: {}", what, n));
    pool = std::move(loaded->items);
    log.info(fmt::format("  {} pool images", pool.size()));
  }

  // ---- [5/9] merge ----
  std::size_t loaded_total = 0;
  for (const auto& s : sources) loaded_total += s.items.size();
  log.info("\n[5/9] Merging sources with prefixes...");
  auto merged = merge_sources(std::move(sources));
  auto& items = merged.items;
  log.info(fmt::format(
      "  {} images from {} loaded ({} duplicate slices kept once: first source in recipe "
      "order whose file exists)",
      items.size(), loaded_total, merged.duplicates.size()));
  if (!merged.duplicates.empty()) {
    std::vector<std::string> lines;
    for (const auto& d : merged.duplicates)
      lines.push_back(fmt::format("kept {}, dropped {}", d.kept, d.dropped));
    list_some(log, "  duplicate slices", lines, 10);
  }
  {
    // The pool never repeats a slice the merged set already has (it may be labelled
    // there), nor itself.
    std::set<core::slice_id> known;
    for (const auto& it : items) known.insert(it.id);
    std::vector<slice_item> kept;
    std::size_t repeated = 0;
    for (auto& p : pool) {
      if (known.insert(p.id).second)
        kept.push_back(std::move(p));
      else
        ++repeated;
    }
    pool = std::move(kept);
    if (repeated > 0)
      log.info(fmt::format("  {} pool slices already in the merged set or repeated: not used",
                           repeated));
  }

  // ---- [5.5/9] missing files ----
  log.info("\n[5.5/9] Dropping images whose file is missing...");
  auto missing = drop_missing(items, o.jobs);
  auto pool_missing = drop_missing(pool, o.jobs);
  log.info(fmt::format("  merged: {} missing, {} unreadable; pool: {} missing, {} unreadable",
                       missing.missing.size(), missing.broken.size(), pool_missing.missing.size(),
                       pool_missing.broken.size()));
  if (missing.size_fixed + pool_missing.size_fixed > 0) {
    log.info(fmt::format("  {} image sizes corrected from the files",
                         missing.size_fixed + pool_missing.size_fixed));
  }
  list_some(log, "  missing files (dropped)", missing.missing);
  list_some(log, "  unreadable files (dropped)", missing.broken);
  list_some(log, "  missing pool files (dropped)", pool_missing.missing);
  list_some(log, "  unreadable pool files (dropped)", pool_missing.broken);
  report.warnings += (missing.missing.empty() ? 0 : 1) + (missing.broken.empty() ? 0 : 1) +
                     (pool_missing.missing.empty() ? 0 : 1) + (pool_missing.broken.empty() ? 0 : 1);

  // ---- [5.6/9] clip ----
  log.info("\n[5.6/9] Clipping boxes to the image...");
  auto clipped = clip_boxes(items);
  log.info(fmt::format(
      "  {} boxes clipped (area recomputed), {} under 1 px dropped, {} images left without "
      "boxes dropped",
      clipped.clipped, clipped.dropped_boxes, clipped.emptied_images.size()));
  list_some(log, "  images whose boxes were all invalid (dropped)", clipped.emptied_images);

  if (o.dry_run) {
    std::size_t with = 0;
    for (const auto& it : items) with += it.has_hemorrhage() ? 1 : 0;
    log.info(fmt::format(
        "\nDry run: {} images ({} with hemorrhage, {} without), {} pool images; would write "
        "{} under {}",
        items.size(), with, items.size() - with, pool.size(), fmt::join(output_folders, ", "),
        o.output.string()));
    return report;
  }
  if (items.empty()) {
    return core::fail(error_code::bad_coco,
                      "no images left to split after loading, merging and clipping");
  }

  // ---- [6/9] split ----
  log.info("\n[6/9] Patient-level split...");
  auto split = split_patients(items, r.valid_fraction, r.test_fraction, r.seed);
  for (std::size_t s = 0; s < split_count; ++s) {
    std::string classes;
    for (unsigned c = 0; c < 6; ++c) {
      classes += fmt::format(" {}:{}", core::six_class_names[c], split.class_images[s][c]);
    }
    log.info(fmt::format("  {}: {} images (target {}, {}), {} patients |{}",
                         capital(split_names[s]), split.images[s], split.targets[s],
                         percent(split.images[s], items.size()), split.patients[s], classes));
  }
  for (const auto& w : split.coverage_warnings) warn(w);
  {
    std::unordered_map<std::string, std::size_t> where;
    for (std::size_t i = 0; i < items.size(); ++i) {
      auto [it, inserted] = where.emplace(items[i].id.patient, split.assignment[i]);
      if (!inserted && it->second != split.assignment[i]) {
        return core::fail(error_code::internal,
                          fmt::format("patient {} is in two splits", items[i].id.patient));
      }
    }
    log.info("  ✓ no patient in two splits");
  }

  // ---- [6.1/9] CSV ----
  std::optional<feedback_table> feedback;
  if (!r.feedback_csv.empty()) {
    const auto csv = o.data_root / r.feedback_csv;
    log.info(fmt::format("\n[6.1/9] Reading the feedback CSV {}...", csv.string()));
    std::error_code ec;
    if (!fs::exists(csv, ec)) {
      warn(fmt::format(
          "feedback CSV '{}' does not exist: pool slices are all unlisted (no FP priority)",
          csv.string()));
    } else {
      auto table = read_feedback_csv(csv, false);
      if (!table) return tl::unexpected(table.error());
      log.info(
          fmt::format("  {} rows: {} slices, FP {}, TN {}, other {}, duplicates {}, invalid {}",
                      thousands(table->records), thousands(table->rows.size()),
                      table->count(feedback_class::fp), table->count(feedback_class::tn),
                      table->other_class, table->duplicates, table->invalid.size()));
      feedback = std::move(*table);
    }
  }

  // ---- [6.2/9] + [6.5/9] balance ----
  auto balance = balance_splits(items, split.assignment, pool, feedback ? &*feedback : nullptr,
                                r.target_ratio);
  log.info("\n[6.2/9] Matching CSV rows to the pool...");
  log.info(fmt::format("  FP: {}, TN: {}, not in the CSV: {}", balance.pool_available[0],
                       balance.pool_available[1], balance.pool_available[2]));
  log.info(
      fmt::format("\n[6.5/9] Balancing no-hemorrhage images in splits (target {})...",
                  percent(static_cast<std::size_t>(std::llround(r.target_ratio * 1000)), 1000)));
  log.info("\n  Current balance per split:");
  std::size_t total_short = 0;
  for (std::size_t s = 0; s < split_count; ++s) {
    const auto& b = balance.per_split[s];
    const auto n = b.with_hemorrhage + b.without_before;
    log.info(fmt::format("    {}: {}/{} no-hem ({}) | Need {} more", capital(split_names[s]),
                         b.without_before, n, percent(b.without_before, n), b.shortfall));
    total_short += b.shortfall;
  }
  log.info(fmt::format("  Total shortfall: {} no-hem images", total_short));
  const std::size_t pool_total =
      balance.pool_available[0] + balance.pool_available[1] + balance.pool_available[2];
  log.info(fmt::format("\n  Available in no-hem pool: {} images", pool_total));
  log.info(fmt::format("    FP (high priority): {}", balance.pool_available[0]));
  log.info(fmt::format("    TN (low priority): {}", balance.pool_available[1]));
  if (balance.pool_available[2] > 0)
    log.info(fmt::format("    not in the CSV (lowest): {}", balance.pool_available[2]));
  log.info("\n  Distributing (FP first, then TN):");
  for (std::size_t s = 0; s < split_count; ++s) {
    const auto& b = balance.per_split[s];
    log.info(fmt::format(
        "    {}: {} images (FP {}, TN {}{})", capital(split_names[s]),
        b.added_fp + b.added_tn + b.added_unlisted, b.added_fp, b.added_tn,
        b.added_unlisted ? fmt::format(", unlisted {}", b.added_unlisted) : std::string()));
  }
  log.info("\n  Final balance after distribution:");
  std::size_t all_without = 0, all_total = 0;
  for (std::size_t s = 0; s < split_count; ++s) {
    const auto& b = balance.per_split[s];
    const auto n = b.with_hemorrhage + b.without_after;
    all_without += b.without_after;
    all_total += n;
    log.info(fmt::format("    {}: {}/{} no-hem ({})", capital(split_names[s]), b.without_after, n,
                         percent(b.without_after, n)));
  }
  log.info(fmt::format("\n  Overall: {}/{} no-hem ({})", all_without, all_total,
                       percent(all_without, all_total)));
  log.info(fmt::format("  Pool left over: FP {}, TN {}, unlisted {}", balance.pool_left[0],
                       balance.pool_left[1], balance.pool_left[2]));
  for (std::size_t s = 0; s < split_count; ++s) {
    if (balance.per_split[s].short_by > 0) {
      warn(fmt::format("the pool is too small: {} is short by {} no-hemorrhage images",
                       split_names[s], balance.per_split[s].short_by));
    }
  }

  // The final originals per split, sorted by name.
  struct original {
    const slice_item* item;
  };
  std::array<std::vector<const slice_item*>, split_count> originals;
  for (std::size_t i = 0; i < items.size(); ++i)
    originals[split.assignment[i]].push_back(&items[i]);
  for (std::size_t i = 0; i < pool.size(); ++i) {
    if (balance.pool_assignment[i] != no_split)
      originals[balance.pool_assignment[i]].push_back(&pool[i]);
  }
  {
    std::unordered_map<std::string, std::size_t> patient_of;
    for (std::size_t s = 0; s < split_count; ++s) {
      auto& v = originals[s];
      std::sort(v.begin(), v.end(), [](const slice_item* a, const slice_item* b) {
        return a->file_name < b->file_name;
      });
      for (std::size_t k = 1; k < v.size(); ++k) {
        if (v[k]->file_name == v[k - 1]->file_name) {
          return core::fail(error_code::internal,
                            fmt::format("two images named '{}'", v[k]->file_name));
        }
      }
      for (const auto* it : v) {
        auto [p, inserted] = patient_of.emplace(it->id.patient, s);
        if (!inserted && p->second != s) {
          return core::fail(error_code::internal,
                            fmt::format("patient {} would be in {} and {}", it->id.patient,
                                        split_names[p->second], split_names[s]));
        }
      }
      report.final_images[s] = v.size();
    }
  }
  std::vector<std::pair<std::string, std::size_t>> source_counts;
  for (const auto& src : r.sources) source_counts.emplace_back(src.name, 0);
  source_counts.emplace_back("no_hem", 0);
  for (const auto& v : originals) {
    for (const auto* it : v) {
      for (auto& [name, n] : source_counts) n += name == it->source ? 1 : 0;
    }
  }

  // ---- staging ----
  std::error_code ec;
  fs::create_directories(o.output, ec);
  if (ec || ::access(o.output.c_str(), W_OK) != 0) {
    return core::fail(error_code::not_writable,
                      fmt::format("output folder '{}' is not writable{}", o.output.string(),
                                  ec ? ": " + ec.message() : std::string()));
  }
  const fs::path staging = o.output / staging_name;
  fs::remove_all(staging, ec);  // leftovers of a killed run
  fs::create_directories(staging, ec);
  if (ec) {
    return core::fail(error_code::not_writable,
                      fmt::format("cannot create '{}': {}", staging.string(), ec.message()));
  }
  auto make_split_dirs = [&](std::string_view folder) -> core::result<void> {
    for (auto s : split_names) {
      fs::create_directories(staging / folder / s, ec);
      if (ec) {
        return core::fail(
            error_code::not_writable,
            fmt::format("cannot create '{}': {}", (staging / folder / s).string(), ec.message()));
      }
    }
    return {};
  };

  // ---- [7/9] 6class_coco_original ----
  log.info(fmt::format("\n[7/9] Saving 6class_coco_original ({} images)...",
                       originals[0].size() + originals[1].size() + originals[2].size()));
  out_dataset six_original;
  if (auto ok = make_split_dirs(output_folders[0]); !ok) return tl::unexpected(ok.error());
  for (std::size_t s = 0; s < split_count; ++s) {
    const auto dir = staging / output_folders[0] / split_names[s];
    for (const auto* it : originals[s]) {
      if (auto ok = link_or_copy(it->path, dir / it->file_name); !ok)
        return tl::unexpected(ok.error());
      six_original[s].push_back(
          {it->file_name, it->width, it->height, it->boxes, it->source, it->id.patient, true});
    }
    if (auto ok = write_split_json(dir, six_original[s], false); !ok)
      return tl::unexpected(ok.error());
  }
  metadata_inputs meta;
  meta.r = &r;
  meta.sources = source_counts;
  meta.balance = &balance;
  meta.type = "6class";
  meta.variant = "original";
  if (auto ok = core::write_file_atomic(staging / output_folders[0] / "metadata.yaml",
                                        metadata_yaml(meta, six_original));
      !ok) {
    return tl::unexpected(ok.error());
  }

  // ---- [8/9] 6class_coco: train augmented ----
  const int multiplier = o.skip_augmentation ? 1 : r.multiplier;
  out_dataset six_aug;
  std::vector<std::string> aug_dropped;
  if (auto ok = make_split_dirs(output_folders[1]); !ok) return tl::unexpected(ok.error());
  for (std::size_t s = 1; s < split_count; ++s) {
    const auto dir = staging / output_folders[1] / split_names[s];
    for (std::size_t k = 0; k < originals[s].size(); ++k) {
      const auto* it = originals[s][k];
      if (auto ok = link_or_copy(it->path, dir / it->file_name); !ok)
        return tl::unexpected(ok.error());
      six_aug[s].push_back(six_original[s][k]);
    }
  }
  {
    const auto dir = staging / output_folders[1] / "train";
    const auto& train = originals[0];
    if (multiplier <= 1) {
      log.info("\n[8/9] Augmentation skipped: 6class_coco train holds the originals");
      for (std::size_t k = 0; k < train.size(); ++k) {
        if (auto ok = link_or_copy(train[k]->path, dir / train[k]->file_name); !ok)
          return tl::unexpected(ok.error());
        six_aug[0].push_back(six_original[0][k]);
      }
    } else {
      log.info(fmt::format("\n[8/9] Augmenting train ×{} ({} originals -> up to {} images)...",
                           multiplier, train.size(),
                           train.size() * static_cast<std::size_t>(multiplier)));
      imaging::use_single_thread();
      std::vector<std::vector<imaging::encoded_version>> versions(train.size());
      std::vector<std::string> errors(train.size());
      auto progress = o.make_progress ? o.make_progress("augment", train.size()) : nullptr;
      core::parallel_for(train.size(), o.jobs, [&](std::size_t k) {
        const auto* it = train[k];
        if (auto ok = link_or_copy(it->path, dir / aug_name(it->file_name, 0)); !ok) {
          errors[k] = ok.error().message;
          return;
        }
        auto bytes = core::read_file(it->path);
        if (!bytes) {
          errors[k] = bytes.error().message;
          return;
        }
        auto made = imaging::augment_encoded(
            *bytes, it->path.string(), it->boxes, r.seed, it->file_name, 1, multiplier - 1,
            is_png(it->file_name) ? imaging::encoding::png : imaging::encoding::jpeg,
            r.jpeg_quality);
        if (!made) {
          errors[k] = made.error().message;
          return;
        }
        for (auto& v : *made) {
          if (!v.dropped) {
            if (auto ok = write_plain(dir / aug_name(it->file_name, v.version), v.bytes); !ok) {
              errors[k] = ok.error().message;
              return;
            }
          }
          v.bytes.clear();
          v.bytes.shrink_to_fit();
        }
        versions[k] = std::move(*made);
        if (progress) progress->advance();
      });
      if (progress) progress->finish();
      for (std::size_t k = 0; k < train.size(); ++k) {
        if (!errors[k].empty()) return core::fail(error_code::bad_image, errors[k]);
        const auto& base = six_original[0][k];
        auto e0 = base;
        e0.name = aug_name(base.name, 0);
        six_aug[0].push_back(std::move(e0));
        for (const auto& v : versions[k]) {
          const auto name = aug_name(base.name, v.version);
          if (v.dropped) {
            aug_dropped.push_back(name);
            continue;
          }
          six_aug[0].push_back(
              {name, base.width, base.height, v.boxes, base.source, base.patient, false});
          ++report.augmented_written;
        }
      }
      std::sort(six_aug[0].begin(), six_aug[0].end(),
                [](const out_entry& a, const out_entry& b) { return a.name < b.name; });
      report.augmented_dropped = aug_dropped.size();
      log.info(
          fmt::format("  {} augmented images written, {} versions dropped (every box fell out)",
                      report.augmented_written, aug_dropped.size()));
    }
  }
  for (std::size_t s = 0; s < split_count; ++s) {
    if (auto ok = write_split_json(staging / output_folders[1] / split_names[s], six_aug[s], false);
        !ok) {
      return tl::unexpected(ok.error());
    }
  }
  meta.variant = "augmented";
  meta.original_dataset = fmt::format("../{}", output_folders[0]);
  meta.multiplier = multiplier;
  meta.augmentation_dropped = aug_dropped;
  if (auto ok = core::write_file_atomic(staging / output_folders[1] / "metadata.yaml",
                                        metadata_yaml(meta, six_aug));
      !ok) {
    return tl::unexpected(ok.error());
  }

  // ---- [9/9] 4-class variants ----
  log.info("\n[9/9] Creating the 4-class datasets (EDH/HC removed, relative symlinks)...");
  for (std::size_t v = 0; v < 2; ++v) {
    const auto& six = v == 0 ? six_original : six_aug;
    const auto folder = output_folders[2 + v];
    if (auto ok = make_split_dirs(folder); !ok) return tl::unexpected(ok.error());
    out_dataset four;
    std::size_t dropped = 0, kept_negative = 0;
    for (std::size_t s = 0; s < split_count; ++s) {
      const auto dir = staging / folder / split_names[s];
      for (const auto& e : six[s]) {
        out_entry f = e;
        f.boxes.clear();
        for (auto b : e.boxes) {
          if (b.category < 2) continue;  // EDH (0), HC (1)
          b.category -= 2;               // IPH IVH SAH SDH -> 0..3
          f.boxes.push_back(b);
        }
        if (!e.boxes.empty() && f.boxes.empty()) {
          if (r.four_class_empty == empty_image_policy::drop) {
            ++dropped;
            continue;
          }
          ++kept_negative;
        }
        const auto link_target =
            fs::path("..") / ".." / output_folders[v] / split_names[s] / e.name;
        fs::create_symlink(link_target, dir / e.name, ec);
        if (ec) {
          return core::fail(
              error_code::not_writable,
              fmt::format("cannot create symlink '{}': {}", (dir / e.name).string(), ec.message()));
        }
        four[s].push_back(std::move(f));
      }
      if (auto ok = write_split_json(dir, four[s], true); !ok) return tl::unexpected(ok.error());
    }
    metadata_inputs m4 = meta;
    m4.type = "4class";
    m4.variant = v == 0 ? "original" : "augmented";
    m4.original_dataset = v == 0 ? std::string() : fmt::format("../{}", output_folders[2]);
    m4.six_class_dataset = fmt::format("../{}", output_folders[v]);
    m4.four_class_dropped = dropped;
    if (v == 1) {
      // Versions dropped by the 4-class rule are not augmentation drops.
      m4.augmentation_dropped = aug_dropped;
    }
    if (auto ok =
            core::write_file_atomic(staging / folder / "metadata.yaml", metadata_yaml(m4, four));
        !ok) {
      return tl::unexpected(ok.error());
    }
    log.info(fmt::format(
        "  {}: train {}, valid {}, test {} images; {} images whose only boxes were EDH/HC {}",
        folder, four[0].size(), four[1].size(), four[2].size(), dropped + kept_negative,
        r.four_class_empty == empty_image_policy::drop ? "dropped" : "kept as negatives"));
    for (std::size_t s = 0; s < split_count; ++s) {
      std::size_t with = 0;
      for (const auto& e : four[s]) with += e.boxes.empty() ? 0 : 1;
      log.info(fmt::format("    {}: {}/{} no-hem ({})", capital(split_names[s]),
                           four[s].size() - with, four[s].size(),
                           percent(four[s].size() - with, four[s].size())));
    }
  }

  // ---- swap in ----
  for (auto folder : output_folders) {
    if (auto ok = swap_in(staging / folder, o.output / folder); !ok)
      return tl::unexpected(ok.error());
  }
  fs::remove_all(staging, ec);
  log.info(
      fmt::format("\n✅ Wrote {} under {}", fmt::join(output_folders, ", "), o.output.string()));
  return report;
}

}  // namespace ctprep::pipeline

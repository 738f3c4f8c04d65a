// validate: loading a dataset, settling what kind it is, and running the rule families
// in report order. The rules themselves live in validate_*.cpp.
#include "ctprep/report/validate.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/coco/layout.hpp"
#include "ctprep/core/classes.hpp"
#include "report/validate_internal.hpp"

namespace ctprep::report {

std::string_view severity_name(severity s) noexcept {
  return s == severity::error ? "error" : "warning";
}

std::uint64_t validation::errors() const {
  return static_cast<std::uint64_t>(
      std::count_if(findings.begin(), findings.end(),
                    [](const finding& f) { return f.level == severity::error; }));
}

std::uint64_t validation::warnings() const {
  return static_cast<std::uint64_t>(findings.size()) - errors();
}

namespace detail {

rule_result& context::begin_rule(std::string_view id, std::string_view title) {
  out.rules.push_back({std::string(id), std::string(title), {}, {}, 0, 0});
  current = &out.rules.back();
  return *current;
}

void context::add(severity level, std::string split, std::string file, std::string message) {
  out.findings.push_back(
      {current->id, level, std::move(split), std::move(file), std::move(message)});
  ++(level == severity::error ? current->errors : current->warnings);
}

void context::line(line_status status, std::string text) {
  current->lines.push_back({status, std::move(text)});
}

void context::note(std::string text) {
  current->notes.push_back(std::move(text));
}

std::string thousands(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? "0.0%"
                    : fmt::format("{:.1f}%",
                                  100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

std::string capitalize(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

bool is_original(const std::optional<int>& version) {
  return !version || *version == 0;
}

bool is_removed_class(std::string_view name) {
  return name == "EDH" || name == "HC";
}

namespace {

std::vector<std::string> names_of(std::span<const std::string_view> names) {
  return {names.begin(), names.end()};
}

// Which class set the dataset must have: the flag, else metadata.yaml, else what the
// categories look like (EDH or HC present: 6-class; only 4-class names: 4-class).
void settle_kind(context& c) {
  const auto& m = c.meta;
  if (c.options.expected_classes == 6 || c.options.expected_classes == 4) {
    c.expected_classes = c.options.expected_classes;
    c.expected_from = "--expected-classes";
  } else if (m.type) {
    c.expected_classes = *m.type == "4class" ? 4 : 6;
    c.expected_from = "metadata.yaml";
  } else {
    for (const auto& s : c.splits) {
      if (!s.loaded || s.data.categories.empty()) continue;
      bool removed = false, all_four = true;
      for (const auto& cat : s.data.categories) {
        removed = removed || is_removed_class(cat.name);
        all_four = all_four &&
                   std::find(std::begin(core::four_class_names), std::end(core::four_class_names),
                             cat.name) != std::end(core::four_class_names);
      }
      if (removed)
        c.expected_classes = 6;
      else if (all_four)
        c.expected_classes = 4;
      c.expected_from = c.expected_classes ? "categories" : "";
      break;
    }
  }
  if (c.expected_classes == 6) c.expected_names = names_of(core::six_class_names);
  if (c.expected_classes == 4) c.expected_names = names_of(core::four_class_names);
  c.four_class = c.expected_classes == 4;

  bool any_aug = false;
  for (const auto& s : c.splits) {
    for (const auto& v : s.version) any_aug = any_aug || v.has_value();
  }
  c.augmented = m.variant ? *m.variant == "augmented" : any_aug;

  c.out.expected_classes = c.expected_classes;
  c.out.expected_classes_from = c.expected_from;
  c.out.has_metadata = m.present;
  const std::string type = c.expected_classes ? fmt::format("{}class", c.expected_classes)
                                              : std::string("unknown class set");
  c.out.kind = fmt::format("{} {}", type, c.augmented ? "augmented" : "original");
}

void index_split(split_state& s) {
  const auto n = s.data.images.size();
  s.identity.resize(n);
  s.version.resize(n);
  s.boxes_of.resize(n);
  std::unordered_map<std::int64_t, std::size_t> index_of;
  index_of.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& name = s.data.images[i].file_name;
    index_of.emplace(s.data.images[i].id, i);
    if (auto id = core::parse_slice_identity(name)) s.identity[i] = std::move(*id);
    s.version[i] = core::augmentation_version(name);
  }
  for (std::size_t a = 0; a < s.data.annotations.size(); ++a) {
    s.boxes_of[index_of.at(s.data.annotations[a].image_id)].push_back(a);
  }
  for (const auto& cat : s.data.categories) s.category_name.emplace(cat.id, cat.name);
}

core::result<context> load(const fs::path& dir, const validate_options& options) {
  auto refs = coco::find_splits(dir);
  if (!refs) return tl::unexpected(refs.error());
  context c;
  c.root = dir;
  c.options = options;
  c.out.dataset_dir = dir.string();
  for (auto& ref : *refs) {
    split_state s;
    s.name = ref.name;
    s.dir = ref.dir;
    s.json_path = ref.json_path;
    auto data = coco::read_file(ref.json_path);
    if (data) {
      s.data = std::move(*data);
      s.loaded = true;
      index_split(s);
    } else if (data.error().code == core::error_code::bad_coco) {
      // JSON, but not a consistent COCO file: rule 1's finding, not a dead end.
      s.load_error = data.error().message;
    } else {
      return tl::unexpected(data.error());
    }
    c.splits.push_back(std::move(s));
  }
  c.meta = read_metadata(dir);
  settle_kind(c);
  return c;
}

void run_rules(context& c) {
  check_coco(c);
  check_classes(c);
  check_leakage(c);
  check_images(c);
  check_boxes(c);
  check_augmentation(c);
  check_balance(c);
  check_four_class(c);
  check_metadata(c);
  check_duplicates(c);
}

bool is_dataset(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_regular_file(dir / coco::annotations_file_name, ec)) return true;
  for (const char* name : coco::split_names) {
    if (fs::is_regular_file(dir / name / coco::annotations_file_name, ec)) return true;
  }
  return false;
}

}  // namespace
}  // namespace detail

std::vector<std::filesystem::path> find_datasets(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec) || detail::is_dataset(dir)) return out;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && detail::is_dataset(it->path())) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

core::result<std::vector<validation>> validate_datasets(
    const std::vector<std::filesystem::path>& dirs, const validate_options& options) {
  std::vector<detail::context> contexts;
  contexts.reserve(dirs.size());
  for (const auto& dir : dirs) {
    auto c = detail::load(dir, options);
    if (!c) return tl::unexpected(c.error());
    contexts.push_back(std::move(*c));
  }
  std::vector<detail::context*> all;
  for (auto& c : contexts) all.push_back(&c);
  detail::file_cache cache;
  detail::scan_files(all, cache, options);
  std::vector<validation> out;
  for (auto& c : contexts) {
    detail::run_rules(c);
    out.push_back(std::move(c.out));
  }
  return out;
}

core::result<validation> validate_dataset(const std::filesystem::path& dir,
                                          const validate_options& options) {
  auto all = validate_datasets({dir}, options);
  if (!all) return tl::unexpected(all.error());
  return std::move(all->front());
}

}  // namespace ctprep::report

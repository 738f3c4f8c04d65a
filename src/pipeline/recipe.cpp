#include "ctprep/pipeline/recipe.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "ctprep/core/classes.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/pipeline/manifest.hpp"

namespace ctprep::pipeline {
namespace {

using core::error_code;

std::string quote(std::string_view s) {
  // YAML double-quoted scalar: always quoted, so "-" and "0" stay strings.
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string number(double v) {
  return fmt::format("{}", v);
}

template <typename T>
core::result<T> scalar(const YAML::Node& node, std::string_view key, std::string_view origin) {
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    return core::fail(error_code::bad_recipe,
                      fmt::format("'{}': '{}' has a value of the wrong type", origin, key));
  }
}

core::result<void> check_keys(const YAML::Node& map, std::initializer_list<std::string_view> known,
                              std::string_view where, std::string_view origin) {
  if (!map.IsMap()) {
    return core::fail(error_code::bad_recipe,
                      fmt::format("'{}': {} must be a mapping", origin, where));
  }
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return core::fail(error_code::bad_recipe,
                        fmt::format("'{}': unknown key '{}' in {}", origin, key, where));
    }
  }
  return {};
}

bool is_six_class(std::string_view name) {
  return std::find(std::begin(core::six_class_names), std::end(core::six_class_names), name) !=
         std::end(core::six_class_names);
}

core::result<recipe_source> parse_source(const YAML::Node& node, std::size_t index,
                                         std::string_view origin) {
  const auto where = fmt::format("sources[{}]", index);
  if (auto ok = check_keys(node, {"name", "path", "prefix", "classes", "drop", "identity_pattern"},
                           where, origin);
      !ok) {
    return tl::unexpected(ok.error());
  }
  recipe_source s;
  for (auto [key, target] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"name", &s.name},
           {"path", &s.path},
           {"prefix", &s.prefix},
           {"identity_pattern", &s.identity_pattern}}) {
    if (node[key]) {
      auto v = scalar<std::string>(node[key], fmt::format("{}.{}", where, key), origin);
      if (!v) return tl::unexpected(v.error());
      *target = *v;
    }
  }
  if (s.name.empty() || s.path.empty()) {
    return core::fail(error_code::bad_recipe,
                      fmt::format("'{}': {} needs a name and a path", origin, where));
  }
  if (node["classes"]) {
    if (!node["classes"].IsMap()) {
      return core::fail(
          error_code::bad_recipe,
          fmt::format("'{}': {}.classes must map source names to class names", origin, where));
    }
    for (const auto& kv : node["classes"]) {
      const auto from = kv.first.as<std::string>();
      auto to = scalar<std::string>(kv.second, fmt::format("{}.classes.{}", where, from), origin);
      if (!to) return tl::unexpected(to.error());
      if (!is_six_class(*to)) {
        return core::fail(error_code::bad_recipe,
                          fmt::format("'{}': {}.classes maps '{}' to '{}', which is not one of "
                                      "EDH HC IPH IVH SAH SDH",
                                      origin, where, from, *to));
      }
      s.classes[from] = *to;
    }
  }
  if (node["drop"]) {
    if (!node["drop"].IsSequence()) {
      return core::fail(error_code::bad_recipe,
                        fmt::format("'{}': {}.drop must be a list", origin, where));
    }
    for (const auto& d : node["drop"]) s.drop.push_back(d.as<std::string>());
  }
  if (s.classes.empty()) {
    return core::fail(error_code::bad_recipe,
                      fmt::format("'{}': source '{}' maps no class", origin, s.name));
  }
  for (const auto& d : s.drop) {
    if (s.classes.count(d) != 0) {
      return core::fail(
          error_code::bad_recipe,
          fmt::format("'{}': source '{}' both maps and drops '{}'", origin, s.name, d));
    }
  }
  if (!s.identity_pattern.empty()) {
    try {
      const std::regex re(s.identity_pattern);
      if (re.mark_count() != 2) {
        return core::fail(error_code::bad_recipe,
                          fmt::format("'{}': identity_pattern of '{}' needs exactly two groups "
                                      "(patient, instance)",
                                      origin, s.name));
      }
    } catch (const std::regex_error& e) {
      return core::fail(error_code::bad_recipe,
                        fmt::format("'{}': identity_pattern of '{}' is not a regex: {}", origin,
                                    s.name, e.what()));
    }
  }
  return s;
}

}  // namespace

std::string_view policy_name(empty_image_policy p) noexcept {
  return p == empty_image_policy::drop ? "drop" : "keep-negative";
}

recipe default_recipe() {
  recipe r;
  recipe_source v3;
  v3.name = "v3";
  v3.path = "training_datasets/v3/filtered_4class/coco";
  v3.prefix = "v3_";
  for (auto n : core::four_class_names) v3.classes[std::string(n)] = std::string(n);
  recipe_source rf;
  rf.name = "roboflow";
  rf.path = "training_datasets/roboflow_downloads/UAT_CT_BRAIN_HEMORRHAGE_V3.v3i.coco";
  rf.prefix = "roboflow_";
  for (auto n : core::six_class_names) rf.classes[std::string(n)] = std::string(n);
  rf.drop = {"-", "0"};
  r.sources = {v3, rf};
  return r;
}

core::result<recipe> parse_recipe(std::string_view yaml, std::string_view origin) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return core::fail(error_code::bad_recipe, fmt::format("'{}' is not valid YAML: line {}: {}",
                                                          origin, e.mark.line + 1, e.msg));
  }
  recipe r = default_recipe();
  if (root.IsNull()) return r;
  if (auto ok = check_keys(root,
                           {"version", "data_root", "output", "seed", "split", "balance",
                            "augmentation", "four_class", "sources", "pool", "feedback_csv"},
                           "the recipe", origin);
      !ok) {
    return tl::unexpected(ok.error());
  }
  auto str = [&](const YAML::Node& n, std::string_view key,
                 std::string& out) -> core::result<void> {
    if (!n) return {};
    auto v = scalar<std::string>(n, key, origin);
    if (!v) return tl::unexpected(v.error());
    out = *v;
    return {};
  };
  auto num = [&](const YAML::Node& n, std::string_view key, double& out) -> core::result<void> {
    if (!n) return {};
    auto v = scalar<double>(n, key, origin);
    if (!v) return tl::unexpected(v.error());
    out = *v;
    return {};
  };
  core::result<void> ok;
  if (!(ok = str(root["version"], "version", r.version))) return tl::unexpected(ok.error());
  if (!(ok = str(root["data_root"], "data_root", r.data_root))) return tl::unexpected(ok.error());
  if (!(ok = str(root["output"], "output", r.output))) return tl::unexpected(ok.error());
  if (!(ok = str(root["feedback_csv"], "feedback_csv", r.feedback_csv)))
    return tl::unexpected(ok.error());
  if (root["seed"]) {
    auto v = scalar<std::uint64_t>(root["seed"], "seed", origin);
    if (!v) return tl::unexpected(v.error());
    r.seed = *v;
  }
  if (const auto split = root["split"]) {
    if (!(ok = check_keys(split, {"valid", "test"}, "split", origin)))
      return tl::unexpected(ok.error());
    if (!(ok = num(split["valid"], "split.valid", r.valid_fraction)))
      return tl::unexpected(ok.error());
    if (!(ok = num(split["test"], "split.test", r.test_fraction)))
      return tl::unexpected(ok.error());
  }
  if (const auto balance = root["balance"]) {
    if (!(ok = check_keys(balance, {"target_ratio"}, "balance", origin)))
      return tl::unexpected(ok.error());
    if (!(ok = num(balance["target_ratio"], "balance.target_ratio", r.target_ratio))) {
      return tl::unexpected(ok.error());
    }
  }
  if (const auto aug = root["augmentation"]) {
    if (!(ok = check_keys(aug, {"multiplier", "jpeg_quality"}, "augmentation", origin))) {
      return tl::unexpected(ok.error());
    }
    for (auto [key, target] : std::initializer_list<std::pair<const char*, int*>>{
             {"multiplier", &r.multiplier}, {"jpeg_quality", &r.jpeg_quality}}) {
      if (aug[key]) {
        auto v = scalar<int>(aug[key], fmt::format("augmentation.{}", key), origin);
        if (!v) return tl::unexpected(v.error());
        *target = *v;
      }
    }
  }
  if (const auto four = root["four_class"]) {
    if (!(ok = check_keys(four, {"empty_images"}, "four_class", origin)))
      return tl::unexpected(ok.error());
    std::string policy = std::string(policy_name(r.four_class_empty));
    if (!(ok = str(four["empty_images"], "four_class.empty_images", policy)))
      return tl::unexpected(ok.error());
    if (policy == "drop")
      r.four_class_empty = empty_image_policy::drop;
    else if (policy == "keep-negative")
      r.four_class_empty = empty_image_policy::keep_negative;
    else {
      return core::fail(error_code::bad_recipe,
                        fmt::format("'{}': four_class.empty_images is '{}' (drop or keep-negative)",
                                    origin, policy));
    }
  }
  if (const auto pool = root["pool"]) {
    if (pool.IsNull()) {
      r.pool_path.clear();
    } else {
      if (!(ok = check_keys(pool, {"path", "prefix"}, "pool", origin)))
        return tl::unexpected(ok.error());
      if (!(ok = str(pool["path"], "pool.path", r.pool_path))) return tl::unexpected(ok.error());
      if (!(ok = str(pool["prefix"], "pool.prefix", r.pool_prefix)))
        return tl::unexpected(ok.error());
    }
  }
  if (const auto sources = root["sources"]) {
    if (!sources.IsSequence() || sources.size() == 0) {
      return core::fail(error_code::bad_recipe,
                        fmt::format("'{}': sources must be a non-empty list", origin));
    }
    r.sources.clear();
    std::set<std::string> names, prefixes;
    for (std::size_t i = 0; i < sources.size(); ++i) {
      auto s = parse_source(sources[i], i, origin);
      if (!s) return tl::unexpected(s.error());
      if (!names.insert(s->name).second) {
        return core::fail(error_code::bad_recipe,
                          fmt::format("'{}': source name '{}' appears twice", origin, s->name));
      }
      if (!prefixes.insert(s->prefix).second) {
        return core::fail(
            error_code::bad_recipe,
            fmt::format("'{}': prefix '{}' is used by two sources", origin, s->prefix));
      }
      r.sources.push_back(std::move(*s));
    }
  }
  if (!(r.valid_fraction >= 0 && r.test_fraction >= 0 && r.valid_fraction + r.test_fraction < 1)) {
    return core::fail(error_code::bad_recipe,
                      fmt::format("'{}': split fractions valid {} + test {} must be >= 0 and < 1",
                                  origin, r.valid_fraction, r.test_fraction));
  }
  if (!(r.target_ratio > 0 && r.target_ratio < 1)) {
    return core::fail(
        error_code::bad_recipe,
        fmt::format("'{}': balance.target_ratio {} must be in (0, 1)", origin, r.target_ratio));
  }
  if (r.multiplier < 1 || r.multiplier > 100) {
    return core::fail(
        error_code::bad_recipe,
        fmt::format("'{}': augmentation.multiplier {} must be 1..100", origin, r.multiplier));
  }
  if (r.jpeg_quality < 1 || r.jpeg_quality > 100) {
    return core::fail(
        error_code::bad_recipe,
        fmt::format("'{}': augmentation.jpeg_quality {} must be 1..100", origin, r.jpeg_quality));
  }
  return r;
}

core::result<recipe> read_recipe(const std::filesystem::path& path) {
  auto text = core::read_file(path);
  if (!text) return tl::unexpected(text.error());
  return parse_recipe(*text, path.string());
}

std::string to_yaml(const recipe& r) {
  std::string y;
  y += "# ctprep prepare recipe (paths relative to data_root)\n";
  y += fmt::format("version: {}\n", quote(r.version));
  y += fmt::format("data_root: {}\n", quote(r.data_root));
  y += fmt::format("output: {}\n", quote(r.output));
  y += fmt::format("seed: {}\n", r.seed);
  y += fmt::format("split: {{valid: {}, test: {}}}\n", number(r.valid_fraction),
                   number(r.test_fraction));
  y += fmt::format("balance: {{target_ratio: {}}}\n", number(r.target_ratio));
  y += fmt::format("augmentation: {{multiplier: {}, jpeg_quality: {}}}\n", r.multiplier,
                   r.jpeg_quality);
  y += fmt::format("four_class: {{empty_images: {}}}\n", policy_name(r.four_class_empty));
  y += "sources:\n";
  for (const auto& s : r.sources) {
    y += fmt::format("  - name: {}\n", quote(s.name));
    y += fmt::format("    path: {}\n", quote(s.path));
    y += fmt::format("    prefix: {}\n", quote(s.prefix));
    y += "    classes: {";
    bool first = true;
    for (const auto& [from, to] : s.classes) {
      y += fmt::format("{}{}: {}", first ? "" : ", ", quote(from), quote(to));
      first = false;
    }
    y += "}\n    drop: [";
    for (std::size_t i = 0; i < s.drop.size(); ++i) y += (i ? ", " : "") + quote(s.drop[i]);
    y += "]\n";
    if (!s.identity_pattern.empty())
      y += fmt::format("    identity_pattern: {}\n", quote(s.identity_pattern));
  }
  if (r.pool_path.empty()) {
    y += "pool: null\n";
  } else {
    y += fmt::format("pool: {{path: {}, prefix: {}}}\n", quote(r.pool_path), quote(r.pool_prefix));
  }
  y += fmt::format("feedback_csv: {}\n", quote(r.feedback_csv));
  return y;
}

std::string recipe_digest(const recipe& r) {
  // Where the data lives is not part of what was done: the same recipe run from two
  // machines' data roots must give the same digest (and so byte-identical releases).
  recipe portable = r;
  portable.data_root.clear();
  return "sha256:" + sha256_hex(to_yaml(portable));
}

}  // namespace ctprep::pipeline

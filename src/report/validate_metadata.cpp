// Reading metadata.yaml (docs/metadata.md) for validate. Unknown keys are ignored, as
// the schema promises; a known key with the wrong type is a problem that rule
// "metadata" reports, and the value is treated as absent.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "report/validate_internal.hpp"

namespace ctprep::report::detail {
namespace {

class yaml_reader {
 public:
  explicit yaml_reader(metadata& m) : m_(m) {}

  template <typename T>
  std::optional<T> scalar(const YAML::Node& parent, const char* key, const std::string& where) {
    const auto node = parent[key];
    if (!node || node.IsNull()) return std::nullopt;
    if (!node.IsScalar()) {
      m_.problems.push_back(fmt::format("{}{} must be a scalar", where, key));
      return std::nullopt;
    }
    try {
      return node.as<T>();
    } catch (const YAML::Exception&) {
      m_.problems.push_back(
          fmt::format("{}{} has an unreadable value '{}'", where, key, node.Scalar()));
      return std::nullopt;
    }
  }

  std::optional<std::uint64_t> count(const YAML::Node& parent, const char* key,
                                     const std::string& where) {
    auto v = scalar<std::int64_t>(parent, key, where);
    if (!v) return std::nullopt;
    if (*v < 0) {
      m_.problems.push_back(fmt::format("{}{} must not be negative, found {}", where, key, *v));
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(*v);
  }

  std::optional<std::vector<std::string>> strings(const YAML::Node& parent, const char* key,
                                                  const std::string& where) {
    const auto node = parent[key];
    if (!node || node.IsNull()) return std::nullopt;
    if (!node.IsSequence()) {
      m_.problems.push_back(fmt::format("{}{} must be a list", where, key));
      return std::nullopt;
    }
    std::vector<std::string> out;
    for (const auto& item : node) {
      if (!item.IsScalar()) {
        m_.problems.push_back(fmt::format("{}{} must hold names only", where, key));
        return std::nullopt;
      }
      out.push_back(item.Scalar());
    }
    return out;
  }

  bool map(const YAML::Node& node, const std::string& what) {
    if (!node || node.IsNull()) return false;
    if (!node.IsMap()) {
      m_.problems.push_back(fmt::format("{} must be a mapping", what));
      return false;
    }
    return true;
  }

 private:
  metadata& m_;
};

void read_root(const YAML::Node& root, metadata& m) {
  yaml_reader r(m);
  if (!r.map(root, "the top level")) return;
  m.version = r.scalar<std::string>(root, "version", "");
  m.type = r.scalar<std::string>(root, "type", "");
  if (m.type && *m.type != "6class" && *m.type != "4class") {
    m.problems.push_back(fmt::format("type must be 6class or 4class, found '{}'", *m.type));
    m.type.reset();
  }
  m.variant = r.scalar<std::string>(root, "variant", "");
  if (m.variant && *m.variant != "original" && *m.variant != "augmented") {
    m.problems.push_back(
        fmt::format("variant must be original or augmented, found '{}'", *m.variant));
    m.variant.reset();
  }
  m.classes = r.strings(root, "classes", "");
  m.original_dataset = r.scalar<std::string>(root, "original_dataset", "");

  if (const auto splits = root["splits"]; r.map(splits, "splits")) {
    for (const auto& kv : splits) {
      const auto name = kv.first.as<std::string>();
      if (!r.map(kv.second, fmt::format("splits.{}", name))) continue;
      const auto where = fmt::format("splits.{}.", name);
      auto& s = m.splits[name];
      s.images = r.count(kv.second, "images", where);
      s.originals = r.count(kv.second, "originals", where);
      s.patients = r.count(kv.second, "patients", where);
      s.with_hemorrhage = r.count(kv.second, "with_hemorrhage", where);
      s.without_hemorrhage = r.count(kv.second, "without_hemorrhage", where);
      s.annotations = r.count(kv.second, "annotations", where);
    }
  }
  if (const auto balance = root["balance"]; r.map(balance, "balance")) {
    m.target_ratio = r.scalar<double>(balance, "target_ratio", "balance.");
    if (m.target_ratio && !(*m.target_ratio > 0 && *m.target_ratio < 1)) {
      m.problems.push_back(
          fmt::format("balance.target_ratio must be between 0 and 1, found {}", *m.target_ratio));
      m.target_ratio.reset();
    }
    if (const auto per = balance["per_split"]; r.map(per, "balance.per_split")) {
      for (const auto& kv : per) {
        const auto name = kv.first.as<std::string>();
        if (!r.map(kv.second, fmt::format("balance.per_split.{}", name))) continue;
        const auto where = fmt::format("balance.per_split.{}.", name);
        auto& b = m.balance[name];
        b.with_hemorrhage = r.count(kv.second, "with_hemorrhage", where);
        b.without_before = r.count(kv.second, "without_before", where);
        b.shortfall = r.count(kv.second, "shortfall", where);
        b.added_fp = r.count(kv.second, "added_fp", where);
        b.added_tn = r.count(kv.second, "added_tn", where);
        b.without_after = r.count(kv.second, "without_after", where);
        b.short_by = r.count(kv.second, "short_by", where);
      }
    }
  }
  if (const auto aug = root["augmentation"]; r.map(aug, "augmentation")) {
    m.multiplier = r.scalar<std::int64_t>(aug, "multiplier", "augmentation.");
    if (m.multiplier && *m.multiplier < 1) {
      m.problems.push_back(
          fmt::format("augmentation.multiplier must be at least 1, found {}", *m.multiplier));
      m.multiplier.reset();
    }
    m.augmented_splits = r.strings(aug, "splits", "augmentation.");
    if (auto dropped = r.strings(aug, "dropped", "augmentation.")) {
      m.dropped_versions.insert(dropped->begin(), dropped->end());
    }
  }
  if (const auto four = root["four_class"]; r.map(four, "four_class")) {
    m.empty_image_policy = r.scalar<std::string>(four, "empty_image_policy", "four_class.");
    if (m.empty_image_policy && *m.empty_image_policy != "drop" &&
        *m.empty_image_policy != "keep-negative") {
      m.problems.push_back(
          fmt::format("four_class.empty_image_policy must be drop or keep-negative, found '{}'",
                      *m.empty_image_policy));
      m.empty_image_policy.reset();
    }
    m.four_class_dropped_images = r.count(four, "dropped_images", "four_class.");
  }
}

}  // namespace

metadata read_metadata(const fs::path& dir) {
  metadata m;
  const auto path = dir / "metadata.yaml";
  std::error_code ec;
  if (!fs::exists(path, ec)) return m;
  m.present = true;
  try {
    read_root(YAML::LoadFile(path.string()), m);
  } catch (const YAML::Exception& e) {
    m = metadata{};
    m.present = true;
    m.problems.push_back(fmt::format("cannot be read as YAML: {}", e.what()));
  }
  return m;
}

}  // namespace ctprep::report::detail

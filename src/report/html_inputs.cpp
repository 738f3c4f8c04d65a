// Reading what the report shows besides the dataset: metadata.yaml, validate's JSON and
// evaluate's metrics.json. Readers are lenient about fields they do not know and about
// fields that are missing (the producers evolve); they fail only on unreadable files.
#include <algorithm>

#include <fmt/format.h>
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include "ctprep/core/files.hpp"
#include "report/html_internal.hpp"

namespace ctprep::report::html {
namespace {

namespace fs = std::filesystem;
using simdjson::dom::element;

template <typename T>
std::optional<T> yaml_get(const YAML::Node& node) {
  try {
    if (node && node.IsScalar()) return node.as<T>();
  } catch (const YAML::Exception&) {
  }
  return std::nullopt;
}

std::string yaml_text(const YAML::Node& node) {
  return yaml_get<std::string>(node).value_or("");
}

std::string str(element e, std::string_view key) {
  std::string_view v;
  if (e[key].get(v) == simdjson::SUCCESS) return std::string(v);
  return {};
}

std::uint64_t count(element e, std::string_view key) {
  std::uint64_t u = 0;
  if (e[key].get(u) == simdjson::SUCCESS) return u;
  double d = 0;
  if (e[key].get(d) == simdjson::SUCCESS && d >= 0) return static_cast<std::uint64_t>(d);
  return 0;
}

std::optional<double> number(element e, std::string_view key) {
  double d = 0;
  if (e[key].get(d) == simdjson::SUCCESS) return d;
  return std::nullopt;
}

bool flag(element e, std::string_view key) {
  bool b = false;
  return e[key].get(b) == simdjson::SUCCESS && b;
}

std::vector<double> numbers(element e) {
  std::vector<double> out;
  simdjson::dom::array a;
  if (e.get(a) != simdjson::SUCCESS) return out;
  for (auto x : a) {
    double d = 0;
    out.push_back(x.get(d) == simdjson::SUCCESS ? d : 0.0);
  }
  return out;
}

// A rate object {"value": ...} or a bare number.
std::optional<double> rate_value(element e, std::string_view key) {
  element r;
  if (e[key].get(r) != simdjson::SUCCESS) return std::nullopt;
  double d = 0;
  if (r.get(d) == simdjson::SUCCESS) return d;
  return number(r, "value");
}

core::result<simdjson::dom::element> parse_file(simdjson::dom::parser& parser, const fs::path& path,
                                                std::string& storage) {
  auto text = core::read_file(path);
  if (!text) return tl::unexpected(text.error());
  storage = std::move(*text);
  element root;
  if (auto error = parser.parse(storage).get(root); error) {
    return core::fail(core::error_code::malformed_json,
                      fmt::format("'{}': {}", path.string(), simdjson::error_message(error)));
  }
  return root;
}

validation_result read_one_validation(element v) {
  validation_result out;
  out.dataset_dir = str(v, "dataset_dir");
  out.kind = str(v, "kind");
  out.passed = flag(v, "passed");
  out.errors = count(v, "errors");
  out.warnings = count(v, "warnings");
  simdjson::dom::array rules, findings;
  if (v["rules"].get(rules) == simdjson::SUCCESS) {
    for (element r : rules) {
      validation_rule rule;
      rule.id = str(r, "id");
      rule.title = str(r, "title");
      rule.status = str(r, "status");
      rule.errors = count(r, "errors");
      rule.warnings = count(r, "warnings");
      simdjson::dom::array lines, notes;
      if (r["lines"].get(lines) == simdjson::SUCCESS) {
        for (element l : lines) rule.lines.push_back({str(l, "status"), str(l, "text")});
      }
      if (r["notes"].get(notes) == simdjson::SUCCESS) {
        for (element n : notes) {
          std::string_view s;
          if (n.get(s) == simdjson::SUCCESS) rule.notes.emplace_back(s);
        }
      }
      if (rule.status.empty()) {
        rule.status = rule.errors ? "failed" : rule.warnings ? "warning" : "passed";
      }
      out.rules.push_back(std::move(rule));
    }
  }
  if (v["findings"].get(findings) == simdjson::SUCCESS) {
    for (element f : findings) {
      out.findings.push_back(
          {str(f, "rule"), str(f, "severity"), str(f, "split"), str(f, "file"), str(f, "message")});
    }
  }
  return out;
}

eval_binary read_binary(element e, std::string_view key) {
  eval_binary out;
  element b;
  if (e[key].get(b) != simdjson::SUCCESS || !b.is_object()) return out;
  out.present = true;
  out.positives = count(b, "positives");
  out.negatives = count(b, "negatives");
  out.roc_auc = number(b, "roc_auc");
  simdjson::dom::array rows;
  if (b["thresholds"].get(rows) == simdjson::SUCCESS) {
    for (element r : rows) {
      eval_binary_row row;
      row.threshold = number(r, "score_threshold").value_or(0);
      row.tp = count(r, "tp");
      row.fp = count(r, "fp");
      row.tn = count(r, "tn");
      row.fn = count(r, "fn");
      row.sensitivity = rate_value(r, "sensitivity");
      row.specificity = rate_value(r, "specificity");
      row.ppv = rate_value(r, "ppv");
      row.npv = rate_value(r, "npv");
      row.f1 = number(r, "f1");
      out.rows.push_back(row);
    }
  }
  return out;
}

}  // namespace

metadata read_metadata(const fs::path& dataset_dir) {
  metadata m;
  const auto path = dataset_dir / "metadata.yaml";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return m;
  m.present = true;
  try {
    const auto root = YAML::LoadFile(path.string());
    m.version = yaml_text(root["version"]);
    m.type = yaml_text(root["type"]);
    m.variant = yaml_text(root["variant"]);
    m.tool_version = yaml_text(root["tool_version"]);
    m.recipe_digest = yaml_text(root["recipe_digest"]);
    m.created = yaml_text(root["created"]);
    m.seed = yaml_get<std::uint64_t>(root["seed"]);
    if (const auto balance = root["balance"]; balance && balance.IsMap()) {
      m.target_ratio = yaml_get<double>(balance["target_ratio"]);
      if (const auto per = balance["per_split"]; per && per.IsMap()) {
        for (const auto& kv : per) {
          split_balance b;
          b.added_fp = yaml_get<std::uint64_t>(kv.second["added_fp"]);
          b.added_tn = yaml_get<std::uint64_t>(kv.second["added_tn"]);
          b.shortfall = yaml_get<std::uint64_t>(kv.second["shortfall"]);
          b.short_by = yaml_get<std::uint64_t>(kv.second["short_by"]);
          m.balance[kv.first.as<std::string>()] = b;
        }
      }
      if (const auto left = balance["pool_left"]; left && left.IsMap()) {
        m.pool_left_fp = yaml_get<std::uint64_t>(left["fp"]);
        m.pool_left_tn = yaml_get<std::uint64_t>(left["tn"]);
      }
    }
    if (const auto aug = root["augmentation"]; aug && aug.IsMap()) {
      m.multiplier = yaml_get<std::uint64_t>(aug["multiplier"]);
    }
  } catch (const YAML::Exception& e) {
    m.error = fmt::format("'{}': {}", path.string(), e.what());
  }
  return m;
}

core::result<std::vector<validation_result>> read_validation_json(const fs::path& path) {
  simdjson::dom::parser parser;
  std::string storage;
  auto root = parse_file(parser, path, storage);
  if (!root) return tl::unexpected(root.error());
  std::vector<validation_result> out;
  simdjson::dom::array datasets;
  if ((*root)["datasets"].get(datasets) == simdjson::SUCCESS) {
    for (element d : datasets) out.push_back(read_one_validation(d));
  } else if (root->is_object() && !(*root)["rules"].error()) {
    out.push_back(read_one_validation(*root));
  } else {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("'{}' is not the JSON of `ctprep validate --json` (no "
                                  "\"rules\" or \"datasets\")",
                                  path.string()));
  }
  return out;
}

core::result<evaluation_result> read_evaluation(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return core::fail(core::error_code::not_found,
                      fmt::format("evaluation folder '{}' does not exist", dir.string()));
  }
  simdjson::dom::parser parser;
  std::string storage;
  auto root = parse_file(parser, dir / "metrics.json", storage);
  if (!root) return tl::unexpected(root.error());
  const element e = *root;
  evaluation_result out;
  out.dataset_dir = str(e, "dataset_dir");
  out.split = str(e, "split");
  out.predictions = str(e, "predictions");
  out.images = count(e, "images");
  out.annotations = count(e, "annotations");
  out.detections = count(e, "detections");
  element recall;
  if (e["recall_thresholds"].get(recall) == simdjson::SUCCESS)
    out.recall_thresholds = numbers(recall);

  element coco;
  if (e["coco"].get(coco) == simdjson::SUCCESS) {
    simdjson::dom::object summary;
    if (coco["summary"].get(summary) == simdjson::SUCCESS) {
      for (auto [key, value] : summary) {
        double d = 0;
        out.summary.emplace_back(std::string(key), value.get(d) == simdjson::SUCCESS
                                                       ? std::optional<double>(d)
                                                       : std::nullopt);
      }
    }
    simdjson::dom::array classes;
    if (coco["classes"].get(classes) == simdjson::SUCCESS) {
      for (element c : classes) {
        eval_class k;
        k.name = str(c, "name");
        k.no_gt = flag(c, "no_gt");
        k.ground_truth = count(c, "ground_truth");
        k.detections = count(c, "detections");
        k.ap = number(c, "AP");
        k.ap50 = number(c, "AP50");
        k.ap75 = number(c, "AP75");
        k.ar100 = number(c, "AR100");
        element p;
        if (c["precision50"].get(p) == simdjson::SUCCESS) k.precision50 = numbers(p);
        if (c["precision75"].get(p) == simdjson::SUCCESS) k.precision75 = numbers(p);
        out.classes.push_back(std::move(k));
      }
    }
  }
  out.image_level = read_binary(e, "image_level");
  out.patient_level = read_binary(e, "patient_level");

  element cm;
  if (e["confusion_matrix"].get(cm) == simdjson::SUCCESS && cm.is_object()) {
    out.confusion_iou = number(cm, "iou").value_or(0.5);
    out.confusion_score = number(cm, "score_threshold").value_or(0.5);
    simdjson::dom::array labels, rows;
    if (cm["labels"].get(labels) == simdjson::SUCCESS) {
      for (element l : labels) {
        std::string_view s;
        out.confusion_labels.emplace_back(l.get(s) == simdjson::SUCCESS ? s : "?");
      }
    }
    if (cm["counts"].get(rows) == simdjson::SUCCESS) {
      for (element r : rows) {
        auto row = numbers(r);
        out.confusion_counts.insert(out.confusion_counts.end(), row.begin(), row.end());
      }
    }
    if (out.confusion_counts.size() != out.confusion_labels.size() * out.confusion_labels.size()) {
      out.confusion_counts.clear();
      out.confusion_labels.clear();
    }
  }
  element negatives;
  simdjson::dom::array groups;
  if (e["negatives"].get(negatives) == simdjson::SUCCESS &&
      negatives["groups"].get(groups) == simdjson::SUCCESS) {
    for (element g : groups) {
      out.negatives.push_back({str(g, "name"), count(g, "images"), count(g, "images_with_fp"),
                               count(g, "false_positives")});
    }
  }
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name != "metrics.json" && it->is_regular_file(ec)) out.files.push_back(name);
  }
  std::sort(out.files.begin(), out.files.end());
  return out;
}

}  // namespace ctprep::report::html

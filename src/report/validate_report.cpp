// The two views of a validation: the seed's human report and JSON for CI.
#include <fmt/format.h>

#include "ctprep/core/json_writer.hpp"
#include "report/validate_internal.hpp"

namespace ctprep::report {
namespace {

constexpr std::string_view rule_line =
    "================================================================================";

std::string_view symbol(line_status s) {
  switch (s) {
    case line_status::pass:
      return "✓";
    case line_status::fail:
      return "✗";
    case line_status::warn:
      return "!";
    case line_status::skip:
      return "–";
  }
  return "?";
}

std::string_view status_name(line_status s) {
  switch (s) {
    case line_status::pass:
      return "pass";
    case line_status::fail:
      return "fail";
    case line_status::warn:
      return "warn";
    case line_status::skip:
      return "skip";
  }
  return "?";
}

std::string_view rule_status(const rule_result& r) {
  if (r.errors > 0) return "failed";
  if (r.warnings > 0) return "warning";
  bool all_skipped = !r.lines.empty();
  for (const auto& l : r.lines) all_skipped = all_skipped && l.status == line_status::skip;
  return all_skipped ? "skipped" : "passed";
}

std::string counts(std::uint64_t errors, std::uint64_t warnings) {
  std::string out;
  if (errors > 0) out += fmt::format("{} error{}", errors, errors == 1 ? "" : "s");
  if (warnings > 0) {
    out +=
        fmt::format("{}{} warning{}", out.empty() ? "" : ", ", warnings, warnings == 1 ? "" : "s");
  }
  return out;
}

void write_validation(core::json_writer& w, const validation& v) {
  w.begin_object();
  w.field("dataset_dir", v.dataset_dir);
  w.field("kind", v.kind);
  w.key("expected_classes");
  if (v.expected_classes)
    w.value(v.expected_classes);
  else
    w.null();
  w.field("expected_classes_from", v.expected_classes_from);
  w.field("has_metadata", v.has_metadata);
  w.field("passed", v.passed());
  w.field("errors", v.errors());
  w.field("warnings", v.warnings());
  w.key("rules");
  w.begin_array();
  for (const auto& r : v.rules) {
    w.begin_object();
    w.field("id", r.id);
    w.field("title", r.title);
    w.field("status", rule_status(r));
    w.field("errors", r.errors);
    w.field("warnings", r.warnings);
    w.key("lines");
    w.begin_array();
    for (const auto& l : r.lines) {
      w.begin_object();
      w.field("status", status_name(l.status));
      w.field("text", l.text);
      w.end_object();
    }
    w.end_array();
    w.key("notes");
    w.begin_array();
    for (const auto& n : r.notes) w.value(n);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("findings");
  w.begin_array();
  for (const auto& f : v.findings) {
    w.begin_object();
    w.field("rule", f.rule);
    w.field("severity", severity_name(f.level));
    w.field("split", f.split);
    w.field("file", f.file);
    w.field("message", f.message);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

}  // namespace

std::string to_text(const validation& v, std::size_t max_items) {
  std::string out;
  const auto add = [&](std::string_view s) {
    out += s;
    out += '\n';
  };
  add(rule_line);
  add("DATASET VALIDATION REPORT");
  add(rule_line);
  add(fmt::format("Dataset: {}", v.dataset_dir));
  add(fmt::format("Kind: {}{}{}", v.kind,
                  v.expected_classes_from.empty()
                      ? ""
                      : fmt::format(" (class set from {})", v.expected_classes_from),
                  v.has_metadata ? "" : " · no metadata.yaml"));
  std::size_t numbered = 0;
  for (const auto& r : v.rules)
    numbered += r.id == rule_metadata || r.id == rule_duplicates ? 0 : 1;
  std::size_t k = 0;
  bool extra_header = false;
  for (const auto& r : v.rules) {
    const bool extra = r.id == rule_metadata || r.id == rule_duplicates;
    if (extra && !extra_header) {
      add("");
      add("Additional checks");
      extra_header = true;
    }
    add("");
    add(extra ? fmt::format("[+] {}...", r.title)
              : fmt::format("[{}/{}] {}...", ++k, numbered, r.title));
    for (const auto& l : r.lines) add(fmt::format("  {} {}", symbol(l.status), l.text));
    for (const auto& n : r.notes) add(fmt::format("    note: {}", n));
  }
  add("");
  add(rule_line);
  const auto errors = v.errors(), warnings = v.warnings();
  if (errors == 0 && warnings == 0) {
    add("✓ VALIDATION PASSED - Dataset ready for training!");
  } else if (errors == 0) {
    add(fmt::format("✓ VALIDATION PASSED with {} - read them before training",
                    counts(0, warnings)));
  } else {
    add(fmt::format("✗ VALIDATION FAILED: {}", counts(errors, warnings)));
  }
  add(rule_line);
  if (v.findings.empty()) return out;

  add("");
  add("Findings by rule:");
  for (const auto& r : v.rules) {
    if (r.errors + r.warnings == 0) continue;
    add(fmt::format("[{}] {}", r.id, counts(r.errors, r.warnings)));
    std::size_t shown = 0, total = 0;
    for (const auto& f : v.findings) {
      if (f.rule != r.id) continue;
      ++total;
      if (shown == max_items) continue;
      ++shown;
      std::string where = f.split;
      if (!f.file.empty()) where += where.empty() ? f.file : "/" + f.file;
      add(fmt::format("  {} {}{}", f.level == severity::error ? "✗" : "!",
                      where.empty() ? "" : where + ": ", f.message));
    }
    if (total > shown) add(fmt::format("  ... and {} more", total - shown));
  }
  return out;
}

std::string to_json(const validation& v) {
  core::json_writer w(2);
  write_validation(w, v);
  return w.take() + "\n";
}

std::string to_json(const std::vector<validation>& all) {
  core::json_writer w(2);
  std::uint64_t errors = 0, warnings = 0;
  for (const auto& v : all) errors += v.errors(), warnings += v.warnings();
  w.begin_object();
  w.field("passed", errors == 0);
  w.field("errors", errors);
  w.field("warnings", warnings);
  w.key("datasets");
  w.begin_array();
  for (const auto& v : all) write_validation(w, v);
  w.end_array();
  w.end_object();
  return w.take() + "\n";
}

}  // namespace ctprep::report

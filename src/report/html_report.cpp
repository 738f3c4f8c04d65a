// The page: header, summary, splits, classes, patients, contact sheets, validation and
// evaluation, in that order. Counts come from analyze_dataset (the numbers `analyze
// --json` prints); cells holding them carry data-k attributes naming the field, which
// the browser test reads back.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

#include "ctprep/core/files.hpp"
#include "ctprep/report/analyze.hpp"
#include "ctprep/report/html_report.hpp"
#include "ctprep/report/svg.hpp"
#include "report/html_internal.hpp"

#ifndef CTPREP_VERSION
#define CTPREP_VERSION "0.0.0"
#endif

namespace ctprep::report {
namespace {

namespace fs = std::filesystem;
using svg::escape;

constexpr std::string_view hemorrhage_color = "#d0473d", negative_color = "#a7adb5";
constexpr std::string_view fp_color = "#e8853d", tn_color = "#5b8fbf", unknown_color = "#c9ccd1";

std::string thousands(std::uint64_t n) {
  return svg::format_tick(static_cast<double>(n));
}

std::string pct(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "–";
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

double share(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

std::string opt_number(const std::optional<double>& v, int decimals = 3) {
  return v ? fmt::format("{:.{}f}", *v, decimals) : std::string("–");
}

// A number cell the browser test can find: <td class="n" data-k="train.images">1,234</td>.
std::string cell(std::string_view key, std::uint64_t value) {
  return fmt::format("<td class=\"n\" data-k=\"{}\">{}</td>", escape(key), thousands(value));
}
std::string td(std::string_view text, std::string_view cls = "") {
  return cls.empty() ? fmt::format("<td>{}</td>", text)
                     : fmt::format("<td class=\"{}\">{}</td>", cls, text);
}

std::string source_date() {
  const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
  if (!epoch || !*epoch) return {};
  char* end = nullptr;
  const long long seconds = std::strtoll(epoch, &end, 10);
  if (*end != '\0' || seconds < 0) return {};
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string dataset_name(const fs::path& dir) {
  auto p = dir.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  const auto name = p.filename().string();
  return name.empty() || name == "." ? fs::absolute(dir).lexically_normal().filename().string()
                                     : name;
}

constexpr std::string_view css = R"css(
:root{--ink:#1d2430;--muted:#5d6673;--line:#e3e6ea;--bg:#f6f7f9;--card:#fff;--ok:#1f8a4c;--bad:#c8372d;--warn:#b7791f}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
header.top{background:#1d2a3a;color:#fff;padding:22px 32px 18px}
header.top h1{margin:0 0 4px;font-size:24px;font-weight:650}
header.top .sub{color:#b8c4d3;margin:0 0 14px}
dl.meta{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:8px 20px;margin:0}
dl.meta div{min-width:0}
dl.meta dt{color:#93a3b8;font-size:11px;text-transform:uppercase;letter-spacing:.05em}
dl.meta dd{margin:0;font-weight:600;overflow-wrap:anywhere}
nav.toc{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid var(--line);padding:8px 32px;display:flex;flex-wrap:wrap;gap:6px 18px}
nav.toc a{color:#2f5f9e;text-decoration:none;font-weight:600}
main{max-width:1320px;margin:0 auto;padding:8px 32px 40px}
section{margin-top:26px}
h2{font-size:19px;margin:0 0 10px;padding-bottom:6px;border-bottom:2px solid var(--line)}
h3{font-size:15px;margin:18px 0 8px}
p.note{color:var(--muted);margin:4px 0 10px;max-width:900px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card .v{font-size:22px;font-weight:700}
.card .l{color:var(--muted);font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:14px}
.chart-box{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px}
svg.chart{display:block;max-width:100%;height:auto}
table{border-collapse:collapse;background:var(--card);border:1px solid var(--line);margin:6px 0 12px;font-size:13px;display:block;max-width:100%;overflow-x:auto;width:max-content}
td:first-child{white-space:nowrap}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.total td{font-weight:700;background:#fafbfc}
.ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}.skip{color:var(--muted)}
.badge{display:inline-block;padding:2px 9px;border-radius:10px;font-weight:700;font-size:12px;color:#fff}
.badge.ok{background:var(--ok);color:#fff}.badge.bad{background:var(--bad);color:#fff}.badge.warn{background:var(--warn);color:#fff}
.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;vertical-align:-1px;margin-right:4px}
.sheet{display:grid;grid-template-columns:repeat(auto-fill,minmax(184px,1fr));gap:10px}
figure{margin:0;background:#111;border-radius:6px;overflow:hidden}
figure img{display:block;width:100%;height:auto;image-rendering:auto}
figcaption{background:#fff;color:var(--muted);font-size:11px;padding:3px 6px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;border:1px solid var(--line);border-top:0}
figure.missing{background:#fbeaea;color:var(--bad);padding:10px;font-size:12px;min-height:80px}
.aug-row{display:flex;gap:8px;margin-bottom:10px;flex-wrap:wrap}
.aug-row figure{width:184px}
.aug-row figure.first{outline:3px solid #2f5f9e}
.rule{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--ok);border-radius:6px;padding:8px 12px;margin:8px 0}
.rule.failed{border-left-color:var(--bad)}.rule.warning{border-left-color:var(--warn)}.rule.skipped{border-left-color:#aab}
.rule h4{margin:0 0 4px;font-size:14px}
.rule ul{margin:2px 0;padding-left:20px}
.rule li{list-style:none;margin-left:-18px}
details summary{cursor:pointer;color:#2f5f9e}
footer{color:var(--muted);font-size:12px;border-top:1px solid var(--line);margin-top:34px;padding-top:10px}
code{background:#eef1f4;padding:0 4px;border-radius:3px;font-size:12px}
)css";

struct page {
  std::string body;
  std::vector<std::pair<std::string, std::string>> toc;  // id, title
  std::vector<std::string> sections;
  void open_section(std::string_view id, std::string_view title) {
    toc.emplace_back(id, title);
    sections.emplace_back(id);
    body += fmt::format("<section id=\"{}\"><h2>{}</h2>\n", id, escape(title));
  }
  void close_section() { body += "</section>\n"; }
  void chart(const std::string& svg_text) {
    body += "<div class=\"chart-box\">" + svg_text + "</div>";
  }
};

std::string status_icon(std::string_view status) {
  if (status == "pass" || status == "passed") return "<span class=\"ok\">✓</span>";
  if (status == "fail" || status == "failed") return "<span class=\"bad\">✗</span>";
  if (status == "warn" || status == "warning") return "<span class=\"warn\">!</span>";
  return "<span class=\"skip\">–</span>";
}

// ---- sections -------------------------------------------------------------------------

void header_section(std::string& out, const html_report_options& o, const dataset_analysis& a,
                    const html::metadata& m) {
  const auto name = dataset_name(o.dataset_dir);
  std::string date = m.created;
  std::string date_from = "metadata.yaml";
  if (date.empty()) {
    date = source_date();
    date_from = "SOURCE_DATE_EPOCH";
  }
  if (date.empty()) {
    date = "not recorded";
    date_from = "";
  }
  const auto item = [&](std::string_view label, std::string_view value, std::string_view key) {
    // Long values (a sha256 digest) are cut for the eye; the whole value is the tooltip.
    const std::string shown =
        value.size() > 30 ? std::string(value.substr(0, 24)) + "…" : std::string(value);
    out += fmt::format("<div><dt>{}</dt><dd data-h=\"{}\" title=\"{}\">{}</dd></div>", label, key,
                       escape(value), value.empty() ? "–" : escape(shown));
  };
  std::string kind = m.type;
  if (!m.variant.empty()) kind += (kind.empty() ? "" : " · ") + m.variant;
  out += "<header class=\"top\">";
  out += fmt::format("<h1>{} — dataset report</h1>", escape(name));
  out += fmt::format("<p class=\"sub\">{} · {} splits · {} images · {} patients</p>",
                     escape(o.dataset_dir.string()), a.splits.size(), thousands([&] {
                       std::uint64_t n = 0;
                       for (const auto& s : a.splits) n += s.images;
                       return n;
                     }()),
                     thousands(a.total_patients));
  out += "<dl class=\"meta\">";
  item("Dataset", name, "dataset");
  item("Version", m.version, "version");
  item("Type", kind, "type");
  item("Recipe digest", m.recipe_digest, "recipe_digest");
  item("Seed", m.seed ? std::to_string(*m.seed) : "", "seed");
  item("Tool version", m.tool_version, "tool_version");
  item(date_from.empty() ? "Date" : fmt::format("Date ({})", date_from), date, "date");
  item("Report", fmt::format("ctprep {} · sample seed {}", CTPREP_VERSION, o.seed), "report");
  out += "</dl></header>\n";
}

void summary_section(page& p, const dataset_analysis& a, const html::dataset_stats& st,
                     const std::vector<html::validation_result>* validation,
                     const html::evaluation_result* evaluation) {
  p.open_section("summary", "Summary");
  std::uint64_t images = 0, annotations = 0;
  for (const auto& s : a.splits) images += s.images, annotations += s.annotations;
  p.body += "<div class=\"cards\">";
  const auto card = [&](std::string_view label, std::string value, std::string_view key) {
    p.body += fmt::format(
        "<div class=\"card\"><div class=\"v\" data-k=\"{}\">{}</div>"
        "<div class=\"l\">{}</div></div>",
        key, value, label);
  };
  card("images", thousands(images), "total.images");
  card("original slices", thousands(a.total_originals), "total.originals");
  card("boxes", thousands(annotations), "total.annotations");
  card("patients", thousands(a.total_patients), "total.patients");
  card("classes", thousands(st.class_names.size()), "total.classes");
  card("originals with hemorrhage", pct(a.originals_with_hemorrhage, a.total_originals),
       "total.hemorrhage_share");
  std::uint64_t overlapping = 0;
  for (const auto& o : a.overlaps) overlapping += o.patients;
  p.body += fmt::format(
      "<div class=\"card\"><div class=\"v {}\" data-k=\"total.overlapping_patients\">{}</div>"
      "<div class=\"l\">patients shared between splits</div></div>",
      overlapping ? "bad" : "ok", thousands(overlapping));
  if (validation) {
    bool passed = true;
    for (const auto& v : *validation) passed = passed && v.passed;
    p.body += fmt::format(
        "<div class=\"card\"><div class=\"v {}\">{}</div><div class=\"l\">"
        "validation</div></div>",
        passed ? "ok" : "bad", passed ? "✓ passed" : "✗ failed");
  }
  if (evaluation) {
    std::optional<double> ap, ap50;
    for (const auto& [k, v] : evaluation->summary) {
      if (k == "AP") ap = v;
      if (k == "AP50") ap50 = v;
    }
    p.body += fmt::format(
        "<div class=\"card\"><div class=\"v\">{}</div><div class=\"l\">"
        "mAP@[.5:.95] · AP50 {} ({})</div></div>",
        opt_number(ap), opt_number(ap50), escape(evaluation->split));
  }
  p.body += "</div>\n";
  p.close_section();
}

void splits_section(page& p, const dataset_analysis& a, const html::dataset_stats& st,
                    const html::metadata& m, const html_report_options& o) {
  p.open_section("splits", "Splits");
  const bool feedback = !o.feedback.empty();
  bool balance_fp = false;
  for (const auto& s : a.splits) {
    const auto it = m.balance.find(s.name);
    balance_fp =
        balance_fp || (it != m.balance.end() && (it->second.added_fp || it->second.added_tn));
  }
  p.body +=
      "<table><tr><th>split</th><th class=\"n\">images</th><th class=\"n\">originals</th>"
      "<th class=\"n\">augmented</th><th class=\"n\">multiplier</th><th class=\"n\">boxes"
      "</th><th class=\"n\">patients</th><th class=\"n\">with hemorrhage</th>"
      "<th class=\"n\">no hemorrhage</th><th class=\"n\">no-hem share</th>";
  if (feedback) p.body += "<th class=\"n\">FP negatives</th><th class=\"n\">TN negatives</th>";
  if (balance_fp) p.body += "<th class=\"n\">added FP</th><th class=\"n\">added TN</th>";
  p.body += "</tr>\n";
  for (std::size_t i = 0; i < a.splits.size(); ++i) {
    const auto& s = a.splits[i];
    p.body += fmt::format("<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td>",
                          html::split_color(s.name), escape(s.name));
    p.body += cell(s.name + ".images", s.images) + cell(s.name + ".originals", s.originals) +
              cell(s.name + ".augmented", s.augmented);
    p.body += td(s.originals ? fmt::format("{:.2f}×", static_cast<double>(s.images) /
                                                          static_cast<double>(s.originals))
                             : "–",
                 "n");
    p.body += cell(s.name + ".annotations", s.annotations) +
              cell(s.name + ".patients", s.patients) +
              cell(s.name + ".images_with_hemorrhage", s.images_with_hemorrhage) +
              cell(s.name + ".images_without_hemorrhage", s.images_without_hemorrhage);
    p.body += td(pct(s.originals_without_hemorrhage, s.originals), "n");
    if (feedback) {
      p.body += cell(s.name + ".negatives_fp", st.negatives[i][0]) +
                cell(s.name + ".negatives_tn", st.negatives[i][1]);
    }
    if (balance_fp) {
      const auto it = m.balance.find(s.name);
      const auto v = [&](const std::optional<std::uint64_t>& x) {
        return td(x ? thousands(*x) : "–", "n");
      };
      if (it == m.balance.end()) {
        p.body += td("–", "n") + td("–", "n");
      } else {
        p.body += v(it->second.added_fp) + v(it->second.added_tn);
      }
    }
    p.body += "</tr>\n";
  }
  p.body += "</table>\n<div class=\"charts\">";

  std::vector<std::string> names;
  for (const auto& s : a.splits) names.push_back(s.name);
  {
    svg::bar_chart c;
    c.title = "Images per split";
    c.y_label = "images";
    c.categories = names;
    c.stacked = true;
    svg::data_series orig{"originals", {}, "#4c78a8"}, aug{"augmented", {}, "#9ecae9"};
    for (const auto& s : a.splits) {
      orig.values.push_back(static_cast<double>(s.originals));
      aug.values.push_back(static_cast<double>(s.augmented));
    }
    c.series = {orig, aug};
    p.chart(svg::render_bar_chart(c));
  }
  {
    svg::bar_chart c;
    c.title = "Patients per split";
    c.y_label = "patients";
    c.categories = names;
    svg::data_series s{"patients", {}, "#6f5fa8"};
    for (const auto& x : a.splits) s.values.push_back(static_cast<double>(x.patients));
    c.series = {s};
    p.chart(svg::render_bar_chart(c));
  }
  {
    svg::bar_chart c;
    c.title = "Hemorrhage vs no hemorrhage (originals)";
    c.y_label = "share of originals";
    c.categories = names;
    c.stacked = true;
    c.percent = true;
    c.y_max = 100;
    svg::data_series neg{"no hemorrhage", {}, std::string(negative_color)},
        hem{"hemorrhage", {}, std::string(hemorrhage_color)};
    for (const auto& s : a.splits) {
      neg.values.push_back(share(s.originals_without_hemorrhage, s.originals));
      hem.values.push_back(share(s.originals_with_hemorrhage, s.originals));
    }
    c.series = {neg, hem};
    const double target = m.target_ratio.value_or(0.5);
    c.target = 100 * target;
    c.target_label = fmt::format("target {:.0f}%{}", 100 * target, m.target_ratio ? "" : "*");
    p.chart(svg::render_bar_chart(c));
  }
  if (feedback) {
    svg::bar_chart c;
    c.title = "No-hemorrhage originals by feedback class";
    c.y_label = "images";
    c.categories = names;
    c.stacked = true;
    svg::data_series fp{"FP (model flagged)", {}, std::string(fp_color)},
        tn{"TN", {}, std::string(tn_color)}, un{"not in feedback", {}, std::string(unknown_color)};
    for (std::size_t i = 0; i < a.splits.size(); ++i) {
      fp.values.push_back(static_cast<double>(st.negatives[i][0]));
      tn.values.push_back(static_cast<double>(st.negatives[i][1]));
      un.values.push_back(static_cast<double>(st.negatives[i][2]));
    }
    c.series = {fp, tn, un};
    p.chart(svg::render_bar_chart(c));
  } else if (balance_fp) {
    svg::bar_chart c;
    c.title = "Negatives added by balancing (metadata.yaml)";
    c.y_label = "images";
    c.categories = names;
    c.stacked = true;
    svg::data_series fp{"FP", {}, std::string(fp_color)}, tn{"TN", {}, std::string(tn_color)};
    for (const auto& s : a.splits) {
      const auto it = m.balance.find(s.name);
      fp.values.push_back(
          it == m.balance.end() ? 0.0 : static_cast<double>(it->second.added_fp.value_or(0)));
      tn.values.push_back(
          it == m.balance.end() ? 0.0 : static_cast<double>(it->second.added_tn.value_or(0)));
    }
    c.series = {fp, tn};
    p.chart(svg::render_bar_chart(c));
  }
  p.body += "</div>\n";
  p.body += fmt::format(
      "<p class=\"note\">The dashed line is the balance target: {:.0f}% of each split's originals "
      "without hemorrhage ({}).</p>\n",
      100 * m.target_ratio.value_or(0.5),
      m.target_ratio ? "metadata.yaml" : "* the default: no balance record in metadata.yaml");
  if (!feedback && !balance_fp) {
    p.body +=
        "<p class=\"note\">FP vs TN negatives: not known (no feedback CSV given and no "
        "balance record in metadata.yaml). Pass <code>--feedback-csv</code> to split the "
        "negatives by feedback class.</p>\n";
  }
  for (const auto& s : a.splits) {
    if (s.identity_errors.empty()) continue;
    p.body += fmt::format(
        "<p class=\"note bad\">{}: {} file names do not follow the slice-identity rule, e.g. "
        "<code>{}</code>.</p>\n",
        escape(s.name), s.identity_errors.size(), escape(s.identity_errors.front()));
  }
  p.close_section();
}

// Bins for histograms: labels and the bin of a value.
struct bins {
  std::vector<std::string> labels;
  std::vector<double> upper;  // exclusive upper edges; the last bin is open
  [[nodiscard]] std::size_t of(double v) const {
    for (std::size_t i = 0; i < upper.size(); ++i) {
      if (v < upper[i]) return i;
    }
    return upper.size();
  }
};

void classes_section(page& p, const dataset_analysis& a, const html::dataset_stats& st) {
  p.open_section("classes", "Classes");
  p.body += "<table><tr><th>class</th>";
  for (const auto& s : a.splits) {
    p.body += fmt::format("<th class=\"n\">{} boxes</th><th class=\"n\">{} images</th>",
                          escape(s.name), escape(s.name));
  }
  p.body += "<th class=\"n\">all boxes</th><th class=\"n\">original images</th></tr>\n";
  for (std::size_t k = 0; k < a.classes.size(); ++k) {
    const auto& c = a.classes[k];
    p.body += fmt::format("<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td>",
                          html::class_color(c.name, k), escape(c.name));
    for (const auto& s : a.splits) {
      const auto it = std::find_if(s.classes.begin(), s.classes.end(),
                                   [&](const class_count& x) { return x.name == c.name; });
      if (it == s.classes.end()) {
        p.body += td("–", "n") + td("–", "n");
      } else {
        p.body += cell(s.name + ".class." + c.name + ".annotations", it->annotations) +
                  cell(s.name + ".class." + c.name + ".images", it->images);
      }
    }
    p.body += cell("all.class." + c.name + ".annotations", c.annotations) +
              cell("all.class." + c.name + ".original_images", c.original_images);
    p.body += "</tr>\n";
  }
  p.body += "</table>\n<div class=\"charts\">";

  std::vector<std::string> class_names;
  for (const auto& c : a.classes) class_names.push_back(c.name);
  const auto per_split_chart = [&](std::string title, std::string y_label, bool boxes) {
    svg::bar_chart c;
    c.title = std::move(title);
    c.y_label = std::move(y_label);
    c.categories = class_names;
    c.width = 600;
    for (const auto& s : a.splits) {
      svg::data_series series{s.name, {}, html::split_color(s.name)};
      for (const auto& name : class_names) {
        const auto it = std::find_if(s.classes.begin(), s.classes.end(),
                                     [&](const class_count& x) { return x.name == name; });
        series.values.push_back(it == s.classes.end()
                                    ? 0.0
                                    : static_cast<double>(boxes ? it->annotations : it->images));
      }
      c.series.push_back(std::move(series));
    }
    p.chart(svg::render_bar_chart(c));
  };
  per_split_chart("Boxes per class and split", "boxes", true);
  per_split_chart("Images per class and split", "images with the class", false);
  p.body +=
      "</div>\n<h3>Box sizes and shapes (boxes on original images)</h3><div class=\"charts\">";

  const bins size_bins{
      {"<8", "8–16", "16–32", "32–64", "64–96", "96–128", "128–192", "192–256", "≥256"},
      {8, 16, 32, 64, 96, 128, 192, 256}};
  const bins aspect_bins{{"<1/3", "1/3–1/2", "1/2–2/3", "2/3–1", "1–3/2", "3/2–2", "2–3", "≥3"},
                         {1.0 / 3, 0.5, 2.0 / 3, 1, 1.5, 2, 3}};
  const auto histogram = [&](std::string title, const std::vector<std::vector<double>>& values,
                             const bins& b) {
    svg::bar_chart c;
    c.title = std::move(title);
    c.y_label = "% of the class's boxes";
    c.categories = b.labels;
    c.percent = true;
    c.width = 600;
    for (std::size_t k = 0; k < st.class_names.size(); ++k) {
      svg::data_series s{st.class_names[k], std::vector<double>(b.labels.size(), 0),
                         html::class_color(st.class_names[k], k)};
      for (const double v : values[k]) s.values[b.of(v)] += 1;
      const auto n = static_cast<double>(values[k].size());
      for (auto& v : s.values) v = n > 0 ? 100 * v / n : 0;
      c.series.push_back(std::move(s));
    }
    p.chart(svg::render_bar_chart(c));
  };
  histogram("Box size: √(width × height), pixels", st.box_sizes, size_bins);
  histogram("Box aspect: width / height", st.box_aspects, aspect_bins);
  {
    svg::bar_chart c;
    c.title = "Boxes per image";
    c.y_label = "% of the split's images";
    c.percent = true;
    c.categories = {"0", "1", "2", "3", "4", "5", "6", "7", "≥8"};
    c.width = 600;
    for (std::size_t i = 0; i < a.splits.size(); ++i) {
      svg::data_series s{a.splits[i].name, st.boxes_per_image[i],
                         html::split_color(a.splits[i].name)};
      double n = 0;
      for (const double v : s.values) n += v;
      for (auto& v : s.values) v = n > 0 ? 100 * v / n : 0;
      c.series.push_back(std::move(s));
    }
    p.chart(svg::render_bar_chart(c));
  }
  p.body += "</div>\n";
  // Median and range per class, as numbers beside the pictures.
  p.body +=
      "<table><tr><th>class</th><th class=\"n\">boxes</th><th class=\"n\">median size px"
      "</th><th class=\"n\">smallest</th><th class=\"n\">largest</th><th class=\"n\">"
      "median aspect</th></tr>\n";
  for (std::size_t k = 0; k < st.class_names.size(); ++k) {
    auto sizes = st.box_sizes[k];
    auto aspects = st.box_aspects[k];
    std::sort(sizes.begin(), sizes.end());
    std::sort(aspects.begin(), aspects.end());
    const auto median = [](const std::vector<double>& v) {
      return v.empty() ? std::string("–") : fmt::format("{:.1f}", v[v.size() / 2]);
    };
    const auto median2 = [](const std::vector<double>& v) {
      return v.empty() ? std::string("–") : fmt::format("{:.2f}", v[v.size() / 2]);
    };
    p.body += fmt::format("<tr><td>{}</td>{}{}{}{}{}</tr>\n", escape(st.class_names[k]),
                          td(thousands(sizes.size()), "n"), td(median(sizes), "n"),
                          td(sizes.empty() ? "–" : fmt::format("{:.1f}", sizes.front()), "n"),
                          td(sizes.empty() ? "–" : fmt::format("{:.1f}", sizes.back()), "n"),
                          td(median2(aspects), "n"));
  }
  p.body += "</table>\n";
  p.close_section();
}

void patients_section(page& p, const dataset_analysis& a, const html::dataset_stats& st) {
  p.open_section("patients", "Patients");
  std::vector<std::string> names;
  for (const auto& s : a.splits) names.push_back(s.name);
  p.body +=
      "<table><tr><th>split</th><th class=\"n\">patients</th><th class=\"n\">original "
      "slices</th><th class=\"n\">slices per patient</th></tr>\n";
  for (const auto& s : a.splits) {
    p.body += fmt::format("<tr><td>{}</td>{}{}{}</tr>\n", escape(s.name),
                          cell(s.name + ".patients", s.patients), td(thousands(s.originals), "n"),
                          td(s.patients ? fmt::format("{:.1f}", static_cast<double>(s.originals) /
                                                                    static_cast<double>(s.patients))
                                        : "–",
                             "n"));
  }
  p.body +=
      fmt::format("<tr class=\"total\"><td>all</td>{}{}<td></td></tr></table>\n",
                  cell("total.patients", a.total_patients), td(thousands(a.total_originals), "n"));

  // Overlaps: the leakage check, shown.
  p.body +=
      "<table><tr><th>splits</th><th class=\"n\">shared patients</th><th>examples</th>"
      "</tr>\n";
  for (const auto& o : a.overlaps) {
    std::string examples;
    for (const auto& e : o.examples) examples += (examples.empty() ? "" : ", ") + e;
    p.body += fmt::format(
        "<tr><td>{} {}/{}</td>{}{}</tr>\n",
        o.patients ? "<span class=\"bad\">✗</span>" : "<span class=\"ok\">✓</span>",
        escape(o.first), escape(o.second), cell("overlap." + o.first + "." + o.second, o.patients),
        td(o.patients ? escape(examples) : "none"));
  }
  p.body += "</table>\n<div class=\"charts\">";
  {
    const bins b{{"1", "2", "3", "4", "5", "6–10", "11–20", "21–50", "≥51"},
                 {2, 3, 4, 5, 6, 11, 21, 51}};
    svg::bar_chart c;
    c.title = "Original slices per patient";
    c.y_label = "patients";
    c.categories = b.labels;
    svg::data_series s{"patients", std::vector<double>(b.labels.size(), 0), "#6f5fa8"};
    for (const auto& pt : st.patients) {
      std::uint64_t n = 0;
      for (const auto x : pt.slices) n += x;
      s.values[b.of(static_cast<double>(n))] += 1;
    }
    c.series = {s};
    p.chart(svg::render_bar_chart(c));
  }
  {
    svg::bar_chart c;
    c.title = "Patients with each class (class coverage)";
    c.y_label = "patients";
    c.width = 600;
    for (const auto& n : st.class_names) c.categories.push_back(n);
    for (std::size_t i = 0; i < a.splits.size(); ++i) {
      svg::data_series s{a.splits[i].name, {}, html::split_color(a.splits[i].name)};
      for (std::size_t k = 0; k < st.class_names.size(); ++k) {
        s.values.push_back(static_cast<double>(st.class_patients[k][i]));
      }
      c.series.push_back(std::move(s));
    }
    p.chart(svg::render_bar_chart(c));
  }
  p.body += "</div>\n";
  p.body += "<table><tr><th>class</th>";
  for (const auto& n : names) p.body += fmt::format("<th class=\"n\">{} patients</th>", escape(n));
  p.body += "<th>in every split</th></tr>\n";
  for (std::size_t k = 0; k < st.class_names.size(); ++k) {
    p.body += fmt::format("<tr><td>{}</td>", escape(st.class_names[k]));
    bool everywhere = !names.empty();
    for (std::size_t i = 0; i < names.size(); ++i) {
      p.body += cell(names[i] + ".class_patients." + st.class_names[k], st.class_patients[k][i]);
      everywhere = everywhere && st.class_patients[k][i] > 0;
    }
    p.body +=
        td(everywhere ? "<span class=\"ok\">✓</span>" : "<span class=\"bad\">✗ missing</span>");
    p.body += "</tr>\n";
  }
  p.body += "</table>\n";

  // Every patient as one cell, coloured by split; a patient in two splits is red.
  svg::tile_strip strip;
  strip.title = "The split of every patient (by patient id)";
  strip.columns = 96;
  strip.cell = st.patients.size() > 4000 ? 6 : 9;
  if (st.patients.size() > 4000) strip.columns = 150;
  std::uint64_t shared = 0;
  for (const auto& pt : st.patients) {
    std::vector<std::string> in;
    std::string slices;
    for (std::size_t i = 0; i < pt.slices.size() && i < names.size(); ++i) {
      if (pt.slices[i] == 0) continue;
      in.push_back(names[i]);
      slices += fmt::format("{}{} {}", slices.empty() ? "" : ", ", names[i], pt.slices[i]);
    }
    std::string classes;
    for (const auto& c : pt.classes) classes += (classes.empty() ? "" : " ") + c;
    const bool overlap = in.size() > 1;
    shared += overlap ? 1 : 0;
    strip.tiles.push_back(
        {overlap      ? "#d62728"
         : in.empty() ? "#ccc"
                      : html::split_color(in[0]),
         fmt::format("patient {}: {}{}{}", pt.id, slices, classes.empty() ? "" : " · ",
                     classes.empty() ? "no hemorrhage" : classes)});
  }
  p.body += "<div class=\"chart-box\">" + svg::render_tile_strip(strip) + "<p class=\"note\">";
  for (const auto& n : names) {
    p.body += fmt::format("<span class=\"swatch\" style=\"background:{}\"></span>{} &nbsp; ",
                          html::split_color(n), escape(n));
  }
  p.body += fmt::format(
      "<span class=\"swatch\" style=\"background:#d62728\"></span>in more than "
      "one split: <b data-k=\"total.patients_in_several_splits\">{}</b>. Hover "
      "a cell for the patient's slices and classes.</p></div>\n",
      thousands(shared));
  p.close_section();
}

void figure(std::string& out, const html::thumbnail& t, std::string_view extra_class = "") {
  const std::string caption = t.caption.empty() ? fmt::format("{} · {}", t.split, t.file_name)
                                                : fmt::format("{} · {}", t.caption, t.file_name);
  if (t.data_uri.empty()) {
    out += fmt::format("<figure class=\"missing {}\" title=\"{}\">not shown: {}</figure>",
                       extra_class, escape(caption), escape(t.error));
    return;
  }
  out += fmt::format(
      "<figure class=\"{}\"><img src=\"{}\" width=\"{}\" height=\"{}\" alt=\"{}\" "
      "loading=\"eager\"><figcaption title=\"{}\">{}</figcaption></figure>",
      extra_class, t.data_uri, t.width, t.height, escape(t.file_name), escape(caption),
      escape(caption));
}

void sheets_section(page& p, const std::vector<html::contact_sheet>& sheets,
                    const html_report_options& o) {
  p.open_section("sheets", "Contact sheets");
  p.body += fmt::format(
      "<p class=\"note\">Original slices chosen with seed {} (<code>--seed</code>), every box "
      "drawn and labelled with its class. Thumbnails at most {} px.</p>\n",
      o.seed, o.thumbnail_side);
  for (const auto& s : sheets) {
    if (s.id == "sheet-augmentation") {
      p.body += fmt::format(
          "<h3 id=\"{}\">Augmentation: originals beside their versions "
          "({} of {} shown)</h3>\n",
          s.id, s.rows.size(), thousands(s.candidates));
      if (s.rows.empty()) {
        p.body +=
            "<p class=\"note\">No augmented versions in this dataset (no "
            "<code>_aug1</code>… files).</p>\n";
      }
      for (const auto& row : s.rows) {
        p.body += "<div class=\"aug-row\">";
        for (std::size_t i = 0; i < row.size(); ++i) figure(p.body, row[i], i == 0 ? "first" : "");
        p.body += "</div>\n";
      }
      continue;
    }
    p.body += fmt::format("<h3 id=\"{}\">{}{} <span class=\"skip\">({} of {} slices)</span></h3>\n",
                          escape(s.id),
                          s.color.empty() ? ""
                                          : fmt::format("<span class=\"swatch\" style=\"background:"
                                                        "{}\"></span>",
                                                        s.color),
                          escape(s.title), s.thumbnails.size(), thousands(s.candidates));
    if (s.thumbnails.empty()) {
      p.body += s.candidates ? "<p class=\"note\">None shown (<code>--samples 0</code>).</p>\n"
                             : "<p class=\"note\">No slice of this kind.</p>\n";
      continue;
    }
    p.body += "<div class=\"sheet\">";
    for (const auto& t : s.thumbnails) figure(p.body, t);
    p.body += "</div>\n";
  }
  p.close_section();
}

void validation_section(page& p, const std::vector<html::validation_result>& all) {
  p.open_section("validation", "Validation");
  constexpr std::size_t max_findings = 25;
  for (const auto& v : all) {
    if (all.size() > 1 || !v.dataset_dir.empty()) {
      p.body += fmt::format("<h3>{} <span class=\"skip\">{}</span></h3>\n", escape(v.dataset_dir),
                            escape(v.kind));
    }
    p.body += fmt::format("<p><span class=\"badge {}\">{}</span> {} error{}, {} warning{}</p>\n",
                          v.passed ? "ok" : "bad", v.passed ? "✓ PASSED" : "✗ FAILED", v.errors,
                          v.errors == 1 ? "" : "s", v.warnings, v.warnings == 1 ? "" : "s");
    for (const auto& r : v.rules) {
      p.body += fmt::format(
          "<div class=\"rule {}\" data-rule=\"{}\"><h4>{} {} <span class=\"skip\">"
          "[{}]</span></h4><ul>",
          escape(r.status), escape(r.id), status_icon(r.status), escape(r.title), escape(r.id));
      for (const auto& l : r.lines) {
        p.body += fmt::format("<li>{} {}</li>", status_icon(l.status), escape(l.text));
      }
      for (const auto& n : r.notes) {
        p.body += fmt::format("<li class=\"skip\">note: {}</li>", escape(n));
      }
      p.body += "</ul>";
      std::size_t total = 0;
      for (const auto& f : v.findings) total += f.rule == r.id ? 1 : 0;
      if (total > 0) {
        p.body += fmt::format(
            "<details{}><summary>{} finding{}</summary><table><tr><th></th>"
            "<th>split</th><th>file</th><th>message</th></tr>",
            r.status == "failed" ? " open" : "", total, total == 1 ? "" : "s");
        std::size_t shown = 0;
        for (const auto& f : v.findings) {
          if (f.rule != r.id || shown == max_findings) continue;
          ++shown;
          p.body += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                                f.severity == "error" ? "<span class=\"bad\">✗</span>"
                                                      : "<span class=\"warn\">!</span>",
                                escape(f.split), escape(f.file), escape(f.message));
        }
        p.body += "</table>";
        if (total > shown) {
          p.body += fmt::format(
              "<p class=\"note\">… and {} more (see <code>ctprep validate "
              "--json</code>)</p>",
              total - shown);
        }
        p.body += "</details>";
      }
      p.body += "</div>\n";
    }
  }
  p.close_section();
}

void binary_table(std::string& out, std::string_view title, const html::eval_binary& b) {
  if (!b.present) return;
  out += fmt::format("<h3>{}: {} positive, {} negative · ROC AUC {}</h3>", title,
                     thousands(b.positives), thousands(b.negatives), opt_number(b.roc_auc));
  out +=
      "<table><tr><th class=\"n\">score ≥</th><th class=\"n\">TP</th><th class=\"n\">FP</th>"
      "<th class=\"n\">TN</th><th class=\"n\">FN</th><th class=\"n\">sensitivity</th>"
      "<th class=\"n\">specificity</th><th class=\"n\">PPV</th><th class=\"n\">NPV</th>"
      "<th class=\"n\">F1</th></tr>";
  for (const auto& r : b.rows) {
    out += fmt::format("<tr>{}{}{}{}{}{}{}{}{}{}</tr>", td(fmt::format("{:.2f}", r.threshold), "n"),
                       td(thousands(r.tp), "n"), td(thousands(r.fp), "n"), td(thousands(r.tn), "n"),
                       td(thousands(r.fn), "n"), td(opt_number(r.sensitivity), "n"),
                       td(opt_number(r.specificity), "n"), td(opt_number(r.ppv), "n"),
                       td(opt_number(r.npv), "n"), td(opt_number(r.f1), "n"));
  }
  out += "</table>\n";
}

void evaluation_section(page& p, const html::evaluation_result& e, const fs::path& dir) {
  p.open_section("evaluation", "Evaluation");
  p.body += fmt::format(
      "<p class=\"note\">From <code>{}</code>: split <b>{}</b>, {} images, {} boxes, {} "
      "detections{}.</p>\n",
      escape((dir / "metrics.json").string()), escape(e.split), thousands(e.images),
      thousands(e.annotations), thousands(e.detections),
      e.predictions.empty() ? "" : fmt::format(" from <code>{}</code>", escape(e.predictions)));
  if (!e.summary.empty()) {
    p.body += "<table><tr>";
    for (const auto& [k, v] : e.summary)
      p.body += fmt::format("<th class=\"n\">{}</th>", escape(k));
    p.body += "</tr><tr>";
    for (const auto& [k, v] : e.summary) p.body += td(opt_number(v), "n");
    p.body += "</tr></table>\n";
  }
  if (!e.classes.empty()) {
    p.body +=
        "<table><tr><th>class</th><th class=\"n\">ground truth</th><th class=\"n\">"
        "detections</th><th class=\"n\">AP</th><th class=\"n\">AP50</th><th class=\"n\">"
        "AP75</th><th class=\"n\">AR100</th></tr>\n";
    for (const auto& c : e.classes) {
      p.body += fmt::format(
          "<tr><td>{}</td>{}{}{}{}{}{}</tr>\n", escape(c.name), td(thousands(c.ground_truth), "n"),
          td(thousands(c.detections), "n"), td(c.no_gt ? "no GT" : opt_number(c.ap), "n"),
          td(opt_number(c.ap50), "n"), td(opt_number(c.ap75), "n"), td(opt_number(c.ar100), "n"));
    }
    p.body += "</table>\n";
  }
  binary_table(p.body, "Image level (any hemorrhage)", e.image_level);
  binary_table(p.body, "Patient level (any hemorrhage)", e.patient_level);
  p.body += "<div class=\"charts\">";
  if (!e.confusion_labels.empty()) {
    svg::heat_map m;
    m.title = fmt::format("Confusion matrix (IoU ≥ {:.2f}, score ≥ {:.2f})", e.confusion_iou,
                          e.confusion_score);
    m.row_title = "truth ↓";
    m.column_title = "prediction →";
    m.row_labels = e.confusion_labels;
    m.column_labels = e.confusion_labels;
    m.values = e.confusion_counts;
    p.chart(svg::render_heat_map(m));
  }
  for (const bool at75 : {false, true}) {
    svg::line_chart c;
    c.title = at75 ? "Precision–recall, IoU 0.75" : "Precision–recall, IoU 0.50";
    c.x_label = "recall";
    c.y_label = "precision";
    c.x = e.recall_thresholds;
    if (c.x.empty()) {
      for (int i = 0; i <= 100; ++i) c.x.push_back(i / 100.0);
    }
    for (std::size_t k = 0; k < e.classes.size(); ++k) {
      const auto& cls = e.classes[k];
      const auto& curve = at75 ? cls.precision75 : cls.precision50;
      if (curve.empty()) continue;
      c.series.push_back({fmt::format("{} (AP{} {})", cls.name, at75 ? "75" : "50",
                                      opt_number(at75 ? cls.ap75 : cls.ap50, 2)),
                          curve, html::class_color(cls.name, k)});
    }
    c.width = 560;
    p.chart(svg::render_line_chart(c));
  }
  p.body += "</div>\n";
  if (!e.negatives.empty()) {
    p.body +=
        "<h3>False positives on no-hemorrhage images</h3><table><tr><th>group</th>"
        "<th class=\"n\">images</th><th class=\"n\">with a false positive</th><th class=\"n\">"
        "rate</th><th class=\"n\">false positives</th></tr>";
    for (const auto& g : e.negatives) {
      p.body += fmt::format("<tr><td>{}</td>{}{}{}{}</tr>", escape(g.name),
                            td(thousands(g.images), "n"), td(thousands(g.images_with_fp), "n"),
                            td(pct(g.images_with_fp, g.images), "n"),
                            td(thousands(g.false_positives), "n"));
    }
    p.body += "</table>\n";
  }
  if (!e.files.empty()) {
    p.body += "<p class=\"note\">Also in the evaluation folder: ";
    for (std::size_t i = 0; i < e.files.size(); ++i) {
      p.body += fmt::format("{}<code>{}</code>", i ? ", " : "", escape(e.files[i]));
    }
    p.body += ".</p>\n";
  }
  p.close_section();
}

}  // namespace

core::result<std::string> render_html_report(const html_report_options& o,
                                             html_report_result* info) {
  if (o.thumbnail_side < 16 || o.thumbnail_side > 1024) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("thumbnail side {} is outside 16..1024", o.thumbnail_side));
  }
  auto analysis = analyze_dataset(o.dataset_dir);
  if (!analysis) return tl::unexpected(analysis.error());
  auto splits = coco::load_splits(o.dataset_dir);
  if (!splits) return tl::unexpected(splits.error());

  std::optional<std::vector<html::validation_result>> validation;
  if (!o.validation_json.empty()) {
    auto v = html::read_validation_json(o.validation_json);
    if (!v) return tl::unexpected(v.error());
    validation = std::move(*v);
  }
  std::optional<html::evaluation_result> evaluation;
  if (!o.evaluation_dir.empty()) {
    auto e = html::read_evaluation(o.evaluation_dir);
    if (!e) return tl::unexpected(e.error());
    evaluation = std::move(*e);
  }

  html_report_result result;
  const auto meta = html::read_metadata(o.dataset_dir);
  if (!meta.error.empty()) result.warnings.push_back(meta.error);
  const auto stats = html::compute_stats(*splits, o);
  auto sheets = html::make_contact_sheets(*splits, stats.class_names, o, result.warnings);
  for (const auto& s : sheets) {
    for (const auto& t : s.thumbnails) result.thumbnails += t.data_uri.empty() ? 0 : 1;
    for (const auto& row : s.rows) {
      for (const auto& t : row) result.thumbnails += t.data_uri.empty() ? 0 : 1;
    }
  }

  page p;
  summary_section(p, *analysis, stats, validation ? &*validation : nullptr,
                  evaluation ? &*evaluation : nullptr);
  splits_section(p, *analysis, stats, meta, o);
  classes_section(p, *analysis, stats);
  patients_section(p, *analysis, stats);
  sheets_section(p, sheets, o);
  if (validation) validation_section(p, *validation);
  if (evaluation) evaluation_section(p, *evaluation, o.evaluation_dir);

  std::string out;
  out.reserve(p.body.size() + 16384);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  // Nothing may leave the page: no script, no fetch, images only from data: URIs.
  out +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src "
      "data:; style-src 'unsafe-inline'\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<meta name=\"generator\" content=\"ctprep {}\">\n", CTPREP_VERSION);
  out += fmt::format("<title>{} — ctprep dataset report</title>\n",
                     escape(dataset_name(o.dataset_dir)));
  out += "<style>";
  out += css;
  out += "</style></head>\n<body>\n";
  header_section(out, o, *analysis, meta);
  out += "<nav class=\"toc\">";
  for (const auto& [id, title] : p.toc) {
    out += fmt::format("<a href=\"#{}\">{}</a>", id, escape(title));
  }
  out += "</nav>\n<main>\n";
  out += p.body;
  out += "<footer>";
  if (!meta.present) {
    out +=
        "No metadata.yaml in the dataset folder: version, recipe and balance target not "
        "recorded. ";
  }
  for (const auto& w : result.warnings) out += "<br>⚠ " + escape(w);
  out += fmt::format(
      "<br>Made by <code>ctprep report</code> {} — self-contained: no script, no network.</footer>"
      "\n</main>\n</body></html>\n",
      CTPREP_VERSION);
  result.sections = p.sections;
  if (info) *info = std::move(result);
  return out;
}

core::result<html_report_result> write_html_report(const html_report_options& options) {
  if (options.output.empty()) {
    return core::fail(core::error_code::bad_argument, "no output path for the HTML report");
  }
  html_report_result info;
  auto text = render_html_report(options, &info);
  if (!text) return tl::unexpected(text.error());
  if (auto ok = core::write_file_atomic(options.output, *text); !ok) {
    return tl::unexpected(ok.error());
  }
  info.output = options.output;
  info.bytes = text->size();
  return info;
}

}  // namespace ctprep::report

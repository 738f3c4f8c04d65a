#include "ctprep/report/svg.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace ctprep::report::svg {
namespace {

constexpr int margin_left = 58, margin_right = 14, margin_top = 34, margin_bottom = 54;
constexpr std::string_view axis_color = "#8a8f98", grid_color = "#e6e8eb", text_color = "#333";

// Coordinates with one decimal: enough for a screen, short and stable text.
std::string num(double v) {
  if (!std::isfinite(v)) v = 0;
  auto s = fmt::format("{:.1f}", v);
  if (s.size() > 2 && s.ends_with(".0")) s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

std::string thousands(long long n) {
  const bool negative = n < 0;
  std::string digits = std::to_string(negative ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return negative ? "-" + out : out;
}

std::string open_svg(int width, int height, std::string_view title, std::string_view cls) {
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"{}\" width=\"{}\" height=\"{}\" "
      "viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\" font-family=\"system-ui,-apple-system,"
      "'Segoe UI',Roboto,'DejaVu Sans',sans-serif\" font-size=\"11\">",
      cls, width, height, width, height, escape(title));
  if (!title.empty()) {
    out += fmt::format(
        "<text x=\"{}\" y=\"18\" font-size=\"13\" font-weight=\"600\" fill=\"{}\">{}</text>",
        margin_left, text_color, escape(title));
  }
  return out;
}

std::string empty_note(int width, int height) {
  return fmt::format(
      "<text class=\"no-data\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#888\">no data"
      "</text>",
      num(width / 2.0), num(height / 2.0));
}

// The legend: a row of swatches and labels under the plot, left to right.
std::string legend(const std::vector<data_series>& s, double x, double y,
                   const std::optional<std::string>& dashed = std::nullopt) {
  std::string out;
  for (const auto& one : s) {
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" rx=\"2\" fill=\"{}\"/>"
        "<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>",
        num(x), num(y - 9), one.color, num(x + 14), num(y), text_color, escape(one.label));
    x += 24 + 6.2 * static_cast<double>(one.label.size());
  }
  if (dashed) {
    out += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#111\" stroke-width=\"2\" "
        "stroke-dasharray=\"6,4\"/><text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>",
        num(x), num(y - 4), num(x + 16), num(y - 4), num(x + 20), num(y), text_color,
        escape(*dashed));
  }
  return out;
}

}  // namespace

double nice_ceiling(double max_value) {
  if (!std::isfinite(max_value) || max_value <= 0) return 1;
  const double power = std::pow(10.0, std::floor(std::log10(max_value)));
  for (double step : {1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0}) {
    // A relative tolerance: 0.30000000000000004 is 0.3, not the next nice number.
    if (max_value <= step * power * (1 + 1e-9)) return step * power;
  }
  return 10 * power;
}

namespace {
// 1, 2, 2.5 or 5 times a power of ten.
bool is_nice_step(double step) {
  if (!(step > 0) || !std::isfinite(step)) return false;
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (std::fabs(mantissa - m) < 1e-6) return true;
  }
  return false;
}
}  // namespace

std::vector<double> ticks(double max_value, int count, bool whole_steps) {
  const double top = nice_ceiling(max_value);
  count = std::max(count, 1);
  // The number of equal parts closest to `count` whose step is a nice number.
  int best_parts = 1, best_distance = 1 << 30;
  for (int parts = 1; parts <= 10; ++parts) {
    const double step = top / parts;
    if (!is_nice_step(step)) continue;
    if (whole_steps && top >= 1 && std::fabs(step - std::round(step)) > 1e-9) continue;
    const int distance = std::abs(parts - count);
    if (distance < best_distance) best_distance = distance, best_parts = parts;
  }
  std::vector<double> out;
  for (int i = 0; i <= best_parts; ++i) out.push_back(top * i / best_parts);
  return out;
}

std::string format_tick(double value, bool percent) {
  std::string s;
  if (std::fabs(value - std::round(value)) < 1e-9) {
    s = thousands(std::llround(value));
  } else {
    s = fmt::format("{:.2f}", value);
    while (s.ends_with('0')) s.pop_back();
  }
  return percent ? s + "%" : s;
}

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string render_bar_chart(const bar_chart& c) {
  std::string out = open_svg(c.width, c.height, c.title, "chart bar-chart");
  const double x0 = margin_left, x1 = c.width - margin_right;
  const double y0 = c.height - margin_bottom, y1 = margin_top;
  bool any = false, whole = true;
  double max_value = 0;
  for (std::size_t k = 0; k < c.categories.size(); ++k) {
    double stack = 0;
    for (const auto& s : c.series) {
      const double v = k < s.values.size() ? s.values[k] : 0;
      if (!std::isfinite(v)) continue;
      whole = whole && v == std::round(v);
      any = any || v != 0;
      if (c.stacked)
        stack += std::max(v, 0.0);
      else
        max_value = std::max(max_value, v);
    }
    max_value = std::max(max_value, stack);
  }
  if (c.target) max_value = std::max(max_value, *c.target);
  if (c.categories.empty() || c.series.empty() || !any) {
    out += empty_note(c.width, c.height);
    return out + "</svg>";
  }
  const double top = c.y_max && *c.y_max > 0 ? *c.y_max : nice_ceiling(max_value);
  const auto y_of = [&](double v) { return y0 - (y0 - y1) * std::clamp(v / top, 0.0, 1.0); };

  // Grid lines and y tick labels.
  for (double t : ticks(top, 5, whole && !c.percent)) {
    out += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/>"
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{}\">{}</text>",
        num(x0), num(y_of(t)), num(x1), num(y_of(t)), grid_color, num(x0 - 6), num(y_of(t) + 4),
        text_color, format_tick(t, c.percent));
  }
  if (!c.y_label.empty()) {
    out += fmt::format(
        "<text transform=\"translate(14,{}) rotate(-90)\" text-anchor=\"middle\" fill=\"{}\">{}"
        "</text>",
        num((y0 + y1) / 2), text_color, escape(c.y_label));
  }

  const double group = (x1 - x0) / static_cast<double>(c.categories.size());
  const double inner = group * 0.78;
  const auto n_series = static_cast<double>(c.series.size());
  const double bar = c.stacked ? inner : inner / n_series;
  for (std::size_t k = 0; k < c.categories.size(); ++k) {
    const double gx = x0 + group * static_cast<double>(k) + (group - inner) / 2;
    double stack = 0;
    for (std::size_t i = 0; i < c.series.size(); ++i) {
      const auto& s = c.series[i];
      const double v = k < s.values.size() && std::isfinite(s.values[k]) ? s.values[k] : 0;
      const double bx = c.stacked ? gx : gx + bar * static_cast<double>(i);
      const double base = c.stacked ? stack : 0;
      const double top_y = y_of(base + std::max(v, 0.0)), bottom_y = y_of(base);
      const std::string value_text =
          format_tick(c.percent ? std::round(v * 10) / 10 : v, c.percent);
      out += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} · {}: {}"
          "</title></rect>",
          num(bx), num(top_y), num(std::max(bar - 1, 1.0)), num(bottom_y - top_y), s.color,
          escape(c.categories[k]), escape(s.label), value_text);
      // Values on the bars when there is room for them.
      if (!c.stacked && bar >= 26 && v > 0) {
        out += fmt::format(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" fill=\"{}\">{}</text>",
            num(bx + bar / 2), num(top_y - 3), text_color, value_text);
      } else if (c.stacked && bottom_y - top_y >= 14 && v > 0) {
        out += fmt::format(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#fff\">{}"
            "</text>",
            num(bx + bar / 2), num((top_y + bottom_y) / 2 + 4), value_text);
      }
      stack += std::max(v, 0.0);
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>",
                       num(gx + inner / 2), num(y0 + 15), text_color, escape(c.categories[k]));
  }
  out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/>", num(x0),
                     num(y0), num(x1), num(y0), axis_color);
  std::optional<std::string> target_text;
  if (c.target) {
    const double ty = y_of(*c.target);
    out += fmt::format(
        "<line class=\"target\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#111\" "
        "stroke-width=\"2\" stroke-dasharray=\"6,4\"><title>{}</title></line>",
        num(x0), num(ty), num(x1), num(ty),
        escape(c.target_label.empty() ? format_tick(*c.target, c.percent) : c.target_label));
    target_text = c.target_label.empty() ? format_tick(*c.target, c.percent) : c.target_label;
  }
  out += legend(c.series, x0, c.height - 12.0, target_text);
  return out + "</svg>";
}

std::string render_line_chart(const line_chart& c) {
  std::string out = open_svg(c.width, c.height, c.title, "chart line-chart");
  const double x0 = margin_left, x1 = c.width - margin_right;
  const double y0 = c.height - margin_bottom, y1 = margin_top;
  bool any = false;
  for (const auto& s : c.series) any = any || (!s.values.empty() && !c.x.empty());
  if (!any) {
    out += empty_note(c.width, c.height);
    return out + "</svg>";
  }
  const double x_top = c.x_max > 0 ? c.x_max : 1, y_top = c.y_max > 0 ? c.y_max : 1;
  const auto px = [&](double v) { return x0 + (x1 - x0) * std::clamp(v / x_top, 0.0, 1.0); };
  const auto py = [&](double v) { return y0 - (y0 - y1) * std::clamp(v / y_top, 0.0, 1.0); };
  for (double t : ticks(y_top)) {
    out += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/>"
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{}\">{}</text>",
        num(x0), num(py(t)), num(x1), num(py(t)), grid_color, num(x0 - 6), num(py(t) + 4),
        text_color, format_tick(t));
  }
  for (double t : ticks(x_top)) {
    out += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/>"
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>",
        num(px(t)), num(y0), num(px(t)), num(y1), grid_color, num(px(t)), num(y0 + 15), text_color,
        format_tick(t));
  }
  out += fmt::format(
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/>"
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/>",
      num(x0), num(y0), num(x1), num(y0), axis_color, num(x0), num(y0), num(x0), num(y1),
      axis_color);
  if (!c.x_label.empty()) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>",
                       num((x0 + x1) / 2), num(y0 + 30), text_color, escape(c.x_label));
  }
  if (!c.y_label.empty()) {
    out += fmt::format(
        "<text transform=\"translate(14,{}) rotate(-90)\" text-anchor=\"middle\" fill=\"{}\">{}"
        "</text>",
        num((y0 + y1) / 2), text_color, escape(c.y_label));
  }
  for (const auto& s : c.series) {
    std::string points;
    const auto n = std::min(s.values.size(), c.x.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(s.values[i])) continue;
      if (!points.empty()) points.push_back(' ');
      points += num(px(c.x[i])) + "," + num(py(s.values[i]));
    }
    if (points.empty()) continue;
    out += fmt::format(
        "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-linejoin=\"round\" "
        "points=\"{}\"><title>{}</title></polyline>",
        s.color, points, escape(s.label));
  }
  out += legend(c.series, x0, c.height - 8.0);
  return out + "</svg>";
}

std::string render_heat_map(const heat_map& m) {
  const auto rows = m.row_labels.size(), cols = m.column_labels.size();
  const int label_w = 96, top = 58;
  const int width = label_w + static_cast<int>(cols) * m.cell + 20;
  const int height = top + static_cast<int>(rows) * m.cell + 34;
  std::string out = open_svg(width, height, m.title, "chart heat-map");
  if (rows == 0 || cols == 0 || m.values.size() != rows * cols) {
    out += empty_note(width, height);
    return out + "</svg>";
  }
  if (!m.column_title.empty()) {
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\" font-style=\"italic\">{}"
        "</text>",
        label_w + static_cast<int>(cols) * m.cell / 2, top - 22, text_color,
        escape(m.column_title));
  }
  if (!m.row_title.empty()) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\" font-style=\"italic\">{}</text>", 8,
                       top - 6, text_color, escape(m.row_title));
  }
  for (std::size_t j = 0; j < cols; ++j) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>",
                       label_w + static_cast<int>(j) * m.cell + m.cell / 2, top - 6, text_color,
                       escape(m.column_labels[j]));
  }
  for (std::size_t i = 0; i < rows; ++i) {
    double total = 0;
    for (std::size_t j = 0; j < cols; ++j) total += std::max(m.values[i * cols + j], 0.0);
    const int y = top + static_cast<int>(i) * m.cell;
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{}\">{}</text>",
                       label_w - 8, y + m.cell / 2 + 4, text_color, escape(m.row_labels[i]));
    for (std::size_t j = 0; j < cols; ++j) {
      const double v = m.values[i * cols + j];
      const double share = total > 0 ? std::max(v, 0.0) / total : 0;
      // White to a deep blue by share of the row: the eye reads rows as "where did the
      // truth of this class go".
      const auto mix = [&](int from, int to) {
        return static_cast<int>(std::lround(from + (to - from) * share));
      };
      const std::string fill =
          fmt::format("#{:02x}{:02x}{:02x}", mix(0xf7, 0x08), mix(0xfb, 0x30), mix(0xff, 0x6b));
      const int x = label_w + static_cast<int>(j) * m.cell;
      out += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#fff\">"
          "<title>{} → {}: {} ({:.1f}% of row)</title></rect>"
          "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>",
          x, y, m.cell, m.cell, fill, escape(m.row_labels[i]), escape(m.column_labels[j]),
          format_tick(v), 100 * share, x + m.cell / 2, y + m.cell / 2 + 4,
          share > 0.5 ? "#fff" : text_color, format_tick(v));
    }
  }
  return out + "</svg>";
}

std::string render_tile_strip(const tile_strip& s) {
  const int columns = std::max(s.columns, 1);
  const auto n = static_cast<int>(s.tiles.size());
  const int rows = std::max((n + columns - 1) / columns, 1);
  const int width = std::max(columns * s.cell + 2, 120);
  const int title_h = s.title.empty() ? 0 : 24;
  const int height = title_h + rows * s.cell + 2;
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart tile-strip\" width=\"{}\" "
      "height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\" font-family=\"system-ui,"
      "sans-serif\" font-size=\"11\">",
      width, height, width, height, escape(s.title));
  if (!s.title.empty()) {
    out += fmt::format(
        "<text x=\"1\" y=\"16\" font-size=\"13\" font-weight=\"600\" fill=\"{}\">{}"
        "</text>",
        text_color, escape(s.title));
  }
  if (s.tiles.empty()) return out + empty_note(width, height) + "</svg>";
  for (int i = 0; i < n; ++i) {
    const auto& t = s.tiles[static_cast<std::size_t>(i)];
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>",
        1 + (i % columns) * s.cell, title_h + 1 + (i / columns) * s.cell, s.cell - 1, s.cell - 1,
        t.color, escape(t.title));
  }
  return out + "</svg>";
}

}  // namespace ctprep::report::svg

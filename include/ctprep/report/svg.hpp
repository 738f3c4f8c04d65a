// Small inline-SVG charts for the HTML report: bar charts (grouped or stacked, with an
// optional target line), line charts (PR curves), heat maps (confusion matrices) and
// tile strips (one cell per patient). Every chart is a self-contained <svg> element
// with a <title> per mark for hover text; no script, no external font. The text is
// deterministic: numbers are printed with fixed precision.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctprep::report::svg {

// The end of a linear axis from 0 that holds `max_value`: 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8
// times a power of ten (at least `max_value`; 1 when `max_value` <= 0 or is not finite).
[[nodiscard]] double nice_ceiling(double max_value);

// The tick values from 0 to nice_ceiling(max_value): equal steps of 1, 2, 2.5 or 5 times
// a power of ten, the number of steps closest to `count`. `whole_steps`: only whole-number
// steps (for counts: no "2.5 patients" tick) when the axis end is at least 1.
[[nodiscard]] std::vector<double> ticks(double max_value, int count = 5, bool whole_steps = false);

// A tick label: integers without decimals ("1,250"), else up to two decimals ("0.25"),
// with a "%" when `percent`.
[[nodiscard]] std::string format_tick(double value, bool percent = false);

// Escapes & < > " ' for text and attribute values.
[[nodiscard]] std::string escape(std::string_view text);

struct data_series {
  std::string label;
  std::vector<double> values;  // one per category (bar) or per point (line)
  std::string color;           // CSS colour, e.g. "#4c78a8"
};

struct bar_chart {
  std::string title;
  std::string y_label;
  std::vector<std::string> categories;  // x axis groups
  std::vector<data_series> series;      // bars per group (side by side, or stacked)
  bool stacked = false;
  bool percent = false;          // values are shares: tick labels get a "%"
  std::optional<double> y_max;   // the axis end; default: nice_ceiling of the data
  std::optional<double> target;  // a dashed horizontal line (e.g. the balance target)
  std::string target_label;
  int width = 390;
  int height = 260;
};
[[nodiscard]] std::string render_bar_chart(const bar_chart& chart);

struct line_chart {
  std::string title;
  std::string x_label, y_label;
  std::vector<double> x;            // shared x values
  std::vector<data_series> series;  // y per x; a series shorter than x is drawn as far as it goes
  double x_max = 1, y_max = 1;      // axes from 0
  int width = 520;
  int height = 300;
};
[[nodiscard]] std::string render_line_chart(const line_chart& chart);

struct heat_map {
  std::string title;
  std::string row_title, column_title;  // "truth", "prediction"
  std::vector<std::string> row_labels, column_labels;
  std::vector<double> values;  // row-major; shaded by share of the row's total
  int cell = 46;
};
[[nodiscard]] std::string render_heat_map(const heat_map& map);

struct tile {
  std::string color;
  std::string title;  // hover text
};
struct tile_strip {
  std::string title;
  std::vector<tile> tiles;
  int columns = 60;
  int cell = 9;
};
[[nodiscard]] std::string render_tile_strip(const tile_strip& strip);

}  // namespace ctprep::report::svg

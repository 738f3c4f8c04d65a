#include "ctprep/report/svg.hpp"

#include <cmath>
#include <regex>

#include <gtest/gtest.h>

namespace ctprep::report::svg {
namespace {

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

// Heights of the bars (rects with a <title>) in document order.
std::vector<double> bar_heights(const std::string& svg_text) {
  std::vector<double> out;
  const std::regex bar(
      R"re(<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)" fill="[^"]+"><title>)re");
  for (std::sregex_iterator it(svg_text.begin(), svg_text.end(), bar), end; it != end; ++it) {
    out.push_back(std::stod((*it)[1]));
  }
  return out;
}

TEST(svg_scale, nice_ceiling_rounds_up_to_a_readable_axis_end) {
  EXPECT_EQ(nice_ceiling(0), 1);
  EXPECT_EQ(nice_ceiling(-3), 1);
  EXPECT_EQ(nice_ceiling(std::nan("")), 1);
  EXPECT_EQ(nice_ceiling(1), 1);
  EXPECT_EQ(nice_ceiling(7), 8);
  EXPECT_EQ(nice_ceiling(30), 30);
  EXPECT_EQ(nice_ceiling(31), 40);
  EXPECT_EQ(nice_ceiling(101), 150);
  EXPECT_EQ(nice_ceiling(34440), 40000);
  EXPECT_DOUBLE_EQ(nice_ceiling(0.1 + 0.2), 0.3);
}

TEST(svg_scale, ticks_are_equal_nice_steps_from_zero_to_the_axis_end) {
  EXPECT_EQ(ticks(30), (std::vector<double>{0, 5, 10, 15, 20, 25, 30}));
  EXPECT_EQ(ticks(100), (std::vector<double>{0, 20, 40, 60, 80, 100}));
  const auto unit = ticks(0);  // empty data: an axis from 0 to 1
  ASSERT_EQ(unit.size(), 6u);
  EXPECT_DOUBLE_EQ(unit[3], 0.6);
  EXPECT_DOUBLE_EQ(unit.back(), 1);
  EXPECT_EQ(ticks(40, 4), (std::vector<double>{0, 10, 20, 30, 40}));
  EXPECT_EQ(ticks(15), (std::vector<double>{0, 2.5, 5, 7.5, 10, 12.5, 15}));
  EXPECT_EQ(ticks(15, 5, true), (std::vector<double>{0, 5, 10, 15}));
  EXPECT_EQ(ticks(0.5, 5, true).size(), 6u);  // below 1, fractional steps stay
}

TEST(svg_labels, tick_labels_use_thousands_separators_and_percent) {
  EXPECT_EQ(format_tick(0), "0");
  EXPECT_EQ(format_tick(1250), "1,250");
  EXPECT_EQ(format_tick(34440), "34,440");
  EXPECT_EQ(format_tick(0.25), "0.25");
  EXPECT_EQ(format_tick(0.5), "0.5");
  EXPECT_EQ(format_tick(50, true), "50%");
  EXPECT_EQ(format_tick(28.4, true), "28.4%");
}

TEST(svg_labels, escapes_markup_in_text_and_attributes) {
  EXPECT_EQ(escape("<b> & \"x\" 'y'"), "&lt;b&gt; &amp; &quot;x&quot; &#39;y&#39;");
  bar_chart c;
  c.title = "A<script>";
  c.categories = {"<b>", "ok"};
  c.series = {{"s&p", {1, 2}, "#000"}};
  const auto s = render_bar_chart(c);
  EXPECT_EQ(s.find("<script>"), std::string::npos);
  EXPECT_EQ(s.find("<b>"), std::string::npos);
  EXPECT_NE(s.find("A&lt;script&gt;"), std::string::npos);
  EXPECT_NE(s.find("&lt;b&gt;"), std::string::npos);
  EXPECT_NE(s.find("s&amp;p"), std::string::npos);
}

TEST(svg_bar_chart, bar_heights_are_proportional_to_values_on_the_nice_axis) {
  bar_chart c;
  c.title = "Images per split";
  c.categories = {"train", "valid", "test"};
  c.series = {{"images", {20, 10, 5}, "#4c78a8"}};
  c.height = 260;  // plot height = 260 - 54 - 34 = 172
  const auto s = render_bar_chart(c);
  EXPECT_EQ(bar_heights(s), (std::vector<double>{172, 86, 43}));
  // Every category and the series are labelled; tooltips name the value.
  for (const auto* label : {">train<", ">valid<", ">test<", ">images<", ">Images per split<"}) {
    EXPECT_NE(s.find(label), std::string::npos) << label;
  }
  EXPECT_NE(s.find("<title>valid · images: 10</title>"), std::string::npos);
  // y ticks 0..20
  EXPECT_NE(s.find(">20</text>"), std::string::npos);
  EXPECT_EQ(s.find("no data"), std::string::npos);
}

TEST(svg_bar_chart, stacked_bars_add_up_and_the_target_line_sits_at_its_value) {
  bar_chart c;
  c.categories = {"train"};
  c.series = {{"no hemorrhage", {25}, "#aaa"}, {"hemorrhage", {75}, "#d00"}};
  c.stacked = true;
  c.percent = true;
  c.y_max = 100;
  c.target = 50;
  c.target_label = "target 50%";
  const auto s = render_bar_chart(c);
  EXPECT_EQ(bar_heights(s), (std::vector<double>{43, 129}));
  // y of 50% = 206 - 172 / 2 = 120
  EXPECT_NE(s.find("class=\"target\" x1=\"58\" y1=\"120\""), std::string::npos) << s;
  EXPECT_NE(s.find(">target 50%<"), std::string::npos);
  EXPECT_NE(s.find(">100%<"), std::string::npos);
}

TEST(svg_bar_chart, empty_or_all_zero_data_says_no_data) {
  bar_chart none;
  none.title = "Nothing";
  const auto a = render_bar_chart(none);
  EXPECT_NE(a.find("no data"), std::string::npos);
  EXPECT_TRUE(bar_heights(a).empty());
  EXPECT_TRUE(a.starts_with("<svg") && a.ends_with("</svg>"));

  bar_chart zeros;
  zeros.categories = {"a", "b"};
  zeros.series = {{"s", {0, 0}, "#000"}};
  EXPECT_NE(render_bar_chart(zeros).find("no data"), std::string::npos);

  bar_chart short_series;  // fewer values than categories: the missing ones are 0
  short_series.categories = {"a", "b"};
  short_series.series = {{"s", {4}, "#000"}};
  EXPECT_EQ(bar_heights(render_bar_chart(short_series)), (std::vector<double>{172, 0}));
}

TEST(svg_bar_chart, same_input_gives_the_same_bytes) {
  bar_chart c;
  c.categories = {"x", "y"};
  c.series = {{"a", {1.23456789, 2}, "#111"}, {"b", {3, 0.5}, "#222"}};
  EXPECT_EQ(render_bar_chart(c), render_bar_chart(c));
}

TEST(svg_line_chart, maps_points_to_the_plot_and_handles_empty_series) {
  line_chart c;
  c.width = 272;   // plot x: 58..258 (200 px)
  c.height = 288;  // plot y: 234..34 (200 px)
  c.x = {0, 0.5, 1};
  c.series = {{"IPH", {1, 0.5, 0}, "#e13b3b"}};
  const auto s = render_line_chart(c);
  EXPECT_NE(s.find("points=\"58,34 158,134 258,234\""), std::string::npos) << s;
  EXPECT_NE(s.find("<title>IPH</title>"), std::string::npos);

  line_chart empty;
  empty.x = {0, 1};
  EXPECT_NE(render_line_chart(empty).find("no data"), std::string::npos);
  EXPECT_EQ(render_line_chart(empty).find("<polyline"), std::string::npos);
}

TEST(svg_heat_map, shades_cells_by_row_share_and_rejects_a_wrong_size) {
  heat_map m;
  m.row_labels = {"IPH", "background"};
  m.column_labels = {"IPH", "background"};
  m.values = {3, 1, 0, 0};
  const auto s = render_heat_map(m);
  EXPECT_NE(s.find("IPH → IPH: 3 (75.0% of row)"), std::string::npos);
  EXPECT_NE(s.find("background → background: 0 (0.0% of row)"), std::string::npos);
  EXPECT_NE(s.find("fill=\"#f7fbff\""), std::string::npos);  // empty row: white
  EXPECT_EQ(s.find("no data"), std::string::npos);

  m.values = {1, 2, 3};
  EXPECT_NE(render_heat_map(m).find("no data"), std::string::npos);
}

TEST(svg_tile_strip, draws_one_cell_per_tile_in_rows) {
  tile_strip t;
  t.columns = 4;
  t.cell = 10;
  for (int i = 0; i < 10; ++i) t.tiles.push_back({"#123456", "patient " + std::to_string(i)});
  const auto s = render_tile_strip(t);
  EXPECT_EQ(occurrences(s, "<rect"), 10u);
  EXPECT_NE(s.find("<title>patient 9</title>"), std::string::npos);
  EXPECT_NE(s.find("height=\"32\""), std::string::npos);  // 3 rows of 10 px + 2
  tile_strip none;
  EXPECT_NE(render_tile_strip(none).find("no data"), std::string::npos);
}

}  // namespace
}  // namespace ctprep::report::svg

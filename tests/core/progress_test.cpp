#include "ctprep/core/progress.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ctprep::core {
namespace {

TEST(progress, formats_a_bar_with_rate_and_eta) {
  EXPECT_EQ(progress::format_line("convert", 50, 100, 5.0, true),
            "convert [###############...............] 50/100 10.0/s ETA 5s");
  EXPECT_EQ(progress::format_line("convert", 100, 100, 4.0, false),
            "convert 100/100 25.0/s in 4.0s");
  EXPECT_EQ(progress::format_line("scan", 7, 0, 1.0, true), "scan 7 7.0/s");
}

TEST(progress, shows_megabytes_per_second_once_bytes_are_counted) {
  EXPECT_EQ(progress::format_line("download", 10, 40, 2.0, false, 5'000'000),
            "download 10/40 5.0/s 2.5 MB/s ETA 6s");
  EXPECT_EQ(progress::format_line("download", 10, 40, 2.0, false, 0),
            "download 10/40 5.0/s ETA 6s");
}

TEST(progress, quiet_mode_emits_nothing) {
  std::vector<std::string> lines;
  {
    progress p("x", 3, progress_style::quiet,
               [&](std::string_view line, bool) { lines.emplace_back(line); });
    p.advance(3);
    p.finish();
  }
  EXPECT_TRUE(lines.empty());
}

TEST(progress, plain_mode_emits_a_final_line_once) {
  std::vector<std::string> lines;
  std::vector<bool> transient;
  {
    progress p(
        "x", 3, progress_style::plain,
        [&](std::string_view line, bool t) {
          lines.emplace_back(line);
          transient.push_back(t);
        },
        std::chrono::hours(1));
    p.advance(2);
    p.advance(1);
    p.finish();
    p.finish();
  }
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].starts_with("x 3/3 "));
  EXPECT_FALSE(transient[0]);
}

}  // namespace
}  // namespace ctprep::core

#include "ctprep/pipeline/feedback_csv.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "ctprep/core/files.hpp"

namespace ctprep::pipeline {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

// The bytes that end an unquoted field (or are not allowed in one).
bool special(char c) {
  return c == ',' || c == '\n' || c == '\r' || c == '"';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// One RFC 4180 record at a time. Unquoted fields are views into the text; a quoted
// field is copied (its "" escapes undone) into a per-field buffer.
class csv_reader {
 public:
  csv_reader(std::string_view text, std::string_view origin) : text_(text), origin_(origin) {
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;  // UTF-8 BOM
  }

  // Reads the next record into fields(); false at the end of the text.
  core::result<bool> next() {
    fields_.clear();
    if (pos_ >= text_.size()) return false;
    record_line_ = line_;
    std::size_t used = 0;
    for (;;) {
      if (used == buffers_.size()) buffers_.emplace_back();
      std::string& buffer = buffers_[used];
      // Leading spaces before an opening quote are not part of the field.
      std::size_t p = pos_;
      while (p < text_.size() && is_space(text_[p])) ++p;
      if (p < text_.size() && text_[p] == '"') {
        buffer.clear();
        const std::size_t open_line = line_;
        ++p;
        for (;;) {
          const auto q = text_.find('"', p);
          if (q == std::string_view::npos) {
            return core::fail(
                core::error_code::bad_csv,
                fmt::format("'{}' line {}: quoted field never closed", origin_, open_line));
          }
          const auto chunk = text_.substr(p, q - p);
          line_ += static_cast<std::size_t>(std::count(chunk.begin(), chunk.end(), '\n'));
          buffer.append(chunk);
          if (q + 1 < text_.size() && text_[q + 1] == '"') {
            buffer.push_back('"');
            p = q + 2;
            continue;
          }
          p = q + 1;
          break;
        }
        while (p < text_.size() && is_space(text_[p])) ++p;
        fields_.push_back(trim(buffer));
        ++used;
      } else {
        std::size_t stop = p;
        while (stop < text_.size() && !special(text_[stop])) ++stop;
        if (stop < text_.size() && text_[stop] == '"') {
          return core::fail(
              core::error_code::bad_csv,
              fmt::format("'{}' line {}: stray quote inside an unquoted field", origin_, line_));
        }
        fields_.push_back(trim(text_.substr(p, stop - p)));
        p = stop;
      }
      // After a field: a comma, a line end, or the end of the text.
      if (p >= text_.size()) {
        pos_ = p;
        return true;
      }
      const char c = text_[p];
      if (c == ',') {
        pos_ = p + 1;
        continue;
      }
      if (c == '\r' || c == '\n') {
        p += (c == '\r' && p + 1 < text_.size() && text_[p + 1] == '\n') ? 2 : 1;
        ++line_;
        pos_ = p;
        return true;
      }
      return core::fail(core::error_code::bad_csv,
                        fmt::format("'{}' line {}: text after a closing quote", origin_, line_));
    }
  }

  [[nodiscard]] const std::vector<std::string_view>& fields() const { return fields_; }
  [[nodiscard]] std::size_t record_line() const { return record_line_; }

 private:
  std::string_view text_;
  std::string_view origin_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t record_line_ = 1;
  std::vector<std::string_view> fields_;
  // A deque, not a vector: growing it must not move the strings that fields_ views.
  std::deque<std::string> buffers_;  // reused across records
};

bool blank_record(const std::vector<std::string_view>& fields) {
  return std::all_of(fields.begin(), fields.end(), [](std::string_view f) { return f.empty(); });
}

// Digits, or an integral decimal such as "14.0" (pandas writes ints with NaNs as floats).
std::optional<std::string> id_digits(std::string_view text) {
  if (const auto dot = text.find('.'); dot != std::string_view::npos) {
    const auto frac = text.substr(dot + 1);
    if (frac.empty() || frac.find_first_not_of('0') != std::string_view::npos) return std::nullopt;
    text = text.substr(0, dot);
  }
  return core::canonical_digits(text);
}

std::optional<feedback_class> parse_class(std::string_view value) {
  if (iequals(value, "False Positive (FP)") || iequals(value, "FP")) return feedback_class::fp;
  if (iequals(value, "True Negative (TN)") || iequals(value, "TN")) return feedback_class::tn;
  return std::nullopt;
}

}  // namespace

std::string_view feedback_class_name(feedback_class c) noexcept {
  return c == feedback_class::fp ? "FP" : "TN";
}

std::size_t feedback_table::count(feedback_class c) const noexcept {
  return static_cast<std::size_t>(
      std::count_if(rows.begin(), rows.end(), [c](const feedback_row& r) { return r.cls == c; }));
}

core::result<feedback_table> parse_feedback_csv(std::string_view text, std::string_view origin,
                                                bool need_url) {
  csv_reader reader(text, origin);
  auto header = reader.next();
  if (!header) return tl::unexpected(header.error());
  if (!*header) return core::fail(core::error_code::bad_csv, fmt::format("'{}' is empty", origin));

  constexpr std::array<std::string_view, 4> names = {"patient_id", "instance_no",
                                                     "classification_result", "image_url"};
  std::array<std::size_t, 4> column{};
  for (std::size_t n = 0; n < names.size(); ++n) {
    const auto& f = reader.fields();
    const auto it = std::find(f.begin(), f.end(), names[n]);
    if (it == f.end()) {
      if (n == 3 && !need_url) {
        column[n] = static_cast<std::size_t>(-1);
        continue;
      }
      return core::fail(core::error_code::bad_csv,
                        fmt::format("'{}' has no column '{}' (header line 1)", origin, names[n]));
    }
    column[n] = static_cast<std::size_t>(it - f.begin());
  }

  feedback_table table;
  std::unordered_map<std::string, std::size_t> seen;  // "<pid>_<inst>" -> index in rows
  const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  table.rows.reserve(lines);
  seen.reserve(lines);
  for (;;) {
    auto more = reader.next();
    if (!more) return tl::unexpected(more.error());
    if (!*more) break;
    const auto& f = reader.fields();
    if (blank_record(f)) continue;
    ++table.records;
    const auto line = reader.record_line();
    auto field = [&](std::size_t n) -> std::string_view {
      return column[n] < f.size() ? f[column[n]] : std::string_view{};
    };
    const auto cls = parse_class(field(2));
    if (!cls) {
      ++table.other_class;
      continue;
    }
    auto patient = id_digits(field(0));
    auto instance = id_digits(field(1));
    if (!patient || !instance) {
      const bool bad_patient = !patient;
      table.invalid.push_back(
          {line, fmt::format("{} '{}' is not a number", bad_patient ? "patient_id" : "instance_no",
                             bad_patient ? field(0) : field(1))});
      continue;
    }
    core::slice_id id{std::move(*patient), std::move(*instance)};
    auto [it, inserted] = seen.try_emplace(core::to_string(id), table.rows.size());
    if (!inserted) {
      ++table.duplicates;
      if (*cls == feedback_class::fp) table.rows[it->second].cls = feedback_class::fp;
      continue;
    }
    table.rows.push_back({line, std::move(id), *cls, std::string(field(3))});
  }
  return table;
}

core::result<feedback_table> read_feedback_csv(const std::filesystem::path& path, bool need_url) {
  auto text = core::read_file(path);
  if (!text) return tl::unexpected(text.error());
  return parse_feedback_csv(*text, path.string(), need_url);
}

}  // namespace ctprep::pipeline

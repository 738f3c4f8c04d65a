#include "ctprep/core/json_writer.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace ctprep::core {

std::string json_writer::take() {
  if (indent_ > 0) out_.push_back('\n');
  return std::move(out_);
}

void json_writer::append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {  // JSON has no NaN/Inf; callers validate first, this is a last guard
    out.append("null");
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void json_writer::append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        if (c < 0x20) {
          out.append(fmt::format("\\u{:04x}", c));
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void json_writer::newline() {
  out_.push_back('\n');
  out_.append(static_cast<std::size_t>(depth_ * indent_), ' ');
}

void json_writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ == 0) return;
  if (!first_) out_.push_back(',');
  first_ = false;
  if (indent_ > 0) newline();
}

void json_writer::open(char bracket) {
  before_value();
  out_.push_back(bracket);
  ++depth_;
  first_ = true;
}

void json_writer::close(char bracket) {
  --depth_;
  if (indent_ > 0 && !first_) newline();
  out_.push_back(bracket);
  first_ = false;
}

void json_writer::key(std::string_view k) {
  before_value();
  append_string(out_, k);
  out_.append(indent_ > 0 ? ": " : ":");
  after_key_ = true;
}

void json_writer::value(std::string_view s) {
  before_value();
  append_string(out_, s);
}

void json_writer::value(double v) {
  before_value();
  append_number(out_, v);
}

void json_writer::value(std::int64_t v) {
  before_value();
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void json_writer::value(std::uint64_t v) {
  before_value();
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void json_writer::value(bool v) {
  before_value();
  out_.append(v ? "true" : "false");
}

void json_writer::null() {
  before_value();
  out_.append("null");
}

void json_writer::raw(std::string_view json) {
  before_value();
  out_.append(json);
}

void json_writer::inline_numbers(const double* v, std::size_t n) {
  before_value();
  out_.push_back('[');
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out_.push_back(',');
    append_number(out_, v[i]);
  }
  out_.push_back(']');
}

}  // namespace ctprep::core

// Appends JSON text: deterministic (keys in the order written, numbers as the shortest
// text that reads back to the same double, via std::to_chars), compact or indented.
// Used for COCO files and for every --json report.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ctprep::core {

class json_writer {
 public:
  explicit json_writer(int indent = 0) : indent_(indent) {}
  [[nodiscard]] std::string take();

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  void key(std::string_view k);

  // Values: each one is an array element unless it directly follows key().
  void value(std::string_view s);
  void value(const char* s) { value(std::string_view(s)); }
  void value(double v);
  void value(std::int64_t v);
  void value(std::uint64_t v);
  void value(int v) { value(static_cast<std::int64_t>(v)); }
  void value(unsigned v) { value(static_cast<std::uint64_t>(v)); }
  void value(bool v);
  void null();
  void raw(std::string_view json);                      // already-valid JSON text as one value
  void inline_numbers(const double* v, std::size_t n);  // [a,b,...] on one line

  // Shortcuts for the common key: value pair.
  template <typename T>
  void field(std::string_view k, const T& v) {
    key(k);
    value(v);
  }

  static void append_number(std::string& out, double v);
  static void append_string(std::string& out, std::string_view s);

 private:
  void open(char bracket);
  void close(char bracket);
  void before_value();
  void newline();
  std::string out_;
  int indent_;
  int depth_ = 0;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace ctprep::core

// A tiny Part 10 writer for tests, independent of the library's own synthetic writer:
// explicit VR little endian (or implicit), elements given in any order and written
// sorted by tag. Lets a test craft exactly the attributes it checks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ctprep::testing {

class dicom_builder {
 public:
  dicom_builder& str(std::uint16_t g, std::uint16_t e, std::string vr, std::string value) {
    if (value.size() % 2) value.push_back(vr == "UI" ? '\0' : ' ');
    elements_[key(g, e)] = {std::move(vr), std::move(value)};
    return *this;
  }
  dicom_builder& us(std::uint16_t g, std::uint16_t e, std::uint16_t v) {
    elements_[key(g, e)] = {"US", le16(v)};
    return *this;
  }
  dicom_builder& ss(std::uint16_t g, std::uint16_t e, std::int16_t v) {
    elements_[key(g, e)] = {"SS", le16(static_cast<std::uint16_t>(v))};
    return *this;
  }
  dicom_builder& raw(std::uint16_t g, std::uint16_t e, std::string vr, std::string bytes) {
    elements_[key(g, e)] = {std::move(vr), std::move(bytes)};
    return *this;
  }
  dicom_builder& erase(std::uint16_t g, std::uint16_t e) {
    elements_.erase(key(g, e));
    return *this;
  }
  // Monochrome image attributes and 16-bit pixel words (little endian).
  dicom_builder& image16(int rows, int cols, const std::vector<std::uint16_t>& words,
                         bool is_signed, int bits_stored = 16, int high_bit = 15) {
    us(0x0028, 0x0002, 1);
    str(0x0028, 0x0004, "CS", "MONOCHROME2");
    us(0x0028, 0x0010, static_cast<std::uint16_t>(rows));
    us(0x0028, 0x0011, static_cast<std::uint16_t>(cols));
    us(0x0028, 0x0100, 16);
    us(0x0028, 0x0101, static_cast<std::uint16_t>(bits_stored));
    us(0x0028, 0x0102, static_cast<std::uint16_t>(high_bit));
    us(0x0028, 0x0103, is_signed ? 1 : 0);
    std::string px;
    for (auto w : words) px += le16(w);
    raw(0x7FE0, 0x0010, "OW", px);
    return *this;
  }

  [[nodiscard]] std::string build(std::string transfer_syntax = "1.2.840.10008.1.2.1",
                                  bool implicit = false) const {
    std::string meta;
    append(meta, 0x0002, 0x0001, "OB", std::string("\0\1", 2), true);
    append(meta, 0x0002, 0x0002, "UI", pad_ui("1.2.840.10008.5.1.4.1.1.2"), true);
    append(meta, 0x0002, 0x0003, "UI", pad_ui("1.2.3.4"), true);
    append(meta, 0x0002, 0x0010, "UI", pad_ui(transfer_syntax), true);
    std::string out(128, '\0');
    out += "DICM";
    append(out, 0x0002, 0x0000, "UL", le32(static_cast<std::uint32_t>(meta.size())), true);
    out += meta;
    for (const auto& [k, v] : elements_) {
      append(out, static_cast<std::uint16_t>(k >> 16), static_cast<std::uint16_t>(k & 0xFFFF),
             v.first, v.second, !implicit);
    }
    return out;
  }

  static std::string le16(std::uint16_t v) {
    return std::string{static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)};
  }
  static std::string le32(std::uint32_t v) {
    return le16(static_cast<std::uint16_t>(v & 0xFFFF)) + le16(static_cast<std::uint16_t>(v >> 16));
  }

 private:
  static std::uint32_t key(std::uint16_t g, std::uint16_t e) { return std::uint32_t{g} << 16 | e; }
  static std::string pad_ui(std::string s) {
    if (s.size() % 2) s.push_back('\0');
    return s;
  }
  static void append(std::string& out, std::uint16_t g, std::uint16_t e, const std::string& vr,
                     const std::string& value, bool explicit_vr) {
    out += le16(g);
    out += le16(e);
    if (!explicit_vr) {
      out += le32(static_cast<std::uint32_t>(value.size()));
    } else if (vr == "OB" || vr == "OW" || vr == "SQ" || vr == "UN" || vr == "UT") {
      out += vr;
      out += le16(0);
      out += le32(static_cast<std::uint32_t>(value.size()));
    } else {
      out += vr;
      out += le16(static_cast<std::uint16_t>(value.size()));
    }
    out += value;
  }
  std::map<std::uint32_t, std::pair<std::string, std::string>> elements_;
};

}  // namespace ctprep::testing

// A check of a baseline JPEG's entropy-coded data that does only what validation needs:
// every Huffman code of every block decoded and the coefficient values skipped, often
// two codes per table lookup. On the v4 release's 512x512 JPEGs (88 KB, 124,000 codes
// each) it takes 0.40 ms a file where libjpeg-turbo's decoder at 1/8 scale took 0.75 ms.
// Internal to the imaging module (jpeg.cpp fills the layout from libjpeg's parsed header and falls
// back to libjpeg for every file this does not cover).
//
// What "whole" means (ITU-T T.81): each restart interval (or the whole scan) decodes to
// exactly its MCUs with valid codes (F.2.2.3), its last byte holds only the padding of
// the last code (F.1.2.3), the restart markers come in order RST0..RST7 (B.2.1, F.1.2.3)
// and the scan ends with EOI. It is stricter than libjpeg, which decodes an invalid code
// as a zero coefficient without a warning on its fast path and ignores a few extra bytes
// before a marker; every file it calls whole, libjpeg decodes without a warning (checked
// by fuzz/image_verify_fuzz.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ctprep::imaging::detail {

// A DHT table as stored in the file: counts[l] codes of length l (1..16), then symbols.
struct huffman_spec {
  std::array<std::uint8_t, 17> counts{};
  std::array<std::uint8_t, 256> symbols{};
};

struct scan_component {
  int h = 1, v = 1;    // sampling factors, in blocks per MCU
  int dc = 0, ac = 0;  // table slots
};

// One sequential Huffman scan holding every component of the frame.
struct jpeg_scan_layout {
  int width = 0, height = 0;
  int restart_interval = 0;                // MCUs between RSTn markers; 0 = none
  std::vector<scan_component> components;  // in scan order, 1 to 3
  std::array<huffman_spec, 4> dc{}, ac{};
  std::array<bool, 4> has_dc{}, has_ac{};
};

enum class scan_verdict {
  whole,        // every block decoded; nothing missing, nothing extra
  corrupt,      // `problem` says what and where
  unsupported,  // a case left to libjpeg (fill bytes, markers after the scan)
};

struct scan_outcome {
  scan_verdict verdict = scan_verdict::unsupported;
  std::string problem;     // for corrupt: "bad Huffman code in MCU 12 of 1024"
  bool truncated = false;  // for corrupt: the file ends inside the scan
  bool constant = false;   // for whole: no AC energy and one DC value per component
};

// `data`: the bytes that follow the SOS segment, to the end of the file.
[[nodiscard]] scan_outcome scan_entropy_coded_data(const jpeg_scan_layout& layout,
                                                   std::string_view data);

}  // namespace ctprep::imaging::detail

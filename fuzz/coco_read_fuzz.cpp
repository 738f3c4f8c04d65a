// Any byte string given to the COCO reader ends in a dataset or an error, never a
// crash, a hang or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctprep/coco/coco.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ctprep::coco::parse(text, "fuzz-input");
  if (parsed) {
    // What we read we can write, and read back to the same dataset.
    auto again = ctprep::coco::parse(ctprep::coco::to_json(*parsed), "fuzz-output");
    if (!again || !(*again == *parsed)) __builtin_trap();
  }
  return 0;
}

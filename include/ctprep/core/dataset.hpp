// The dataset model: what a COCO file holds, with every field a source carries kept
// so that read -> write -> read is the identity.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ctprep::core {

// Fields we do not model (segmentation, license ids, Roboflow extras...): kept as
// (key, raw JSON text) pairs in the order they were read.
using extra_fields = std::vector<std::pair<std::string, std::string>>;

struct box {
  double x = 0, y = 0, w = 0, h = 0;  // COCO [x, y, width, height], pixels
  friend bool operator==(const box&, const box&) = default;
};

struct category {
  std::int64_t id = 0;
  std::string name;
  std::string supercategory;
  extra_fields extra;
  friend bool operator==(const category&, const category&) = default;
};

struct image {
  std::int64_t id = 0;
  std::string file_name;
  std::int64_t width = 0;
  std::int64_t height = 0;
  extra_fields extra;
  friend bool operator==(const image&, const image&) = default;
};

struct annotation {
  std::int64_t id = 0;
  std::int64_t image_id = 0;
  std::int64_t category_id = 0;
  box bbox;
  double area = 0;
  std::int64_t iscrowd = 0;
  extra_fields extra;
  friend bool operator==(const annotation&, const annotation&) = default;
};

struct dataset {
  std::string info;      // raw JSON of "info", empty when absent
  std::string licenses;  // raw JSON of "licenses", empty when absent
  std::vector<category> categories;
  std::vector<image> images;
  std::vector<annotation> annotations;
  extra_fields extra;  // other top-level keys
  friend bool operator==(const dataset&, const dataset&) = default;
};

}  // namespace ctprep::core

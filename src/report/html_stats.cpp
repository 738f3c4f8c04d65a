// The statistics the page adds to analyze_dataset's counts: box sizes and aspects,
// boxes per image, patients (slices, splits, classes) and negatives by feedback class.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include <fmt/format.h>

#include "ctprep/core/identity.hpp"
#include "report/html_internal.hpp"

namespace ctprep::report::html {
namespace {

struct named_color {
  std::string_view name;
  std::uint8_t r, g, b;
};
// Fixed colours for the known classes, distinct for the colour-blind as far as six
// classes allow; the fallback palette is Tableau 10.
constexpr named_color known_colors[] = {
    {"EDH", 0xf2, 0x8e, 0x2b}, {"HC", 0x9c, 0x6a, 0xde},  {"IPH", 0xe1, 0x3b, 0x3b},
    {"IVH", 0x2f, 0x7e, 0xd8}, {"SAH", 0x2c, 0xa0, 0x5a}, {"SDH", 0xe0, 0xc0, 0x1a},
};
constexpr named_color palette[] = {
    {"", 0x4e, 0x79, 0xa7}, {"", 0xf2, 0x8e, 0x2b}, {"", 0xe1, 0x57, 0x59}, {"", 0x76, 0xb7, 0xb2},
    {"", 0x59, 0xa1, 0x4f}, {"", 0xed, 0xc9, 0x48}, {"", 0xb0, 0x7a, 0xa1}, {"", 0xff, 0x9d, 0xa7},
    {"", 0x9c, 0x75, 0x5f}, {"", 0xba, 0xb0, 0xac},
};

bool numeric_less(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

}  // namespace

void class_rgb(std::string_view name, std::size_t index, std::uint8_t& r, std::uint8_t& g,
               std::uint8_t& b) {
  for (const auto& c : known_colors) {
    if (c.name == name) {
      r = c.r, g = c.g, b = c.b;
      return;
    }
  }
  const auto& c = palette[index % std::size(palette)];
  r = c.r, g = c.g, b = c.b;
}

std::string class_color(std::string_view name, std::size_t index) {
  std::uint8_t r = 0, g = 0, b = 0;
  class_rgb(name, index, r, g, b);
  return fmt::format("#{:02x}{:02x}{:02x}", r, g, b);
}

std::string split_color(std::string_view split) {
  if (split == "train") return "#4c78a8";
  if (split == "valid") return "#f58518";
  if (split == "test") return "#54a24b";
  return "#7f7f7f";
}

dataset_stats compute_stats(const std::vector<coco::loaded_split>& splits,
                            const html_report_options& options) {
  dataset_stats s;
  for (const auto& split : splits) {
    for (const auto& c : split.data.categories) {
      if (std::find(s.class_names.begin(), s.class_names.end(), c.name) == s.class_names.end()) {
        s.class_names.push_back(c.name);
      }
    }
  }
  const auto n_classes = s.class_names.size();
  s.box_sizes.resize(n_classes);
  s.box_aspects.resize(n_classes);
  s.class_patients.assign(n_classes, std::vector<std::uint64_t>(splits.size(), 0));
  s.boxes_per_image.assign(splits.size(), std::vector<double>(9, 0));
  s.negatives.assign(splits.size(), {0, 0, 0});

  std::map<std::string, patient_info> patients;
  for (std::size_t si = 0; si < splits.size(); ++si) {
    const auto& d = splits[si].data;
    std::unordered_map<std::int64_t, std::size_t> class_of_category;
    for (const auto& c : d.categories) {
      class_of_category[c.id] = static_cast<std::size_t>(
          std::find(s.class_names.begin(), s.class_names.end(), c.name) - s.class_names.begin());
    }
    std::unordered_map<std::int64_t, std::vector<std::size_t>> boxes_of_image;
    for (std::size_t ai = 0; ai < d.annotations.size(); ++ai) {
      boxes_of_image[d.annotations[ai].image_id].push_back(ai);
    }
    std::vector<std::set<std::string>> class_patient_sets(n_classes);
    for (const auto& im : d.images) {
      const auto it = boxes_of_image.find(im.id);
      const std::size_t n_boxes = it == boxes_of_image.end() ? 0 : it->second.size();
      s.boxes_per_image[si][std::min<std::size_t>(n_boxes, 8)] += 1;
      const auto version = core::augmentation_version(im.file_name);
      if (version && *version != 0) continue;  // the rest describes originals
      auto id = core::parse_slice_identity(im.file_name);
      patient_info* patient = nullptr;
      if (id) {
        auto& p = patients[id->patient];
        if (p.id.empty()) {
          p.id = id->patient;
          p.slices.assign(splits.size(), 0);
        }
        ++p.slices[si];
        patient = &p;
      }
      if (n_boxes == 0) {
        std::size_t kind = 2;
        if (id) {
          const auto f = options.feedback.find(*id);
          if (f != options.feedback.end()) kind = f->second == negative_kind::fp ? 0 : 1;
        }
        ++s.negatives[si][kind];
        continue;
      }
      for (const auto ai : it->second) {
        const auto& a = d.annotations[ai];
        const auto c = class_of_category.find(a.category_id);
        if (c == class_of_category.end()) continue;
        const double w = a.bbox.w, h = a.bbox.h;
        s.box_sizes[c->second].push_back(std::sqrt(std::max(w * h, 0.0)));
        if (w > 0 && h > 0) s.box_aspects[c->second].push_back(w / h);
        if (patient) {
          patient->classes.insert(s.class_names[c->second]);
          class_patient_sets[c->second].insert(patient->id);
        }
      }
    }
    for (std::size_t c = 0; c < n_classes; ++c)
      s.class_patients[c][si] = class_patient_sets[c].size();
  }
  for (auto& [id, p] : patients) s.patients.push_back(std::move(p));
  std::sort(s.patients.begin(), s.patients.end(),
            [](const patient_info& a, const patient_info& b) { return numeric_less(a.id, b.id); });
  return s;
}

}  // namespace ctprep::report::html

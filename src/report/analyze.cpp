#include "ctprep/report/analyze.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "ctprep/coco/layout.hpp"
#include "ctprep/core/identity.hpp"
#include "ctprep/core/json_writer.hpp"

namespace ctprep::report {
namespace {

split_analysis analyze_split(const coco::loaded_split& split, std::set<std::string>& patients) {
  const auto& d = split.data;
  split_analysis s;
  s.name = split.ref.name;
  s.images = d.images.size();
  s.annotations = d.annotations.size();

  std::unordered_map<std::int64_t, std::size_t> class_index;
  for (const auto& c : d.categories) {
    class_index.emplace(c.id, s.classes.size());
    s.classes.push_back({c.name, 0, 0, 0});
  }
  // Which classes each image has: a bit per category (few categories).
  std::unordered_map<std::int64_t, std::vector<bool>> classes_of_image;
  classes_of_image.reserve(d.images.size());
  for (const auto& a : d.annotations) {
    const auto k = class_index.at(a.category_id);
    ++s.classes[k].annotations;
    auto& bits = classes_of_image[a.image_id];
    bits.resize(s.classes.size());
    bits[k] = true;
  }

  for (const auto& im : d.images) {
    const auto version = core::augmentation_version(im.file_name);
    const bool original = !version || *version == 0;
    ++(original ? s.originals : s.augmented);
    const auto it = classes_of_image.find(im.id);
    const bool has_hemorrhage = it != classes_of_image.end();
    ++(has_hemorrhage ? s.images_with_hemorrhage : s.images_without_hemorrhage);
    if (original) ++(has_hemorrhage ? s.originals_with_hemorrhage : s.originals_without_hemorrhage);
    if (has_hemorrhage) {
      for (std::size_t k = 0; k < it->second.size(); ++k) {
        if (!it->second[k]) continue;
        ++s.classes[k].images;
        if (original) ++s.classes[k].original_images;
      }
    }
    ++s.sources[std::string(core::source_name(core::source_of(im.file_name)))];
    auto id = core::parse_slice_identity(im.file_name);
    if (id) {
      patients.insert(id->patient);
    } else {
      s.identity_errors.push_back(im.file_name);
    }
  }
  s.patients = patients.size();
  return s;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? "0.0%"
                    : fmt::format("{:.1f}%",
                                  100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

// 34440 -> "34,440", as the seed's report prints counts.
std::string thousands(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

void write_class_counts(core::json_writer& w, const std::vector<class_count>& classes) {
  w.begin_array();
  for (const auto& c : classes) {
    w.begin_object();
    w.field("name", c.name);
    w.field("annotations", c.annotations);
    w.field("images", c.images);
    w.field("original_images", c.original_images);
    w.end_object();
  }
  w.end_array();
}

}  // namespace

core::result<dataset_analysis> analyze_dataset(const std::filesystem::path& dir) {
  auto splits = coco::load_splits(dir);
  if (!splits) return tl::unexpected(splits.error());

  dataset_analysis a;
  a.dataset_dir = dir.string();
  std::vector<std::set<std::string>> patients(splits->size());
  std::set<std::string> all_patients;
  for (std::size_t i = 0; i < splits->size(); ++i) {
    auto s = analyze_split((*splits)[i], patients[i]);
    all_patients.insert(patients[i].begin(), patients[i].end());
    a.total_originals += s.originals;
    a.originals_with_hemorrhage += s.originals_with_hemorrhage;
    a.originals_without_hemorrhage += s.originals_without_hemorrhage;
    for (const auto& c : s.classes) {
      auto it = std::find_if(a.classes.begin(), a.classes.end(),
                             [&](const class_count& x) { return x.name == c.name; });
      if (it == a.classes.end()) it = a.classes.insert(a.classes.end(), {c.name, 0, 0, 0});
      it->annotations += c.annotations;
      it->images += c.images;
      it->original_images += c.original_images;
    }
    a.splits.push_back(std::move(s));
  }
  a.total_patients = all_patients.size();
  for (std::size_t i = 0; i < patients.size(); ++i) {
    for (std::size_t j = i + 1; j < patients.size(); ++j) {
      patient_overlap o{a.splits[i].name, a.splits[j].name, 0, {}};
      for (const auto& p : patients[i]) {
        if (!patients[j].contains(p)) continue;
        ++o.patients;
        if (o.examples.size() < 10) o.examples.push_back(p);
      }
      a.overlaps.push_back(std::move(o));
    }
  }
  return a;
}

std::string to_text(const dataset_analysis& a) {
  const std::string rule(80, '=');
  std::string out;
  auto line = [&](std::string_view text) {
    out.append(text);
    out.push_back('\n');
  };
  line(rule);
  line(fmt::format("DATASET ANALYSIS: {}", a.dataset_dir));
  line(rule);
  for (const auto& s : a.splits) {
    line("");
    line(fmt::format("{} SPLIT:", upper(s.name)));
    line(fmt::format("  Total images: {}", thousands(s.images)));
    if (s.augmented > 0) {
      line(fmt::format("  Original (before augmentation): {}", thousands(s.originals)));
      line(fmt::format("    Augmented (_aug suffix): {}", thousands(s.augmented)));
      line(fmt::format(
          "    Multiplier: {:.2f}x",
          s.originals ? static_cast<double>(s.images) / static_cast<double>(s.originals) : 0.0));
    }
    line(fmt::format("  Total annotations: {}", thousands(s.annotations)));
    line("");
    line("  Class Distribution (Annotations):");
    for (const auto& c : s.classes)
      line(fmt::format("    {}: {} annotations", c.name, thousands(c.annotations)));
    line("");
    line("  Class Distribution (Images with each class):");
    for (const auto& c : s.classes)
      line(fmt::format("    {}: {} images", c.name, thousands(c.images)));
    line("");
    line("  Hemorrhage Status:");
    line(fmt::format("    Images with NO hemorrhages: {} ({} of {})",
                     thousands(s.images_without_hemorrhage),
                     percent(s.images_without_hemorrhage, s.images), s.name));
    line(fmt::format("    Images WITH hemorrhages: {} ({} of {})",
                     thousands(s.images_with_hemorrhage),
                     percent(s.images_with_hemorrhage, s.images), s.name));
    line("");
    line("  Sources:");
    for (const auto& [source, n] : s.sources)
      line(fmt::format("    {}: {} images", source, thousands(n)));
    line(fmt::format("  Unique patients: {}", thousands(s.patients)));
    if (!s.identity_errors.empty()) {
      line(fmt::format("  ! {} file names do not follow the slice-identity rule, e.g. '{}'",
                       s.identity_errors.size(), s.identity_errors.front()));
    }
  }
  line("");
  line(rule);
  line("ORIGINAL IMAGES SUMMARY (Before Augmentation)");
  line(rule);
  line(fmt::format("Total original images: {}", thousands(a.total_originals)));
  line(fmt::format("  With hemorrhages: {} ({})", thousands(a.originals_with_hemorrhage),
                   percent(a.originals_with_hemorrhage, a.total_originals)));
  line(fmt::format("  Without hemorrhages: {} ({})", thousands(a.originals_without_hemorrhage),
                   percent(a.originals_without_hemorrhage, a.total_originals)));
  line("");
  line("Original images by class:");
  auto classes = a.classes;
  std::stable_sort(classes.begin(), classes.end(), [](const class_count& x, const class_count& y) {
    return x.original_images > y.original_images;
  });
  for (const auto& c : classes) {
    line(fmt::format("  {}: {} images ({})", c.name, thousands(c.original_images),
                     percent(c.original_images, a.total_originals)));
  }
  line("");
  line(rule);
  line("PATIENT STATISTICS");
  line(rule);
  for (const auto& s : a.splits) {
    std::string name = s.name;
    if (!name.empty())
      name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    line(fmt::format("{}: {} unique patients", name, thousands(s.patients)));
  }
  line("");
  line(fmt::format("Total unique patients: {}", thousands(a.total_patients)));
  line("");
  for (const auto& o : a.overlaps) {
    auto cap = [](std::string n) {
      if (!n.empty()) n[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(n[0])));
      return n;
    };
    if (o.patients == 0) {
      line(fmt::format("✓ No {}/{} patient overlap", cap(o.first), cap(o.second)));
    } else {
      std::string examples;
      for (const auto& p : o.examples) examples += (examples.empty() ? "" : ", ") + p;
      line(fmt::format("✗ {}/{} share {} patients: {}", cap(o.first), cap(o.second), o.patients,
                       examples));
    }
  }
  return out;
}

std::string to_json(const dataset_analysis& a) {
  core::json_writer w(2);
  w.begin_object();
  w.field("dataset_dir", a.dataset_dir);
  w.key("splits");
  w.begin_array();
  for (const auto& s : a.splits) {
    w.begin_object();
    w.field("name", s.name);
    w.field("images", s.images);
    w.field("originals", s.originals);
    w.field("augmented", s.augmented);
    w.field("annotations", s.annotations);
    w.key("classes");
    write_class_counts(w, s.classes);
    w.field("images_without_hemorrhage", s.images_without_hemorrhage);
    w.field("images_with_hemorrhage", s.images_with_hemorrhage);
    w.field("originals_without_hemorrhage", s.originals_without_hemorrhage);
    w.field("originals_with_hemorrhage", s.originals_with_hemorrhage);
    w.key("sources");
    w.begin_object();
    for (const auto& [k, v] : s.sources) w.field(k, v);
    w.end_object();
    w.field("patients", s.patients);
    w.key("identity_errors");
    w.begin_array();
    for (const auto& e : s.identity_errors) w.value(e);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("overlaps");
  w.begin_array();
  for (const auto& o : a.overlaps) {
    w.begin_object();
    w.field("first", o.first);
    w.field("second", o.second);
    w.field("patients", o.patients);
    w.key("examples");
    w.begin_array();
    for (const auto& e : o.examples) w.value(e);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.field("total_patients", a.total_patients);
  w.field("total_originals", a.total_originals);
  w.field("originals_with_hemorrhage", a.originals_with_hemorrhage);
  w.field("originals_without_hemorrhage", a.originals_without_hemorrhage);
  w.key("classes");
  write_class_counts(w, a.classes);
  w.end_object();
  return w.take();
}

}  // namespace ctprep::report

// Contact sheets: a seeded choice of slices per class (and of negatives), each as a
// thumbnail with every box drawn and labelled, and augmented versions beside their
// original. Thumbnails are decoded and encoded in parallel into per-index slots, so the
// page does not depend on the thread count.
#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "ctprep/core/files.hpp"
#include "ctprep/core/identity.hpp"
#include "ctprep/core/parallel.hpp"
#include "ctprep/core/rng.hpp"
#include "ctprep/imaging/thumbnail.hpp"
#include "report/html_internal.hpp"

namespace ctprep::report {

std::vector<std::size_t> pick_samples(std::span<const std::string> keys, std::size_t count,
                                      std::uint64_t seed, std::string_view salt) {
  struct draw {
    std::uint64_t score;
    std::size_t index;
  };
  std::vector<draw> draws;
  draws.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto r = core::rng::for_key(seed, std::string(salt) + "/" + keys[i]);
    draws.push_back({r.next(), i});
  }
  // Ties (equal keys) fall back to the key text, then the position: still a total order.
  std::sort(draws.begin(), draws.end(), [&](const draw& a, const draw& b) {
    if (a.score != b.score) return a.score < b.score;
    if (keys[a.index] != keys[b.index]) return keys[a.index] < keys[b.index];
    return a.index < b.index;
  });
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < std::min(count, draws.size()); ++i) out.push_back(draws[i].index);
  return out;
}

namespace html {
namespace {

std::string base64(std::string_view bytes) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                   (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                   static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(table[(n >> 18) & 63]);
    out.push_back(table[(n >> 12) & 63]);
    out.push_back(table[(n >> 6) & 63]);
    out.push_back(table[n & 63]);
  }
  if (i < bytes.size()) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size())
      n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(table[(n >> 18) & 63]);
    out.push_back(table[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? table[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

struct split_index {
  std::unordered_map<std::int64_t, std::vector<std::size_t>> boxes_of_image;
  std::unordered_map<std::int64_t, std::string> class_of_category;
};

struct job {
  image_ref ref;
  thumbnail* slot;
};

bool is_original(const std::string& file_name) {
  const auto v = core::augmentation_version(file_name);
  return !v || *v == 0;
}

}  // namespace

std::vector<contact_sheet> make_contact_sheets(const std::vector<coco::loaded_split>& splits,
                                               const std::vector<std::string>& class_names,
                                               const html_report_options& options,
                                               std::vector<std::string>& warnings) {
  std::vector<split_index> index(splits.size());
  for (std::size_t si = 0; si < splits.size(); ++si) {
    const auto& d = splits[si].data;
    for (const auto& c : d.categories) index[si].class_of_category[c.id] = c.name;
    for (std::size_t ai = 0; ai < d.annotations.size(); ++ai) {
      index[si].boxes_of_image[d.annotations[ai].image_id].push_back(ai);
    }
  }
  const auto boxes_of = [&](const image_ref& r) -> const std::vector<std::size_t>* {
    const auto& im = splits[r.split].data.images[r.image];
    const auto it = index[r.split].boxes_of_image.find(im.id);
    return it == index[r.split].boxes_of_image.end() ? nullptr : &it->second;
  };
  const auto key_of = [&](const image_ref& r) {
    return splits[r.split].ref.name + "/" + splits[r.split].data.images[r.image].file_name;
  };
  const auto count = static_cast<std::size_t>(std::max(options.samples_per_class, 0));

  std::vector<contact_sheet> sheets;
  // Candidates per class, and negatives, among originals of every split.
  std::vector<std::vector<image_ref>> per_class(class_names.size());
  std::vector<image_ref> negatives;
  for (std::size_t si = 0; si < splits.size(); ++si) {
    const auto& images = splits[si].data.images;
    for (std::size_t ii = 0; ii < images.size(); ++ii) {
      if (!is_original(images[ii].file_name)) continue;
      const image_ref r{si, ii};
      const auto* boxes = boxes_of(r);
      if (!boxes) {
        negatives.push_back(r);
        continue;
      }
      std::set<std::size_t> seen;
      for (const auto ai : *boxes) {
        const auto& name = index[si].class_of_category[splits[si].data.annotations[ai].category_id];
        const auto k = static_cast<std::size_t>(
            std::find(class_names.begin(), class_names.end(), name) - class_names.begin());
        if (k < class_names.size() && seen.insert(k).second) per_class[k].push_back(r);
      }
    }
  }
  const auto make_sheet = [&](std::string id, std::string title, std::string color,
                              const std::vector<image_ref>& candidates, std::string salt) {
    contact_sheet sheet;
    sheet.id = std::move(id);
    sheet.title = std::move(title);
    sheet.color = std::move(color);
    sheet.candidates = candidates.size();
    std::vector<std::string> keys;
    keys.reserve(candidates.size());
    for (const auto& r : candidates) keys.push_back(key_of(r));
    for (const auto i : pick_samples(keys, count, options.seed, salt)) {
      const auto& r = candidates[i];
      thumbnail t;
      t.file_name = splits[r.split].data.images[r.image].file_name;
      t.split = splits[r.split].ref.name;
      sheet.thumbnails.push_back(std::move(t));
    }
    return sheet;
  };
  std::vector<std::vector<image_ref>> refs;  // parallel to sheets: which image each thumb shows
  for (std::size_t k = 0; k < class_names.size(); ++k) {
    auto sheet =
        make_sheet("sheet-" + class_names[k], class_names[k], class_color(class_names[k], k),
                   per_class[k], "class:" + class_names[k]);
    std::vector<std::string> keys;
    for (const auto& r : per_class[k]) keys.push_back(key_of(r));
    std::vector<image_ref> chosen;
    for (const auto i : pick_samples(keys, count, options.seed, "class:" + class_names[k])) {
      chosen.push_back(per_class[k][i]);
    }
    sheets.push_back(std::move(sheet));
    refs.push_back(std::move(chosen));
  }
  {
    auto sheet = make_sheet("sheet-negatives", "No hemorrhage", "", negatives, "negatives");
    std::vector<std::string> keys;
    for (const auto& r : negatives) keys.push_back(key_of(r));
    std::vector<image_ref> chosen;
    for (const auto i : pick_samples(keys, count, options.seed, "negatives")) {
      chosen.push_back(negatives[i]);
    }
    sheets.push_back(std::move(sheet));
    refs.push_back(std::move(chosen));
  }

  // Augmentation: originals with versions _aug1.., grouped by the original's name.
  contact_sheet aug;
  aug.id = "sheet-augmentation";
  aug.title = "Augmentation";
  std::vector<std::vector<image_ref>> aug_refs;
  {
    std::map<std::string, std::vector<std::pair<int, image_ref>>> groups;  // key -> versions
    for (std::size_t si = 0; si < splits.size(); ++si) {
      const auto& images = splits[si].data.images;
      for (std::size_t ii = 0; ii < images.size(); ++ii) {
        const auto v = core::augmentation_version(images[ii].file_name);
        groups[splits[si].ref.name + "/" + core::original_file_name(images[ii].file_name)]
            .push_back({v.value_or(0), image_ref{si, ii}});
      }
    }
    std::vector<std::string> keys;
    std::vector<const std::vector<std::pair<int, image_ref>>*> members;
    for (auto& [key, versions] : groups) {
      std::sort(versions.begin(), versions.end(), [&](const auto& a, const auto& b) {
        return a.first != b.first ? a.first < b.first : key_of(a.second) < key_of(b.second);
      });
      if (versions.size() < 2 || versions.back().first < 1) continue;
      keys.push_back(key);
      members.push_back(&versions);
    }
    aug.candidates = keys.size();
    const auto n = static_cast<std::size_t>(std::max(options.augmentation_samples, 0));
    for (const auto i : pick_samples(keys, n, options.seed, "augmentation")) {
      std::vector<thumbnail> row;
      std::vector<image_ref> row_refs;
      for (const auto& [v, r] : *members[i]) {
        thumbnail t;
        t.file_name = splits[r.split].data.images[r.image].file_name;
        t.split = splits[r.split].ref.name;
        t.caption = v == 0 ? "original" : fmt::format("version {}", v);
        row.push_back(std::move(t));
        row_refs.push_back(r);
      }
      aug.rows.push_back(std::move(row));
      aug_refs.push_back(std::move(row_refs));
    }
  }

  std::vector<job> jobs;
  for (std::size_t s = 0; s < sheets.size(); ++s) {
    for (std::size_t t = 0; t < sheets[s].thumbnails.size(); ++t) {
      jobs.push_back({refs[s][t], &sheets[s].thumbnails[t]});
    }
  }
  for (std::size_t row = 0; row < aug.rows.size(); ++row) {
    for (std::size_t t = 0; t < aug.rows[row].size(); ++t) {
      jobs.push_back({aug_refs[row][t], &aug.rows[row][t]});
    }
  }
  sheets.push_back(std::move(aug));

  core::parallel_for(jobs.size(), options.jobs, [&](std::size_t j) {
    const auto& r = jobs[j].ref;
    auto& slot = *jobs[j].slot;
    const auto& split = splits[r.split];
    const auto& im = split.data.images[r.image];
    const auto path = split.ref.dir / im.file_name;
    auto bytes = core::read_file(path);
    if (!bytes) {
      slot.error = bytes.error().message;
      return;
    }
    auto decoded = imaging::decode_image(*bytes, path.string());
    if (!decoded) {
      slot.error = decoded.error().message;
      return;
    }
    std::vector<imaging::labelled_box> boxes;
    if (const auto* list = boxes_of(r)) {
      for (const auto ai : *list) {
        const auto& a = split.data.annotations[ai];
        const auto& name = index[r.split].class_of_category.at(a.category_id);
        const auto k = static_cast<std::size_t>(
            std::find(class_names.begin(), class_names.end(), name) - class_names.begin());
        imaging::labelled_box b{a.bbox.x, a.bbox.y, a.bbox.w, a.bbox.h, name, 0, 0, 0};
        class_rgb(name, k, b.r, b.g, b.b);
        boxes.push_back(std::move(b));
      }
    }
    auto thumb = imaging::make_thumbnail(*decoded, options.thumbnail_side, boxes);
    if (!thumb) {
      slot.error = thumb.error().message;
      return;
    }
    auto jpeg = imaging::encode_jpeg(*thumb, options.jpeg_quality);
    if (!jpeg) {
      slot.error = jpeg.error().message;
      return;
    }
    slot.width = thumb->width;
    slot.height = thumb->height;
    slot.data_uri = "data:image/jpeg;base64," + base64(*jpeg);
  });
  for (const auto& j : jobs) {
    if (!j.slot->error.empty()) warnings.push_back(j.slot->error);
  }
  return sheets;
}

}  // namespace html
}  // namespace ctprep::report

#include "ctprep/pipeline/synth_world.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/coco/layout.hpp"
#include "ctprep/core/classes.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/core/parallel.hpp"
#include "ctprep/core/rng.hpp"
#include "ctprep/imaging/codec.hpp"
#include "ctprep/imaging/synth_ct.hpp"

namespace ctprep::pipeline {
namespace fs = std::filesystem;

namespace {

struct synth_box {
  int cls = 0;  // 6-class id, or -1 / -2 for Roboflow's "-" / "0" noise
  core::box bbox;
};

struct synth_slice {
  std::string patient;
  int instance = 0;
  std::vector<synth_box> boxes;
  int source = 0;  // 0 V3, 1 Roboflow, 2 both (duplicate), 3 pool
  int split = 0;   // 0 train, 1 valid, 2 test
  bool thick = false;
  bool missing = false;
  std::string name;   // file name in its source
  std::string name2;  // Roboflow name of a duplicate
};

// Class weights of the real build (EDH and HC rare).
constexpr double class_weights[6] = {0.07, 0.07, 0.27, 0.14, 0.23, 0.22};

int weighted_class(core::rng& random) {
  double u = random.uniform();
  for (int c = 0; c < 6; ++c) {
    if ((u -= class_weights[c]) < 0) return c;
  }
  return 5;
}

}  // namespace

core::result<world_scale> world_scale_named(std::string_view name) {
  world_scale s;
  if (name == "demo") {
    s = {60, 40, 3, 24, 60, 400, 12, 1, 1, 1, 3, 256};
  } else if (name == "v4") {
    s = {6999, 3782, 40, 2864, 3700, 325000, 200, 5, 3, 4, 25, 512};
  } else {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("unknown scale '{}' (demo or v4)", name));
  }
  return s;
}

core::result<world_summary> synth_world(const fs::path& root, const world_scale& scale,
                                        std::uint64_t seed, unsigned jobs,
                                        core::progress* progress) {
  core::rng random(seed);
  const int n = scale.size;
  const double px = n / 512.0;

  // Patients with a primary class; ids are 9-digit numbers as in the real data.
  std::set<std::string> used_ids;
  auto new_patient_id = [&]() {
    for (;;) {
      auto id = std::to_string(500000000 + random.below(99999999));
      if (used_ids.insert(id).second) return id;
    }
  };
  const std::size_t labelled = scale.v3_images + scale.roboflow_images - scale.duplicates;
  std::vector<std::string> patients(scale.patients);
  std::vector<int> primary(scale.patients);
  for (std::size_t p = 0; p < scale.patients; ++p) {
    patients[p] = new_patient_id();
    // Round-robin primaries at small scale so every class has patients; weighted at v4.
    primary[p] = scale.patients < 100 ? static_cast<int>(p % 6) : weighted_class(random);
  }
  std::vector<std::size_t> slices_of(scale.patients, 1);
  for (std::size_t k = scale.patients; k < labelled; ++k) {
    std::size_t p = random.below(scale.patients);
    while (slices_of[p] >= 30) p = random.below(scale.patients);
    ++slices_of[p];
  }
  std::map<std::string, std::set<int>> instances;  // used instance numbers per patient
  auto new_instance = [&](const std::string& patient) {
    auto& used = instances[patient];
    for (;;) {
      const int inst = static_cast<int>(random.between(1, 60));
      if (used.insert(inst).second) return inst;
    }
  };

  auto make_box = [&](int cls) {
    const double lo = std::max(20.0, 24 * px);
    const double w = random.uniform(lo, 110 * px), h = random.uniform(lo, 110 * px);
    const double x = random.uniform(0.18 * n, 0.82 * n - w),
                 y = random.uniform(0.15 * n, 0.85 * n - h);
    return synth_box{cls,
                     {std::round(x * 10) / 10, std::round(y * 10) / 10, std::round(w * 10) / 10,
                      std::round(h * 10) / 10}};
  };

  // Labelled slices, patient by patient; EDH/HC patients last so that they land in
  // Roboflow (V3 is 4-class).
  std::vector<std::size_t> patient_order(scale.patients);
  for (std::size_t p = 0; p < scale.patients; ++p) patient_order[p] = p;
  random.shuffle(patient_order.begin(), patient_order.end());
  std::stable_partition(patient_order.begin(), patient_order.end(),
                        [&](std::size_t p) { return primary[p] >= 2; });
  std::vector<synth_slice> slices;
  slices.reserve(labelled + scale.duplicates + scale.pool_images);
  for (auto p : patient_order) {
    const int secondary = random.chance(0.3) ? weighted_class(random) : primary[p];
    for (std::size_t k = 0; k < slices_of[p]; ++k) {
      synth_slice s;
      s.patient = patients[p];
      s.instance = new_instance(s.patient);
      const bool positive = k == 0 || random.chance(primary[p] < 2 ? 0.7 : 0.56);
      if (positive) {
        const auto count = random.between(1, 3);
        for (std::int64_t b = 0; b < count; ++b)
          s.boxes.push_back(make_box(b == 1 ? secondary : primary[p]));
      }
      slices.push_back(std::move(s));
    }
  }
  // Sources: the first v3_images - duplicates slices of 4-class patients are V3, the rest Roboflow.
  const std::size_t v3_only = scale.v3_images - scale.duplicates;
  for (std::size_t i = 0; i < slices.size(); ++i) slices[i].source = i < v3_only ? 0 : 1;
  // Duplicates: Roboflow slices of 4-class patients also exported into V3.
  std::size_t dup_made = 0;
  for (std::size_t i = v3_only; i < slices.size() && dup_made < scale.duplicates; ++i) {
    bool four_class_only = true;
    for (const auto& b : slices[i].boxes) four_class_only &= b.cls >= 2;
    if (four_class_only) {
      slices[i].source = 2;
      ++dup_made;
    }
  }
  // V3 has no EDH/HC boxes; Roboflow carries a few noise boxes.
  for (auto& s : slices) {
    if (s.source == 0) {
      for (auto& b : s.boxes) {
        if (b.cls < 2) b.cls = 2 + static_cast<int>(random.below(4));
      }
    } else if (s.source == 1 && random.chance(0.03)) {
      s.boxes.push_back(make_box(random.chance(0.5) ? -1 : -2));
    }
    s.split = [&] {
      const double u = random.uniform();
      return u < 0.7 ? 0 : (u < 0.9 ? 1 : 2);
    }();
    s.thick = random.chance(0.5);
  }
  // A few boxes reaching past the right or bottom edge.
  for (std::size_t k = 0; k < scale.edge_boxes; ++k) {
    auto& s = slices[random.below(slices.size())];
    if (s.boxes.empty()) continue;
    auto& b = s.boxes.front().bbox;
    if (random.chance(0.5))
      b.x = n - b.w * 0.6;
    else
      b.y = n - b.h * 0.5;
  }
  // Names.
  auto rf_name = [&](const synth_slice& s) {
    const auto h1 = core::stable_hash(fmt::format("{}_{}", s.patient, s.instance), seed);
    const auto h2 = core::stable_hash(fmt::format("{}_{}", s.patient, s.instance), seed + 1);
    return fmt::format("{}_{}_png.rf.{:016x}{:016x}.jpg", s.patient, s.instance, h1, h2);
  };
  for (auto& s : slices) {
    const auto v3 = fmt::format("{}{}_{}.jpg", s.thick ? "thick_" : "thin_", s.patient, s.instance);
    if (s.source == 0)
      s.name = v3;
    else if (s.source == 1)
      s.name = rf_name(s);
    else {
      s.name = v3;
      s.name2 = rf_name(s);
    }
  }

  // The pool: slices of labelled patients (new instances) and of new patients.
  const std::size_t pool_start = slices.size();
  while (slices.size() - pool_start < scale.pool_images) {
    synth_slice s;
    s.source = 3;
    if (random.chance(0.35)) {
      s.patient = patients[random.below(scale.patients)];
      if (instances[s.patient].size() >= 55) continue;
      s.instance = new_instance(s.patient);
      s.name = fmt::format("{}_{}.png", s.patient, s.instance);
      slices.push_back(std::move(s));
    } else {
      const auto id = new_patient_id();
      const auto count = std::min<std::size_t>(static_cast<std::size_t>(random.between(1, 5)),
                                               scale.pool_images - (slices.size() - pool_start));
      for (std::size_t k = 0; k < count; ++k) {
        synth_slice t;
        t.source = 3;
        t.patient = id;
        t.instance = new_instance(id);
        t.name = fmt::format("{}_{}.png", t.patient, t.instance);
        slices.push_back(std::move(t));
      }
    }
  }
  // Missing files: listed in a COCO file, never written.
  auto mark_missing = [&](int source, std::size_t count) {
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < slices.size(); ++i) {
      if (slices[i].source == source) candidates.push_back(i);
    }
    for (std::size_t k = 0; k < count && !candidates.empty(); ++k) {
      const auto pick = random.below(candidates.size());
      slices[candidates[pick]].missing = true;
      candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(pick));
    }
  };
  mark_missing(0, scale.missing_v3);
  mark_missing(1, scale.missing_roboflow);
  mark_missing(3, scale.missing_pool);

  // Folders and COCO files.
  const fs::path v3_dir = root / "training_datasets/v3/filtered_4class/coco";
  const fs::path rf_dir =
      root / "training_datasets/roboflow_downloads/UAT_CT_BRAIN_HEMORRHAGE_V3.v3i.coco";
  const fs::path pool_dir = root / "training_datasets/no_hemorrhage_downloads";
  std::error_code ec;
  for (auto split : {"train", "valid", "test"}) {
    fs::create_directories(v3_dir / split, ec);
    fs::create_directories(rf_dir / split, ec);
  }
  fs::create_directories(pool_dir, ec);
  fs::create_directories(root / "metadata", ec);
  if (ec) {
    return core::fail(
        core::error_code::not_writable,
        fmt::format("cannot create folders under '{}': {}", root.string(), ec.message()));
  }
  std::array<core::dataset, 3> v3_sets, rf_sets;
  core::dataset pool_set;
  for (auto& d : v3_sets) {
    d.categories = core::make_categories(core::four_class_names);
    d.info = R"j({"description":"V3 filtered 4-class (synthetic)","version":"3"})j";
  }
  for (auto& d : rf_sets) {
    d.info = R"j({"description":"Exported from roboflow.com (synthetic)","version":"3"})j";
    d.categories.push_back({0, "-", "none", {}});
    d.categories.push_back({1, "0", "-", {}});
    for (std::int64_t c = 0; c < 6; ++c) {
      d.categories.push_back(
          {c + 2, std::string(core::six_class_names[static_cast<std::size_t>(c)]), "-", {}});
    }
  }
  pool_set.categories = core::make_categories(core::six_class_names);
  auto add = [&](core::dataset& d, const std::string& name, const std::vector<synth_box>& boxes,
                 bool four) {
    const auto image_id = static_cast<std::int64_t>(d.images.size());
    d.images.push_back({image_id, name, n, n, {}});
    for (const auto& b : boxes) {
      std::int64_t cat = four ? b.cls - 2 : (b.cls == -1 ? 0 : b.cls == -2 ? 1 : b.cls + 2);
      d.annotations.push_back({static_cast<std::int64_t>(d.annotations.size()),
                               image_id,
                               cat,
                               b.bbox,
                               b.bbox.w * b.bbox.h,
                               0,
                               {}});
    }
  };
  world_summary summary;
  for (auto& s : slices) {
    const auto split = static_cast<std::size_t>(s.split);
    if (s.source == 0 || s.source == 2)
      add(v3_sets[split], s.name, s.boxes, true), ++summary.v3_images;
    if (s.source == 1) add(rf_sets[split], s.name, s.boxes, false), ++summary.roboflow_images;
    if (s.source == 2) add(rf_sets[split], s.name2, s.boxes, false), ++summary.roboflow_images;
    if (s.source == 3) {
      pool_set.images.push_back(
          {static_cast<std::int64_t>(pool_set.images.size()) + 1, s.name, n, n, {}});
      ++summary.pool_images;
    }
    summary.missing_files += s.missing ? 1 : 0;
  }
  summary.duplicates = dup_made;
  summary.edge_boxes = scale.edge_boxes;
  std::sort(pool_set.images.begin(), pool_set.images.end(),
            [](const core::image& a, const core::image& b) { return a.file_name < b.file_name; });
  for (std::size_t i = 0; i < pool_set.images.size(); ++i)
    pool_set.images[i].id = static_cast<std::int64_t>(i) + 1;
  for (std::size_t k = 0; k < 3; ++k) {
    const char* split = coco::split_names[k];
    if (auto ok = coco::write_file(v3_dir / split / coco::annotations_file_name, v3_sets[k]); !ok)
      return tl::unexpected(ok.error());
    if (auto ok = coco::write_file(rf_dir / split / coco::annotations_file_name, rf_sets[k]); !ok)
      return tl::unexpected(ok.error());
  }
  if (auto ok = coco::write_file(pool_dir / coco::annotations_file_name, pool_set); !ok)
    return tl::unexpected(ok.error());

  // Images, in parallel; each seeded by its own name.
  struct job {
    fs::path path;
    const synth_slice* slice;
    int channels;
  };
  std::vector<job> work;
  for (const auto& s : slices) {
    if (s.missing) continue;
    const auto split = coco::split_names[s.split];
    if (s.source == 0 || s.source == 2) work.push_back({v3_dir / split / s.name, &s, 1});
    if (s.source == 1) work.push_back({rf_dir / split / s.name, &s, 3});
    if (s.source == 2) work.push_back({rf_dir / split / s.name2, &s, 3});
    if (s.source == 3) work.push_back({pool_dir / s.name, &s, 1});
  }
  std::vector<std::string> errors(work.size());
  core::parallel_for(work.size(), jobs, [&](std::size_t i) {
    const auto& w = work[i];
    auto r = core::rng::for_key(seed, w.path.filename().string());
    imaging::ct_slice_spec spec;
    spec.size = n;
    spec.channels = w.channels;
    for (const auto& b : w.slice->boxes) {
      if (b.cls >= 0) spec.lesions.push_back(b.bbox);
    }
    const auto image = imaging::render_ct_slice(spec, r);
    auto bytes =
        w.path.extension() == ".png" ? imaging::encode_png(image) : imaging::encode_jpeg(image, 95);
    if (!bytes) {
      errors[i] = bytes.error().message;
      return;
    }
    if (auto ok = core::write_file_atomic(w.path, *bytes); !ok) errors[i] = ok.error().message;
    if (progress != nullptr) progress->advance();
  });
  for (const auto& e : errors) {
    if (!e.empty()) return core::fail(core::error_code::not_writable, e);
  }

  // The feedback CSV: every pool slice, some slices already in the datasets, and many
  // slices never downloaded; about fp_rows FP in all; a few rows repeated.
  struct row {
    std::string patient;
    int instance;
    bool fp;
  };
  std::vector<row> rows;
  rows.reserve(scale.csv_rows + 16);
  const std::size_t fp_in_pool = scale.fp_rows * 4 / 5;
  std::size_t fp_made = 0;
  for (std::size_t i = pool_start; i < slices.size(); ++i) {
    const bool fp =
        fp_made < fp_in_pool && random.chance(static_cast<double>(fp_in_pool) /
                                              static_cast<double>(scale.pool_images) * 1.5);
    fp_made += fp ? 1 : 0;
    rows.push_back({slices[i].patient, slices[i].instance, fp});
  }
  const std::size_t present = std::min<std::size_t>(pool_start, scale.csv_rows / 100 + 20);
  for (std::size_t k = 0; k < present; ++k) {
    const auto& s = slices[random.below(pool_start)];
    if (!s.boxes.empty()) continue;  // only negatives are in the feedback file
    rows.push_back({s.patient, s.instance, fp_made < scale.fp_rows && random.chance(0.2)});
    fp_made += rows.back().fp ? 1 : 0;
  }
  while (rows.size() < scale.csv_rows) {
    const auto id = std::to_string(500000000 + random.below(99999999));
    if (used_ids.count(id)) continue;
    const auto count = random.between(1, 40);
    for (std::int64_t k = 0; k < count && rows.size() < scale.csv_rows; ++k) {
      const bool fp = fp_made < scale.fp_rows && random.chance(static_cast<double>(scale.fp_rows) /
                                                               static_cast<double>(scale.csv_rows));
      fp_made += fp ? 1 : 0;
      rows.push_back({id, static_cast<int>(k + 1), fp});
    }
  }
  for (std::size_t k = 0; k < 3 && !rows.empty(); ++k)
    rows.push_back(rows[random.below(rows.size())]);
  random.shuffle(rows.begin(), rows.end());
  std::string csv =
      "patient_id,instance_no,study_date,classification_result,confidence,image_url\r\n";
  csv.reserve(rows.size() * 110);
  for (const auto& r : rows) {
    csv +=
        fmt::format("{},{},2024-0{}-1{},{},{:.3f},s3://uat-brain-ct-feedback/dicom/{}/{}.dcm\r\n",
                    r.patient, r.instance, 1 + r.instance % 9, r.instance % 10,
                    r.fp ? "\"False Positive (FP)\"" : "True Negative (TN)",
                    0.5 + static_cast<double>(core::stable_hash(r.patient) % 500) / 1000.0,
                    r.patient, r.instance);
  }
  if (auto ok = core::write_file_atomic(root / "metadata/no_hemorrhage_positive_feedback.csv", csv);
      !ok) {
    return tl::unexpected(ok.error());
  }
  std::set<std::string> labelled_patients;
  for (std::size_t i = 0; i < pool_start; ++i) labelled_patients.insert(slices[i].patient);
  summary.patients = labelled_patients.size();
  summary.csv_rows = rows.size();
  summary.fp_rows = 0;
  for (const auto& r : rows) summary.fp_rows += r.fp ? 1 : 0;
  return summary;
}

}  // namespace ctprep::pipeline

#include "ctprep/pipeline/synth_store.hpp"

#include <unordered_map>

#include <fmt/format.h>

#include "ctprep/core/files.hpp"
#include "ctprep/core/parallel.hpp"
#include "ctprep/core/rng.hpp"
#include "ctprep/dicom/synth.hpp"
#include "ctprep/pipeline/feedback_csv.hpp"

namespace ctprep::pipeline {
namespace fs = std::filesystem;

namespace {

struct object {
  core::slice_id id;
  double thickness = 5.0;
  fs::path path;
  std::string url;  // what the CSV lists for it
};

// The world's CSV with the chosen rows' last column (image_url) replaced. The CSV is
// ours (synth world never quotes image_url or breaks a record over lines), so a
// line-wise rewrite of the last field is exact.
core::result<std::string> rewrite_urls(const std::string& csv,
                                       const std::unordered_map<std::size_t, std::string>& urls,
                                       const fs::path& origin) {
  std::string out;
  out.reserve(csv.size() + urls.size() * 64);
  std::size_t line = 0, start = 0;
  while (start < csv.size()) {
    auto end = csv.find('\n', start);
    if (end == std::string::npos) end = csv.size();
    ++line;
    std::string_view text(csv.data() + start, end - start);
    const bool crlf = text.ends_with('\r');
    if (crlf) text.remove_suffix(1);
    if (const auto it = urls.find(line); it != urls.end()) {
      const auto comma = text.rfind(',');
      if (comma == std::string_view::npos ||
          text.substr(comma).find('"') != std::string_view::npos) {
        return core::fail(
            core::error_code::bad_csv,
            fmt::format("'{}' line {}: not a plain synthetic row", origin.string(), line));
      }
      out.append(text.substr(0, comma + 1));
      out.append(it->second);
    } else {
      out.append(text);
    }
    if (crlf) out.push_back('\r');
    if (end < csv.size()) out.push_back('\n');
    start = end + 1;
  }
  return out;
}

}  // namespace

core::result<store_summary> write_synthetic_store(const store_options& options) {
  const auto csv_path = options.data_root / "metadata" / "no_hemorrhage_positive_feedback.csv";
  auto table = read_feedback_csv(csv_path);
  if (!table) return tl::unexpected(table.error());
  auto csv = core::read_file(csv_path);
  if (!csv) return tl::unexpected(csv.error());

  std::error_code ec;
  fs::create_directories(options.store_dir, ec);
  const auto store = fs::absolute(options.store_dir, ec).lexically_normal();

  // Every FP row, then TN rows in CSV order: what a download plan takes first.
  std::vector<object> objects;
  std::unordered_map<std::size_t, std::string> urls;
  std::size_t tn_taken = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& row : table->rows) {
      const bool fp = row.cls == feedback_class::fp;
      if ((pass == 0) != fp) continue;
      if (!fp && tn_taken++ >= options.tn_rows) break;
      auto r = core::rng::for_key(options.seed, core::to_string(row.id), 7);
      const double thickness = r.chance(options.wrong_thickness_fraction) ? 2.5
                               : r.chance(0.2)                            ? 5.5
                                                                          : 5.0;
      const auto relative = "dicom/" + row.id.patient + "/" + row.id.instance + ".dcm";
      const auto path = store / relative;
      auto url =
          options.url_base.empty() ? "file://" + path.string() : options.url_base + "/" + relative;
      urls.emplace(row.line, url);
      objects.push_back({row.id, thickness, path, std::move(url)});
    }
  }

  store_summary summary;
  std::vector<std::string> errors(objects.size());
  std::vector<std::size_t> sizes(objects.size());
  core::parallel_for(objects.size(), options.jobs, [&](std::size_t i) {
    const auto& o = objects[i];
    dicom::synth_slice_spec spec;
    spec.patient_id = o.id.patient;
    spec.instance = static_cast<int>(std::stol(o.id.instance) % 32) + 1;
    spec.thickness = o.thickness;
    spec.seed = core::stable_hash(core::to_string(o.id), options.seed);
    auto slice = dicom::synthesize_slice(spec);
    if (!slice) {
      errors[i] = slice.error().message;
      return;
    }
    sizes[i] = slice->bytes.size();
    if (auto ok = core::write_file_atomic(o.path, slice->bytes); !ok)
      errors[i] = ok.error().message;
  });
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (!errors[i].empty()) return core::fail(core::error_code::not_writable, errors[i]);
    summary.bytes += sizes[i];
    if (objects[i].thickness < 4.9) ++summary.wrong_thickness;
  }
  summary.objects = objects.size();
  for (const auto& o : objects) summary.objects_written.emplace_back(o.path, o.url);

  auto rewritten = rewrite_urls(*csv, urls, csv_path);
  if (!rewritten) return tl::unexpected(rewritten.error());
  if (auto ok = core::write_file_atomic(csv_path, *rewritten); !ok)
    return tl::unexpected(ok.error());
  return summary;
}

}  // namespace ctprep::pipeline

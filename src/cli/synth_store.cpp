// ctprep synth store: the object store of a synthetic world (file:// URLs, or a bucket on
// a running S3 server), also reached as `ctprep synth world --with-store DIR`.
#include <fmt/format.h>

#include "cli/synth.hpp"
#include "ctprep/fetch/putter.hpp"
#include "ctprep/fetch/url.hpp"
#include "ctprep/pipeline/synth_store.hpp"

namespace ctprep::cli {

void add_store_options(CLI::App& app, store_cli_options& o) {
  app.add_option("--tn-rows", o.store.tn_rows, "TN rows to store after every FP row")
      ->capture_default_str();
  app.add_option("--store-url", o.store.url_base,
                 "Serve the store from this URL instead of file://, e.g. s3://demo-bucket: "
                 "the CSV lists <URL>/dicom/<patient>/<instance>.dcm and an s3:// store is "
                 "uploaded (with --endpoint-url for a local S3 server)");
  add_s3_access_options(app, o.s3);
}

core::result<void> check_store_url(std::string& url_base) {
  while (url_base.ends_with('/')) url_base.pop_back();
  if (!url_base.empty() && !url_base.starts_with("s3://")) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("--store-url '{}': only s3:// URLs are uploaded; leave it out "
                                  "for a file:// store",
                                  url_base));
  }
  return {};
}

int write_store(const char* cmd, store_cli_options& o) {
  if (auto ok = check_store_url(o.store.url_base); !ok) return report_error(cmd, ok.error());
  const bool to_s3 = !o.store.url_base.empty();
  fetch::transfer_options transfer;
  if (to_s3) {
    if (auto ok = resolve_s3_access(o.s3, true, transfer); !ok)
      return report_error(cmd, ok.error());
  }
  auto summary = pipeline::write_synthetic_store(o.store);
  if (!summary) return report_error(cmd, summary.error());
  fmt::print(
      "✅ store {}: {} DICOM slices ({:.1f} MB, {} with a slice thickness the filter skips)\n",
      o.store.store_dir.string(), summary->objects, static_cast<double>(summary->bytes) / 1e6,
      summary->wrong_thickness);
  if (to_s3) {
    std::vector<fetch::put_item> items;
    for (const auto& [file, url] : summary->objects_written) {
      auto where = fetch::parse_location(url);
      if (!where) return report_error(cmd, where.error());
      items.push_back({*where, file});
    }
    auto sent = fetch::put_files(items, transfer);
    if (!sent) return report_error(cmd, sent.error());
    fmt::print("   uploaded to {} ({:.1f} MB{})\n", o.store.url_base,
               static_cast<double>(*sent) / 1e6,
               transfer.endpoint.endpoint_url.empty()
                   ? std::string()
                   : fmt::format(", endpoint {}", transfer.endpoint.endpoint_url));
  }
  fmt::print("   feedback CSV rewritten to {} URLs: {}\n", to_s3 ? "s3://" : "file://",
             (o.store.data_root / "metadata" / "no_hemorrhage_positive_feedback.csv").string());
  return exit_ok;
}

namespace {

run_function setup_store(CLI::App& app) {
  auto o = std::make_shared<store_cli_options>();
  app.add_option("--data-root", o->store.data_root, "A world written by 'ctprep synth world'")
      ->required();
  app.add_option("--store", o->store.store_dir, "Folder of the object store")->required();
  app.add_option("--seed", o->store.seed, "Seed")->capture_default_str();
  add_store_options(app, *o);
  add_jobs_option(app, o->common);
  return [o] {
    o->store.jobs = o->common.jobs;
    return write_store("synth store", *o);
  };
}

const synth_registrar reg{{"store",
                           "Write the DICOMs a world's feedback CSV lists into an object store "
                           "(file:// URLs, or uploaded to an s3:// bucket)",
                           setup_store}};

}  // namespace
}  // namespace ctprep::cli

// ctprep download: fetch the no-hemorrhage slices the datasets lack, FP first.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <map>
#include <optional>

#include <malloc.h>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "cli/download_convert.hpp"
#include "cli/s3_access.hpp"
#include "ctprep/coco/coco.hpp"
#include "ctprep/fetch/credentials.hpp"
#include "ctprep/fetch/getter.hpp"
#include "ctprep/fetch/url.hpp"
#include "ctprep/pipeline/annotate.hpp"
#include "ctprep/pipeline/download.hpp"
#include "ctprep/pipeline/feedback_csv.hpp"
#include "ctprep/pipeline/shards.hpp"

namespace ctprep::cli {
namespace {
namespace fs = std::filesystem;

struct download_options {
  fs::path data_root = "data";
  fs::path csv_path;    // default <data-root>/metadata/no_hemorrhage_positive_feedback.csv
  fs::path output_dir;  // default <data-root>/training_datasets/no_hemorrhage_downloads
  std::vector<fs::path> existing;
  std::optional<std::size_t> max_images;
  bool fp_only = false;
  bool dry_run = false;
  std::string shard;
  unsigned transfers = 16;
  unsigned convert_threads = 0;
  s3_access_options s3;
  int retries = 4;
  double connect_timeout = 10;
  double stall_timeout = 20;
  int retry_base_ms = 200;
  fs::path log_path;  // default <output-dir>/.download-log.jsonl
  bool no_log = false;
  fs::path keep_dicom;
  bool no_convert = false;
  bool annotate = false;
  download_convert_options convert;
  bool quiet = false;
};

std::atomic<bool> interrupted{false};
extern "C" void on_interrupt(int) {
  interrupted.store(true);
}

std::string plural(std::size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

void print_class_line(std::string_view name, const pipeline::class_counts& c) {
  fmt::print(
      "  {}: {} in CSV, {} already in datasets, {} already downloaded, {} missing -> {} to fetch\n",
      name, c.in_csv, c.present, c.finished, c.missing, c.planned);
}

int run_download(download_options& o) {
  constexpr std::string_view cmd = "download";
  // Every object allocates a few buffers of about 0.5-1 MB (body, pixels, PNG). Above
  // glibc's default mmap threshold each one is a fresh mmap, page-faulted in and
  // unmapped again: measured here, 1.6x slower for the whole run. Keep them in the heap.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  if (o.csv_path.empty())
    o.csv_path = o.data_root / "metadata" / "no_hemorrhage_positive_feedback.csv";
  if (o.output_dir.empty())
    o.output_dir = o.data_root / "training_datasets" / "no_hemorrhage_downloads";
  if (o.no_convert && o.keep_dicom.empty()) {
    return report_error(cmd, core::error::make(core::error_code::bad_argument,
                                               "--no-convert needs --keep-dicom DIR"));
  }
  if (o.no_convert && o.annotate) {
    return report_error(cmd, core::error::make(core::error_code::bad_argument,
                                               "--annotate needs PNGs: drop --no-convert"));
  }
  pipeline::shard_spec shard;
  if (!o.shard.empty()) {
    auto s = pipeline::parse_shard(o.shard);
    if (!s) return report_error(cmd, s.error());
    shard = *s;
    if (o.annotate) {
      return report_error(
          cmd, core::error::make(core::error_code::bad_argument,
                                 "--annotate with --shard: the shards share the folder; run "
                                 "`ctprep download-merge` once they are all done"));
    }
    if (o.no_log) {
      return report_error(cmd, core::error::make(core::error_code::bad_argument,
                                                 "--no-log with --shard: download-merge reads "
                                                 "each shard's log to check it is complete"));
    }
  }
  const bool sharded = !o.shard.empty();
  auto converter = make_download_converter(o.convert);
  if (!converter) return report_error(cmd, converter.error());

  // [1/6] what exists
  fmt::print("[1/6] Scanning existing datasets\n");
  const bool explicit_existing = !o.existing.empty();
  if (!explicit_existing) {
    o.existing = {o.data_root / "training_datasets" / "v3" / "filtered_4class" / "coco",
                  o.data_root / "training_datasets" / "roboflow_downloads" /
                      "UAT_CT_BRAIN_HEMORRHAGE_V3.v3i.coco"};
  }
  pipeline::existing_scan existing;
  for (const auto& dir : o.existing) {
    std::error_code ec;
    if (!explicit_existing && !fs::exists(dir, ec)) {
      fmt::print("  '{}': not there (skipped)\n", dir.string());
      continue;
    }
    if (auto ok = pipeline::scan_existing(dir, existing); !ok) return report_error(cmd, ok.error());
  }
  for (const auto& note : existing.notes) fmt::print("  {}\n", note);
  const fs::path finished_dir = o.no_convert ? o.keep_dicom : o.output_dir;
  std::function<bool(const core::slice_id&)> in_shard;
  if (sharded) {
    in_shard = [shard](const core::slice_id& id) {
      return pipeline::shard_of(id, shard.count) == shard.index;
    };
  }
  auto finished = pipeline::scan_finished(finished_dir, o.no_convert, o.convert_threads, in_shard);
  fmt::print("  Output folder '{}': {} finished", finished_dir.string(), finished.ids.size());
  if (!finished.broken.empty()) {
    fmt::print(", {} broken (will be redone, first: '{}')", finished.broken.size(),
               finished.broken.front());
  }
  if (finished.temp_files_removed > 0) {
    fmt::print(", {} removed", plural(finished.temp_files_removed, "leftover temp file"));
  }
  fmt::print("\n");

  // [2/6] the CSV
  fmt::print("[2/6] Reading '{}'\n", o.csv_path.string());
  auto csv = pipeline::read_feedback_csv(o.csv_path);
  if (!csv) return report_error(cmd, csv.error());
  fmt::print(
      "  Records: {} (FP {}, TN {}, other classification {}, duplicates {}, invalid ids {})\n",
      csv->records, csv->count(pipeline::feedback_class::fp),
      csv->count(pipeline::feedback_class::tn), csv->other_class, csv->duplicates,
      csv->invalid.size());
  for (std::size_t i = 0; i < std::min<std::size_t>(csv->invalid.size(), 5); ++i) {
    print_warning(cmd, fmt::format("'{}' line {}: {} (skipped)", o.csv_path.string(),
                                   csv->invalid[i].line, csv->invalid[i].reason));
  }

  // [3/6] the plan
  pipeline::plan_options po;
  po.max_images = o.max_images;
  po.fp_only = o.fp_only;
  po.shard = shard;
  po.cut_includes_finished = sharded;
  const std::string_view extension = o.no_convert ? ".dcm" : ".png";
  const auto plan = pipeline::make_plan(*csv, existing.ids, finished.ids, po, extension);
  fmt::print("[3/6] Plan (FP first, then TN in CSV order)\n");
  print_class_line("FP (high priority)", plan.fp);
  print_class_line("TN (low priority)", plan.tn);
  if (plan.cut_by_max > 0) {
    fmt::print("  Left out by {}: {}\n", o.fp_only ? "--fp-only/--max-images" : "--max-images",
               plan.cut_by_max);
  }
  if (shard.count > 1) {
    fmt::print("  Shard {}/{}: {} here, {} in other shards\n", shard.index, shard.count,
               plan.items.size(), plan.other_shards);
  }
  fmt::print("  To fetch: {} (FP {}, TN {})\n", plan.items.size(), plan.fp.planned,
             plan.tn.planned);
  if (o.dry_run) {
    fmt::print("Dry run: nothing fetched.\n");
    return exit_ok;
  }

  fetch::transfer_options transfer;
  transfer.max_in_flight = std::max(1u, o.transfers);
  transfer.retries = std::max(0, o.retries);
  transfer.connect_timeout =
      std::chrono::milliseconds(static_cast<long long>(o.connect_timeout * 1000));
  transfer.low_speed_time =
      std::chrono::milliseconds(static_cast<long long>(o.stall_timeout * 1000));
  transfer.retry_base = std::chrono::milliseconds(std::max(0, o.retry_base_ms));
  const bool needs_s3 = std::any_of(plan.items.begin(), plan.items.end(), [](const auto& item) {
    auto where = fetch::parse_location(item.row.url);
    return where && where->kind == fetch::location_kind::s3;
  });
  if (auto ok = resolve_s3_access(o.s3, needs_s3, transfer); !ok) {
    return report_error(cmd, ok.error());
  }
  if (plan.items.empty()) {
    fmt::print("Nothing to fetch.\n");
  }

  // [4/6] fetch and convert
  fmt::print("[4/6] Fetching {} ({} in flight{}{})\n", plural(plan.items.size(), "object"),
             transfer.max_in_flight,
             needs_s3
                 ? (transfer.creds ? fmt::format(", credentials from {}", transfer.creds->source)
                                   : std::string(", unsigned"))
                 : std::string(),
             transfer.endpoint.endpoint_url.empty()
                 ? std::string()
                 : fmt::format(", endpoint {}", transfer.endpoint.endpoint_url));
  std::fflush(stdout);
  pipeline::download_options d;
  d.output_dir = o.output_dir;
  d.keep_dicom = o.keep_dicom;
  d.convert = !o.no_convert;
  if (!o.no_convert) d.convert_fn = *converter;
  d.convert_threads = o.convert_threads;
  d.transfer = transfer;
  if (!o.no_log) {
    d.log_path = !o.log_path.empty() ? o.log_path
                 : sharded           ? pipeline::shard_log_path(finished_dir, shard)
                                     : finished_dir / ".download-log.jsonl";
  }
  // A shard's record: its whole part of the plan, "running" until the run ends unbroken
  // (download-merge refuses while any shard is not "done").
  std::optional<pipeline::shard_state> record;
  const auto record_path = pipeline::shard_state_path(finished_dir, shard);
  if (sharded) {
    auto whole_options = po;
    whole_options.shard = {};
    const auto whole = pipeline::make_plan(*csv, existing.ids, {}, whole_options, extension);
    record = pipeline::make_shard_state(
        whole, shard, d.log_path.empty() ? fs::path() : fs::absolute(d.log_path), extension);
    if (auto ok = pipeline::write_shard_state(record_path, *record); !ok) {
      return report_error(cmd, ok.error());
    }
  }
  auto progress = make_progress("download", plan.items.size(), o.quiet);
  d.progress = progress.get();
  d.cancel = &interrupted;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  auto report = pipeline::run_download(plan, d);
  progress->finish();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!report) return report_error(cmd, report.error());
  if (record && !report->fatal && !interrupted.load() && report->not_attempted == 0) {
    record->done = true;
    if (auto ok = pipeline::write_shard_state(record_path, *record); !ok) {
      return report_error(cmd, ok.error());
    }
  }

  // [5/6] annotate
  if (o.annotate) {
    fmt::print("[5/6] Annotating '{}'\n", o.output_dir.string());
    auto annotated = pipeline::annotate_folder(o.output_dir, {o.convert_threads, nullptr});
    if (!annotated) return report_error(cmd, annotated.error());
    const auto out = o.output_dir / coco::annotations_file_name;
    if (auto ok = coco::write_file(out, annotated->data); !ok) return report_error(cmd, ok.error());
    fmt::print("  COCO annotations saved to: {} ({})\n", out.string(),
               plural(annotated->data.images.size(), "image"));
  } else {
    fmt::print("[5/6] Annotating: skipped (no --annotate)\n");
  }

  // [6/6] summary
  const auto& r = *report;
  std::map<std::string, std::size_t> reasons;
  std::size_t network_or_auth = 0;
  std::string first_reason;
  for (std::size_t i = 0; i < r.items.size(); ++i) {
    const auto& item = r.items[i];
    if (item.outcome != pipeline::item_outcome::failed) continue;
    ++reasons[item.reason];
    if (item.failure == fetch::failure_kind::network || item.failure == fetch::failure_kind::auth) {
      ++network_or_auth;
    }
    if (first_reason.empty()) first_reason = item.reason;
  }
  fmt::print("[6/6] Download Summary\n");
  fmt::print("  ✅ Successful: {}\n", r.ok);
  fmt::print("  ⏭️  Skipped (slice thickness): {}\n", r.skipped);
  fmt::print("  ❌ Failed: {}\n", r.failed);
  fmt::print("  📊 Total attempted: {}\n", r.ok + r.skipped + r.failed);
  fmt::print("  Already present: {} in datasets, {} downloaded earlier\n",
             plan.fp.present + plan.tn.present, plan.fp.finished + plan.tn.finished);
  if (r.not_attempted > 0) fmt::print("  Not attempted: {}\n", r.not_attempted);
  std::vector<std::pair<std::size_t, std::string>> by_count;
  for (const auto& [reason, n] : reasons) by_count.emplace_back(n, reason);
  std::sort(by_count.begin(), by_count.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (std::size_t i = 0; i < std::min<std::size_t>(by_count.size(), 10); ++i) {
    fmt::print("     {} × {}\n", by_count[i].first, by_count[i].second);
  }
  if (r.seconds > 0 && r.ok + r.skipped > 0) {
    fmt::print("  Throughput: {:.1f} objects/s, {:.1f} MB/s ({:.1f} s)\n",
               static_cast<double>(r.ok + r.skipped) / r.seconds,
               static_cast<double>(r.bytes) / 1e6 / r.seconds, r.seconds);
  }
  if (!d.log_path.empty() && !r.fatal) fmt::print("  Log: {}\n", d.log_path.string());

  if (r.fatal) {
    auto e = *r.fatal;
    e.message += fmt::format(" (credentials from {}; nothing was written)",
                             transfer.creds ? transfer.creds->source : std::string("none"));
    return report_error(cmd, e);
  }
  if (interrupted.load()) {
    return report_error(
        cmd, core::error::make(core::error_code::cancelled, "interrupted; run again to resume"));
  }
  if (r.failed > 0 && r.ok + r.skipped == 0 && network_or_auth == r.failed) {
    return report_error(
        cmd, core::error::make(core::error_code::network,
                               fmt::format("nothing could be fetched: {}", first_reason)));
  }
  if (r.failed > 0 || r.not_attempted > 0) return exit_partial;
  return exit_ok;
}

run_function setup_download(CLI::App& app) {
  auto o = std::make_shared<download_options>();
  app.add_option("--data-root", o->data_root, "Data root of the default paths")
      ->capture_default_str();
  app.add_option("--csv-path", o->csv_path,
                 "Feedback CSV (default <data-root>/metadata/no_hemorrhage_positive_feedback.csv)");
  app.add_option(
      "--output-dir", o->output_dir,
      "Where the PNGs go (default <data-root>/training_datasets/no_hemorrhage_downloads)");
  app.add_option("--existing", o->existing,
                 "Dataset folder whose slices are already present (repeatable; default: the V3 "
                 "and Roboflow sources)");
  app.add_option("--max-images", o->max_images, "Fetch at most N slices (FP first)");
  app.add_flag("--fp-only", o->fp_only, "Fetch only False Positive rows");
  app.add_flag("--dry-run", o->dry_run, "Print the plan and stop");
  app.add_option("--shard", o->shard, "Fetch only part K of N of the plan (K/N, 0 <= K < N)");
  app.add_option("-j,--jobs", o->transfers, "Transfers in flight")->capture_default_str();
  app.add_option("--convert-threads", o->convert_threads, "Conversion threads (0: all cores)")
      ->capture_default_str();
  add_s3_access_options(app, o->s3);
  app.add_option("--retries", o->retries, "Retries of a transient failure")->capture_default_str();
  app.add_option("--connect-timeout", o->connect_timeout, "Connect timeout, seconds")
      ->capture_default_str();
  app.add_option("--stall-timeout", o->stall_timeout,
                 "Abandon (and retry) a transfer under 1 KB/s for this many seconds")
      ->capture_default_str();
  app.add_option("--retry-base-ms", o->retry_base_ms,
                 "First retry delay; doubles per attempt, with jitter")
      ->capture_default_str();
  app.add_option("--log", o->log_path,
                 "Per-item JSON-lines log (default <output-dir>/.download-log.jsonl)");
  app.add_flag("--no-log", o->no_log, "Write no per-item log");
  app.add_option("--keep-dicom", o->keep_dicom, "Also store the original DICOMs here");
  app.add_flag("--no-convert", o->no_convert, "Store the DICOMs only (needs --keep-dicom)");
  app.add_flag("--annotate", o->annotate, "Write <output-dir>/_annotations.coco.json at the end");
  add_download_convert_options(app, o->convert);
  app.add_flag("-q,--quiet", o->quiet, "No progress output");
  return [o] { return run_download(*o); };
}

const registrar reg{
    {"download", "Fetch the no-hemorrhage slices the datasets lack, FP first", setup_download}};

}  // namespace
}  // namespace ctprep::cli

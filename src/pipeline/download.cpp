#include "ctprep/pipeline/download.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/coco/layout.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/core/json_writer.hpp"
#include "ctprep/core/parallel.hpp"
#include "ctprep/core/rng.hpp"
#include "ctprep/imaging/codec.hpp"

namespace ctprep::pipeline {
namespace fs = std::filesystem;

// ---- 1. what exists -------------------------------------------------------------

core::result<void> scan_existing(const fs::path& dir, existing_scan& into) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return core::fail(core::error_code::not_found,
                      fmt::format("dataset folder '{}' does not exist", dir.string()));
  }
  std::size_t unreadable = 0;
  std::string first_unreadable;
  auto add = [&](std::string_view name) {
    ++into.images;
    auto id = core::parse_slice_identity(name);
    if (id) {
      into.ids.insert(std::move(*id));
    } else if (unreadable++ == 0) {
      first_unreadable = std::string(name);
    }
  };
  const std::size_t before = into.images;
  if (auto splits = coco::find_splits(dir)) {
    for (const auto& s : *splits) {
      auto data = coco::read_file(s.json_path);
      if (!data) return tl::unexpected(data.error());
      for (const auto& image : data->images) add(image.file_name);
    }
    into.notes.push_back(fmt::format("'{}': {} COCO file{}, {} images", dir.string(),
                                     splits->size(), splits->size() == 1 ? "" : "s",
                                     into.images - before));
  } else {
    auto files = core::list_files(dir);
    if (!files) return tl::unexpected(files.error());
    for (const auto& f : *files) {
      if (core::has_image_extension(f)) add(f.filename().string());
    }
    into.notes.push_back(
        fmt::format("'{}': no COCO file, {} image files", dir.string(), into.images - before));
  }
  if (unreadable > 0) {
    into.notes.push_back(fmt::format("'{}': {} names the identity rule cannot read (first: '{}')",
                                     dir.string(), unreadable, first_unreadable));
  }
  return {};
}

finished_scan scan_finished(const fs::path& dir, bool dicom_only, unsigned jobs,
                            const std::function<bool(const core::slice_id&)>& keep) {
  finished_scan out;
  auto files = core::list_files(dir);
  if (!files) return out;
  const std::string_view ext = dicom_only ? ".dcm" : ".png";
  std::vector<fs::path> candidates;
  std::vector<core::slice_id> ids;
  for (const auto& f : *files) {
    const auto name = f.filename().string();
    // Leftovers of write_file_atomic in a killed run: ".<name>.tmp.<pid>.<random>". With
    // `keep`, only those of accepted slices: other shards may be writing theirs right now.
    if (name.starts_with(".") && name.find(".tmp.") != std::string::npos &&
        (name.find(".png.tmp.") != std::string::npos ||
         name.find(".dcm.tmp.") != std::string::npos)) {
      auto id = core::parse_slice_identity(name.substr(1, name.find(".tmp.") - 1));
      if (keep && (!id || !keep(*id))) continue;
      std::error_code ec;
      if (fs::remove(f, ec)) ++out.temp_files_removed;
      continue;
    }
    if (!name.ends_with(ext)) continue;
    auto id = core::parse_slice_identity(name);
    if (!id || core::to_string(*id) + std::string(ext) != name) continue;  // not one of ours
    if (keep && !keep(*id)) continue;
    candidates.push_back(f);
    ids.push_back(std::move(*id));
  }
  std::vector<char> good(candidates.size(), 0);
  core::parallel_for(candidates.size(), jobs, [&](std::size_t i) {
    std::error_code ec;
    if (dicom_only) {
      good[i] = fs::file_size(candidates[i], ec) > 0 && !ec ? 1 : 0;
      return;
    }
    auto bytes = core::read_file(candidates[i]);
    good[i] = bytes && imaging::decode_image(*bytes, candidates[i].string()) ? 1 : 0;
  });
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (good[i] != 0) {
      out.ids.insert(ids[i]);
    } else {
      out.broken.push_back(candidates[i].filename().string());
    }
  }
  return out;
}

// ---- 2. the plan --------------------------------------------------------------------

core::result<shard_spec> parse_shard(std::string_view text) {
  const auto slash = text.find('/');
  auto number = [](std::string_view s, std::uint64_t& v) {
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
  };
  shard_spec s;
  if (slash == std::string_view::npos || !number(text.substr(0, slash), s.index) ||
      !number(text.substr(slash + 1), s.count) || s.count == 0 || s.index >= s.count) {
    return core::fail(core::error_code::bad_argument,
                      fmt::format("--shard '{}': expected K/N with 0 <= K < N", text));
  }
  return s;
}

std::uint64_t shard_of(const core::slice_id& id, std::uint64_t count) noexcept {
  return shard_of_key(core::to_string(id), count);
}

std::uint64_t shard_of_key(std::string_view key, std::uint64_t count) noexcept {
  // FNV-1a spreads similar short keys poorly in its low bits: finish with splitmix64.
  std::uint64_t z = core::stable_hash(key) + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return count == 0 ? 0 : z % count;
}

download_plan make_plan(const feedback_table& csv, const std::set<core::slice_id>& present,
                        const std::set<core::slice_id>& finished, const plan_options& options,
                        std::string_view extension) {
  download_plan plan;
  // Candidates for the cut: missing rows (and finished ones with cut_includes_finished).
  std::vector<const feedback_row*> fp, tn;
  for (const auto& row : csv.rows) {
    auto& counts = row.cls == feedback_class::fp ? plan.fp : plan.tn;
    ++counts.in_csv;
    if (present.contains(row.id)) {
      ++counts.present;
      continue;
    }
    const bool done = finished.contains(row.id);
    if (done) {
      ++counts.finished;
    } else {
      ++counts.missing;
    }
    if (!done || options.cut_includes_finished) {
      (row.cls == feedback_class::fp ? fp : tn).push_back(&row);
    }
  }
  std::vector<const feedback_row*> ordered = fp;  // FP first: never shuffled (SPEC 3)
  if (!options.fp_only) ordered.insert(ordered.end(), tn.begin(), tn.end());
  const std::size_t candidates = fp.size() + tn.size();
  if (options.max_images && ordered.size() > *options.max_images)
    ordered.resize(*options.max_images);
  plan.cut_by_max = candidates - ordered.size();
  for (const auto* row : ordered) {
    if (options.shard.count > 1 && shard_of(row->id, options.shard.count) != options.shard.index) {
      ++plan.other_shards;
      continue;
    }
    if (options.cut_includes_finished && finished.contains(row->id)) continue;  // resumed
    ++(row->cls == feedback_class::fp ? plan.fp : plan.tn).planned;
    plan.items.push_back({*row, core::to_string(row->id) + std::string(extension)});
  }
  return plan;
}

// ---- 3. fetch and convert -------------------------------------------------------------

converter dicom_converter(const dicom::convert_options& options) {
  return [options](std::string_view bytes, std::string_view origin) -> core::result<converted> {
    auto slice = dicom::convert_dicom(bytes, origin, options);
    if (!slice) return tl::unexpected(slice.error());
    converted out;
    out.warnings = std::move(slice->warnings);
    switch (slice->outcome) {
      case dicom::convert_outcome::converted:
        out.png = std::move(slice->png_bytes);
        return out;
      case dicom::convert_outcome::skipped_thickness:
        out.skipped = true;
        out.reason = std::move(slice->reason);
        return out;
      case dicom::convert_outcome::skipped_not_image:
        return core::fail(core::error_code::unsupported_dicom, slice->reason);
      case dicom::convert_outcome::failed:
        return core::fail(core::error_code::corrupt_dicom, slice->reason);
    }
    return core::fail(core::error_code::internal, "unknown conversion outcome");
  };
}

std::string_view outcome_name(item_outcome o) noexcept {
  switch (o) {
    case item_outcome::ok:
      return "ok";
    case item_outcome::skipped:
      return "skipped";
    case item_outcome::failed:
      return "failed";
    case item_outcome::not_attempted:
      return "not_attempted";
  }
  return "unknown";
}

namespace {

// JSON lines, appended with one write(2) per line (O_APPEND): a killed run leaves whole
// lines, and concurrent writers do not interleave within a line.
// Opened at the first line, so that a run refused at once (wrong secret) writes nothing.
class item_log {
 public:
  explicit item_log(fs::path path) : path_(std::move(path)) {}
  ~item_log() {
    if (fd_ >= 0) ::close(fd_);
  }
  item_log(const item_log&) = delete;
  item_log& operator=(const item_log&) = delete;

  void write(const download_item& item, const item_report& r) {
    if (path_.empty()) return;
    core::json_writer w;
    w.begin_object();
    w.field("row", static_cast<std::uint64_t>(item.row.line));
    w.field("id", core::to_string(item.row.id));
    w.field("class", feedback_class_name(item.row.cls));
    auto where = fetch::parse_location(item.row.url);
    w.field("url", where ? fetch::display_name(*where) : fetch::redact_url(item.row.url));
    w.field("outcome", outcome_name(r.outcome));
    w.field("reason", r.reason);
    w.field("bytes", r.bytes);
    w.field("attempts", r.attempts);
    if (!r.warnings.empty()) {
      w.key("warnings");
      w.begin_array();
      for (const auto& warning : r.warnings) w.value(warning);
      w.end_array();
    }
    w.key("ms");
    w.value(static_cast<std::int64_t>(r.ms + 0.5));
    w.end_object();
    auto line = w.take();
    line.push_back('\n');
    std::lock_guard lock(mutex_);
    if (fd_ < 0 && !failed_) {
      std::error_code ec;
      if (path_.has_parent_path()) fs::create_directories(path_.parent_path(), ec);
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      failed_ = fd_ < 0;
    }
    if (fd_ < 0) return;
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
      const auto n = ::write(fd_, p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }

 private:
  fs::path path_;
  int fd_ = -1;
  bool failed_ = false;
  std::mutex mutex_;
};

struct job {
  std::size_t item = 0;
  std::string body;
  std::string origin;      // names the object in conversion errors
  fetch::get_result meta;  // body moved out
};

}  // namespace

core::result<download_report> run_download(const download_plan& plan,
                                           const download_options& options) {
  if (options.convert && !options.convert_fn) {
    return core::fail(core::error_code::internal, "download: no converter");
  }
  if (!options.convert && options.keep_dicom.empty()) {
    return core::fail(core::error_code::bad_argument, "--no-convert needs --keep-dicom DIR");
  }
  // Folders are made by the first write (nothing is written when every request is
  // refused); check now that they can be.
  for (const auto* dir : {&options.output_dir, &options.keep_dicom, &options.log_path}) {
    if (dir->empty() || (dir == &options.output_dir && !options.convert)) continue;
    std::error_code ec;
    fs::path p = fs::absolute(dir == &options.log_path ? dir->parent_path() : *dir, ec);
    while (!fs::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) p = p.parent_path();
    if (!fs::is_directory(p, ec) || ::access(p.c_str(), W_OK) != 0) {
      return core::fail(core::error_code::not_writable,
                        fmt::format("cannot write into '{}'", dir->string()));
    }
  }
  item_log log(options.log_path);

  const auto started = std::chrono::steady_clock::now();
  download_report report;
  report.items.resize(plan.items.size());
  std::mutex report_mutex;
  std::atomic<bool> stopped_by_auth{false};
  auto record = [&](std::size_t i, item_report&& r) {
    if (!stopped_by_auth) log.write(plan.items[i], r);
    if (options.progress != nullptr) options.progress->add_bytes(r.bytes);
    {
      std::lock_guard lock(report_mutex);
      report.items[i] = std::move(r);
    }
    if (options.progress != nullptr) options.progress->advance();
  };

  // Locations; a URL we cannot use fails its item at once.
  std::vector<fetch::location> locations;
  std::vector<std::size_t> item_of;  // location index -> plan item
  for (std::size_t i = 0; i < plan.items.size(); ++i) {
    auto where = fetch::parse_location(plan.items[i].row.url);
    if (!where) {
      item_report r;
      r.outcome = item_outcome::failed;
      r.failure = fetch::failure_kind::invalid;
      r.reason = fmt::format("bad image_url: {}", where.error().message);
      record(i, std::move(r));
      continue;
    }
    locations.push_back(std::move(*where));
    item_of.push_back(i);
  }

  // Conversion workers: fetched bodies queue here while other transfers go on.
  const unsigned workers =
      options.convert ? std::max(1u, core::resolve_jobs(options.convert_threads)) : 1u;
  const std::size_t queue_cap = static_cast<std::size_t>(workers) * 2 + 2;
  std::deque<job> queue;
  std::mutex queue_mutex;
  std::condition_variable queue_cv;
  bool closing = false;

  auto process = [&](job&& j) {
    const auto& item = plan.items[j.item];
    item_report r;
    r.bytes = j.body.size();
    r.attempts = j.meta.attempts;
    r.ms = j.meta.ms;
    const auto stem = core::to_string(item.row.id);
    if (!options.keep_dicom.empty()) {
      if (auto ok = core::write_file_atomic(options.keep_dicom / (stem + ".dcm"), j.body); !ok) {
        r.outcome = item_outcome::failed;
        r.failure = fetch::failure_kind::local;
        r.reason = ok.error().message;
        record(j.item, std::move(r));
        return;
      }
    }
    if (!options.convert) {
      r.outcome = item_outcome::ok;
      record(j.item, std::move(r));
      return;
    }
    auto c = options.convert_fn(j.body, j.origin);
    if (!c) {
      r.outcome = item_outcome::failed;
      r.reason = c.error().message;
    } else if (c->skipped) {
      r.outcome = item_outcome::skipped;
      r.reason = c->reason;
      r.warnings = std::move(c->warnings);
    } else if (auto ok = core::write_file_atomic(options.output_dir / item.file_name, c->png);
               !ok) {
      r.outcome = item_outcome::failed;
      r.failure = fetch::failure_kind::local;
      r.reason = ok.error().message;
    } else {
      r.outcome = item_outcome::ok;
      r.warnings = std::move(c->warnings);
    }
    record(j.item, std::move(r));
  };

  // --no-convert: bodies go straight from the socket to <keep-dicom>/<id>.dcm (no
  // copy in memory, no worker threads), as curl does.
  fetch::transfer_options transfer = options.transfer;
  if (!options.convert) {
    transfer.stream_to = [&](std::size_t k) {
      return options.keep_dicom / (core::to_string(plan.items[item_of[k]].row.id) + ".dcm");
    };
  }

  std::vector<std::thread> pool;
  pool.reserve(workers);
  for (unsigned t = 0; t < workers; ++t) {
    pool.emplace_back([&] {
      for (;;) {
        job j;
        {
          std::unique_lock lock(queue_mutex);
          queue_cv.wait(lock, [&] { return closing || !queue.empty(); });
          if (queue.empty()) return;
          j = std::move(queue.front());
          queue.pop_front();
        }
        queue_cv.notify_all();
        process(std::move(j));
      }
    });
  }

  fetch::get_callbacks callbacks;
  callbacks.admit = [&] {
    std::lock_guard lock(queue_mutex);
    return queue.size() < queue_cap;
  };
  callbacks.on_done = [&](std::size_t k, fetch::get_result&& g) {
    const std::size_t i = item_of[k];
    if (!g.ok) {
      if (g.fatal_auth || stopped_by_auth) {
        // Refused credentials: reported once as the run's error, not per item.
        if (!report.fatal) {
          report.fatal = core::error::make(core::error_code::auth,
                                           fmt::format("credentials refused: {} for '{}'", g.reason,
                                                       fetch::display_name(locations[k])));
        }
        stopped_by_auth = true;
        item_report r;
        r.outcome = item_outcome::failed;
        r.failure = g.kind;
        r.reason = g.reason;
        r.attempts = g.attempts;
        r.ms = g.ms;
        record(i, std::move(r));
        return false;
      }
      item_report r;
      r.outcome = item_outcome::failed;
      r.failure = g.kind;
      r.reason = g.reason;
      r.attempts = g.attempts;
      r.ms = g.ms;
      record(i, std::move(r));
      return true;
    }
    if (!options.convert && locations[k].kind != fetch::location_kind::file) {  // streamed
      item_report r;
      r.outcome = item_outcome::ok;
      r.bytes = g.bytes;
      r.attempts = g.attempts;
      r.ms = g.ms;
      record(i, std::move(r));
      return true;
    }
    job j;
    j.item = i;
    j.body = std::move(g.body);
    j.origin = fetch::display_name(locations[k]);
    j.meta = std::move(g);
    {
      std::lock_guard lock(queue_mutex);
      queue.push_back(std::move(j));
    }
    queue_cv.notify_one();
    return true;
  };
  (void)fetch::get_all(locations, transfer, callbacks, options.cancel);
  {
    std::lock_guard lock(queue_mutex);
    closing = true;
  }
  queue_cv.notify_all();
  for (auto& t : pool) t.join();

  for (auto& r : report.items) {
    switch (r.outcome) {
      case item_outcome::ok:
        ++report.ok;
        break;
      case item_outcome::skipped:
        ++report.skipped;
        break;
      case item_outcome::failed:
        ++report.failed;
        break;
      case item_outcome::not_attempted:
        ++report.not_attempted;
        break;
    }
    report.bytes += r.bytes;
  }
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace ctprep::pipeline

#include "ctprep/pipeline/shards.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <simdjson.h>

#include "ctprep/core/files.hpp"
#include "ctprep/core/json_writer.hpp"
#include "ctprep/core/rng.hpp"

namespace ctprep::pipeline {
namespace fs = std::filesystem;

namespace {

std::string shard_stem(const shard_spec& shard) {
  return fmt::format("{}-of-{}", shard.index, shard.count);
}

std::string describe(const shard_spec& shard) {
  return fmt::format("shard {}/{}", shard.index, shard.count);
}

item_outcome outcome_from_name(std::string_view name) {
  if (name == "ok") return item_outcome::ok;
  if (name == "skipped") return item_outcome::skipped;
  if (name == "failed") return item_outcome::failed;
  return item_outcome::not_attempted;
}

struct logged {
  item_outcome outcome = item_outcome::not_attempted;
  std::string reason;
};

// The last outcome logged per slice id (a re-run appends: the latest line wins).
// A line that does not parse (a disk that filled up) is ignored: the item then has no
// outcome and the shard is reported incomplete.
std::map<std::string, logged> read_log(const fs::path& path) {
  std::map<std::string, logged> out;
  auto text = core::read_file(path);
  if (!text) return out;
  simdjson::dom::parser parser;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    simdjson::padded_string padded(line);
    simdjson::dom::element e;
    if (parser.parse(padded).get(e)) continue;
    std::string_view id, outcome, reason;
    if (e["id"].get(id) || e["outcome"].get(outcome)) continue;
    if (e["reason"].get(reason)) reason = {};
    out[std::string(id)] = {outcome_from_name(outcome), std::string(reason)};
  }
  return out;
}

}  // namespace

fs::path shard_state_path(const fs::path& dir, const shard_spec& shard) {
  return dir / shard_folder_name / (shard_stem(shard) + ".json");
}

fs::path shard_log_path(const fs::path& dir, const shard_spec& shard) {
  return dir / shard_folder_name / (shard_stem(shard) + ".log.jsonl");
}

shard_state make_shard_state(const download_plan& whole, const shard_spec& shard,
                             const fs::path& log, std::string_view extension) {
  shard_state s;
  s.shard = shard;
  s.log = log;
  s.extension = std::string(extension);
  s.plan_total = whole.items.size();
  std::string ids;
  for (std::size_t i = 0; i < whole.items.size(); ++i) {
    auto id = core::to_string(whole.items[i].row.id);
    ids += id;
    ids.push_back('\n');
    if (shard_of(whole.items[i].row.id, shard.count) == shard.index) {
      s.items.push_back({static_cast<std::uint64_t>(i), std::move(id)});
    }
  }
  ids += extension;
  s.plan_digest = fmt::format("{:016x}", core::stable_hash(ids));
  return s;
}

core::result<void> write_shard_state(const fs::path& path, const shard_state& state) {
  core::json_writer w;
  w.begin_object();
  w.field("shard", state.shard.index);
  w.field("count", state.shard.count);
  w.field("status", state.done ? "done" : "running");
  w.field("plan_digest", state.plan_digest);
  w.field("plan_total", state.plan_total);
  w.field("extension", state.extension);
  w.field("log", state.log.string());
  w.key("items");
  w.begin_array();
  for (const auto& item : state.items) {
    w.begin_array();
    w.value(item.position);
    w.value(item.id);
    w.end_array();
  }
  w.end_array();
  w.end_object();
  auto text = w.take();
  text.push_back('\n');
  return core::write_file_atomic(path, text);
}

core::result<shard_state> read_shard_state(const fs::path& path) {
  auto text = core::read_file(path);
  if (!text) return tl::unexpected(text.error());
  auto bad = [&](std::string_view what) {
    return core::fail(core::error_code::malformed_json,
                      fmt::format("'{}' is not a ctprep shard record: {}", path.string(), what));
  };
  simdjson::dom::parser parser;
  simdjson::padded_string padded(*text);
  simdjson::dom::object root;
  if (parser.parse(padded).get(root)) return bad("not JSON");
  shard_state s;
  std::string_view status, digest, extension, log;
  simdjson::dom::array items;
  if (root["shard"].get(s.shard.index) || root["count"].get(s.shard.count) ||
      root["status"].get(status) || root["plan_digest"].get(digest) ||
      root["plan_total"].get(s.plan_total) || root["extension"].get(extension) ||
      root["log"].get(log) || root["items"].get(items)) {
    return bad("a field is missing");
  }
  s.done = status == "done";
  s.plan_digest = std::string(digest);
  s.extension = std::string(extension);
  s.log = fs::path(std::string(log));
  for (auto item : items) {
    simdjson::dom::array pair;
    shard_item si;
    std::string_view id;
    if (item.get(pair) || pair.size() != 2 || pair.at(0).get(si.position) || pair.at(1).get(id)) {
      return bad("an item is not [position, id]");
    }
    si.id = std::string(id);
    s.items.push_back(std::move(si));
  }
  return s;
}

std::vector<std::uint64_t> merge_check::incomplete() const {
  std::vector<std::uint64_t> out;
  for (const auto& s : shards) {
    if (!s.problem.empty()) out.push_back(s.index);
  }
  return out;
}

core::result<merge_check> check_shards(const fs::path& dir, std::uint64_t count, unsigned jobs) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return core::fail(core::error_code::not_found,
                      fmt::format("output folder '{}' does not exist", dir.string()));
  }
  merge_check out;
  out.count = count;
  std::vector<std::optional<shard_state>> states(count);
  std::map<std::string, std::size_t> digests;
  for (std::uint64_t k = 0; k < count; ++k) {
    const shard_spec spec{k, count};
    shard_status status;
    status.index = k;
    const auto path = shard_state_path(dir, spec);
    if (!fs::exists(path, ec)) {
      status.problem = fmt::format("{}: never ran (no record '{}')", describe(spec), path.string());
    } else if (auto s = read_shard_state(path); !s) {
      status.problem = fmt::format("{}: {}", describe(spec), s.error().message);
    } else if (s->shard.index != k || s->shard.count != count) {
      status.problem = fmt::format("{}: record '{}' names shard {}/{}", describe(spec),
                                   path.string(), s->shard.index, s->shard.count);
    } else {
      ++digests[s->plan_digest];
      states[k] = std::move(*s);
    }
    out.shards.push_back(std::move(status));
  }
  // The digest most shards agree on (ties: the smallest, for a stable message).
  std::string reference;
  std::size_t best = 0;
  for (const auto& [digest, n] : digests) {
    if (n > best) {
      best = n;
      reference = digest;
    }
  }
  for (const auto& s : states) {
    if (s && s->plan_digest == reference) {
      out.extension = s->extension;
      out.plan_total = s->plan_total;
      break;
    }
  }

  // Only the files of shards that say they are done: the temp files of a shard still
  // running are not leftovers.
  std::set<std::uint64_t> done;
  for (std::uint64_t k = 0; k < count; ++k) {
    if (states[k] && states[k]->done) done.insert(k);
  }
  const auto finished =
      scan_finished(dir, out.extension == ".dcm", jobs,
                    [&](const core::slice_id& id) { return done.contains(shard_of(id, count)); });
  out.temp_files_removed = finished.temp_files_removed;
  const std::set<std::string> broken(finished.broken.begin(), finished.broken.end());
  std::map<fs::path, std::map<std::string, logged>> logs;  // shards may share one log

  for (std::uint64_t k = 0; k < count; ++k) {
    auto& status = out.shards[k];
    if (!states[k]) continue;
    const auto& s = *states[k];
    const shard_spec spec{k, count};
    if (s.plan_digest != reference) {
      status.problem = fmt::format(
          "{}: planned from other inputs than the other shards (plan digest {} vs {}): re-run "
          "it with the same CSV and options",
          describe(spec), s.plan_digest, reference);
      continue;
    }
    if (!s.done) {
      status.problem = fmt::format(
          "{}: its last run did not finish (killed, cancelled or still running): re-run it",
          describe(spec));
    }
    if (!s.log.empty() && !logs.contains(s.log)) logs.emplace(s.log, read_log(s.log));
    static const std::map<std::string, logged> no_log;
    const auto& log = s.log.empty() ? no_log : logs.at(s.log);
    std::string first_missing;
    for (const auto& item : s.items) {
      merged_item m;
      m.position = item.position;
      m.shard = k;
      m.id = item.id;
      const auto file_name = item.id + s.extension;
      auto parsed = core::parse_slice_identity(file_name);
      const auto logged_at = log.find(item.id);
      if (parsed && finished.ids.contains(*parsed)) {
        m.outcome = item_outcome::ok;
      } else if (logged_at != log.end() && (logged_at->second.outcome == item_outcome::skipped ||
                                            logged_at->second.outcome == item_outcome::failed)) {
        m.outcome = logged_at->second.outcome;
        m.reason = logged_at->second.reason;
      } else {
        m.outcome = item_outcome::not_attempted;
        m.reason = broken.contains(file_name) ? fmt::format("'{}' does not decode", file_name)
                   : logged_at != log.end()
                       ? fmt::format("logged {} but '{}' is missing",
                                     outcome_name(logged_at->second.outcome), file_name)
                       : std::string("no outcome yet");
        if (first_missing.empty()) first_missing = fmt::format("'{}': {}", file_name, m.reason);
      }
      ++status.planned;
      switch (m.outcome) {
        case item_outcome::ok:
          ++status.ok;
          break;
        case item_outcome::skipped:
          ++status.skipped;
          break;
        case item_outcome::failed:
          ++status.failed;
          break;
        case item_outcome::not_attempted:
          ++status.missing;
          break;
      }
      out.items.push_back(std::move(m));
    }
    if (status.problem.empty() && status.missing > 0) {
      status.problem = fmt::format("{}: {} of {} items have no outcome (first {})", describe(spec),
                                   status.missing, status.planned, first_missing);
    }
  }
  std::sort(out.items.begin(), out.items.end(),
            [](const merged_item& a, const merged_item& b) { return a.position < b.position; });
  for (const auto& s : out.shards) {
    out.ok += s.ok;
    out.skipped += s.skipped;
    out.failed += s.failed;
    out.missing += s.missing;
  }
  return out;
}

std::string merge_summary_json(const merge_check& check) {
  core::json_writer w(1);
  w.begin_object();
  w.field("shards", check.count);
  w.field("plan_total", check.plan_total);
  w.field("complete", check.incomplete().empty());
  w.field("ok", static_cast<std::uint64_t>(check.ok));
  w.field("skipped", static_cast<std::uint64_t>(check.skipped));
  w.field("failed", static_cast<std::uint64_t>(check.failed));
  w.field("missing", static_cast<std::uint64_t>(check.missing));
  w.key("per_shard");
  w.begin_array();
  for (const auto& s : check.shards) {
    w.begin_object();
    w.field("shard", s.index);
    w.field("planned", static_cast<std::uint64_t>(s.planned));
    w.field("ok", static_cast<std::uint64_t>(s.ok));
    w.field("skipped", static_cast<std::uint64_t>(s.skipped));
    w.field("failed", static_cast<std::uint64_t>(s.failed));
    w.field("missing", static_cast<std::uint64_t>(s.missing));
    if (!s.problem.empty()) w.field("problem", s.problem);
    w.end_object();
  }
  w.end_array();
  w.key("not_ok");
  w.begin_array();
  for (const auto& item : check.items) {
    if (item.outcome == item_outcome::ok) continue;
    w.begin_object();
    w.field("position", item.position);
    w.field("id", item.id);
    w.field("shard", item.shard);
    w.field("outcome", item.outcome == item_outcome::not_attempted ? std::string_view("missing")
                                                                   : outcome_name(item.outcome));
    w.field("reason", item.reason);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  auto text = w.take();
  text.push_back('\n');
  return text;
}

}  // namespace ctprep::pipeline

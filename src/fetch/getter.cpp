#include "ctprep/fetch/getter.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <curl/curl.h>
#include <fmt/format.h>

#include "ctprep/core/files.hpp"
#include "ctprep/core/rng.hpp"
#include "ctprep/fetch/md5.hpp"
#include "s3_signing.hpp"

namespace ctprep::fetch {
namespace {
using clock = std::chrono::steady_clock;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// The text of <Tag>...</Tag> in an S3 XML error body.
std::string xml_tag(std::string_view body, std::string_view tag) {
  const auto open = fmt::format("<{}>", tag);
  const auto close = fmt::format("</{}>", tag);
  const auto a = body.find(open);
  if (a == std::string_view::npos) return {};
  const auto b = body.find(close, a + open.size());
  if (b == std::string_view::npos) return {};
  auto text = std::string(body.substr(a + open.size(), b - a - open.size()));
  if (text.size() > 200) text.resize(200);
  return text;
}

// A single-part upload's ETag is the MD5 of the object ("<32 hex>", quotes optional);
// multipart ETags carry "-<parts>" and are not checked.
std::optional<std::string> md5_etag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  const bool md5_like =
      etag.size() == 32 && std::all_of(etag.begin(), etag.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      });
  if (!md5_like) return std::nullopt;
  return lower(etag);
}

// Bodies of the transfers in flight are hashed together (fetch/md5.hpp: 16 streams side
// by side): the bytes not yet absorbed stay in memory (the staging buffer of a streamed
// body, or the body) until a transfer finishes or more than this has piled up.
constexpr std::size_t md5_pending_cap = std::size_t{4} << 20;
// And when at least md5_batch_lanes transfers have md5_batch_bytes waiting: lanes then
// hold similar amounts, so few blocks are left to the scalar kernel when one finishes.
constexpr std::size_t md5_batch_bytes = std::size_t{32} << 10;
constexpr std::size_t md5_batch_lanes = 8;

// A streamed body goes to its file in writes of whole 4 KB pages, at least this much at
// a time (and the rest at the end). libcurl hands the body over in pieces of at most
// 16 KB that do not start on a page: written as they come, ext4 zeroes the rest of each
// fresh page-cache folio at every write (measured: 6.5% of the fetch stage's CPU, and
// 14,000 write calls for the bench's 210 MB).
constexpr std::size_t write_chunk = std::size_t{256} << 10;
constexpr std::size_t page = 4096;

struct transfer {
  std::size_t index = 0;
  bool s3 = false;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;
  long status = 0;
  std::optional<std::size_t> content_length;
  std::string etag;
  std::string bucket_region;  // x-amz-bucket-region (wrong-region hint)
  bool too_big = false;
  std::size_t max_body = 0;
  char errbuf[CURL_ERROR_SIZE] = {};
  // Streaming to a file: the temp file and its final name.
  std::filesystem::path final_path;
  std::filesystem::path temp_path;
  int fd = -1;
  std::size_t streamed = 0;
  bool write_failed = false;
  // Streamed bytes not yet written (from stage_written) or not yet hashed (from
  // stage_absorbed); stage[0] is byte stage_base of the body.
  std::string stage;
  std::size_t stage_written = 0;
  std::size_t stage_absorbed = 0;
  // The MD5 of a 2xx S3 body whose ETag is an MD5, computed on the way (batched).
  bool md5_decided = false;
  bool md5_wanted = false;
  md5_state md5;
  std::size_t md5_absorbed = 0;  // in-memory body: bytes absorbed so far
  std::string body_md5;          // hex, filled before judging
  long response_code = 0;        // from the status line, to stream only a 2xx body
  bool opened = false;
  [[nodiscard]] bool streaming() const { return opened; }
  [[nodiscard]] std::size_t size() const { return opened ? streamed : body.size(); }
  // Opens the temp file at the first byte of a 2xx body (so a refused request writes
  // nothing, not even a folder).
  bool open_file() {
    opened = true;
    std::error_code ec;
    if (final_path.has_parent_path())
      std::filesystem::create_directories(final_path.parent_path(), ec);
    fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) write_failed = true;
    return fd >= 0;
  }
  void close_file() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  // At the first byte of the body (or at the end of an empty one): hash it only if it
  // is a 2xx S3 answer whose ETag is an MD5.
  void decide_md5() {
    if (md5_decided) return;
    md5_decided = true;
    md5_wanted = s3 && response_code >= 200 && response_code < 300 && md5_etag(etag).has_value();
  }
  [[nodiscard]] std::string_view md5_unabsorbed() const {
    if (!md5_wanted) return {};
    return opened ? std::string_view(stage).substr(stage_absorbed)
                  : std::string_view(body).substr(md5_absorbed);
  }
  // `blocks` whole blocks of md5_unabsorbed() went into md5.
  void md5_consumed(std::size_t blocks) {
    if (opened) {
      stage_absorbed += 64 * blocks;
    } else {
      md5_absorbed += 64 * blocks;
    }
  }
  // Drops from the staging buffer what is both written and hashed. Called only when the
  // buffer would grow otherwise: a body that fits the reservation made from its
  // Content-Length is never moved.
  void compact_stage() {
    const std::size_t done = md5_wanted ? std::min(stage_written, stage_absorbed) : stage_written;
    if (done == 0) return;
    stage.erase(0, done);
    stage_written -= done;
    stage_absorbed -= std::min(stage_absorbed, done);
  }
  // Writes the staged bytes: whole pages only unless `all`. False on a write error.
  bool write_stage(bool all) {
    std::size_t left = stage.size() - stage_written;
    if (!all) left -= left % page;
    const char* p = stage.data() + stage_written;
    while (left > 0) {
      const auto w = ::write(fd, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        write_failed = true;
        return false;
      }
      p += w;
      left -= static_cast<std::size_t>(w);
      stage_written += static_cast<std::size_t>(w);
    }
    return true;
  }
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  const auto n = size * count;
  if (t->size() + n > t->max_body) {
    t->too_big = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  if (!t->opened && !t->temp_path.empty() && t->response_code >= 200 && t->response_code < 300) {
    if (!t->open_file()) return 0;
  }
  t->decide_md5();
  if (t->fd >= 0) {
    if (t->stage.size() + n > t->stage.capacity()) t->compact_stage();
    t->stage.append(data, n);
    t->streamed += n;
    if (t->stage.size() - t->stage_written >= write_chunk && !t->write_stage(false)) return 0;
    return n;
  }
  t->body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  const auto n = size * count;
  const std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {  // a new response (after 100-continue or a redirect)
    const auto sp = line.find(' ');
    t->response_code = 0;
    for (std::size_t i = sp == std::string_view::npos ? line.size() : sp + 1;
         i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
      t->response_code = t->response_code * 10 + (line[i] - '0');
    }
    t->content_length.reset();
    t->etag.clear();
    t->bucket_region.clear();
    return n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  const auto name = lower(trim(line.substr(0, colon)));
  const auto value = trim(line.substr(colon + 1));
  if (name == "content-length") {
    std::size_t v = 0;
    bool ok = !value.empty();
    for (char c : value) {
      if (c < '0' || c > '9')
        ok = false;
      else
        v = v * 10 + static_cast<std::size_t>(c - '0');
    }
    if (ok) {
      t->content_length = v;
      if (v <= t->max_body) {
        if (!t->temp_path.empty()) {  // streamed: the bytes waiting to be written or hashed
          t->stage.reserve(std::min(v, md5_pending_cap + (std::size_t{1} << 20)));
        } else if (t->body.capacity() < v) {
          t->body.reserve(v);
        }
      }
    }
  } else if (name == "etag") {
    t->etag = std::string(value);
  } else if (name == "x-amz-bucket-region") {
    t->bucket_region = std::string(value);
  }
  return n;
}

struct retry_entry {
  clock::time_point due;
  std::size_t index;
  bool operator>(const retry_entry& o) const { return due > o.due; }
};

struct item_state {
  int attempts = 0;
  clock::time_point first_start{};
  std::string region_override;  // from x-amz-bucket-region after a wrong-region answer
  bool region_retried = false;
};

struct verdict {
  bool ok = false;
  bool retry = false;
  bool retry_now = false;  // wrong region: retry at once with the region S3 named
  failure_kind kind = failure_kind::none;
  std::string reason;
  bool fatal_auth = false;
};

verdict judge(CURLcode code, transfer& t, const location& where, item_state& state) {
  verdict v;
  if (code != CURLE_OK) {
    const std::string detail =
        t.errbuf[0] != '\0' ? std::string(t.errbuf) : curl_easy_strerror(code);
    v.kind = failure_kind::network;
    v.retry = true;
    switch (code) {
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
        v.reason = "DNS: " + detail;
        break;
      case CURLE_COULDNT_CONNECT:
        v.reason = "connection failed: " + detail;
        break;
      case CURLE_OPERATION_TIMEDOUT:
        v.reason = "timeout: " + detail;
        break;
      case CURLE_PARTIAL_FILE:
        v.reason = "short body: " + detail;
        break;
      case CURLE_RECV_ERROR:
      case CURLE_SEND_ERROR:
        v.reason = "connection reset: " + detail;
        break;
      case CURLE_GOT_NOTHING:
        v.reason = "empty reply: " + detail;
        break;
      case CURLE_WRITE_ERROR:
        if (t.write_failed) {
          v.kind = failure_kind::local;
          v.retry = false;
          v.reason = fmt::format("cannot write '{}'", t.temp_path.string());
          break;
        }
        if (t.too_big) {
          v.kind = failure_kind::invalid;
          v.retry = false;
          v.reason = fmt::format("body larger than {} bytes", t.max_body);
          break;
        }
        [[fallthrough]];
      default:
        v.reason = detail;
        if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
            code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT) {
          v.retry = false;
        }
    }
    return v;
  }
  const long status = t.status;
  if (status >= 200 && status < 300) {
    if (t.content_length && *t.content_length != t.size()) {
      v.kind = failure_kind::integrity;
      v.retry = true;
      v.reason = fmt::format("short body: {} of {} bytes", t.size(), *t.content_length);
      return v;
    }
    if (where.kind == location_kind::s3) {
      const auto expected = md5_etag(t.etag);
      if (expected && (t.body_md5.empty() ? md5_hex(t.body) : t.body_md5) != *expected) {
        v.kind = failure_kind::integrity;
        v.retry = true;
        v.reason = "MD5 of the body does not match the ETag";
        return v;
      }
    }
    v.ok = true;
    return v;
  }
  const std::string code_name = xml_tag(t.body, "Code");
  v.reason =
      code_name.empty() ? fmt::format("HTTP {}", status) : fmt::format("{} {}", status, code_name);
  if (where.kind == location_kind::s3 && !t.bucket_region.empty() && !state.region_retried &&
      (status == 301 || status == 400 || status == 307)) {
    state.region_override = t.bucket_region;
    state.region_retried = true;
    v.retry = true;
    v.retry_now = true;
    v.kind = failure_kind::http;
    v.reason += fmt::format(" (bucket is in {})", t.bucket_region);
    return v;
  }
  if (status >= 500 || status == 429 || code_name == "RequestTimeout" || code_name == "SlowDown") {
    v.kind = failure_kind::network;
    v.retry = true;
    return v;
  }
  if (status == 401 || status == 403) {
    v.kind = failure_kind::auth;
    v.fatal_auth = code_name == "SignatureDoesNotMatch" || code_name == "InvalidAccessKeyId" ||
                   code_name == "ExpiredToken" || code_name == "InvalidToken" ||
                   code_name == "TokenRefreshRequired" ||
                   code_name == "AuthorizationHeaderMalformed";
    return v;
  }
  if (status == 404) {
    v.kind = failure_kind::not_found;
    return v;
  }
  v.kind = failure_kind::http;
  return v;
}

class engine {
 public:
  engine(std::span<const location> items, const transfer_options& options,
         const get_callbacks& callbacks, const std::atomic<bool>* cancel)
      : items_(items),
        options_(options),
        callbacks_(callbacks),
        cancel_(cancel),
        states_(items.size()),
        jitter_(options.jitter_seed) {
    global_init();
    multi_ = curl_multi_init();
    const long per_host = static_cast<long>(std::max(1u, options.max_in_flight));
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, per_host);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, per_host + 4);
  }
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;
  ~engine() {
    for (auto& t : active_) {
      curl_multi_remove_handle(multi_, t->easy);
      release(std::move(t));
    }
    for (CURL* e : idle_) curl_easy_cleanup(e);
    curl_multi_cleanup(multi_);
  }

  std::size_t run() {
    const unsigned limit = std::max(1u, options_.max_in_flight);
    for (;;) {
      const bool cancelled = stop_ || (cancel_ != nullptr && cancel_->load());
      // Start what may start.
      while (!cancelled && active_.size() < limit && (!callbacks_.admit || callbacks_.admit())) {
        std::optional<std::size_t> next;
        if (!retries_.empty() && retries_.top().due <= clock::now()) {
          next = retries_.top().index;
          retries_.pop();
        } else if (next_new_ < items_.size()) {
          next = next_new_++;
        }
        if (!next) break;
        start(*next);
        if (stop_) break;
      }
      if (active_.empty()) {
        if (cancelled || stop_) break;
        if (retries_.empty() && next_new_ >= items_.size()) break;
        // Waiting for a retry to be due, or for the consumer to admit more.
        auto wait = std::chrono::milliseconds(20);
        if (!retries_.empty() && (!callbacks_.admit || callbacks_.admit())) {
          const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
              retries_.top().due - clock::now());
          wait = std::clamp(until, std::chrono::milliseconds(0), std::chrono::milliseconds(200));
        }
        std::this_thread::sleep_for(wait);
        continue;
      }
      int running = 0;
      curl_multi_perform(multi_, &running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        finish(msg->easy_handle, msg->data.result);
      }
      std::size_t ready = 0;
      bool over_cap = false;
      for (const auto& t : active_) {
        const auto waiting = t->md5_unabsorbed().size();
        ready += waiting >= md5_batch_bytes ? 1 : 0;
        over_cap = over_cap || waiting > md5_pending_cap;
      }
      if (over_cap || ready >= md5_batch_lanes) absorb_md5(nullptr);
      if (!active_.empty()) {
        int timeout_ms = 100;
        if (!retries_.empty()) {
          const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
              retries_.top().due - clock::now());
          timeout_ms = static_cast<int>(std::clamp<long long>(until.count(), 0, 100));
        }
        if (callbacks_.admit && active_.size() < limit) timeout_ms = std::min(timeout_ms, 10);
        curl_multi_poll(multi_, nullptr, 0, timeout_ms, nullptr);
      }
    }
    return reported_;
  }

 private:
  // Absorbs the whole blocks received so far by every transfer in flight (and by
  // `finishing`, already out of active_), side by side.
  void absorb_md5(transfer* finishing) {
    std::vector<transfer*> who;
    if (finishing != nullptr) who.push_back(finishing);
    for (const auto& t : active_) {
      if (t.get() != finishing && t->md5_unabsorbed().size() >= 64) who.push_back(t.get());
    }
    md5_jobs_.clear();
    for (auto* t : who) {
      const auto data = t->md5_unabsorbed();
      md5_jobs_.push_back(
          {&t->md5, reinterpret_cast<const unsigned char*>(data.data()), data.size() / 64});
    }
    md5_absorb(md5_jobs_);
    for (std::size_t i = 0; i < who.size(); ++i) who[i]->md5_consumed(md5_jobs_[i].blocks);
  }

  void report(std::size_t index, get_result&& r) {
    ++reported_;
    if (callbacks_.on_done && !callbacks_.on_done(index, std::move(r))) stop_ = true;
  }

  void start(std::size_t index) {
    const location& where = items_[index];
    auto& state = states_[index];
    if (state.attempts == 0) state.first_start = clock::now();
    ++state.attempts;
    if (where.kind == location_kind::file) {
      get_result r;
      r.attempts = state.attempts;
      auto bytes = core::read_file(where.path);
      r.ms = elapsed_ms(state);
      if (bytes) {
        r.ok = true;
        r.bytes = bytes->size();
        r.body = std::move(*bytes);
      } else {
        r.kind = bytes.error().code == core::error_code::not_found ? failure_kind::not_found
                                                                   : failure_kind::local;
        r.reason = bytes.error().code == core::error_code::not_found ? std::string("file not found")
                                                                     : bytes.error().message;
      }
      report(index, std::move(r));
      return;
    }
    auto t = std::make_unique<transfer>();
    t->index = index;
    t->s3 = where.kind == location_kind::s3;
    t->max_body = options_.max_body_bytes;
    if (options_.stream_to) t->final_path = options_.stream_to(index);
    if (!t->final_path.empty()) {
      t->temp_path = t->final_path.parent_path() / fmt::format(".{}.tmp.{}.{}",
                                                               t->final_path.filename().string(),
                                                               ::getpid(), ++temp_counter_);
    }
    t->easy = acquire();
    CURL* e = t->easy;
    std::string url;
    if (where.kind == location_kind::s3) {
      const std::string& region = !state.region_override.empty() ? state.region_override
                                  : !where.region.empty()        ? where.region
                                                                 : options_.region;
      url = s3_object_url(options_.endpoint, where.bucket, where.key, region);
      if (options_.creds) {
        t->headers = detail::sign_s3_request(e, *options_.creds, region, detail::empty_body_sha256,
                                             t->headers);
      }
    } else {
      url = where.url;
      curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    }
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    if (t->headers != nullptr) curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    detail::apply_transfer_options(e, options_, t->errbuf);
    // curl's own tool reads with 100 KB buffers: a sixth of the recv calls and body
    // callbacks of libcurl's default 16 KB.
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 102400L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_multi_add_handle(multi_, e);
    active_.push_back(std::move(t));
  }

  void finish(CURL* easy, CURLcode code) {
    transfer* raw = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &raw);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &raw->status);
    curl_multi_remove_handle(multi_, easy);
    auto it =
        std::find_if(active_.begin(), active_.end(), [&](const auto& p) { return p.get() == raw; });
    std::unique_ptr<transfer> t = std::move(*it);
    active_.erase(it);
    const std::size_t index = t->index;
    auto& state = states_[index];
    if (code == CURLE_OK && t->status >= 200 && t->status < 300) {
      t->decide_md5();
      if (t->md5_wanted) {
        absorb_md5(t.get());
        t->body_md5 = md5_finish_hex(t->md5, t->md5_unabsorbed());
      }
    }
    if (!t->temp_path.empty() && !t->opened && code == CURLE_OK && t->status >= 200 &&
        t->status < 300) {
      (void)t->open_file();  // an empty 2xx body: an empty file
    }
    if (t->fd >= 0 && code == CURLE_OK && !t->write_stage(true)) code = CURLE_WRITE_ERROR;
    const int fd = t->fd;
    t->fd = -1;
    auto v = judge(code, *t, items_[index], state);
    if (t->opened) {
      // The file is complete and checked: give it its name (atomic), else drop it.
      const bool closed = fd < 0 || ::close(fd) == 0;
      if (v.ok && (!closed || std::rename(t->temp_path.c_str(), t->final_path.c_str()) != 0)) {
        v.ok = false;
        v.retry = false;
        v.kind = failure_kind::local;
        v.reason =
            fmt::format("cannot write '{}': {}", t->final_path.string(), std::strerror(errno));
      }
      if (!v.ok) ::unlink(t->temp_path.c_str());
    }
    if (!v.ok && v.retry && (v.retry_now || state.attempts <= options_.retries)) {
      const auto delay = v.retry_now ? std::chrono::milliseconds(0) : backoff(state.attempts);
      retries_.push({clock::now() + delay, index});
      release(std::move(t));
      return;
    }
    get_result r;
    r.ok = v.ok;
    r.http_status = t->status;
    r.attempts = state.attempts;
    r.ms = elapsed_ms(state);
    r.kind = v.ok ? failure_kind::none : v.kind;
    r.fatal_auth = v.fatal_auth;
    r.bytes = t->size();
    if (v.ok) {
      r.body = std::move(t->body);
    } else {
      r.reason = state.attempts > 1
                     ? fmt::format("{} (after {} attempts)", v.reason, state.attempts)
                     : v.reason;
    }
    release(std::move(t));
    report(index, std::move(r));
  }

  std::chrono::milliseconds backoff(int attempt) {
    // Exponential backoff with jitter: base * 2^(attempt-1), capped, times [0.5, 1).
    const double raw =
        static_cast<double>(options_.retry_base.count()) * std::pow(2.0, std::min(attempt - 1, 20));
    const double capped = std::min(raw, static_cast<double>(options_.retry_cap.count()));
    return std::chrono::milliseconds(static_cast<long long>(capped * jitter_.uniform(0.5, 1.0)));
  }

  static double elapsed_ms(const item_state& state) {
    return std::chrono::duration<double, std::milli>(clock::now() - state.first_start).count();
  }

  CURL* acquire() {
    if (!idle_.empty()) {
      CURL* e = idle_.back();
      idle_.pop_back();
      curl_easy_reset(e);
      return e;
    }
    return curl_easy_init();
  }

  void release(std::unique_ptr<transfer> t) {
    if (t->fd >= 0) {  // abandoned mid-way (destructor): no partial file stays behind
      ::close(t->fd);
      t->fd = -1;
      ::unlink(t->temp_path.c_str());
    }
    t->close_file();
    if (t->headers != nullptr) curl_slist_free_all(t->headers);
    idle_.push_back(t->easy);
  }

  std::span<const location> items_;
  const transfer_options& options_;
  const get_callbacks& callbacks_;
  const std::atomic<bool>* cancel_;
  std::vector<item_state> states_;
  core::rng jitter_;
  CURLM* multi_ = nullptr;
  std::vector<std::unique_ptr<transfer>> active_;
  std::vector<md5_job> md5_jobs_;
  std::vector<CURL*> idle_;
  std::priority_queue<retry_entry, std::vector<retry_entry>, std::greater<>> retries_;
  std::size_t next_new_ = 0;
  std::uint64_t temp_counter_ = 0;
  std::size_t reported_ = 0;
  bool stop_ = false;
};

}  // namespace

std::string_view failure_kind_name(failure_kind kind) noexcept {
  switch (kind) {
    case failure_kind::none:
      return "none";
    case failure_kind::network:
      return "network";
    case failure_kind::auth:
      return "auth";
    case failure_kind::not_found:
      return "not_found";
    case failure_kind::http:
      return "http";
    case failure_kind::integrity:
      return "integrity";
    case failure_kind::local:
      return "local";
    case failure_kind::invalid:
      return "invalid";
  }
  return "unknown";
}

std::size_t get_all(std::span<const location> items, const transfer_options& options,
                    const get_callbacks& callbacks, const std::atomic<bool>* cancel) {
  engine e(items, options, callbacks, cancel);
  return e.run();
}

std::string md5_hex(std::string_view bytes) {
  return detail::digest_hex(bytes, detail::digest::md5);
}

}  // namespace ctprep::fetch

// Parallel GETs of many objects over one libcurl multi handle: up to max_in_flight
// transfers at once, connections and DNS reused across objects (the original made a new
// S3 client per file and fetched serially, without timeouts or retries; SPEC 3).
// S3 requests are signed by libcurl (CURLOPT_AWS_SIGV4); we add what libcurl 7.88
// leaves out: x-amz-content-sha256 and x-amz-security-token (NOTES.md).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ctprep/fetch/credentials.hpp"
#include "ctprep/fetch/url.hpp"

namespace ctprep::fetch {

struct transfer_options {
  unsigned max_in_flight = 16;
  int retries = 4;  // extra attempts after the first, for retryable failures
  std::chrono::milliseconds connect_timeout{10'000};
  // A transfer slower than low_speed_limit bytes/s for low_speed_time is abandoned
  // (and retried): catches stalls without capping the time of a big object.
  long low_speed_limit = 1024;
  std::chrono::milliseconds low_speed_time{20'000};
  std::chrono::milliseconds total_timeout{0};  // 0: none
  std::chrono::milliseconds retry_base{200};   // backoff base: base * 2^(attempt-1), capped
  std::chrono::milliseconds retry_cap{10'000};
  std::uint64_t jitter_seed = 0x5eed;
  endpoint_config endpoint;
  std::optional<credentials> creds;  // nullopt: unsigned requests (--no-sign-request)
  std::string region = "us-east-1";  // when the URL names none
  std::size_t max_body_bytes = std::size_t{1} << 30;
  // When set and it returns a path for an item, the body is streamed to a temp file
  // beside that path (MD5 computed on the way) and renamed to it once the checks pass;
  // get_result.body stays empty. No copy in memory: what --no-convert uses.
  std::function<std::filesystem::path(std::size_t index)> stream_to;
};

enum class failure_kind {
  none,
  network,    // DNS, refused, reset, timeout, 5xx/429 after the retries, short body
  auth,       // 401/403 (SignatureDoesNotMatch, AccessDenied, InvalidAccessKeyId, ...)
  not_found,  // 404 (NoSuchKey, NoSuchBucket), or a missing local file
  http,       // another HTTP status
  integrity,  // MD5 or Content-Length mismatch after the retries
  local,      // a local file that cannot be read
  invalid,    // an unusable request (bad URL, body too big)
};

[[nodiscard]] std::string_view failure_kind_name(failure_kind kind) noexcept;

struct get_result {
  bool ok = false;
  std::string body;         // empty when streamed to a file (transfer_options::stream_to)
  std::uint64_t bytes = 0;  // body size
  long http_status = 0;     // 0 for local files and transport errors
  int attempts = 0;
  double ms = 0;  // from the first attempt's start to the end of the last
  failure_kind kind = failure_kind::none;
  std::string reason;  // e.g. "403 SignatureDoesNotMatch", "connection refused (127.0.0.1:9)"
  // A credentials error that no other object can escape (wrong secret, unknown key,
  // expired token): the caller should stop.
  bool fatal_auth = false;
};

struct get_callbacks {
  // Called on the calling thread as each object finishes (in completion order).
  // Return false to stop: no new transfer starts, those in flight finish.
  std::function<bool(std::size_t index, get_result&& result)> on_done;
  // Checked before a transfer starts: false holds new transfers back (the consumer is
  // busy); transfers in flight go on.
  std::function<bool()> admit;
};

// Fetches every location (index = position in `items`), each at most once successfully.
// Items not started because on_done returned false or `cancel` was set are not
// reported. Returns how many items were reported.
[[nodiscard]] std::size_t get_all(std::span<const location> items, const transfer_options& options,
                                  const get_callbacks& callbacks,
                                  const std::atomic<bool>* cancel = nullptr);

// Lower-case hex MD5 of bytes (OpenSSL), for ETag checks.
[[nodiscard]] std::string md5_hex(std::string_view bytes);

}  // namespace ctprep::fetch

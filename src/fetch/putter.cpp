#include "ctprep/fetch/putter.hpp"

#include <chrono>
#include <memory>
#include <thread>

#include <curl/curl.h>
#include <fmt/format.h>

#include "ctprep/core/files.hpp"
#include "s3_signing.hpp"

namespace ctprep::fetch {
namespace {

struct easy_deleter {
  void operator()(CURL* e) const noexcept { curl_easy_cleanup(e); }
};
struct slist_deleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

std::size_t keep_body(char* data, std::size_t size, std::size_t count, void* sink) {
  auto* body = static_cast<std::string*>(sink);
  if (body->size() < 4096) body->append(data, size * count);
  return size * count;
}

struct attempt {
  bool ok = false;
  bool retry = false;
  core::error_code code = core::error_code::network;
  std::string reason;
};

attempt put_once(CURL* e, const put_item& item, const std::string& body,
                 const std::string& payload_sha256, const transfer_options& options) {
  const auto& where = item.where;
  const std::string region = !where.region.empty() ? where.region : options.region;
  curl_easy_reset(e);
  std::unique_ptr<curl_slist, slist_deleter> headers(
      curl_slist_append(nullptr, "Content-Type: application/dicom"));
  if (options.creds) {
    headers.reset(
        detail::sign_s3_request(e, *options.creds, region, payload_sha256, headers.release()));
  }
  const auto url = s3_object_url(options.endpoint, where.bucket, where.key, region);
  std::string answer;
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &keep_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &answer);
  detail::apply_transfer_options(e, options, errbuf);
  attempt a;
  if (const auto rc = curl_easy_perform(e); rc != CURLE_OK) {
    a.retry = true;
    a.reason = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    return a;
  }
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) {
    a.ok = true;
    return a;
  }
  const auto code_at = answer.find("<Code>");
  const auto code_end = answer.find("</Code>");
  const std::string code_name = code_at != std::string::npos && code_end > code_at
                                    ? answer.substr(code_at + 6, code_end - code_at - 6)
                                    : std::string();
  a.reason =
      code_name.empty() ? fmt::format("HTTP {}", status) : fmt::format("{} {}", status, code_name);
  a.retry = status >= 500 || status == 429;
  a.code = status == 401 || status == 403 ? core::error_code::auth : core::error_code::network;
  return a;
}

}  // namespace

core::result<std::uint64_t> put_files(std::span<const put_item> items,
                                      const transfer_options& options) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::unique_ptr<CURL, easy_deleter> easy(curl_easy_init());
  if (!easy) return core::fail(core::error_code::network, "cannot create a libcurl handle");
  std::uint64_t sent = 0;
  for (const auto& item : items) {
    const auto name = display_name(item.where);
    if (item.where.kind != location_kind::s3) {
      return core::fail(core::error_code::bad_argument,
                        fmt::format("'{}': uploads go to s3:// locations only", name));
    }
    auto body = core::read_file(item.file);
    if (!body) return tl::unexpected(body.error());
    const auto payload_sha256 = detail::digest_hex(*body, detail::digest::sha256);
    attempt a;
    for (int n = 0; n <= options.retries; ++n) {
      if (n > 0) {
        const std::chrono::milliseconds wait = std::min<std::chrono::milliseconds>(
            options.retry_cap, options.retry_base * (1L << std::min(n - 1, 16)));
        std::this_thread::sleep_for(wait);
      }
      a = put_once(easy.get(), item, *body, payload_sha256, options);
      if (a.ok || !a.retry) break;
    }
    if (!a.ok) {
      return core::fail(a.code, fmt::format("upload of '{}' to '{}' failed: {}", item.file.string(),
                                            name, a.reason));
    }
    sent += body->size();
  }
  return sent;
}

}  // namespace ctprep::fetch

#include "s3_signing.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace ctprep::fetch::detail {

curl_slist* sign_s3_request(CURL* easy, const credentials& creds, std::string_view region,
                            std::string_view payload_sha256, curl_slist* headers) {
  const auto sigv4 = fmt::format("aws:amz:{}:s3", region);
  curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(easy, CURLOPT_USERNAME, creds.access_key.c_str());
  curl_easy_setopt(easy, CURLOPT_PASSWORD, creds.secret_key.c_str());
  headers =
      curl_slist_append(headers, fmt::format("x-amz-content-sha256: {}", payload_sha256).c_str());
  if (!creds.session_token.empty()) {
    headers = curl_slist_append(
        headers, fmt::format("x-amz-security-token: {}", creds.session_token).c_str());
  }
  return headers;
}

std::string digest_hex(std::string_view bytes, digest kind) {
  unsigned char value[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), value, &length,
             kind == digest::md5 ? EVP_md5() : EVP_sha256(), nullptr);
  return to_hex(value, length);
}

std::string to_hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(hex[bytes[i] >> 4]);
    out.push_back(hex[bytes[i] & 15]);
  }
  return out;
}

void apply_transfer_options(CURL* easy, const transfer_options& options, char* errbuf) {
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, options.low_speed_limit);
  curl_easy_setopt(
      easy, CURLOPT_LOW_SPEED_TIME,
      static_cast<long>(std::max<long long>(1, options.low_speed_time.count() / 1000)));
  if (options.total_timeout.count() > 0) {
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.total_timeout.count()));
  }
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "ctprep/" CTPREP_VERSION);
}

}  // namespace ctprep::fetch::detail

#include "s3_signing.hpp"

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

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned i = 0; i < length; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

}  // namespace ctprep::fetch::detail

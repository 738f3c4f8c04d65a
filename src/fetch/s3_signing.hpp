// How an S3 request is set up, signed (and bodies digested), shared by GET (getter.cpp)
// and PUT (putter.cpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <curl/curl.h>

#include "ctprep/fetch/credentials.hpp"
#include "ctprep/fetch/getter.hpp"

namespace ctprep::fetch::detail {

// SHA-256 of the empty body (what every GET sends as x-amz-content-sha256).
inline constexpr const char* empty_body_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Has libcurl sign the request (CURLOPT_AWS_SIGV4) and appends what libcurl 7.88 leaves
// out: x-amz-content-sha256 (S3 and s3rver require it on every signed request; NOTES.md)
// and x-amz-security-token for temporary credentials. Returns the extended header list.
[[nodiscard]] curl_slist* sign_s3_request(CURL* easy, const credentials& creds,
                                          std::string_view region, std::string_view payload_sha256,
                                          curl_slist* headers);

// What every request of ours sets, GET or PUT: no signals, the error buffer, the
// connect, low-speed and total timeouts of `options`, and the user agent.
void apply_transfer_options(CURL* easy, const transfer_options& options, char* errbuf);

// Lower-case hex digest of bytes (OpenSSL): MD5 for ETag checks, SHA-256 for payloads.
enum class digest { md5, sha256 };
[[nodiscard]] std::string to_hex(const unsigned char* bytes, std::size_t size);
[[nodiscard]] std::string digest_hex(std::string_view bytes, digest kind);

}  // namespace ctprep::fetch::detail

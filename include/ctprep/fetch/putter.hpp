// Uploads of local files to S3 (signed PUTs over one reused connection), for the demo
// world's object store on a running S3 server (`synth world --with-store ... --store-url
// s3://bucket`). Small and sequential: a demo store is tens of megabytes.
#pragma once

#include <filesystem>
#include <span>

#include "ctprep/core/error.hpp"
#include "ctprep/fetch/getter.hpp"
#include "ctprep/fetch/url.hpp"

namespace ctprep::fetch {

struct put_item {
  location where;  // an s3 location
  std::filesystem::path file;
};

// PUTs every file; a 5xx/429 or a network failure is retried (options.retries, with the
// options' backoff). The first item that still fails stops the upload with an error
// naming its s3:// URL and the reason (network, auth, http). Returns the bytes sent.
[[nodiscard]] core::result<std::uint64_t> put_files(std::span<const put_item> items,
                                                    const transfer_options& options);

}  // namespace ctprep::fetch

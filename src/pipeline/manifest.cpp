#include "ctprep/pipeline/manifest.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include "ctprep/core/files.hpp"
#include "ctprep/core/json_writer.hpp"
#include "ctprep/core/parallel.hpp"

namespace ctprep::pipeline {
namespace fs = std::filesystem;

namespace {

std::string to_hex(const unsigned char* digest, unsigned length) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned i = 0; i < length; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0xF]);
  }
  return out;
}

// An EVP digest context that frees itself.
struct digest_context {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  digest_context() { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
  ~digest_context() { EVP_MD_CTX_free(ctx); }
  digest_context(const digest_context&) = delete;
  digest_context& operator=(const digest_context&) = delete;
  void update(const void* data, std::size_t n) { EVP_DigestUpdate(ctx, data, n); }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned length = 0;
    EVP_DigestFinal_ex(ctx, digest, &length);
    return to_hex(digest, length);
  }
};

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  digest_context d;
  d.update(bytes.data(), bytes.size());
  return d.hex();
}

core::result<std::string> sha256_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::fail(core::error_code::not_found,
                      fmt::format("cannot open '{}' to hash it", path.string()));
  }
  digest_context d;
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    d.update(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) {
    return core::fail(core::error_code::io_error, fmt::format("cannot read '{}'", path.string()));
  }
  return d.hex();
}

core::result<std::vector<manifest_entry>> hash_tree(const fs::path& root, unsigned jobs) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return core::fail(core::error_code::not_found,
                      fmt::format("folder '{}' does not exist", root.string()));
  }
  std::vector<manifest_entry> entries;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.starts_with(".")) {  // .ctprep checkpoints, temp files
      if (it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
      continue;
    }
    const auto rel = it->path().lexically_relative(root).generic_string();
    if (rel == manifest_file_name) continue;
    if (it->is_symlink(ec)) {
      entries.push_back({rel, {}, 0, fs::read_symlink(it->path(), ec).string()});
    } else if (it->is_regular_file(ec)) {
      entries.push_back({rel, {}, 0, {}});
    }
  }
  if (ec) {
    return core::fail(core::error_code::io_error,
                      fmt::format("cannot list '{}': {}", root.string(), ec.message()));
  }
  std::sort(entries.begin(), entries.end(),
            [](const manifest_entry& a, const manifest_entry& b) { return a.path < b.path; });
  std::vector<std::string> errors(entries.size());
  core::parallel_for(entries.size(), jobs, [&](std::size_t i) {
    const auto full = root / entries[i].path;
    auto digest = sha256_file(full);  // follows symlinks: the bytes a reader gets
    if (!digest) {
      errors[i] = digest.error().message;
      return;
    }
    entries[i].sha256 = std::move(*digest);
    std::error_code size_ec;
    entries[i].size = fs::file_size(full, size_ec);
  });
  for (const auto& e : errors) {
    if (!e.empty()) return core::fail(core::error_code::io_error, e);
  }
  return entries;
}

std::string to_json(const manifest& m) {
  core::json_writer w(1);
  w.begin_object();
  w.field("ctprep_manifest", 1);
  w.field("tool_version", m.tool_version);
  w.field("recipe_digest", m.recipe_digest);
  w.field("seed", m.seed);
  w.key("stages");
  w.begin_array();
  for (const auto& s : m.stages) {
    w.begin_object();
    w.field("name", s.name);
    w.field("status", s.status);
    w.field("seconds", s.seconds);
    w.key("counts");
    w.begin_object();
    for (const auto& [k, v] : s.counts) w.field(k, v);
    w.end_object();
    w.end_object();
  }
  w.end_array();
  w.key("files");
  w.begin_array();
  for (const auto& f : m.files) {
    w.begin_object();
    w.field("path", f.path);
    w.field("sha256", f.sha256);
    w.field("size", f.size);
    if (!f.link.empty()) w.field("link", f.link);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.take();
}

core::result<manifest> parse_manifest(std::string_view json, std::string_view origin) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  auto bad = [&](std::string_view what) {
    return core::fail(core::error_code::malformed_json, fmt::format("'{}': {}", origin, what));
  };
  if (parser.parse(padded).get(root)) return bad("not JSON");
  manifest m;
  std::string_view text;
  if (!root["tool_version"].get(text)) m.tool_version = std::string(text);
  if (!root["recipe_digest"].get(text)) m.recipe_digest = std::string(text);
  std::uint64_t seed = 0;
  if (!root["seed"].get(seed)) m.seed = seed;
  simdjson::dom::array files;
  if (root["files"].get(files)) return bad("no \"files\" list");
  for (auto f : files) {
    manifest_entry e;
    std::string_view path, digest, link;
    std::uint64_t size = 0;
    if (f["path"].get(path) || f["sha256"].get(digest) || f["size"].get(size)) {
      return bad("a \"files\" entry lacks path, sha256 or size");
    }
    e.path = std::string(path);
    e.sha256 = std::string(digest);
    e.size = size;
    if (!f["link"].get(link)) e.link = std::string(link);
    m.files.push_back(std::move(e));
  }
  return m;
}

core::result<std::vector<manifest_difference>> verify_manifest(const fs::path& root,
                                                               unsigned jobs) {
  auto text = core::read_file(root / manifest_file_name);
  if (!text) return tl::unexpected(text.error());
  auto recorded = parse_manifest(*text, (root / manifest_file_name).string());
  if (!recorded) return tl::unexpected(recorded.error());
  auto actual = hash_tree(root, jobs);
  if (!actual) return tl::unexpected(actual.error());

  std::map<std::string, const manifest_entry*> now;
  for (const auto& e : *actual) now.emplace(e.path, &e);
  std::vector<manifest_difference> differences;
  for (const auto& e : recorded->files) {
    const auto it = now.find(e.path);
    if (it == now.end()) {
      differences.push_back({e.path, "missing"});
      continue;
    }
    if (it->second->link != e.link)
      differences.push_back({e.path, "link changed"});
    else if (it->second->sha256 != e.sha256)
      differences.push_back({e.path, "changed"});
    now.erase(it);
  }
  for (const auto& [path, entry] : now) differences.push_back({path, "extra"});
  std::sort(
      differences.begin(), differences.end(),
      [](const manifest_difference& a, const manifest_difference& b) { return a.path < b.path; });
  return differences;
}

}  // namespace ctprep::pipeline

// Rule 4 (images) and the file scan every rule uses: what each image entry is on disk,
// and one full decode per distinct file (keyed by device and inode, so a 4-class
// symlink or a hard-linked original is decoded once), in parallel.
#include <algorithm>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "ctprep/coco/coco.hpp"
#include "ctprep/core/files.hpp"
#include "ctprep/core/parallel.hpp"
#include "ctprep/core/rng.hpp"
#include "ctprep/imaging/codec.hpp"
#include "ctprep/imaging/header.hpp"
#include "report/validate_internal.hpp"

namespace ctprep::report::detail {
namespace {

bool plain_file_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of("/\\") == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

file_check check_file(const fs::path& path, bool decode) {
  file_check out;
  auto bytes = core::read_file(path);
  if (!bytes) {
    out.error = bytes.error().message;
    return out;
  }
  out.size = bytes->size();
  const auto name = path.filename().string();
  if (!decode) {
    auto header = imaging::parse_image_header(*bytes, name);
    if (!header) {
      out.error = header.error().message;
      return out;
    }
    out.readable = true;
    out.width = header->width;
    out.height = header->height;
    out.content_hash = core::content_hash(*bytes);
    return out;
  }
  auto digest = imaging::verify_image(*bytes, name);
  if (!digest) {
    out.error = digest.error().message;
    return out;
  }
  out.readable = true;
  out.width = digest->width;
  out.height = digest->height;
  out.content_hash = digest->content_hash;
  out.constant = digest->constant;
  return out;
}

// Canonical paths of the few folders a release's links point into, each found once:
// fs::canonical on each of a v4 release's 48,000 links walked every path component.
class canonical_folders {
 public:
  fs::path get(const fs::path& folder) {
    const std::lock_guard lock(mutex_);
    auto found = known_.find(folder.native());
    if (found == known_.end()) {
      std::error_code ec;
      found = known_.emplace(folder.native(), fs::canonical(folder, ec)).first;
    }
    return found->second;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, fs::path> known_;
};

// Where the link `path` (to `target`, a regular file `st`) ends: its target's folder made
// canonical, then the target's name, when that names `st` itself (not another link);
// fs::canonical of the whole path otherwise.
fs::path resolve_link(const fs::path& path, const fs::path& target, const struct stat& st,
                      canonical_folders& folders) {
  const fs::path name = target.filename();
  std::error_code ec;
  if (!name.empty() && name != "." && name != "..") {
    const fs::path folder = folders.get((path.parent_path() / target).parent_path());
    if (!folder.empty()) {
      fs::path candidate = folder / name;
      struct stat direct {};
      if (::lstat(candidate.c_str(), &direct) == 0 && S_ISREG(direct.st_mode) &&
          direct.st_dev == st.st_dev && direct.st_ino == st.st_ino) {
        return candidate;
      }
    }
  }
  return fs::canonical(path, ec);
}

}  // namespace

void scan_files(std::vector<context*>& datasets, file_cache& cache,
                const validate_options& options) {
  // What each entry is on disk, looked up relative to its split folder (one open
  // directory per split, so the kernel does not walk the whole path each time), in
  // parallel: a v4 release has about 100,000 entries.
  struct lookup {
    split_state* split;
    std::size_t index;
    int folder;
  };
  std::vector<lookup> lookups;
  std::vector<int> folders;
  for (auto* c : datasets) {
    for (auto& s : c->splits) {
      if (!s.loaded) continue;
      s.entries.assign(s.data.images.size(), entry_state{});
      const int folder = ::open(s.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (folder >= 0) folders.push_back(folder);  // else every entry is missing
      for (std::size_t i = 0; i < s.data.images.size(); ++i) lookups.push_back({&s, i, folder});
    }
  }
  canonical_folders folders_resolved;
  core::parallel_for(lookups.size(), options.jobs, [&](std::size_t k) {
    const auto [s, i, folder] = lookups[k];
    auto& e = s->entries[i];
    const auto& name = s->data.images[i].file_name;
    e.plain_name = plain_file_name(name);
    if (!e.plain_name || folder < 0) return;
    struct stat st {};
    if (::fstatat(folder, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    e.exists = true;
    e.is_symlink = S_ISLNK(st.st_mode);
    if (e.is_symlink) {
      std::error_code ec;
      const auto path = s->dir / name;
      e.link_target = fs::read_symlink(path, ec).string();
      if (::fstatat(folder, name.c_str(), &st, 0) != 0) return;
      if (S_ISREG(st.st_mode)) e.resolved = resolve_link(path, e.link_target, st, folders_resolved);
    }
    if (!S_ISREG(st.st_mode)) return;
    e.resolves = true;
    e.key = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
             static_cast<std::uint64_t>(st.st_size),
             static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  });
  for (const int folder : folders) ::close(folder);

  std::vector<std::pair<file_key, fs::path>> todo;
  std::unordered_set<file_key, file_key_hash> queued;
  for (const auto& [s, i, folder] : lookups) {
    const auto& e = s->entries[i];
    if (e.resolves && !cache.contains(e.key) && queued.insert(e.key).second) {
      todo.emplace_back(e.key, s->dir / s->data.images[i].file_name);
    }
  }

  std::vector<file_check> results(todo.size());
  auto progress =
      options.progress && !todo.empty()
          ? options.progress(options.skip_image_validation ? "validate: reading headers"
                                                           : "validate: decoding images",
                             todo.size())
          : nullptr;
  core::parallel_for(todo.size(), options.jobs, [&](std::size_t i) {
    results[i] = check_file(todo[i].second, !options.skip_image_validation);
    if (progress) progress->advance();
  });
  if (progress) progress->finish();
  for (std::size_t i = 0; i < todo.size(); ++i) cache.emplace(todo[i].first, std::move(results[i]));

  for (auto* c : datasets) {
    for (auto& s : c->splits) {
      for (auto& e : s.entries) {
        if (e.resolves) e.check = &cache.at(e.key);
      }
    }
  }
}

void check_images(context& c) {
  c.begin_rule(rule_images, "Validating image files");
  if (c.options.skip_image_validation) {
    c.note("--skip-image-validation: sizes come from the file headers; pixels were not decoded");
  }
  std::uint64_t dangling = 0;
  for (const auto& s : c.splits) {
    if (!s.loaded) {
      c.line(line_status::skip,
             fmt::format("{}: not checked (its COCO file is invalid)", capitalize(s.name)));
      continue;
    }
    const auto errors_before = c.current->errors;
    std::uint64_t readable = 0, counted = 0;
    std::unordered_map<std::string_view, std::int64_t> first_id;
    for (std::size_t i = 0; i < s.data.images.size(); ++i) {
      const auto& im = s.data.images[i];
      const auto& e = s.entries[i];
      auto [it, fresh] = first_id.emplace(im.file_name, im.id);
      if (!fresh) {
        c.add(severity::error, s.name, im.file_name,
              fmt::format("named by image ids {} and {}", it->second, im.id));
      }
      if (!e.plain_name) {
        ++counted;
        c.add(severity::error, s.name, im.file_name,
              "file_name must name a file directly in the split folder");
        continue;
      }
      if (e.is_symlink && !e.resolves) {
        ++dangling;  // rule 8 reports broken links
        continue;
      }
      ++counted;
      if (!e.exists) {
        c.add(severity::error, s.name, im.file_name, "file is missing");
        continue;
      }
      if (!e.resolves) {
        c.add(severity::error, s.name, im.file_name, "is not a regular file");
        continue;
      }
      if (!e.check->readable) {
        c.add(severity::error, s.name, im.file_name, e.check->error);
        continue;
      }
      if (e.check->width != im.width || e.check->height != im.height) {
        c.add(severity::error, s.name, im.file_name,
              fmt::format("image is {}x{} but the JSON says {}x{}", e.check->width, e.check->height,
                          im.width, im.height));
        continue;
      }
      ++readable;
    }
    c.line(c.current->errors == errors_before ? line_status::pass : line_status::fail,
           fmt::format(
               "{}: {}/{} images {}", capitalize(s.name), thousands(readable), thousands(counted),
               c.options.skip_image_validation ? "present with matching header size"
                                               : "readable (fully decoded, size as in the JSON)"));

    // Orphans: files in the split folder that no image entry names.
    const auto errors_mid = c.current->errors, warnings_mid = c.current->warnings;
    std::error_code ec;
    std::vector<std::string> names;
    for (fs::directory_iterator it(s.dir, ec), end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    std::sort(names.begin(), names.end());
    std::uint64_t orphans = 0;
    for (const auto& name : names) {
      if (name == coco::annotations_file_name || first_id.contains(name)) continue;
      if (s.dir == c.root && name == "metadata.yaml") continue;  // a flat dataset's root
      ++orphans;
      const auto path = s.dir / name;
      if (fs::is_directory(path, ec)) {
        c.add(severity::warning, s.name, name, "a folder inside the split folder");
      } else if (core::has_image_extension(path)) {
        c.add(severity::error, s.name, name, "orphan image: no image entry names it");
      } else {
        c.add(severity::warning, s.name, name,
              "stray file: not an image and not named by the JSON");
      }
    }
    const bool orphan_errors = c.current->errors > errors_mid;
    const bool orphan_warnings = c.current->warnings > warnings_mid;
    c.line(orphan_errors     ? line_status::fail
           : orphan_warnings ? line_status::warn
                             : line_status::pass,
           orphans == 0
               ? fmt::format("{}: no orphan files", capitalize(s.name))
               : fmt::format("{}: {} files no image entry names", capitalize(s.name), orphans));
  }
  if (dangling > 0) {
    c.note(fmt::format("{} broken symlinks are reported under rule 8 (four_class)", dangling));
  }
}

}  // namespace ctprep::report::detail

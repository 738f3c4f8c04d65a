#include "ctprep/dicom/batch.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <system_error>

#include <fmt/format.h>

#include "ctprep/core/files.hpp"
#include "ctprep/core/json_writer.hpp"
#include "ctprep/core/parallel.hpp"
#include "ctprep/dicom/header.hpp"

namespace ctprep::dicom {
namespace fs = std::filesystem;
namespace {

bool hidden(const fs::path& p) {
  const auto name = p.filename().string();
  return !name.empty() && name.front() == '.';
}

// A header value used in a file name: letters, digits, '.', '-', '_' only, and not a
// relative-path component; anything else could escape the output folder.
bool safe_component(std::string_view v) {
  if (v.empty() || v == "." || v == "..") return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
  });
}

core::result<std::string> expand_template(std::string_view tpl, const batch_input& in,
                                          const header* h) {
  std::string out;
  std::size_t i = 0;
  while (i < tpl.size()) {
    if (tpl[i] != '{') {
      out.push_back(tpl[i++]);
      continue;
    }
    const auto close = tpl.find('}', i);
    const auto field = tpl.substr(i + 1, close - i - 1);
    i = close + 1;
    std::optional<std::string> value;
    std::string tag;
    if (field == "patient_id") {
      value = h ? h->patient_id : std::nullopt;
      tag = "PatientID (0010,0020)";
    } else if (field == "instance") {
      value = h ? h->instance_number : std::nullopt;
      tag = "InstanceNumber (0020,0013)";
    } else {
      value = in.path.stem().string();
      tag = "file stem";
    }
    if (!value || value->empty()) {
      return core::fail(core::error_code::unsupported_dicom,
                        fmt::format("'{}': no {} for the output name", in.path.string(), tag));
    }
    if (!safe_component(*value)) {
      return core::fail(core::error_code::unsupported_dicom,
                        fmt::format("'{}': {} '{}' is not safe in a file name (letters, digits, "
                                    "'.', '-', '_' only)",
                                    in.path.string(), tag, *value));
    }
    out += *value;
  }
  return out + ".png";
}

fs::path default_name(const batch_input& in) {
  fs::path rel = in.relative;
  if (rel.has_extension()) {
    rel.replace_extension(".png");
  } else {
    rel += ".png";
  }
  return rel;
}

// Files in a folder with these extensions are not DICOM by any convention and are left
// out (a folder of series often holds a README or the synth COCO sidecar); a file named
// on the command line is always tried.
bool ignored_extension(const fs::path& p) {
  auto ext = p.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static constexpr std::string_view ignored[] = {".json", ".txt",  ".csv", ".png", ".jpg",  ".jpeg",
                                                 ".md",   ".yaml", ".yml", ".log", ".html", ".xml"};
  return std::find(std::begin(ignored), std::end(ignored), ext) != std::end(ignored);
}

}  // namespace

core::result<std::vector<batch_input>> list_inputs(const std::vector<fs::path>& inputs) {
  std::vector<batch_input> out;
  for (const auto& input : inputs) {
    std::error_code ec;
    const auto status = fs::status(input, ec);
    if (ec || !fs::exists(status)) {
      return core::fail(core::error_code::not_found,
                        fmt::format("'{}' does not exist", input.string()));
    }
    if (!fs::is_directory(status)) {
      out.push_back({input, input.filename()});
      continue;
    }
    std::vector<batch_input> found;
    fs::recursive_directory_iterator it(input, fs::directory_options::follow_directory_symlink, ec);
    if (ec) {
      return core::fail(core::error_code::io_error,
                        fmt::format("cannot list '{}': {}", input.string(), ec.message()));
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) {
        return core::fail(core::error_code::io_error,
                          fmt::format("cannot list '{}': {}", input.string(), ec.message()));
      }
      if (hidden(it->path())) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec) || ignored_extension(it->path())) continue;
      found.push_back({it->path(), it->path().lexically_relative(input)});
    }
    std::sort(found.begin(), found.end(),
              [](const batch_input& a, const batch_input& b) { return a.relative < b.relative; });
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

core::result<void> check_name_template(std::string_view tpl) {
  std::size_t i = 0;
  bool any_field = false;
  while (i < tpl.size()) {
    const char c = tpl[i];
    if (c == '/' || c == '\\') {
      return core::fail(core::error_code::bad_argument,
                        fmt::format("name template '{}' must not contain path separators", tpl));
    }
    if (c == '}') {
      return core::fail(core::error_code::bad_argument,
                        fmt::format("name template '{}': unmatched '}}'", tpl));
    }
    if (c != '{') {
      ++i;
      continue;
    }
    const auto close = tpl.find('}', i);
    if (close == std::string_view::npos) {
      return core::fail(core::error_code::bad_argument,
                        fmt::format("name template '{}': unmatched '{{'", tpl));
    }
    const auto field = tpl.substr(i + 1, close - i - 1);
    if (field != "patient_id" && field != "instance" && field != "stem") {
      return core::fail(core::error_code::bad_argument,
                        fmt::format("name template '{}': unknown field '{{{}}}' (patient_id, "
                                    "instance, stem)",
                                    tpl, field));
    }
    any_field = true;
    i = close + 1;
  }
  if (!any_field) {
    return core::fail(
        core::error_code::bad_argument,
        fmt::format("name template '{}' has no field: every output would collide", tpl));
  }
  return {};
}

bool is_complete_png(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  char head[8];
  if (!in.read(head, 8) || std::string_view(head, 8) != std::string_view("\x89PNG\r\n\x1a\n", 8)) {
    return false;
  }
  in.seekg(-12, std::ios::end);
  char tail[12];
  if (!in.read(tail, 12)) return false;
  return std::string_view(tail, 12) == std::string_view("\0\0\0\0IEND\xae\x42\x60\x82", 12);
}

core::result<batch_result> convert_batch(const std::vector<batch_input>& inputs,
                                         const batch_options& o) {
  if (!o.name_template.empty()) {
    if (auto ok = check_name_template(o.name_template); !ok) return tl::unexpected(ok.error());
  }
  {
    std::error_code ec;
    fs::create_directories(o.out_dir, ec);
    if (ec || !fs::is_directory(o.out_dir)) {
      return core::fail(core::error_code::not_writable,
                        fmt::format("cannot create output folder '{}'{}", o.out_dir.string(),
                                    ec ? ": " + ec.message() : std::string()));
    }
    const auto probe = o.out_dir / ".ctprep-write-probe";
    if (auto ok = core::write_file_atomic(probe, ""); !ok) {
      return core::fail(core::error_code::not_writable,
                        fmt::format("output folder '{}' is not writable", o.out_dir.string()));
    }
    fs::remove(probe, ec);
  }

  batch_result result;
  auto& items = result.items;
  items.resize(inputs.size());
  std::vector<bool> named(inputs.size(), false);

  // Output names. With a template the header is read first (in parallel).
  if (o.name_template.empty()) {
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      items[i].input = inputs[i].path;
      items[i].output = o.out_dir / default_name(inputs[i]);
      named[i] = true;
    }
  } else {
    core::parallel_for(inputs.size(), o.jobs, [&](std::size_t i) {
      auto& item = items[i];
      item.input = inputs[i].path;
      // The start of the file usually holds the whole header: read 64 KB, and the whole
      // file only when that is not enough (a long header, a deflated file).
      std::string bytes;
      {
        std::ifstream in(inputs[i].path, std::ios::binary);
        if (!in) {
          item.reason = fmt::format("cannot read '{}'", inputs[i].path.string());
          return;
        }
        bytes.resize(std::size_t{64} << 10);
        in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        bytes.resize(static_cast<std::size_t>(in.gcount()));
      }
      auto h = parse_header(bytes, inputs[i].path.string(), true);
      if (!h || (h->deflated && bytes.size() == (std::size_t{64} << 10))) {
        auto whole = core::read_file(inputs[i].path);
        if (!whole) {
          item.reason = whole.error().message;
          return;
        }
        h = parse_header(*whole, inputs[i].path.string());
      }
      auto name = expand_template(o.name_template, inputs[i], h ? &*h : nullptr);
      if (!name) {
        item.reason = h ? name.error().message : h.error().message;
        return;
      }
      item.output = o.out_dir / *name;
      named[i] = true;
    });
  }
  // Two inputs, one output: the first input (in order) keeps the name.
  {
    std::map<fs::path, std::size_t> owner;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (!named[i]) continue;
      auto [it, inserted] = owner.emplace(items[i].output, i);
      if (!inserted) {
        named[i] = false;
        items[i].reason =
            core::error::make(core::error_code::not_writable,
                              fmt::format("'{}': output name '{}' is already used by '{}'",
                                          inputs[i].path.string(), items[i].output.string(),
                                          inputs[it->second].path.string()))
                .message;
        items[i].output.clear();
      }
    }
  }

  core::parallel_for(inputs.size(), o.jobs, [&](std::size_t i) {
    auto& item = items[i];
    auto done = [&] {
      if (o.progress) o.progress->advance();
    };
    if (!named[i]) {
      item.outcome = convert_outcome::failed;
      done();
      return;
    }
    if (!o.overwrite && is_complete_png(item.output)) {
      item.outcome = convert_outcome::converted;
      item.already_present = true;
      done();
      return;
    }
    auto slice = convert_file(inputs[i].path, o.convert);
    if (!slice) {
      item.outcome = convert_outcome::failed;
      item.reason = slice.error().message;
      done();
      return;
    }
    item.outcome = slice->outcome;
    item.reason = std::move(slice->reason);
    item.patient_id = std::move(slice->patient_id);
    item.instance_number = std::move(slice->instance_number);
    item.thickness = slice->thickness;
    item.window_used = std::move(slice->window_used);
    item.window_fell_back = slice->window_fell_back;
    item.warnings = std::move(slice->warnings);
    if (item.outcome == convert_outcome::converted) {
      if (auto ok = core::write_file_atomic(item.output, slice->png_bytes); !ok) {
        item.outcome = convert_outcome::failed;
        item.reason = ok.error().message;
      }
    }
    done();
  });

  for (const auto& item : items) {
    switch (item.outcome) {
      case convert_outcome::converted:
        (item.already_present ? result.already_present : result.converted) += 1;
        break;
      case convert_outcome::skipped_thickness:
        ++result.skipped_thickness;
        break;
      case convert_outcome::skipped_not_image:
        ++result.skipped_not_image;
        break;
      case convert_outcome::failed:
        ++result.failed;
        break;
    }
  }
  return result;
}

std::string to_json_lines(const batch_result& result) {
  std::string out;
  for (const auto& item : result.items) {
    core::json_writer w;
    w.begin_object();
    w.field("input", item.input.string());
    w.key("output");
    if (item.output.empty()) {
      w.null();
    } else {
      w.value(item.output.string());
    }
    w.field("outcome", item.already_present ? std::string_view("already_present")
                                            : outcome_name(item.outcome));
    w.field("reason", item.reason);
    w.key("patient_id");
    if (item.patient_id)
      w.value(*item.patient_id);
    else
      w.null();
    w.key("instance");
    if (item.instance_number)
      w.value(*item.instance_number);
    else
      w.null();
    w.key("thickness");
    if (item.thickness)
      w.value(*item.thickness);
    else
      w.null();
    w.field("window", item.window_used);
    w.field("window_fell_back", item.window_fell_back);
    w.key("warnings");
    w.begin_array();
    for (const auto& warning : item.warnings) w.value(warning);
    w.end_array();
    w.end_object();
    out += w.take();
    out += '\n';
  }
  return out;
}

}  // namespace ctprep::dicom

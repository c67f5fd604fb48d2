#include "common/config/ini_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fs_util.h"
#include "common/status_macros.h"

namespace dbrepl {

const std::string* ConfigSection::Find(absl::string_view key) const {
  auto it = values.find(std::string(key));
  return it == values.end() ? nullptr : &it->second;
}

std::string ConfigSection::Get(absl::string_view key, absl::string_view default_value) const {
  const std::string* v = Find(key);
  return v != nullptr ? *v : std::string(default_value);
}

std::string ConfigSection::Where() const { return absl::StrCat("[", name, "] of ", source); }

namespace {

constexpr char kDefault[] = "DEFAULT";
constexpr int kMaxInterpolationDepth = 10;  // Python's MAX_INTERPOLATION_DEPTH

size_t IndentOf(absl::string_view line) {
  size_t i = 0;
  while (i < line.size() && absl::ascii_isspace(static_cast<unsigned char>(line[i]))) ++i;
  return i;
}

// The lines of `text` as Python's text mode reads them: "\n", "\r\n" and a
// lone "\r" all end a line (universal newlines).
std::vector<absl::string_view> SplitLines(absl::string_view text) {
  std::vector<absl::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    lines.push_back(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

}  // namespace

// One file's text, parsed as Python 3's ConfigParser._read() does with
// Swift's settings (strict, "=" and ":" delimiters, "#" and ";" whole-line
// comments only, empty lines kept inside values): see ini_file.h.
class IniParser {
 public:
  IniParser(IniFile* out, std::string file, absl::string_view text)
      : out_(out), file_(std::move(file)), text_(text) {}

  absl::Status Run() {
    if (text_.find('\0') != absl::string_view::npos) return Error(0, "contains a NUL byte");
    if (absl::StartsWith(text_, "\xEF\xBB\xBF")) text_.remove_prefix(3);  // UTF-8 BOM
    int line_no = 0;
    for (absl::string_view line : SplitLines(text_)) {
      RETURN_IF_ERROR(ParseLine(++line_no, line));
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error(int line, absl::string_view message) const {
    return absl::InvalidArgumentError(
        line > 0 ? absl::StrCat(file_, ":", line, ": ", message) : absl::StrCat(file_, ": ", message));
  }

  absl::Status ParseLine(int line_no, absl::string_view line) {
    const absl::string_view value = absl::StripAsciiWhitespace(line);
    if (absl::StartsWith(value, "#") || absl::StartsWith(value, ";")) return absl::OkStatus();  // a comment
    if (value.empty()) {
      // Kept inside a value if more of it follows; trailing ones are dropped.
      if (!key_.empty()) ++pending_blank_lines_;
      return absl::OkStatus();
    }
    const size_t indent = IndentOf(line);
    if (!key_.empty() && indent > key_indent_) {  // continues the value
      std::string& v = Current()[key_];
      v.append(pending_blank_lines_ + 1, '\n');
      v.append(value.data(), value.size());
      pending_blank_lines_ = 0;
      return absl::OkStatus();
    }
    pending_blank_lines_ = 0;
    key_indent_ = indent;
    // ConfigParser's SECTCRE, "\[(?P<header>.+)\]", matched at the start:
    // the header runs to the last ']' and may not be empty.
    const size_t close = value.rfind(']');
    if (value.front() == '[' && close != absl::string_view::npos && close >= 2) {
      return StartSection(line_no, value.substr(1, close - 1));
    }
    const size_t delim = value.find_first_of("=:");
    if (!in_section_) {
      return Error(line_no, delim != absl::string_view::npos
                                ? "option before any [section] header"
                                : absl::StrCat("cannot parse '", value, "' before any [section] header"));
    }
    if (delim == absl::string_view::npos) {
      return Error(line_no,
                   absl::StrCat("cannot parse '", value, "' (expected [section], key = value or a comment)"));
    }
    std::string key = absl::AsciiStrToLower(absl::StripTrailingAsciiWhitespace(value.substr(0, delim)));
    if (key.empty()) return Error(line_no, "option with an empty name");
    if (!file_keys_.insert({section_, key}).second) {
      return Error(line_no, absl::StrCat("option '", key, "' in section [", section_, "] already exists"));
    }
    Current()[key] = std::string(absl::StripLeadingAsciiWhitespace(value.substr(delim + 1)));
    key_ = std::move(key);
    return absl::OkStatus();
  }

  absl::Status StartSection(int line_no, absl::string_view name) {
    const std::string section(name);
    // [DEFAULT] may reappear; another section may not, within one file.
    if (section != kDefault && !file_sections_.insert(section).second) {
      return Error(line_no, absl::StrCat("section [", section, "] already exists"));
    }
    if (section != kDefault && out_->sections_.count(section) == 0) {
      out_->sections_[section];
      out_->order_.push_back(section);
    }
    section_ = section;
    in_section_ = true;
    key_.clear();  // a section cannot begin with a continuation line
    return absl::OkStatus();
  }

  std::map<std::string, std::string>& Current() {
    return section_ == kDefault ? out_->defaults_ : out_->sections_[section_];
  }

  IniFile* out_;
  const std::string file_;
  absl::string_view text_;
  bool in_section_ = false;
  std::string section_;
  std::string key_;        // the option a continuation line would extend
  size_t key_indent_ = 0;  // indentation of the last section or option line
  int pending_blank_lines_ = 0;
  std::set<std::string> file_sections_;
  std::set<std::pair<std::string, std::string>> file_keys_;
};

namespace {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(), absl::StrCat("cannot read config: ", text.status().message()));
  }
  return text;
}

}  // namespace

absl::StatusOr<IniFile> IniFile::Parse(absl::string_view text, absl::string_view source) {
  IniFile ini;
  ini.source_ = std::string(source);
  IniParser parser(&ini, ini.source_, text);
  RETURN_IF_ERROR(parser.Run());
  return ini;
}

absl::StatusOr<IniFile> IniFile::Load(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read config ", path));
  std::vector<std::string> files;
  if (S_ISDIR(st.st_mode)) {
    absl::StatusOr<std::vector<std::string>> names = ListDirectory(path);
    if (!names.ok()) {
      return absl::Status(names.status().code(), absl::StrCat("cannot list config directory: ", names.status().message()));
    }
    for (const std::string& name : *names) {
      if (absl::EndsWith(name, ".conf") && !absl::StartsWith(name, ".")) files.push_back(path + "/" + name);
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) return absl::NotFoundError(absl::StrCat("Unable to read config from ", path));
  } else {
    files.push_back(path);
  }
  IniFile ini;
  ini.source_ = path;
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(std::string text, ReadWholeFile(file));
    IniParser parser(&ini, file, text);
    RETURN_IF_ERROR(parser.Run());
  }
  return ini;
}

bool IniFile::HasSection(absl::string_view name) const { return sections_.count(std::string(name)) > 0; }

const std::map<std::string, std::string>* IniFile::RawSection(absl::string_view name) const {
  if (name == kDefault) return &defaults_;
  auto it = sections_.find(std::string(name));
  return it == sections_.end() ? nullptr : &it->second;
}

namespace {

absl::StatusOr<std::string> InterpolateSome(const std::map<std::string, std::string>& vars,
                                            const std::string& option, absl::string_view rest,
                                            const std::string& section, int depth) {
  const auto error = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("bad interpolation in option '", option, "' of [", section,
                                                   "]: ", why));
  };
  if (depth > kMaxInterpolationDepth) return error("references nest more than 10 deep");
  std::string out;
  while (!rest.empty()) {
    const size_t p = rest.find('%');
    if (p == absl::string_view::npos) {
      absl::StrAppend(&out, rest);
      break;
    }
    absl::StrAppend(&out, rest.substr(0, p));
    rest.remove_prefix(p);
    const char c = rest.size() > 1 ? rest[1] : '\0';
    if (c == '%') {
      out.push_back('%');
      rest.remove_prefix(2);
    } else if (c == '(') {
      const size_t close = rest.find(')');
      if (close == absl::string_view::npos || close == 2 || close + 1 >= rest.size() || rest[close + 1] != 's') {
        return error(absl::StrCat("bad variable reference '", rest, "'"));
      }
      const std::string var = absl::AsciiStrToLower(rest.substr(2, close - 2));
      rest.remove_prefix(close + 2);
      auto it = vars.find(var);
      if (it == vars.end()) return error(absl::StrCat("'%(", var, ")s' is not set"));
      if (it->second.find('%') != std::string::npos) {
        ASSIGN_OR_RETURN(std::string inner, InterpolateSome(vars, option, it->second, section, depth + 1));
        absl::StrAppend(&out, inner);
      } else {
        absl::StrAppend(&out, it->second);
      }
    } else {
      return error(absl::StrCat("'%' must be followed by '%' or '(', found '", rest, "'"));
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> IniFile::Interpolate(const std::map<std::string, std::string>& vars,
                                                 const std::string& key, const std::string& value,
                                                 const std::string& section, Interpolation mode) const {
  if (mode == Interpolation::kNicer && value.find("%(") == std::string::npos) return value;
  absl::StatusOr<std::string> out = InterpolateSome(vars, key, value, section, 1);
  if (!out.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": ", out.status().message()));
  }
  return out;
}

absl::StatusOr<ConfigSection> IniFile::Section(absl::string_view name, Interpolation mode) const {
  const std::map<std::string, std::string>* raw = RawSection(name);
  if (raw == nullptr) {
    return absl::NotFoundError(absl::StrCat("Unable to find ", name, " config section in ", source_));
  }
  std::map<std::string, std::string> vars = defaults_;
  for (const auto& [k, v] : *raw) vars[k] = v;
  ConfigSection out;
  out.name = std::string(name);
  out.source = source_;
  for (const auto& [k, v] : vars) {
    ASSIGN_OR_RETURN(out.values[k], Interpolate(vars, k, v, out.name, mode));
  }
  return out;
}

absl::StatusOr<absl::optional<std::string>> IniFile::Get(absl::string_view section, absl::string_view key,
                                                         Interpolation mode) const {
  const std::map<std::string, std::string>* raw = RawSection(section);
  if (raw == nullptr) {
    return absl::NotFoundError(absl::StrCat("Unable to find ", section, " config section in ", source_));
  }
  std::map<std::string, std::string> vars = defaults_;
  for (const auto& [k, v] : *raw) vars[k] = v;
  const std::string lower = absl::AsciiStrToLower(key);
  auto it = vars.find(lower);
  if (it == vars.end()) return absl::optional<std::string>();
  ASSIGN_OR_RETURN(std::string value, Interpolate(vars, lower, it->second, std::string(section), mode));
  return absl::optional<std::string>(std::move(value));
}

absl::StatusOr<ConfigSection> IniFile::PasteSection(absl::string_view name) const {
  const std::map<std::string, std::string>* raw = RawSection(name);
  if (raw == nullptr || name == kDefault) {
    return absl::NotFoundError(absl::StrCat("Unable to find ", name, " config section in ", source_));
  }
  ConfigSection out;
  out.name = std::string(name);
  out.source = source_;
  for (const auto& [k, v] : defaults_) {
    ASSIGN_OR_RETURN(out.values[k], Interpolate(defaults_, k, v, kDefault, Interpolation::kNicer));
  }
  std::map<std::string, std::string> vars = defaults_;
  for (const auto& [k, v] : *raw) vars[k] = v;
  std::map<std::string, std::string> local;
  std::vector<std::pair<std::string, std::string>> gets;
  for (const auto& [k, v] : *raw) {
    ASSIGN_OR_RETURN(std::string value, Interpolate(vars, k, v, out.name, Interpolation::kNicer));
    if (absl::StartsWith(k, "set ")) {
      out.values[std::string(absl::StripAsciiWhitespace(k.substr(4)))] = value;
    } else if (absl::StartsWith(k, "get ")) {
      gets.emplace_back(std::string(absl::StripAsciiWhitespace(k.substr(4))), value);
    } else if (defaults_.count(k) == 0) {  // a [DEFAULT] key wins over the section's
      local[k] = value;
    }
  }
  for (const auto& [local_name, global_name] : gets) {
    auto it = out.values.find(global_name);
    if (it == out.values.end()) {
      return absl::InvalidArgumentError(absl::StrCat("option 'get ", local_name, "' in ", out.Where(),
                                                     " names '", global_name, "', which [DEFAULT] does not set"));
    }
    local[local_name] = it->second;
  }
  for (auto& [k, v] : local) out.values[k] = std::move(v);
  return out;
}

}  // namespace dbrepl

#include "common/config/ini_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/fs_util.h"
#include "common/status_macros.h"
#include "ini.h"

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
constexpr int kMaxLine = 1 << 20;

size_t IndentOf(absl::string_view line) {
  size_t i = 0;
  while (i < line.size() && absl::ascii_isspace(static_cast<unsigned char>(line[i]))) ++i;
  return i;
}

// inih's options are process-wide globals; parse under this lock and put
// them back afterwards for any other user of the library.
absl::Mutex inih_mutex(absl::kConstInit);

}  // namespace

// Drives inih over one file's text and mirrors Python ConfigParser's
// decisions that inih makes differently (see ini_file.h). inih reads the
// text through Reader(), one physical line at a time, and reports each
// option (or continuation) to Handler() right after reading its line, so
// the handler always knows which raw line it is looking at.
class IniParser {
 public:
  IniParser(IniFile* out, std::string file, absl::string_view text)
      : out_(out), file_(std::move(file)), text_(text) {}

  absl::Status Run() {
    if (text_.find('\0') != absl::string_view::npos) return Error(0, "contains a NUL byte");
    if (absl::StartsWith(text_, "\xEF\xBB\xBF")) text_.remove_prefix(3);  // UTF-8 BOM
    for (absl::string_view line : absl::StrSplit(text_, '\n')) {
      if (line.size() > kMaxLine - 3) return Error(0, "has a line longer than 1 MiB");
    }
    int rc;
    {
      absl::MutexLock lock(&inih_mutex);
      const bool inline_comments = ini_allow_inline_comments, use_stack = ini_use_stack,
                 allow_realloc = ini_allow_realloc, stop_on_first_error = ini_stop_on_first_error,
                 multiline = ini_allow_multiline, no_value = ini_allow_no_value;
      const int max_line = ini_max_line;
      ini_allow_inline_comments = false;  // Python 3: ';' inside a value is data
      ini_use_stack = false;
      ini_allow_realloc = true;
      ini_max_line = kMaxLine;
      ini_stop_on_first_error = true;
      ini_allow_multiline = true;
      ini_allow_no_value = false;
      rc = ini_parse_stream(&IniParser::Reader, this, &IniParser::Handler, this);
      ini_allow_inline_comments = inline_comments;
      ini_use_stack = use_stack;
      ini_allow_realloc = allow_realloc;
      ini_max_line = max_line;
      ini_stop_on_first_error = stop_on_first_error;
      ini_allow_multiline = multiline;
      ini_allow_no_value = no_value;
    }
    if (!error_.ok()) return error_;
    if (rc < 0) return absl::ResourceExhaustedError(absl::StrCat(file_, ": out of memory parsing"));
    if (rc > 0) {
      std::vector<absl::string_view> lines = absl::StrSplit(text_, '\n');
      absl::string_view bad = rc <= static_cast<int>(lines.size()) ? lines[rc - 1] : "";
      return Error(rc, absl::StrCat("cannot parse '", absl::StripAsciiWhitespace(bad),
                                    "' (expected [section], key = value or a comment)"));
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error(int line, absl::string_view message) const {
    return absl::InvalidArgumentError(
        line > 0 ? absl::StrCat(file_, ":", line, ": ", message) : absl::StrCat(file_, ": ", message));
  }

  static char* Reader(char* str, int num, void* stream) {
    IniParser* p = static_cast<IniParser*>(stream);
    if (p->pos_ >= p->text_.size() || num <= 1) return nullptr;
    if (p->at_line_start_) p->BeginLine();
    size_t n = 0;
    const size_t max = static_cast<size_t>(num) - 1;
    while (n < max && p->pos_ + n < p->text_.size()) {
      ++n;
      if (p->text_[p->pos_ + n - 1] == '\n') break;
    }
    std::memcpy(str, p->text_.data() + p->pos_, n);
    str[n] = '\0';
    p->pos_ += n;
    p->at_line_start_ = str[n - 1] == '\n';
    return str;
  }

  // Called as inih starts reading a physical line: classifies it the way
  // inih will, to track sections (inih reports none) and blank lines.
  void BeginLine() {
    ++line_no_;
    const size_t end = text_.find('\n', pos_);
    line_ = text_.substr(pos_, end == absl::string_view::npos ? absl::string_view::npos : end - pos_);
    if (!line_.empty() && line_.back() == '\r') line_.remove_suffix(1);
    const absl::string_view s = absl::StripAsciiWhitespace(line_);
    inih_continuation_ = false;
    if (s.empty()) {
      if (!key_.empty()) ++pending_blank_lines_;
      return;
    }
    if (s.front() == '#' || s.front() == ';') return;
    if (IndentOf(line_) > 0 && inih_has_prev_name_) {
      inih_continuation_ = true;
    } else if (s.front() == '[') {
      const size_t close = s.find(']');
      if (close != absl::string_view::npos) StartSection(s.substr(1, close - 1));
      inih_has_prev_name_ = false;
    } else {
      inih_has_prev_name_ = true;
    }
  }

  void StartSection(absl::string_view name) {
    if (!error_.ok()) return;
    const std::string section(name);
    // ConfigParser allows [DEFAULT] to reappear; other sections may not
    // within one file.
    if (section != kDefault && !file_sections_.insert(section).second) {
      error_ = Error(line_no_, absl::StrCat("section [", section, "] already exists"));
      return;
    }
    if (section != kDefault && out_->sections_.count(section) == 0) {
      out_->sections_[section];
      out_->order_.push_back(section);
    }
    section_ = section;
    in_section_ = true;
    key_.clear();
    pending_blank_lines_ = 0;
  }

  std::map<std::string, std::string>& Current() {
    return section_ == kDefault ? out_->defaults_ : out_->sections_[section_];
  }

  static int Handler(void* user, const char* /*section*/, const char* name, const char* value) {
    return static_cast<IniParser*>(user)->OnValue(name, value) ? 1 : 0;
  }

  bool OnValue(absl::string_view name, absl::string_view value) {
    if (!error_.ok()) return false;
    const size_t indent = IndentOf(line_);
    if (inih_continuation_ && !key_.empty() && indent > key_indent_) {
      std::string& v = Current()[key_];
      v.append(pending_blank_lines_ + 1, '\n');
      v.append(value.data(), value.size());
      pending_blank_lines_ = 0;
      return true;
    }
    pending_blank_lines_ = 0;
    std::string key(name);
    std::string val(value);
    if (inih_continuation_) {
      // inih continues any indented line; Python only one indented deeper
      // than its key. Anything else is a new section or option.
      const absl::string_view s = absl::StripAsciiWhitespace(line_);
      if (s.front() == '[' && s.find(']') != absl::string_view::npos) {
        StartSection(s.substr(1, s.find(']') - 1));
        return error_.ok();
      }
      const size_t delim = s.find_first_of("=:");
      if (delim == absl::string_view::npos) {
        error_ = Error(line_no_, absl::StrCat("cannot parse '", s, "' (expected key = value)"));
        return false;
      }
      key = std::string(absl::StripAsciiWhitespace(s.substr(0, delim)));
      val = std::string(absl::StripAsciiWhitespace(s.substr(delim + 1)));
    }
    if (!in_section_) {
      error_ = Error(line_no_, "option before any [section] header");
      return false;
    }
    absl::AsciiStrToLower(&key);
    if (key.empty()) {
      error_ = Error(line_no_, "option with an empty name");
      return false;
    }
    if (!file_keys_.insert({section_, key}).second) {
      error_ = Error(line_no_, absl::StrCat("option '", key, "' in section [", section_, "] already exists"));
      return false;
    }
    Current()[key] = std::move(val);
    key_ = key;
    key_indent_ = indent;
    return true;
  }

  IniFile* out_;
  const std::string file_;
  absl::string_view text_;
  size_t pos_ = 0;
  bool at_line_start_ = true;
  int line_no_ = 0;
  absl::string_view line_;  // the current physical line, without its newline
  bool inih_has_prev_name_ = false;
  bool inih_continuation_ = false;
  bool in_section_ = false;
  std::string section_;
  std::string key_;  // the option the current value belongs to
  size_t key_indent_ = 0;
  int pending_blank_lines_ = 0;
  std::set<std::string> file_sections_;
  std::set<std::pair<std::string, std::string>> file_keys_;
  absl::Status error_;
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

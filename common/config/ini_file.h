// Swift's INI configuration files, read as Swift reads them: Python's
// ConfigParser (utils.readconf) for daemon sections such as
// [container-replicator], and Paste Deploy's rules for [app:...] sections.
//
//   ASSIGN_OR_RETURN(IniFile ini, IniFile::Load("/etc/swift/container-server.conf"));
//   ASSIGN_OR_RETURN(ConfigSection conf, ini.Section("container-replicator"));
//   std::string devices = conf.Get("devices", "/srv/node");
//
// Syntax (Python 3 ConfigParser with Swift's settings: strict, "=" and ":"
// delimiters, whole-line comments, empty lines kept in values), line for line
// as ConfigParser._read() decides:
//  * "[name]" starts a section; the name runs to the last "]" and is
//    case-sensitive. [DEFAULT] holds values every section inherits.
//  * "key = value" or "key: value"; keys are lowercased, keys and values
//    stripped. "#" and ";" start comment lines only: a ";" inside a value
//    is part of it.
//  * A line indented deeper than its key's line continues the value
//    (joined with "\n"; blank lines inside are kept, trailing ones dropped).
//  * A UTF-8 byte order mark is skipped; "\n", "\r\n" and a lone "\r" end a
//    line (Python's universal newlines). A NUL byte is an error.
//  * Within one file a repeated section or key is an error (ConfigParser's
//    strict mode); a key before any section, or a line that is neither
//    section, option nor comment, is an error naming file and line.
//  * Load() of a directory reads every "*.conf" in it (not dotfiles) in name
//    order, later files overriding earlier ones (Swift's conf.d).
//  * Values containing "%(" are interpolated: "%(name)s" is the value of
//    `name` in the same section (or DEFAULT), "%%" is "%" (Swift's
//    NicerInterpolation; swift.conf uses kAlways, plain ConfigParser).
//
// An IniFile is an immutable value; safe to share once built. Parsing has no
// shared state: any number of threads may parse at once.
#ifndef DBREPL_COMMON_CONFIG_INI_FILE_H_
#define DBREPL_COMMON_CONFIG_INI_FILE_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace dbrepl {

// The options of one section, flattened (DEFAULT merged in as the chosen
// view prescribes) and interpolated. Keys are lowercase.
struct ConfigSection {
  std::string name;    // e.g. "container-replicator"
  std::string source;  // the file (or directory) it came from
  std::map<std::string, std::string> values;
  // Keys whose value came from a command-line flag (see flags.h), so that
  // errors point at the flag rather than the file.
  std::set<std::string> command_line_keys;

  bool Has(absl::string_view key) const { return values.count(std::string(key)) > 0; }
  // The value of `key`, or null.
  const std::string* Find(absl::string_view key) const;
  std::string Get(absl::string_view key, absl::string_view default_value = "") const;
  // "[name] of source", for error messages.
  std::string Where() const;
};

enum class Interpolation {
  kNicer,   // only values containing "%(" (Swift's readconf)
  kAlways,  // every value; a lone "%" is an error (plain ConfigParser)
};

class IniFile {
 public:
  // Reads a file, or every *.conf file of a directory. NOT_FOUND (or another
  // errno code) if unreadable, INVALID_ARGUMENT "<file>:<line>: <problem>"
  // on a syntax error.
  static absl::StatusOr<IniFile> Load(const std::string& path);
  // Parses `text` as if read from a file called `source`.
  static absl::StatusOr<IniFile> Parse(absl::string_view text, absl::string_view source = "<string>");

  // True if the file has the section (even if it is empty). DEFAULT is not
  // a section.
  bool HasSection(absl::string_view name) const;
  // Section names in file order, without DEFAULT.
  std::vector<std::string> SectionNames() const { return order_; }

  // ConfigParser's items(name): DEFAULT's values overridden by the
  // section's own. "DEFAULT" gives the defaults alone. NOT_FOUND "Unable to
  // find <name> config section in <source>" (Swift's words) if absent;
  // INVALID_ARGUMENT for a bad interpolation.
  absl::StatusOr<ConfigSection> Section(absl::string_view name,
                                        Interpolation mode = Interpolation::kNicer) const;

  // ConfigParser's get(section, key): the section's value or DEFAULT's,
  // interpolated; nullopt if neither sets it. NOT_FOUND if there is no such
  // section.
  absl::StatusOr<absl::optional<std::string>> Get(absl::string_view section, absl::string_view key,
                                                  Interpolation mode = Interpolation::kNicer) const;

  // Paste Deploy's view of an [app:...] or [filter:...] section, which is
  // what a Swift server's app gets: DEFAULT's values win over the section's
  // for the same key (so a [DEFAULT] bind_port cannot be overridden by a
  // plain "bind_port =" in the section) unless the section says
  // "set bind_port = ..."; "get key = other" copies DEFAULT's `other`.
  absl::StatusOr<ConfigSection> PasteSection(absl::string_view name) const;

  // Keys written in the section itself (not inherited), uninterpolated;
  // null if there is no such section.
  const std::map<std::string, std::string>* RawSection(absl::string_view name) const;

  const std::string& source() const { return source_; }

 private:
  friend class IniParser;
  absl::StatusOr<std::string> Interpolate(const std::map<std::string, std::string>& vars, const std::string& key,
                                          const std::string& value, const std::string& section,
                                          Interpolation mode) const;

  std::string source_;
  std::map<std::string, std::string> defaults_;
  std::map<std::string, std::map<std::string, std::string>> sections_;
  std::vector<std::string> order_;
};

}  // namespace dbrepl

#endif  // DBREPL_COMMON_CONFIG_INI_FILE_H_

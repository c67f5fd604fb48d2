#include "common/db/metadata.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace dbrepl {
namespace {

using Json = nlohmann::ordered_json;

absl::StatusOr<Json> ParseObject(absl::string_view text, absl::string_view what) {
  if (text.empty()) return Json::object();
  Json j = Json::parse(text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a JSON object"));
  }
  return j;
}

// The [value, timestamp] pair of `key`, checked.
absl::StatusOr<std::string> TimestampOf(const Json& entry, const std::string& key, absl::string_view what) {
  if (!entry.is_array() || entry.size() != 2 || !entry[1].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " entry '", key, "' is not [value, \"timestamp\"]"));
  }
  return entry[1].get<std::string>();
}

void AppendEscaped(std::string* out, const std::string& s) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    size_t len;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c >> 5) == 0x6 && i + 1 < s.size()) {
      cp = ((c & 0x1f) << 6) | (s[i + 1] & 0x3f);
      len = 2;
    } else if ((c >> 4) == 0xe && i + 2 < s.size()) {
      cp = ((c & 0x0f) << 12) | ((s[i + 1] & 0x3f) << 6) | (s[i + 2] & 0x3f);
      len = 3;
    } else if (i + 3 < s.size()) {
      cp = ((c & 0x07) << 18) | ((s[i + 1] & 0x3f) << 12) | ((s[i + 2] & 0x3f) << 6) | (s[i + 3] & 0x3f);
      len = 4;
    } else {
      cp = 0xfffd;
      len = 1;
    }
    i += len;
    switch (cp) {
      case '"': *out += "\\\""; continue;
      case '\\': *out += "\\\\"; continue;
      case '\n': *out += "\\n"; continue;
      case '\r': *out += "\\r"; continue;
      case '\t': *out += "\\t"; continue;
      case '\b': *out += "\\b"; continue;
      case '\f': *out += "\\f"; continue;
      default: break;
    }
    if (cp >= 0x20 && cp <= 0x7e) {
      out->push_back(static_cast<char>(cp));
    } else if (cp > 0xffff) {
      uint32_t v = cp - 0x10000;
      absl::StrAppendFormat(out, "\\u%04x\\u%04x", 0xd800 | (v >> 10), 0xdc00 | (v & 0x3ff));
    } else {
      absl::StrAppendFormat(out, "\\u%04x", cp);
    }
  }
  out->push_back('"');
}

void Dump(const Json& j, std::string* out) {
  switch (j.type()) {
    case Json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) *out += ", ";
        first = false;
        AppendEscaped(out, it.key());
        *out += ": ";
        Dump(it.value(), out);
      }
      out->push_back('}');
      return;
    }
    case Json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const Json& item : j) {
        if (!first) *out += ", ";
        first = false;
        Dump(item, out);
      }
      out->push_back(']');
      return;
    }
    case Json::value_t::string:
      AppendEscaped(out, j.get<std::string>());
      return;
    case Json::value_t::boolean:
      *out += j.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer:
      absl::StrAppend(out, j.get<int64_t>());
      return;
    case Json::value_t::number_unsigned:
      absl::StrAppend(out, j.get<uint64_t>());
      return;
    case Json::value_t::number_float:
      *out += PythonFloatRepr(j.get<double>());
      return;
    default:
      *out += "null";
      return;
  }
}

std::string PythonDumps(const Json& j) {
  std::string out;
  Dump(j, &out);
  return out;
}

}  // namespace

absl::StatusOr<absl::optional<std::string>> MergeMetadata(absl::string_view stored_json,
                                                          absl::string_view updates_json) {
  absl::StatusOr<Json> md = ParseObject(stored_json, "stored metadata");
  if (!md.ok()) return md.status();
  absl::StatusOr<Json> updates = ParseObject(updates_json, "metadata update");
  if (!updates.ok()) return updates.status();
  bool changed = false;
  for (auto it = updates->begin(); it != updates->end(); ++it) {
    absl::StatusOr<std::string> ts = TimestampOf(it.value(), it.key(), "metadata update");
    if (!ts.ok()) return ts.status();
    auto existing = md->find(it.key());
    if (existing == md->end()) {
      changed = true;  // Swift writes whenever a key is new.
      (*md)[it.key()] = it.value();
      continue;
    }
    absl::StatusOr<std::string> old_ts = TimestampOf(existing.value(), it.key(), "stored metadata");
    if (!old_ts.ok()) return old_ts.status();
    if (*ts > *old_ts) {
      changed = true;
      existing.value() = it.value();
    }
  }
  if (!changed) return absl::optional<std::string>();
  return absl::optional<std::string>(PythonDumps(*md));
}

absl::StatusOr<absl::optional<std::string>> ReclaimMetadata(absl::string_view stored_json, const Timestamp& age) {
  if (stored_json.empty()) return absl::optional<std::string>();
  absl::StatusOr<Json> md = ParseObject(stored_json, "stored metadata");
  if (!md.ok()) return md.status();
  Json kept = Json::object();
  bool dropped = false;
  for (auto it = md->begin(); it != md->end(); ++it) {
    const Json& entry = it.value();
    if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[0].get<std::string>().empty() &&
        entry[1].is_string()) {
      absl::StatusOr<Timestamp> ts = Timestamp::Parse(entry[1].get<std::string>());
      if (ts.ok() && *ts < age) {
        dropped = true;
        continue;
      }
    }
    kept[it.key()] = entry;
  }
  if (!dropped) return absl::optional<std::string>();
  return absl::optional<std::string>(PythonDumps(kept));
}

absl::StatusOr<std::string> DeleteAllMetadataUpdates(absl::string_view stored_json, absl::string_view timestamp,
                                                     const std::vector<std::string>& keep) {
  absl::StatusOr<Json> md = ParseObject(stored_json, "stored metadata");
  if (!md.ok()) return md.status();
  Json updates = Json::object();
  for (auto it = md->begin(); it != md->end(); ++it) {
    std::string lower = absl::AsciiStrToLower(it.key());
    if (std::find(keep.begin(), keep.end(), lower) != keep.end()) continue;
    updates[it.key()] = Json::array({"", std::string(timestamp)});
  }
  return PythonDumps(updates);
}

absl::StatusOr<std::string> GetMetadataValue(absl::string_view stored_json, absl::string_view key) {
  absl::StatusOr<Json> md = ParseObject(stored_json, "stored metadata");
  if (!md.ok()) return md.status();
  auto it = md->find(std::string(key));
  if (it == md->end() || !it.value().is_array() || it.value().empty() || !it.value()[0].is_string()) {
    return std::string();
  }
  return it.value()[0].get<std::string>();
}

absl::StatusOr<std::string> NormalizeMetadataJson(absl::string_view json) {
  if (json.empty()) return std::string();
  absl::StatusOr<Json> md = ParseObject(json, "metadata");
  if (!md.ok()) return md.status();
  return PythonDumps(*md);
}

}  // namespace dbrepl

#include "common/db/metadata.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/python_json.h"
#include "common/status_macros.h"
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
// `strict`: an update must carry Swift's canonical timestamps
// (Timestamp.internal), which compare correctly as text; a stored entry is
// read as it is.
absl::StatusOr<std::string> TimestampOf(const Json& entry, const std::string& key, absl::string_view what,
                                        bool strict = false) {
  if (!entry.is_array() || entry.size() != 2 || !entry[1].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " entry '", key, "' is not [value, \"timestamp\"]"));
  }
  std::string ts = entry[1].get<std::string>();
  if (strict) {
    absl::StatusOr<Timestamp> parsed = Timestamp::Parse(ts);
    if (!parsed.ok() || parsed->Internal() != ts) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " entry '", key, "' has timestamp '", ts.substr(0, 40), "', not Swift's form"));
    }
  }
  return ts;
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
    absl::StatusOr<std::string> ts = TimestampOf(it.value(), it.key(), "metadata update", /*strict=*/true);
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
  ASSIGN_OR_RETURN(std::string merged, PythonJsonDumps(*md));
  return absl::optional<std::string>(std::move(merged));
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
  ASSIGN_OR_RETURN(std::string reclaimed, PythonJsonDumps(kept));
  return absl::optional<std::string>(std::move(reclaimed));
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
  return PythonJsonDumps(updates);
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
  return PythonJsonDumps(*md);
}

}  // namespace dbrepl

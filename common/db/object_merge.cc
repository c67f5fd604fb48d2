#include "common/db/object_merge.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/timestamp.h"

namespace dbrepl {
namespace {

// Python's \s for the ASCII range.
bool IsSpace(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

// RFC 2616 token characters, as Swift's _rfc_token.
bool IsTokenChar(unsigned char c) {
  if (c <= 0x20 || c == 0x7f) return false;
  switch (c) {
    case '(': case ')': case '<': case '>': case '@': case ',': case ';': case ':': case '\\':
    case '"': case '/': case '[': case ']': case '?': case '=': case '{': case '}':
      return false;
    default:
      return true;
  }
}

size_t SkipSpace(absl::string_view s, size_t i) {
  while (i < s.size() && IsSpace(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

size_t SkipToken(absl::string_view s, size_t i) {
  while (i < s.size() && IsTokenChar(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

// A quoted string at s[i] ('"'): returns the end (past the closing quote) or
// npos.
size_t SkipQuoted(absl::string_view s, size_t i) {
  ++i;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') return i + 1;
    if (c == '\\') {
      if (i + 1 >= s.size() || s[i + 1] == '\n') return absl::string_view::npos;
      i += 2;
    } else {
      ++i;
    }
  }
  return absl::string_view::npos;
}

// findall of (?:\s*;\s*(TOKEN)\s*(?:=\s*(TOKEN|QUOTED))?) over `params`.
std::vector<std::pair<std::string, std::string>> FindParams(absl::string_view params) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < params.size()) {
    size_t i = SkipSpace(params, pos);
    if (i >= params.size() || params[i] != ';') {
      ++pos;
      continue;
    }
    i = SkipSpace(params, i + 1);
    size_t key_end = SkipToken(params, i);
    if (key_end == i) {
      ++pos;
      continue;
    }
    std::string key(params.substr(i, key_end - i));
    size_t end = SkipSpace(params, key_end);
    std::string value;
    if (end < params.size() && params[end] == '=') {
      size_t v = SkipSpace(params, end + 1);
      size_t v_end = SkipToken(params, v);
      if (v_end == v && v < params.size() && params[v] == '"') v_end = SkipQuoted(params, v);
      if (v_end != absl::string_view::npos && v_end > v) {
        value = std::string(params.substr(v, v_end - v));
        end = v_end;
      }
    }
    out.emplace_back(std::move(key), std::move(value));
    pos = end;
  }
  return out;
}

}  // namespace

std::pair<std::string, absl::optional<std::string>> ExtractSwiftBytes(absl::string_view content_type) {
  size_t semi = content_type.find(';');
  if (semi == absl::string_view::npos) return {std::string(content_type), absl::nullopt};
  std::string base(content_type.substr(0, semi));
  std::string params = absl::StrCat(";", content_type.substr(semi + 1));
  absl::optional<std::string> swift_bytes;
  for (auto& [key, value] : FindParams(params)) {
    if (key == "swift_bytes") {
      swift_bytes = value;
    } else {
      absl::StrAppend(&base, ";", key, "=", value);
    }
  }
  return {base, swift_bytes};
}

absl::StatusOr<bool> UpdateNewItemFromExisting(MergingObject* item, const ObjectRecord* existing) {
  ObjectRecord& rec = item->record;
  if (!item->data_timestamp.has_value()) item->data_timestamp = rec.created_at;
  absl::StatusOr<ObjectTimestamps> decoded = DecodeTimestamps(*item->data_timestamp);
  if (!decoded.ok()) return decoded.status();
  ObjectTimestamps t = *decoded;
  if (!rec.ctype_timestamp.empty()) {
    absl::StatusOr<Timestamp> ctype = Timestamp::Parse(rec.ctype_timestamp);
    if (!ctype.ok()) return ctype.status();
    t.ctype = t.meta = *ctype;
  }
  if (!rec.meta_timestamp.empty()) {
    absl::StatusOr<Timestamp> meta = Timestamp::Parse(rec.meta_timestamp);
    if (!meta.ok()) return meta.status();
    t.meta = *meta;
  }
  if (existing == nullptr) {
    rec.created_at = EncodeTimestamps(t.data, t.ctype, t.meta);
    return true;
  }
  absl::StatusOr<ObjectTimestamps> existing_ts = DecodeTimestamps(existing->created_at);
  if (!existing_ts.ok()) return existing_ts.status();
  // swift_bytes follows the newest data; the rest of the content type
  // follows the newest content-type timestamp.
  auto [item_ctype, item_swift_bytes] = ExtractSwiftBytes(rec.content_type);
  auto [existing_ctype, existing_swift_bytes] = ExtractSwiftBytes(existing->content_type);
  bool newer = false;
  if (existing_ts->data >= t.data) {
    rec.size = existing->size;
    rec.etag = existing->etag;
    rec.deleted = existing->deleted;
    item_swift_bytes = existing_swift_bytes;
    t.data = existing_ts->data;
  } else {
    newer = true;
  }
  if (existing_ts->ctype >= t.ctype) {
    item_ctype = existing_ctype;
    t.ctype = existing_ts->ctype;
  } else {
    newer = true;
  }
  if (existing_ts->meta >= t.meta) {
    t.meta = existing_ts->meta;
  } else {
    newer = true;
  }
  rec.created_at = EncodeTimestamps(t.data, t.ctype, t.meta);
  if (item_swift_bytes.has_value() && !item_swift_bytes->empty()) {
    absl::StrAppend(&item_ctype, ";swift_bytes=", *item_swift_bytes);
  }
  rec.content_type = item_ctype;
  return newer;
}

}  // namespace dbrepl

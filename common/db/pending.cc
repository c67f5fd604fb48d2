#include "common/db/pending.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/db/pickle.h"
#include "common/timestamp.h"
#include "glog/logging.h"

namespace dbrepl {
namespace {

using Kind = PickleValue::Kind;

PickleValue OptionalString(const std::string& s) {
  return s.empty() ? PickleValue::None() : PickleValue::String(s);
}

std::string Entry(const PickleValue& tuple) { return absl::StrCat(":", absl::Base64Escape(WritePickle(tuple))); }

bool IsText(const PickleValue& v) { return v.kind == Kind::kString || v.kind == Kind::kBytes; }

// A column SQLite would store as an integer: ints, bools and decimal strings
// (the account server passes header strings).
bool AsInt(const PickleValue& v, int64_t* out) {
  switch (v.kind) {
    case Kind::kInt:
      *out = v.integer;
      return true;
    case Kind::kBool:
      *out = v.boolean ? 1 : 0;
      return true;
    case Kind::kString:
      return absl::SimpleAtoi(v.text, out);
    default:
      return false;
  }
}

// A timestamp column: strings as given; numbers as Swift would end up
// storing them.
bool AsTimestamp(const PickleValue& v, bool normalize_numbers, std::string* out) {
  switch (v.kind) {
    case Kind::kString:
    case Kind::kBytes:
      *out = v.text;
      return true;
    case Kind::kInt:
    case Kind::kFloat: {
      double seconds = v.kind == Kind::kInt ? static_cast<double>(v.integer) : v.real;
      if (normalize_numbers) {  // decode_timestamps(float) -> Timestamp(float).
        auto t = Timestamp::FromSeconds(seconds);
        if (!t.ok()) return false;
        *out = t->Internal();
      } else if (v.kind == Kind::kInt) {
        *out = absl::StrCat(v.integer);
      } else {  // SQLite's REAL -> TEXT conversion.
        *out = absl::StrFormat("%.15g", seconds);
        if (out->find_first_of(".en") == std::string::npos) *out += ".0";
      }
      return true;
    }
    default:
      return false;
  }
}

absl::Status Bad(absl::string_view field) { return absl::InvalidArgumentError(absl::StrCat("bad ", field)); }

absl::StatusOr<ObjectRecord> ToObject(const std::vector<PickleValue>& t) {
  if (t.size() < 6) return absl::InvalidArgumentError("tuple shorter than 6");
  ObjectRecord r;
  if (!IsText(t[0])) return Bad("name");
  r.name = t[0].text;
  if (!AsTimestamp(t[1], /*normalize_numbers=*/true, &r.created_at)) return Bad("created_at");
  if (!AsInt(t[2], &r.size)) return Bad("size");
  if (!IsText(t[3])) return Bad("content_type");
  r.content_type = t[3].text;
  if (!IsText(t[4])) return Bad("etag");
  r.etag = t[4].text;
  int64_t deleted;
  if (!AsInt(t[5], &deleted)) return Bad("deleted");
  r.deleted = deleted != 0;
  if (t.size() > 6 && !AsInt(t[6], &r.storage_policy_index)) return Bad("storage_policy_index");
  if (t.size() > 7 && t[7].kind != Kind::kNone && !AsTimestamp(t[7], true, &r.ctype_timestamp)) {
    return Bad("ctype_timestamp");
  }
  if (t.size() > 8 && t[8].kind != Kind::kNone && !AsTimestamp(t[8], true, &r.meta_timestamp)) {
    return Bad("meta_timestamp");
  }
  return r;
}

absl::StatusOr<ContainerRecord> ToContainer(const std::vector<PickleValue>& t) {
  if (t.size() < 6) return absl::InvalidArgumentError("tuple shorter than 6");
  ContainerRecord r;
  if (!IsText(t[0])) return Bad("name");
  r.name = t[0].text;
  if (!AsTimestamp(t[1], /*normalize_numbers=*/false, &r.put_timestamp)) return Bad("put_timestamp");
  if (!AsTimestamp(t[2], false, &r.delete_timestamp)) return Bad("delete_timestamp");
  if (!AsInt(t[3], &r.object_count)) return Bad("object_count");
  if (!AsInt(t[4], &r.bytes_used)) return Bad("bytes_used");
  int64_t deleted;
  if (!AsInt(t[5], &deleted)) return Bad("deleted");
  r.deleted = deleted != 0;
  if (t.size() > 6 && !AsInt(t[6], &r.storage_policy_index)) return Bad("storage_policy_index");
  return r;
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  int e = errno;
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(e));
  return e == ENOENT ? absl::NotFoundError(message) : absl::InternalError(message);
}

}  // namespace

std::string EncodePendingObject(const ObjectRecord& o) {
  return Entry(PickleValue::Tuple({
      PickleValue::String(o.name),
      PickleValue::String(o.created_at),
      PickleValue::Int(o.size),
      PickleValue::String(o.content_type),
      PickleValue::String(o.etag),
      PickleValue::Int(o.deleted ? 1 : 0),
      PickleValue::Int(o.storage_policy_index),
      OptionalString(o.ctype_timestamp),
      OptionalString(o.meta_timestamp),
  }));
}

std::string EncodePendingContainer(const ContainerRecord& c) {
  return Entry(PickleValue::Tuple({
      PickleValue::String(c.name),
      PickleValue::String(c.put_timestamp),
      PickleValue::String(c.delete_timestamp),
      PickleValue::Int(c.object_count),
      PickleValue::Int(c.bytes_used),
      PickleValue::Int(c.deleted ? 1 : 0),
      PickleValue::Int(c.storage_policy_index),
  }));
}

PendingRows DecodePending(DbType type, absl::string_view contents, absl::string_view file_name) {
  PendingRows rows;
  for (absl::string_view entry : absl::StrSplit(contents, ':', absl::SkipEmpty())) {
    absl::Status status;
    std::string raw;
    if (!absl::Base64Unescape(entry, &raw)) {
      status = absl::InvalidArgumentError("not base64");
    } else if (absl::StatusOr<PickleValue> value = ReadPickle(raw); !value.ok()) {
      status = value.status();
    } else if (value->kind != Kind::kTuple) {
      status = absl::InvalidArgumentError("not a tuple");
    } else if (type == DbType::kContainer) {
      absl::StatusOr<ObjectRecord> r = ToObject(value->items);
      if (r.ok()) rows.objects.push_back(*std::move(r));
      status = r.status();
    } else {
      absl::StatusOr<ContainerRecord> r = ToContainer(value->items);
      if (r.ok()) rows.containers.push_back(*std::move(r));
      status = r.status();
    }
    if (!status.ok()) {
      ++rows.invalid_entries;
      LOG(ERROR) << "Invalid pending entry " << file_name << ": " << absl::CHexEscape(entry.substr(0, 200)) << " ("
                 << status.message() << ")";
    }
  }
  return rows;
}

absl::StatusOr<int64_t> PendingFileSize(const std::string& pending_file) {
  struct stat st;
  if (stat(pending_file.c_str(), &st) != 0) {
    if (errno == ENOENT) return 0;
    return Errno("stat", pending_file);
  }
  return static_cast<int64_t>(st.st_size);
}

absl::StatusOr<std::string> ReadPendingFile(const std::string& pending_file) {
  int fd = open(pending_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", pending_file);
  std::string contents;
  char buf[65536];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status s = Errno("read", pending_file);
      close(fd);
      return s;
    }
    if (n == 0) break;
    contents.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return contents;
}

absl::Status AppendPendingFile(const std::string& pending_file, absl::string_view entry) {
  int fd = open(pending_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return Errno("open", pending_file);
  while (!entry.empty()) {
    ssize_t n = write(fd, entry.data(), entry.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status s = Errno("write", pending_file);
      close(fd);
      return s;
    }
    entry.remove_prefix(static_cast<size_t>(n));
  }
  if (close(fd) != 0) return Errno("close", pending_file);
  return absl::OkStatus();
}

absl::Status TruncatePendingFile(const std::string& pending_file) {
  if (truncate(pending_file.c_str(), 0) != 0 && errno != ENOENT) return Errno("truncate", pending_file);
  return absl::OkStatus();
}

}  // namespace dbrepl

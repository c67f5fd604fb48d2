// Reading and writing Swift's `*.ring.gz` files (swift/common/ring/ring.py,
// RingData.load and RingData.save; swift/common/ring/io.py for v2).
//
// Reads format v1 (magic "R1NG", version 1, a JSON header, then uint16 rows
// in the header's `byteorder`) and v2 (Swift 2.36+: length-prefixed
// sections with a trailing JSON index, network-order rows of 2, 4 or 8
// bytes, per-section checksums). Writes v1 exactly as Swift's
// RingData.save() does: gzip with the fixed mtime 1300507380 and the file's
// name in the header, compression level 9, the JSON header with sorted keys
// and ensure_ascii, little-endian rows. The same ring therefore gives the
// same bytes as Swift writes.
//
//   ASSIGN_OR_RETURN(RingData data, ReadRingFile("/etc/swift/container.ring.gz"));
//   RETURN_IF_ERROR(WriteRingFile("/tmp/container.ring.gz", data));
//
// Every malformed input (bad gzip, truncation at any byte, bad magic, bad
// JSON, wrong types, a table that does not fit the header, device ids that
// name no device) is a DATA_LOSS status saying what is wrong; nothing
// crashes and nothing huge is allocated on the strength of a header.
// Swift's pickled pre-1.7 rings are not supported. Stateless and
// thread-safe.
#ifndef DBREPL_COMMON_RING_RING_FORMAT_H_
#define DBREPL_COMMON_RING_RING_FORMAT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env/env.h"
#include "absl/strings/string_view.h"
#include "common/ring/ring_data.h"

namespace dbrepl {

// The gzip header mtime Swift writes, so identical rings are identical files.
inline constexpr uint32_t kRingGzipMtime = 1300507380;

// Largest uncompressed ring accepted (2 GiB): far beyond any real ring, low
// enough that a gzip bomb is refused rather than exhausting memory.
inline constexpr size_t kMaxUncompressedRingBytes = size_t{1} << 31;

// Decodes the bytes of a ring file (gzip-compressed v1 or v2). The result
// has passed RingData::Validate(). DATA_LOSS on any malformed input.
absl::StatusOr<RingData> DecodeRing(absl::string_view file_bytes);

// Reads and decodes `path`. NOT_FOUND if it does not exist, another errno
// code if it cannot be read, DATA_LOSS (message prefixed with the path) if
// it is not a valid ring.
absl::StatusOr<RingData> ReadRingFile(const std::string& path);

// Encodes `data` as a v1 ring file whose gzip header names `gzip_name`
// (Swift uses the file's basename without ".gz"). INVALID_ARGUMENT if the
// data does not validate, a device id does not fit v1's uint16, or a
// string is not valid UTF-8.
absl::StatusOr<std::string> EncodeRingV1(const RingData& data, absl::string_view gzip_name);

// Encodes `data` (v1) and writes it to `path` with WriteFileAtomically()
// (common/fs_util.h): mode 0644, fsynced, renamed into place, so a reader or
// a crash sees the old ring or the new one. On failure `path` is untouched.
absl::Status WriteRingFile(const std::string& path, const RingData& data, Env* env = Env::Default());

}  // namespace dbrepl

#endif  // DBREPL_COMMON_RING_RING_FORMAT_H_

#include "common/ring/ring_format.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <cstring>
#include <limits>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/fs_util.h"
#include "common/python_json.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace dbrepl {
namespace {

using Json = nlohmann::json;

absl::Status Corrupt(absl::string_view what) { return absl::DataLossError(what); }

uint64_t ReadBigEndian(absl::string_view bytes) {
  uint64_t v = 0;
  for (unsigned char c : bytes) v = (v << 8) | c;
  return v;
}

// Inflates one complete gzip (or zlib) stream, as Swift's RingReader does
// with zlib.decompressobj(32 + MAX_WBITS); data after the end of the stream
// is ignored, as there. Unlike Swift, a stream that stops before its end
// (a truncated file) is an error rather than a silently shorter ring.
absl::StatusOr<std::string> Inflate(absl::string_view in) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, 32 + MAX_WBITS) != Z_OK) return absl::InternalError("inflateInit2 failed");
  absl::Cleanup end = [&zs] { inflateEnd(&zs); };
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char chunk[1 << 16];
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out.append(chunk, sizeof(chunk) - zs.avail_out);
    if (out.size() > kMaxUncompressedRingBytes) {
      return Corrupt(absl::StrCat("uncompressed ring exceeds ", kMaxUncompressedRingBytes, " bytes"));
    }
    if (rc == Z_STREAM_END) return out;
    if (rc == Z_BUF_ERROR || (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0)) {
      return Corrupt(absl::StrCat("gzip stream is truncated after ", in.size(), " bytes (incomplete file?)"));
    }
    if (rc != Z_OK) {
      return Corrupt(absl::StrCat("not valid gzip data: ", zs.msg != nullptr ? zs.msg : zError(rc)));
    }
  }
}

// A bounds-checked cursor over the uncompressed bytes.
class Reader {
 public:
  explicit Reader(absl::string_view data) : data_(data) {}
  absl::StatusOr<absl::string_view> Take(uint64_t n, absl::string_view what) {
    if (n > data_.size() - pos_) {
      return Corrupt(absl::StrCat("file ends inside ", what, " (needs ", n, " bytes at offset ", pos_, ", ",
                                  data_.size() - pos_, " left)"));
    }
    absl::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  absl::string_view data_;
  size_t pos_ = 0;
};

absl::StatusOr<Json> ParseJson(absl::string_view text, absl::string_view what) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corrupt(absl::StrCat(what, " is not valid JSON"));
  return j;
}

absl::StatusOr<int64_t> IntField(const Json& obj, const char* key, absl::string_view where, int64_t min,
                                 int64_t max) {
  auto it = obj.find(key);
  if (it == obj.end()) return Corrupt(absl::StrCat(where, " has no '", key, "'"));
  if (!it->is_number_integer() || (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(max))) {
    return Corrupt(absl::StrCat(where, " '", key, "' is not an integer in [", min, ", ", max, "]"));
  }
  const int64_t v = it->get<int64_t>();
  if (v < min || v > max) {
    return Corrupt(absl::StrCat(where, " '", key, "' is ", v, ", outside [", min, ", ", max, "]"));
  }
  return v;
}

absl::StatusOr<absl::optional<int64_t>> OptionalIntField(const Json& obj, const char* key,
                                                         absl::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::optional<int64_t>();
  ASSIGN_OR_RETURN(int64_t v, IntField(obj, key, where, std::numeric_limits<int64_t>::min(),
                                       std::numeric_limits<int64_t>::max()));
  return absl::optional<int64_t>(v);
}

absl::StatusOr<std::string> StringField(const Json& obj, const char* key, absl::string_view where) {
  auto it = obj.find(key);
  if (it == obj.end()) return Corrupt(absl::StrCat(where, " has no '", key, "'"));
  if (!it->is_string()) return Corrupt(absl::StrCat(where, " '", key, "' is not a string"));
  return it->get<std::string>();
}

absl::StatusOr<RingDevice> ParseDevice(const Json& j, size_t index) {
  const std::string where = absl::StrCat("device ", index);
  if (!j.is_object()) return Corrupt(absl::StrCat(where, " is neither an object nor null"));
  constexpr int64_t kIntMax = std::numeric_limits<int>::max();
  constexpr int64_t kIntMin = std::numeric_limits<int>::min();
  RingDevice d;
  ASSIGN_OR_RETURN(int64_t id, IntField(j, "id", where, 0, kIntMax));
  d.id = static_cast<int>(id);
  if (j.contains("region")) {
    ASSIGN_OR_RETURN(int64_t region, IntField(j, "region", where, kIntMin, kIntMax));
    d.region = static_cast<int>(region);
  }
  ASSIGN_OR_RETURN(int64_t zone, IntField(j, "zone", where, kIntMin, kIntMax));
  d.zone = static_cast<int>(zone);
  ASSIGN_OR_RETURN(d.ip, StringField(j, "ip", where));
  ASSIGN_OR_RETURN(int64_t port, IntField(j, "port", where, 0, 65535));
  d.port = static_cast<int>(port);
  d.replication_ip = d.ip;
  d.replication_port = d.port;
  if (j.contains("replication_ip")) {
    ASSIGN_OR_RETURN(d.replication_ip, StringField(j, "replication_ip", where));
  }
  if (j.contains("replication_port")) {
    ASSIGN_OR_RETURN(int64_t rport, IntField(j, "replication_port", where, 0, 65535));
    d.replication_port = static_cast<int>(rport);
  }
  ASSIGN_OR_RETURN(d.device, StringField(j, "device", where));
  if (auto it = j.find("weight"); it != j.end()) {
    if (!it->is_number()) return Corrupt(absl::StrCat(where, " 'weight' is not a number"));
    d.weight = it->get<double>();
  }
  if (auto it = j.find("meta"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return Corrupt(absl::StrCat(where, " 'meta' is not a string"));
    d.meta = it->get<std::string>();
  }
  return d;
}

absl::Status ParseDevices(const Json& devs, RingData* data) {
  if (!devs.is_array()) return Corrupt("'devs' is not a list");
  for (size_t i = 0; i < devs.size(); ++i) {
    if (devs[i].is_null()) {
      data->devices.emplace_back();
    } else {
      ASSIGN_OR_RETURN(RingDevice d, ParseDevice(devs[i], i));
      data->devices.emplace_back(std::move(d));
    }
  }
  return absl::OkStatus();
}

// Splits `table` into rows of `partition_count` entries of `itemsize` bytes
// (the last row may be short), decoding each entry in the given byte order.
absl::Status ParseTable(absl::string_view table, int itemsize, bool big_endian, size_t rows_expected,
                        RingData* data) {
  if (table.size() % itemsize != 0) {
    return Corrupt(absl::StrCat("replica table of ", table.size(), " bytes is not a whole number of ", itemsize,
                                "-byte entries"));
  }
  const size_t row_bytes = static_cast<size_t>(data->partition_count()) * itemsize;
  size_t pos = 0;
  for (size_t r = 0; rows_expected == 0 ? pos < table.size() : r < rows_expected; ++r) {
    const size_t n = std::min(row_bytes, table.size() - pos);
    std::vector<uint32_t> row(n / itemsize);
    for (size_t k = 0; k < row.size(); ++k) {
      const unsigned char* b = reinterpret_cast<const unsigned char*>(table.data() + pos + k * itemsize);
      uint64_t v = 0;
      for (int i = 0; i < itemsize; ++i) {
        v |= uint64_t{b[i]} << (8 * (big_endian ? itemsize - 1 - i : i));
      }
      if (v > std::numeric_limits<uint32_t>::max()) {
        return Corrupt(absl::StrCat("replica ", r, " of partition ", k, " names device ", v));
      }
      row[k] = static_cast<uint32_t>(v);
    }
    data->replica2part2dev.push_back(std::move(row));
    pos += n;
  }
  if (pos != table.size()) {
    return Corrupt(absl::StrCat(table.size() - pos, " unexpected bytes after the ", rows_expected,
                                " replica rows the header announces"));
  }
  return absl::OkStatus();
}

absl::Status CheckPartShift(int64_t part_shift) {
  if (part_shift < 32 - kMaxPartPower || part_shift > 32) {
    return Corrupt(absl::StrCat("part_shift ", part_shift, " is outside [", 32 - kMaxPartPower, ", 32]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<RingData> DecodeV1(Reader& in) {
  ASSIGN_OR_RETURN(absl::string_view len_bytes, in.Take(4, "the header length"));
  ASSIGN_OR_RETURN(absl::string_view header_text, in.Take(ReadBigEndian(len_bytes), "the JSON header"));
  ASSIGN_OR_RETURN(Json header, ParseJson(header_text, "the ring header"));
  if (!header.is_object()) return Corrupt("the ring header is not a JSON object");
  RingData data;
  data.format_version = 1;
  ASSIGN_OR_RETURN(int64_t part_shift, IntField(header, "part_shift", "the ring header", 0, 32));
  RETURN_IF_ERROR(CheckPartShift(part_shift));
  data.part_shift = static_cast<int>(part_shift);
  ASSIGN_OR_RETURN(int64_t replica_rows, IntField(header, "replica_count", "the ring header", 1, 65535));
  ASSIGN_OR_RETURN(data.version, OptionalIntField(header, "version", "the ring header"));
  ASSIGN_OR_RETURN(data.next_part_power, OptionalIntField(header, "next_part_power", "the ring header"));
  bool big_endian = false;  // Swift's default is the reader's byte order; ours is little-endian.
  if (auto it = header.find("byteorder"); it != header.end()) {
    if (*it == "big") {
      big_endian = true;
    } else if (*it != "little") {
      return Corrupt("the ring header's 'byteorder' is neither \"little\" nor \"big\"");
    }
  }
  auto devs = header.find("devs");
  if (devs == header.end()) return Corrupt("the ring header has no 'devs'");
  RETURN_IF_ERROR(ParseDevices(*devs, &data));
  ASSIGN_OR_RETURN(absl::string_view table, in.Take(in.remaining(), "the replica table"));
  const uint64_t full = static_cast<uint64_t>(data.partition_count()) * 2 * replica_rows;
  if (table.size() > full) {
    return Corrupt(absl::StrCat(table.size() - full, " unexpected bytes after the ", replica_rows,
                                " replica rows the header announces"));
  }
  RETURN_IF_ERROR(ParseTable(table, 2, big_endian, replica_rows, &data));
  return data;
}

// v2: the uncompressed stream ends with the index's uncompressed and
// compressed offsets (8 bytes each); the index maps section names to
// [compressed start, uncompressed start, compressed end, uncompressed end,
// checksum method, checksum hex]. Reading the whole stream lets us use the
// uncompressed offsets and never seek in the compressed file.
class V2Sections {
 public:
  static absl::StatusOr<V2Sections> Open(absl::string_view stream) {
    if (stream.size() < 6 + 16) return Corrupt("v2 ring is too short to hold its index offsets");
    const uint64_t index_start = ReadBigEndian(stream.substr(stream.size() - 16, 8));
    V2Sections s(stream);
    ASSIGN_OR_RETURN(absl::string_view blob, s.Blob(index_start, "the v2 index"));
    ASSIGN_OR_RETURN(s.index_, ParseJson(blob, "the v2 index"));
    if (!s.index_.is_object()) return Corrupt("the v2 index is not a JSON object");
    return s;
  }

  // The payload of `section`, after checking its length and checksum.
  absl::StatusOr<absl::string_view> Section(const std::string& section) const {
    auto it = index_.find(section);
    if (it == index_.end()) return Corrupt(absl::StrCat("v2 ring has no section '", section, "'"));
    const Json& e = *it;
    if (!e.is_array() || e.size() < 6 || !e[1].is_number_unsigned()) {
      return Corrupt(absl::StrCat("v2 index entry for '", section, "' is malformed"));
    }
    const uint64_t start = e[1].get<uint64_t>();
    ASSIGN_OR_RETURN(absl::string_view blob, Blob(start, section));
    const absl::string_view whole = stream_.substr(start, 8 + blob.size());
    if (e[3].is_number_unsigned() && e[3].get<uint64_t>() - start != whole.size()) {
      return Corrupt(absl::StrCat("v2 section '", section, "' size disagrees with the index"));
    }
    if (!e[4].is_string()) return Corrupt(absl::StrCat("v2 section '", section, "' has no checksum method"));
    const std::string method = e[4].get<std::string>();
    const EVP_MD* md = nullptr;
    if (method == "md5" || method == "sha1" || method == "sha256" || method == "sha512") {
      md = EVP_get_digestbyname(method.c_str());
    }
    if (md == nullptr) {
      return Corrupt(absl::StrCat("v2 section '", section, "' uses unsupported checksum '", method, "'"));
    }
    if (e[5].is_string()) {
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      if (EVP_Digest(whole.data(), whole.size(), digest, &len, md, nullptr) != 1) {
        return absl::InternalError("EVP_Digest failed");
      }
      const std::string hex =
          absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), len));
      if (hex != absl::AsciiStrToLower(e[5].get<std::string>())) {
        return Corrupt(absl::StrCat("v2 section '", section, "' fails its ", method, " checksum"));
      }
    }
    return blob;
  }

 private:
  explicit V2Sections(absl::string_view stream) : stream_(stream) {}

  absl::StatusOr<absl::string_view> Blob(uint64_t start, absl::string_view what) const {
    if (start > stream_.size() || stream_.size() - start < 8) {
      return Corrupt(absl::StrCat(what, " starts outside the file"));
    }
    const uint64_t len = ReadBigEndian(stream_.substr(start, 8));
    if (len > stream_.size() - start - 8) return Corrupt(absl::StrCat(what, " runs past the end of the file"));
    return stream_.substr(start + 8, len);
  }

  absl::string_view stream_;
  Json index_;
};

absl::StatusOr<RingData> DecodeV2(absl::string_view stream) {
  ASSIGN_OR_RETURN(V2Sections sections, V2Sections::Open(stream));
  ASSIGN_OR_RETURN(absl::string_view meta_text, sections.Section("swift/ring/metadata"));
  ASSIGN_OR_RETURN(Json meta, ParseJson(meta_text, "the v2 metadata"));
  if (!meta.is_object()) return Corrupt("the v2 metadata is not a JSON object");
  RingData data;
  data.format_version = 2;
  ASSIGN_OR_RETURN(int64_t part_shift, IntField(meta, "part_shift", "the v2 metadata", 0, 32));
  RETURN_IF_ERROR(CheckPartShift(part_shift));
  data.part_shift = static_cast<int>(part_shift);
  ASSIGN_OR_RETURN(int64_t dev_id_bytes, IntField(meta, "dev_id_bytes", "the v2 metadata", 1, 8));
  if (dev_id_bytes != 2 && dev_id_bytes != 4 && dev_id_bytes != 8) {
    return Corrupt(absl::StrCat("v2 dev_id_bytes is ", dev_id_bytes, ", not 2, 4 or 8"));
  }
  ASSIGN_OR_RETURN(data.version, OptionalIntField(meta, "version", "the v2 metadata"));
  ASSIGN_OR_RETURN(data.next_part_power, OptionalIntField(meta, "next_part_power", "the v2 metadata"));
  ASSIGN_OR_RETURN(absl::string_view devs_text, sections.Section("swift/ring/devices"));
  ASSIGN_OR_RETURN(Json devs, ParseJson(devs_text, "the v2 device list"));
  RETURN_IF_ERROR(ParseDevices(devs, &data));
  ASSIGN_OR_RETURN(absl::string_view table, sections.Section("swift/ring/assignments"));
  RETURN_IF_ERROR(ParseTable(table, static_cast<int>(dev_id_bytes), /*big_endian=*/true, 0, &data));
  return data;
}

}  // namespace

absl::StatusOr<RingData> DecodeRing(absl::string_view file_bytes) {
  ASSIGN_OR_RETURN(std::string stream, Inflate(file_bytes));
  Reader in(stream);
  ASSIGN_OR_RETURN(absl::string_view magic, in.Take(4, "the magic"));
  if (magic != "R1NG") {
    return Corrupt("no R1NG magic: not a Swift ring (pickled pre-1.7 rings are not supported)");
  }
  ASSIGN_OR_RETURN(absl::string_view version_bytes, in.Take(2, "the format version"));
  const uint64_t version = ReadBigEndian(version_bytes);
  absl::StatusOr<RingData> data;
  if (version == 1) {
    data = DecodeV1(in);
  } else if (version == 2) {
    data = DecodeV2(stream);
  } else {
    return Corrupt(absl::StrCat("unsupported ring format version ", version));
  }
  if (!data.ok()) return data.status();
  if (absl::Status s = data->Validate(); !s.ok()) return Corrupt(s.message());
  return data;
}

absl::StatusOr<RingData> ReadRingFile(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) {
    return absl::Status(bytes.status().code(), absl::StrCat("cannot read ring: ", bytes.status().message()));
  }
  absl::StatusOr<RingData> data = DecodeRing(*bytes);
  if (!data.ok()) {
    return absl::Status(data.status().code(), absl::StrCat("ring ", path, ": ", data.status().message()));
  }
  return data;
}

namespace {

// Swift's device dict, as RingData.save() hands it to json.dumps.
Json DeviceJson(const RingDevice& d) {
  return Json{{"device", d.device},
              {"id", d.id},
              {"ip", d.ip},
              {"meta", d.meta},
              {"port", d.port},
              {"region", d.region},
              {"replication_ip", d.replication_ip},
              {"replication_port", d.replication_port},
              {"weight", d.weight},  // a double: written "1.0", as Swift's float
              {"zone", d.zone}};
}

void PutLittleEndian32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// gzip as Python's GzipFile(name, mtime=...) writes it at level 9.
absl::StatusOr<std::string> Gzip(absl::string_view raw, absl::string_view gzip_name) {
  std::string out = {'\x1f', '\x8b', '\x08', gzip_name.empty() ? '\x00' : '\x08'};
  PutLittleEndian32(kRingGzipMtime, &out);
  out.push_back('\x02');  // XFL: maximum compression
  out.push_back('\xff');  // OS: unknown, as Python writes
  if (!gzip_name.empty()) {
    out.append(gzip_name.data(), gzip_name.size());
    out.push_back('\0');
  }
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("deflateInit2 failed");
  }
  absl::Cleanup end = [&zs] { deflateEnd(&zs); };
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  char chunk[1 << 16];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    rc = deflate(&zs, Z_FINISH);
    if (rc == Z_STREAM_ERROR) return absl::InternalError("deflate failed");
    out.append(chunk, sizeof(chunk) - zs.avail_out);
  } while (rc != Z_STREAM_END);
  PutLittleEndian32(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(raw.data()), raw.size())),
                    &out);
  PutLittleEndian32(static_cast<uint32_t>(raw.size() & 0xffffffffu), &out);
  return out;
}

}  // namespace

absl::StatusOr<std::string> EncodeRingV1(const RingData& data, absl::string_view gzip_name) {
  RETURN_IF_ERROR(data.Validate());
  // json.dumps(ring_dict, sort_keys=True, ensure_ascii=True): Json's object
  // keeps its keys sorted.
  Json header = Json::object();
  header["byteorder"] = "little";
  header["devs"] = Json::array();
  for (const auto& d : data.devices) {
    if (!d.has_value()) {
      header["devs"].push_back(nullptr);
      continue;
    }
    if (d->id >= 0xffff) return absl::InvalidArgumentError(absl::StrCat("device id ", d->id, " does not fit v1"));
    Json device = DeviceJson(*d);
    if (absl::Status s = PythonJsonDumps(device).status(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("device ", d->id, ": ", s.message()));
    }
    header["devs"].push_back(std::move(device));
  }
  if (data.next_part_power.has_value()) header["next_part_power"] = *data.next_part_power;
  header["part_shift"] = data.part_shift;
  header["replica_count"] = data.replica2part2dev.size();
  if (data.version.has_value()) header["version"] = *data.version;
  ASSIGN_OR_RETURN(const std::string header_text, PythonJsonDumps(header));

  std::string raw = "R1NG";
  raw.push_back('\0');
  raw.push_back('\x01');
  const uint32_t len = static_cast<uint32_t>(header_text.size());
  for (int shift = 24; shift >= 0; shift -= 8) raw.push_back(static_cast<char>((len >> shift) & 0xff));
  raw += header_text;
  for (const auto& row : data.replica2part2dev) {
    for (uint32_t id : row) {
      raw.push_back(static_cast<char>(id & 0xff));
      raw.push_back(static_cast<char>((id >> 8) & 0xff));
    }
  }
  return Gzip(raw, gzip_name);
}

absl::Status WriteRingFile(const std::string& path, const RingData& data, Env* env) {
  // Swift names the gzip member after the file, without ".gz".
  std::string gzip_name = Basename(path);
  if (gzip_name.size() > 3 && gzip_name.compare(gzip_name.size() - 3, 3, ".gz") == 0) {
    gzip_name.resize(gzip_name.size() - 3);
  }
  ASSIGN_OR_RETURN(std::string bytes, EncodeRingV1(data, gzip_name));
  return WriteFileAtomically(env, path, bytes);  // mode 0644, fsynced
}

}  // namespace dbrepl

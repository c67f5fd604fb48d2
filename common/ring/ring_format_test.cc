#include "common/ring/ring_format.h"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstring>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/fs_util.h"
#include "common/env/testing/fault_injection_env.h"
#include "common/ring/testing/ring_fixtures.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::Dev;
using ::dbrepl::testing::IsOk;
using ::dbrepl::testing::MakeRing;
using ::dbrepl::testing::NewTempDir;
using ::dbrepl::testing::ReadFileOrDie;
using ::dbrepl::testing::RingTestDataPath;
using ::dbrepl::testing::StatusIs;
using ::dbrepl::testing::WriteFileOrDie;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Compresses `raw` as one gzip stream; `full_flush_at` are offsets of `raw`
// after which a Z_FULL_FLUSH is issued (as Swift's v2 writer does).
std::string GzipForTest(absl::string_view raw, std::vector<size_t> full_flush_at = {},
                        std::vector<size_t>* compressed_offsets = nullptr) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out;
  size_t pos = 0;
  full_flush_at.push_back(raw.size());
  for (size_t i = 0; i < full_flush_at.size(); ++i) {
    const size_t cut = full_flush_at[i];
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data() + pos));
    zs.avail_in = static_cast<uInt>(cut - pos);
    const bool last = i + 1 == full_flush_at.size();
    int rc;
    do {
      char buf[4096];
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof(buf);
      rc = deflate(&zs, last ? Z_FINISH : Z_FULL_FLUSH);
      out.append(buf, sizeof(buf) - zs.avail_out);
    } while (last ? rc != Z_STREAM_END : zs.avail_out == 0);
    if (compressed_offsets != nullptr) compressed_offsets->push_back(out.size());
    pos = cut;
  }
  deflateEnd(&zs);
  return out;
}

std::string BigEndian(uint64_t v, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

// An uncompressed v1 stream with the given JSON header and table bytes.
std::string V1Stream(const std::string& header_json, const std::string& table) {
  return absl::StrCat("R1NG", BigEndian(1, 2), BigEndian(header_json.size(), 4), header_json, table);
}

std::string Le16(std::vector<uint16_t> ids) {
  std::string out;
  for (uint16_t id : ids) out += std::string{static_cast<char>(id & 0xff), static_cast<char>(id >> 8)};
  return out;
}

const char kTwoDevs[] =
    R"("devs": [{"id": 0, "zone": 1, "ip": "10.0.0.1", "port": 6201, "device": "sda", "weight": 1},)"
    R"( {"id": 1, "region": 2, "zone": 3, "ip": "10.0.0.2", "port": 6202, "device": "sdb", "weight": 2.5,)"
    R"( "replication_ip": "10.1.0.2", "replication_port": 6302, "meta": "m"}])";

TEST(DecodeRingTest, ReadsRingBuiltBySwift) {
  ASSERT_OK_AND_ASSIGN(RingData data, ReadRingFile(RingTestDataPath("swift_container.ring.gz")));
  EXPECT_EQ(data.format_version, 1);
  EXPECT_EQ(data.part_shift, 24);
  EXPECT_EQ(data.version, 24);
  EXPECT_FALSE(data.next_part_power.has_value());
  ASSERT_EQ(data.replica2part2dev.size(), 3u);
  for (const auto& row : data.replica2part2dev) EXPECT_EQ(row.size(), 256u);
  ASSERT_EQ(data.devices.size(), 22u);
  EXPECT_FALSE(data.devices[21].has_value());  // removed device: a hole
  ASSERT_TRUE(data.devices[0].has_value());
  const RingDevice& d0 = *data.devices[0];
  EXPECT_EQ(d0.id, 0);
  EXPECT_EQ(d0.region, 1);
  EXPECT_EQ(d0.zone, 1);
  EXPECT_EQ(d0.ip, "10.1.1.1");
  EXPECT_EQ(d0.port, 6201);
  EXPECT_EQ(d0.replication_ip, "10.9.1.1");
  EXPECT_EQ(d0.replication_port, 6301);
  EXPECT_EQ(d0.device, "sdb");
  EXPECT_EQ(d0.weight, 100);
  EXPECT_EQ(d0.meta, "meta-100");
  EXPECT_EQ(data.devices[20]->weight, 0);
  EXPECT_EQ(data.replica_count(), 3.0);
}

TEST(DecodeRingTest, ReadsFractionalReplicaRing) {
  ASSERT_OK_AND_ASSIGN(RingData data, ReadRingFile(RingTestDataPath("swift_fractional.ring.gz")));
  ASSERT_EQ(data.replica2part2dev.size(), 3u);
  EXPECT_EQ(data.replica2part2dev[0].size(), 64u);
  EXPECT_EQ(data.replica2part2dev[2].size(), 32u);
  EXPECT_EQ(data.replica_count(), 2.5);
}

TEST(EncodeRingTest, ReencodingSwiftRingsGivesIdenticalBytes) {
  for (const char* name : {"swift_container", "swift_fractional"}) {
    const std::string path = RingTestDataPath(absl::StrCat(name, ".ring.gz"));
    ASSERT_OK_AND_ASSIGN(RingData data, ReadRingFile(path));
    ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeRingV1(data, absl::StrCat(name, ".ring")));
    EXPECT_TRUE(bytes == ReadFileOrDie(path)) << name;
  }
}

TEST(WriteRingFileTest, RoundTripsAndWritesAtomicallyWithMode0644) {
  RingData data = MakeRing(2,
                           {Dev(0, 1, 1, "10.0.0.1", 6201, "sda", 1.5), absl::nullopt,
                            Dev(2, 2, 1, "fd00::2", 6201, "sdb\xc3\xa9", 3)},
                           {{0, 2, 0, 2}, {2, 0, 2}});
  data.devices[0]->meta = "quote\" backslash\\ tab\t";
  data.devices[2]->replication_ip = "10.1.0.2";
  data.devices[2]->replication_port = 6301;
  data.version = 7;
  data.next_part_power = 3;
  const std::string dir = NewTempDir();
  const std::string path = dir + "/container.ring.gz";
  ASSERT_OK(WriteRingFile(path, data));
  ASSERT_OK_AND_ASSIGN(RingData back, ReadRingFile(path));
  EXPECT_EQ(back.devices, data.devices);
  EXPECT_EQ(back.replica2part2dev, data.replica2part2dev);
  EXPECT_EQ(back.part_shift, 30);
  EXPECT_EQ(back.version, 7);
  EXPECT_EQ(back.next_part_power, 3);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  // Overwriting leaves no temporary files behind.
  ASSERT_OK(WriteRingFile(path, data));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> entries, ListDirectory(dir));
  EXPECT_EQ(entries.size(), 1u);
}

TEST(WriteRingFileTest, FailsCleanlyInMissingDirectory) {
  RingData data = MakeRing(0, {Dev(0, 1, 1, "10.0.0.1", 6201, "sda")}, {{0}});
  EXPECT_THAT(WriteRingFile(NewTempDir() + "/no/such/dir/x.ring.gz", data), StatusIs(absl::StatusCode::kNotFound));
}

TEST(EncodeRingTest, RejectsInvalidData) {
  RingData bad = MakeRing(1, {Dev(0, 1, 1, "10.0.0.1", 6201, "sda")}, {{0, 1}});
  EXPECT_THAT(EncodeRingV1(bad, "x"), StatusIs(absl::StatusCode::kInvalidArgument));
  RingData bad_utf8 = MakeRing(0, {Dev(0, 1, 1, "10.0.0.1", 6201, "sd\xff")}, {{0}});
  EXPECT_THAT(EncodeRingV1(bad_utf8, "x"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(DecodeRingTest, HonoursByteorderAndDefaults) {
  const std::string header_big = absl::StrCat(R"({"byteorder": "big", )", kTwoDevs,
                                              R"(, "part_shift": 30, "replica_count": 2})");
  const std::string table_big = BigEndian(0, 2) + BigEndian(1, 2) + BigEndian(1, 2) + BigEndian(0, 2) +
                                BigEndian(1, 2) + BigEndian(0, 2);
  ASSERT_OK_AND_ASSIGN(RingData big, DecodeRing(GzipForTest(V1Stream(header_big, table_big))));
  EXPECT_THAT(big.replica2part2dev, ElementsAre(ElementsAre(0, 1, 1, 0), ElementsAre(1, 0)));
  EXPECT_EQ(big.replica_count(), 1.5);

  // No byteorder: the writer's (little-endian here), as Swift assumes its own.
  const std::string header = absl::StrCat("{", kTwoDevs, R"(, "part_shift": 30, "replica_count": 1})");
  ASSERT_OK_AND_ASSIGN(RingData little, DecodeRing(GzipForTest(V1Stream(header, Le16({1, 0, 0, 1})))));
  EXPECT_THAT(little.replica2part2dev, ElementsAre(ElementsAre(1, 0, 0, 1)));
  const RingDevice& d0 = *little.devices[0];
  EXPECT_EQ(d0.region, 1);  // absent: Swift's default
  EXPECT_EQ(d0.replication_ip, "10.0.0.1");
  EXPECT_EQ(d0.replication_port, 6201);
  EXPECT_EQ(d0.meta, "");
  const RingDevice& d1 = *little.devices[1];
  EXPECT_EQ(d1.region, 2);
  EXPECT_EQ(d1.replication_ip, "10.1.0.2");
  EXPECT_EQ(d1.replication_port, 6302);
  EXPECT_EQ(d1.weight, 2.5);
  EXPECT_EQ(d1.meta, "m");
}

TEST(DecodeRingTest, MalformedContentsAreDataLossWithReason) {
  const std::string devs = absl::StrCat("{", kTwoDevs);
  struct Case {
    std::string stream;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"", "file ends inside the magic"},
      {"R1NG", "format version"},
      {"XXXX\x00\x01", "no R1NG magic"},
      {"\x80\x02}q\x00(U\x04", "no R1NG magic"},  // a pickled ring
      {absl::StrCat("R1NG", BigEndian(3, 2)), "unsupported ring format version 3"},
      {absl::StrCat("R1NG", BigEndian(1, 2), BigEndian(1000000, 4), "{}"), "file ends inside the JSON header"},
      {V1Stream("{not json", ""), "not valid JSON"},
      {V1Stream("[]", ""), "not a JSON object"},
      {V1Stream(devs + R"(, "replica_count": 1})", ""), "no 'part_shift'"},
      {V1Stream(devs + R"(, "part_shift": 0, "replica_count": 1})", ""), "part_shift 0 is outside"},
      {V1Stream(devs + R"(, "part_shift": 30, "replica_count": 1})", Le16({0, 1})), "row 0 has 2 entries"},
      {V1Stream(devs + R"(, "part_shift": 30, "replica_count": 1})", Le16({0, 1, 0, 1, 0})), "unexpected bytes"},
      {V1Stream(devs + R"(, "part_shift": 30, "replica_count": 1})", Le16({0, 1, 0}) + "x"), "whole number"},
      {V1Stream(devs + R"(, "part_shift": 30, "replica_count": 1})", Le16({0, 1, 0, 5})), "names device 5"},
      {V1Stream(devs + R"(, "part_shift": 30, "replica_count": 3})", Le16({0, 1, 0, 1})), "row 1 has 0 entries"},
      {V1Stream(devs + R"(, "part_shift": 30, "replica_count": "3"})", ""), "'replica_count' is not an integer"},
      {V1Stream(devs + R"(, "byteorder": "middle", "part_shift": 30, "replica_count": 1})", Le16({0, 1, 0, 1})),
       "byteorder"},
      {V1Stream(R"({"devs": [{"id": 1, "zone": 1, "ip": "a", "port": 1, "device": "d"}], "part_shift": 32,)"
                R"( "replica_count": 1})",
                Le16({0})),
       "has id 1"},
      {V1Stream(R"({"devs": [{"id": 0, "zone": 1, "ip": "a", "port": 70000, "device": "d"}], "part_shift": 32,)"
                R"( "replica_count": 1})",
                Le16({0})),
       "'port'"},
      {V1Stream(R"({"devs": [{"id": 0, "zone": 1, "port": 1, "device": "d"}], "part_shift": 32,)"
                R"( "replica_count": 1})",
                Le16({0})),
       "has no 'ip'"},
      {V1Stream(R"({"devs": [7], "part_shift": 32, "replica_count": 1})", Le16({0})), "neither an object"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<RingData> result = DecodeRing(GzipForTest(c.stream));
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kDataLoss)) << absl::CHexEscape(c.stream);
    EXPECT_THAT(std::string(result.status().message()), HasSubstr(c.reason)) << absl::CHexEscape(c.stream);
  }
}

TEST(DecodeRingTest, NotGzipIsDataLoss) {
  EXPECT_THAT(DecodeRing("R1NG\x00\x01 plain, not compressed"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeRing(""), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(DecodeRingTest, EveryTruncationIsDataLoss) {
  const std::string bytes = ReadFileOrDie(RingTestDataPath("swift_fractional.ring.gz"));
  ASSERT_THAT(DecodeRing(bytes), IsOk());
  for (size_t len = 0; len < bytes.size(); ++len) {
    absl::StatusOr<RingData> r = DecodeRing(absl::string_view(bytes).substr(0, len));
    ASSERT_THAT(r, StatusIs(absl::StatusCode::kDataLoss)) << "truncated to " << len;
  }
}

TEST(DecodeRingTest, CorruptBytesNeverCrash) {
  const std::string bytes = ReadFileOrDie(RingTestDataPath("swift_fractional.ring.gz"));
  // Every single-byte corruption is an error, except in the gzip header's
  // unchecked fields (mtime, flags, OS, the stored file name), where the
  // ring must come out unchanged; never a crash.
  ASSERT_OK_AND_ASSIGN(RingData good, DecodeRing(bytes));
  const size_t header_len = 10 + std::string("swift_fractional.ring").size() + 1;
  ASSERT_EQ(bytes.substr(10, header_len - 10), std::string("swift_fractional.ring\0", header_len - 10));
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    absl::StatusOr<RingData> r = DecodeRing(bad);
    if (i >= header_len) {
      EXPECT_THAT(r, StatusIs(absl::StatusCode::kDataLoss)) << "byte " << i;
    } else if (r.ok()) {
      EXPECT_EQ(r->replica2part2dev, good.replica2part2dev) << "byte " << i;
      EXPECT_EQ(r->devices, good.devices) << "byte " << i;
    }
  }
  // Random garbage, raw and gzipped.
  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    std::string junk(rng() % 300, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (i % 2 == 0) junk = absl::StrCat("R1NG", BigEndian(1 + i % 2, 2), junk);
    EXPECT_THAT(DecodeRing(GzipForTest(junk)), StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(DecodeRing(junk), StatusIs(absl::StatusCode::kDataLoss));
  }
}

TEST(ReadRingFileTest, MissingFileIsNotFoundAndErrorsNameThePath) {
  const std::string dir = NewTempDir();
  EXPECT_THAT(ReadRingFile(dir + "/absent.ring.gz"), StatusIs(absl::StatusCode::kNotFound));
  WriteFileOrDie(dir + "/junk.ring.gz", "junk");
  absl::StatusOr<RingData> r = ReadRingFile(dir + "/junk.ring.gz");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(dir + "/junk.ring.gz"));
}

// --- v2 ---------------------------------------------------------------------

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), len));
}

// Builds a v2 ring the way Swift's test_4_byte_dev_ids does: each section a
// length-prefixed blob after a full flush, then the index and the tail.
std::string MakeV2(const std::string& meta, const std::string& devs, const std::string& table,
                   bool corrupt_devices = false) {
  std::string raw = absl::StrCat("R1NG", BigEndian(2, 2));
  std::vector<size_t> flushes = {raw.size()};
  std::string index = "{";
  auto add = [&](const std::string& name, const std::string& payload, bool corrupt) {
    const size_t start = raw.size();
    std::string blob = BigEndian(payload.size(), 8) + payload;
    const std::string sum = Sha256Hex(blob);
    if (corrupt) blob.back() ^= 1;
    raw += blob;
    flushes.push_back(raw.size());
    absl::StrAppend(&index, index.size() > 1 ? ", " : "", "\"", name, "\": [0, ", start, ", 0, ", raw.size(),
                    ", \"sha256\", \"", sum, "\"]");
  };
  add("swift/ring/metadata", meta, false);
  add("swift/ring/devices", devs, corrupt_devices);
  add("swift/ring/assignments", table, false);
  index += "}";
  const size_t index_start = raw.size();
  raw += BigEndian(index.size(), 8) + index;
  flushes.push_back(raw.size());
  raw += BigEndian(index_start, 8);
  flushes.push_back(raw.size());
  raw += BigEndian(0, 8);  // compressed offset: unused by this reader
  return GzipForTest(raw, flushes);
}

const char kV2Devs[] =
    R"([{"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": 6200, "device": "sda", "weight": 1},)"
    R"( null, {"id": 2, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": 6201, "device": "sdb", "weight": 1},)"
    R"( {"id": 3, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": 6202, "device": "sdc", "weight": 1}])";

TEST(DecodeRingV2Test, ReadsSwiftsFourByteDevIdExample) {
  std::string table;
  for (int i = 0; i < 4; ++i) table += BigEndian(3, 4) + BigEndian(2, 4) + BigEndian(0, 4);
  ASSERT_OK_AND_ASSIGN(RingData data, DecodeRing(MakeV2(R"({"dev_id_bytes": 4, "part_shift": 29,)"
                                                        R"( "replica_count": 1.5})",
                                                        kV2Devs, table)));
  EXPECT_EQ(data.format_version, 2);
  EXPECT_EQ(data.part_shift, 29);
  EXPECT_FALSE(data.devices[1].has_value());
  EXPECT_EQ(data.devices[3]->port, 6202);
  EXPECT_THAT(data.replica2part2dev,
              ElementsAre(ElementsAre(3, 2, 0, 3, 2, 0, 3, 2), ElementsAre(0, 3, 2, 0)));
  EXPECT_EQ(data.replica_count(), 1.5);
}

TEST(DecodeRingV2Test, TwoByteIdsAndVersion) {
  std::string table;
  for (uint32_t id : {0, 2, 3, 0, 2, 3, 0, 2}) table += BigEndian(id, 2);
  ASSERT_OK_AND_ASSIGN(RingData data, DecodeRing(MakeV2(R"({"dev_id_bytes": 2, "part_shift": 29, "version": 5})",
                                                        kV2Devs, table)));
  EXPECT_EQ(data.version, 5);
  EXPECT_THAT(data.replica2part2dev, ElementsAre(ElementsAre(0, 2, 3, 0, 2, 3, 0, 2)));
}

TEST(DecodeRingV2Test, ChecksumMismatchAndBadMetadataAreDataLoss) {
  std::string table;
  for (int i = 0; i < 8; ++i) table += BigEndian(0, 2);
  absl::StatusOr<RingData> r =
      DecodeRing(MakeV2(R"({"dev_id_bytes": 2, "part_shift": 29})", kV2Devs, table, /*corrupt_devices=*/true));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("checksum"));
  EXPECT_THAT(DecodeRing(MakeV2(R"({"dev_id_bytes": 3, "part_shift": 29})", kV2Devs, table)),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeRing(MakeV2(R"({"part_shift": 29})", kV2Devs, table)), StatusIs(absl::StatusCode::kDataLoss));
  const std::string good = MakeV2(R"({"dev_id_bytes": 2, "part_shift": 29})", kV2Devs, table);
  ASSERT_THAT(DecodeRing(good), IsOk());
  for (size_t len = 0; len < good.size(); ++len) {
    ASSERT_THAT(DecodeRing(absl::string_view(good).substr(0, len)), StatusIs(absl::StatusCode::kDataLoss)) << len;
  }
}

TEST(RingFileCrashTest, APowerLossAtAnyStepLeavesTheOldRingOrTheNew) {
  RingData old_ring = MakeRing(0, {Dev(0, 1, 1, "10.0.0.1", 6201, "sda")}, {{0}});
  RingData new_ring = MakeRing(1, {Dev(0, 1, 1, "10.0.0.1", 6201, "sda")}, {{0, 0}});
  int crash_at = 0;
  for (;; ++crash_at) {
    std::string dir = NewTempDir();
    std::string path = dir + "/container.ring.gz";
    ASSERT_OK(WriteRingFile(path, old_ring));
    std::string backups = NewTempDir();
    testing::FaultInjectionEnv env(Env::Default(), backups);
    env.CrashAfter(crash_at);
    absl::Status written = WriteRingFile(path, new_ring, &env);
    bool crashed = env.crashed();
    ASSERT_OK(env.DropUnsyncedChanges());
    absl::StatusOr<RingData> read = ReadRingFile(path);
    ASSERT_OK(read) << "after a power loss at step " << crash_at;
    EXPECT_TRUE(read->part_shift == old_ring.part_shift || read->part_shift == new_ring.part_shift);
    if (!crashed) {
      ASSERT_OK(written);
      EXPECT_EQ(read->part_shift, new_ring.part_shift);
      break;
    }
  }
  EXPECT_GE(crash_at, 4);
}

}  // namespace
}  // namespace dbrepl

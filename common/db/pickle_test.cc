#include "common/db/pickle.h"

#include "absl/strings/escaping.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dbrepl {
namespace {

using ::dbrepl::testing::StatusIs;
using Kind = PickleValue::Kind;

std::string FromBase64(absl::string_view b64) {
  std::string raw;
  EXPECT_TRUE(absl::Base64Unescape(b64, &raw));
  return raw;
}

std::string FromHex(absl::string_view hex) { return absl::HexStringToBytes(hex); }

// Reference §2.13: put_object('o', '0000000001.00000', 10, 'text/plain', 'etag').
constexpr char kReferenceEntry[] =
    "gAIoWAEAAABvcQBYEAAAADAwMDAwMDAwMDEuMDAwMDBxAUsKWAoAAAB0ZXh0L3BsYWlucQJYBAAAAGV0YWdxA0sASwBOTnRxBC4=";

TEST(PickleTest, ReadsTheReferenceEntry) {
  ASSERT_OK_AND_ASSIGN(PickleValue v, ReadPickle(FromBase64(kReferenceEntry)));
  ASSERT_EQ(v.kind, Kind::kTuple);
  ASSERT_EQ(v.items.size(), 9u);
  EXPECT_EQ(v.items[0].text, "o");
  EXPECT_EQ(v.items[1].text, "0000000001.00000");
  EXPECT_EQ(v.items[2].kind, Kind::kInt);
  EXPECT_EQ(v.items[2].integer, 10);
  EXPECT_EQ(v.items[3].text, "text/plain");
  EXPECT_EQ(v.items[4].text, "etag");
  EXPECT_EQ(v.items[5].integer, 0);
  EXPECT_EQ(v.items[6].integer, 0);
  EXPECT_EQ(v.items[7].kind, Kind::kNone);
  EXPECT_EQ(v.items[8].kind, Kind::kNone);
}

TEST(PickleTest, WritesWhatPythonWrites) {
  PickleValue t = PickleValue::Tuple({PickleValue::String("o"), PickleValue::String("0000000001.00000"),
                                      PickleValue::Int(10), PickleValue::String("text/plain"),
                                      PickleValue::String("etag"), PickleValue::Int(0), PickleValue::Int(0),
                                      PickleValue::None(), PickleValue::None()});
  EXPECT_EQ(absl::Base64Escape(WritePickle(t)), kReferenceEntry);
}

// pickle.dumps((2**31, -2**31-1, -1, 2**63-1, -2**63, 1.5, True, False, ()), protocol=2)
constexpr char kNumbersHex[] =
    "8002288a0500000080008a05ffffff7fff4affffffff8a08ffffffffffffff7f8a080000000000000080473ff80000000000008889297471"
    "002e";

TEST(PickleTest, NumbersRoundTripAsPythonEncodesThem) {
  PickleValue t = PickleValue::Tuple({PickleValue::Int(2147483648LL), PickleValue::Int(-2147483649LL),
                                      PickleValue::Int(-1), PickleValue::Int(INT64_MAX), PickleValue::Int(INT64_MIN),
                                      PickleValue::Float(1.5), PickleValue::Bool(true), PickleValue::Bool(false),
                                      PickleValue::Tuple({})});
  EXPECT_EQ(absl::BytesToHexString(WritePickle(t)), kNumbersHex);
  ASSERT_OK_AND_ASSIGN(PickleValue v, ReadPickle(FromHex(kNumbersHex)));
  ASSERT_EQ(v.items.size(), 9u);
  EXPECT_EQ(v.items[0].integer, 2147483648LL);
  EXPECT_EQ(v.items[1].integer, -2147483649LL);
  EXPECT_EQ(v.items[2].integer, -1);
  EXPECT_EQ(v.items[3].integer, INT64_MAX);
  EXPECT_EQ(v.items[4].integer, INT64_MIN);
  EXPECT_EQ(v.items[5].real, 1.5);
  EXPECT_TRUE(v.items[6].boolean);
  EXPECT_EQ(v.items[7].kind, Kind::kBool);
  EXPECT_FALSE(v.items[7].boolean);
  EXPECT_EQ(v.items[8].kind, Kind::kTuple);
  EXPECT_TRUE(v.items[8].items.empty());
  // BININT2 and BININT1.
  EXPECT_EQ(absl::BytesToHexString(WritePickle(PickleValue::Int(300))), "80024d2c012e");
  EXPECT_EQ(absl::BytesToHexString(WritePickle(PickleValue::Int(70000))), "80024a701101002e");
}

TEST(PickleTest, ReadsPython2AndProtocol4Opcodes) {
  // Protocol 2 from Python 2: SHORT_BINSTRING 'U', BINGET of a memoized
  // string, TUPLE2.
  ASSERT_OK_AND_ASSIGN(PickleValue v, ReadPickle(FromHex("8002550161710068008671012e")));
  ASSERT_EQ(v.items.size(), 2u);
  EXPECT_EQ(v.items[0].text, "a");
  EXPECT_EQ(v.items[1].text, "a");
  // Protocol 4: FRAME, SHORT_BINUNICODE, MEMOIZE, TUPLE1.
  ASSERT_OK_AND_ASSIGN(PickleValue w, ReadPickle(FromHex("80049505000000000000008c01789485942e")));
  ASSERT_EQ(w.items.size(), 1u);
  EXPECT_EQ(w.items[0].text, "x");
}

TEST(PickleTest, RefusesCodeAndGarbage) {
  // GLOBAL 'os\nsystem\n' ...: never executed, refused.
  EXPECT_THAT(ReadPickle("\x80\x02" "cos\nsystem\n"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadPickle(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadPickle("\x80\x02X\xff\x00\x00\x00ab"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadPickle("\x80\x02t."), StatusIs(absl::StatusCode::kInvalidArgument));   // TUPLE without MARK
  EXPECT_THAT(ReadPickle("\x80\x02h\x05."), StatusIs(absl::StatusCode::kInvalidArgument));  // unknown memo
  EXPECT_THAT(ReadPickle("\x80\x02NN."), StatusIs(absl::StatusCode::kInvalidArgument));  // two values at STOP
}

}  // namespace
}  // namespace dbrepl

#include "common/db/pickle.h"

#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace dbrepl {
namespace {

// Opcodes (Lib/pickle.py).
constexpr char kMark = '(';
constexpr char kStop = '.';
constexpr char kBinInt = 'J';
constexpr char kBinInt1 = 'K';
constexpr char kBinInt2 = 'M';
constexpr char kNone = 'N';
constexpr char kBinUnicode = 'X';
constexpr char kBinString = 'T';
constexpr char kShortBinString = 'U';
constexpr char kBinFloat = 'G';
constexpr char kBinPut = 'q';
constexpr char kLongBinPut = 'r';
constexpr char kBinGet = 'h';
constexpr char kLongBinGet = 'j';
constexpr char kTuple = 't';
constexpr char kEmptyTuple = ')';
constexpr char kBinBytes = 'B';
constexpr char kShortBinBytes = 'C';
constexpr unsigned char kProto = 0x80;
constexpr unsigned char kNewTrue = 0x88;
constexpr unsigned char kNewFalse = 0x89;
constexpr unsigned char kLong1 = 0x8a;
constexpr unsigned char kTuple1 = 0x85;
constexpr unsigned char kTuple2 = 0x86;
constexpr unsigned char kTuple3 = 0x87;
constexpr unsigned char kShortBinUnicode = 0x8c;
constexpr unsigned char kMemoize = 0x94;
constexpr unsigned char kFrame = 0x95;

constexpr size_t kMaxDepth = 64;

class Reader {
 public:
  explicit Reader(absl::string_view data) : data_(data) {}

  absl::StatusOr<PickleValue> Read() {
    while (true) {
      if (pos_ >= data_.size()) return Error("pickle data was truncated");
      unsigned char op = static_cast<unsigned char>(data_[pos_++]);
      absl::Status s = Step(op);
      if (!s.ok()) return s;
      if (op == static_cast<unsigned char>(kStop)) {
        if (stack_.size() != 1 || !marks_.empty()) return Error("STOP with a malformed stack");
        return std::move(stack_.back());
      }
    }
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("pickle: ", what, " at byte ", pos_));
  }

  bool Take(size_t n, absl::string_view* out) {
    if (data_.size() - pos_ < n) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  // Little-endian unsigned of `n` bytes.
  bool TakeUint(size_t n, uint64_t* out) {
    absl::string_view b;
    if (!Take(n, &b)) return false;
    *out = 0;
    for (size_t i = 0; i < n; ++i) *out |= static_cast<uint64_t>(static_cast<unsigned char>(b[i])) << (8 * i);
    return true;
  }

  absl::Status Push(PickleValue v) {
    if (stack_.size() > 4096) return Error("stack too deep");
    stack_.push_back(std::move(v));
    return absl::OkStatus();
  }

  absl::Status PushText(size_t len_bytes, PickleValue::Kind kind) {
    uint64_t n;
    absl::string_view text;
    if (!TakeUint(len_bytes, &n) || n > data_.size() || !Take(n, &text)) return Error("truncated string");
    PickleValue v;
    v.kind = kind;
    v.text = std::string(text);
    return Push(std::move(v));
  }

  absl::Status Memoize(uint64_t index) {
    if (stack_.empty()) return Error("memo put on an empty stack");
    memo_[index] = stack_.back();
    return absl::OkStatus();
  }

  absl::Status Get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return Error("memo get of an unknown index");
    return Push(it->second);
  }

  absl::Status MakeTuple(size_t n) {
    if (stack_.size() < n || (!marks_.empty() && stack_.size() - n < marks_.back())) {
      return Error("tuple of missing items");
    }
    std::vector<PickleValue> items(std::make_move_iterator(stack_.end() - n), std::make_move_iterator(stack_.end()));
    stack_.resize(stack_.size() - n);
    if (++tuples_ > 100000) return Error("too many tuples");
    return Push(PickleValue::Tuple(std::move(items)));
  }

  absl::Status Step(unsigned char op) {
    uint64_t u;
    switch (op) {
      case kProto:
        if (!TakeUint(1, &u)) return Error("truncated PROTO");
        return absl::OkStatus();
      case kFrame:
        if (!TakeUint(8, &u)) return Error("truncated FRAME");
        return absl::OkStatus();
      case kMark:
        if (marks_.size() >= kMaxDepth) return Error("too many marks");
        marks_.push_back(stack_.size());
        return absl::OkStatus();
      case kStop:
        return absl::OkStatus();
      case kBinUnicode:
        return PushText(4, PickleValue::Kind::kString);
      case kShortBinUnicode:
        return PushText(1, PickleValue::Kind::kString);
      case kBinString:
        return PushText(4, PickleValue::Kind::kString);
      case kShortBinString:
        return PushText(1, PickleValue::Kind::kString);
      case kBinBytes:
        return PushText(4, PickleValue::Kind::kBytes);
      case kShortBinBytes:
        return PushText(1, PickleValue::Kind::kBytes);
      case kBinInt:
        if (!TakeUint(4, &u)) return Error("truncated BININT");
        return Push(PickleValue::Int(static_cast<int32_t>(static_cast<uint32_t>(u))));
      case kBinInt1:
        if (!TakeUint(1, &u)) return Error("truncated BININT1");
        return Push(PickleValue::Int(static_cast<int64_t>(u)));
      case kBinInt2:
        if (!TakeUint(2, &u)) return Error("truncated BININT2");
        return Push(PickleValue::Int(static_cast<int64_t>(u)));
      case kLong1: {
        uint64_t n;
        absl::string_view b;
        if (!TakeUint(1, &n) || !Take(n, &b)) return Error("truncated LONG1");
        if (n > 8) return Error("LONG1 wider than 64 bits");
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(b[i])) << (8 * i);
        if (n > 0 && n < 8 && (static_cast<unsigned char>(b[n - 1]) & 0x80)) v |= ~0ULL << (8 * n);  // Sign.
        return Push(PickleValue::Int(static_cast<int64_t>(v)));
      }
      case kNone:
        return Push(PickleValue::None());
      case kNewTrue:
        return Push(PickleValue::Bool(true));
      case kNewFalse:
        return Push(PickleValue::Bool(false));
      case kBinFloat: {
        absl::string_view b;
        if (!Take(8, &b)) return Error("truncated BINFLOAT");
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<unsigned char>(b[i]);  // Big-endian.
        double d;
        std::memcpy(&d, &bits, sizeof(d));
        return Push(PickleValue::Float(d));
      }
      case kBinPut:
        if (!TakeUint(1, &u)) return Error("truncated BINPUT");
        return Memoize(u);
      case kLongBinPut:
        if (!TakeUint(4, &u)) return Error("truncated LONG_BINPUT");
        return Memoize(u);
      case kMemoize:
        return Memoize(memo_.size());
      case kBinGet:
        if (!TakeUint(1, &u)) return Error("truncated BINGET");
        return Get(u);
      case kLongBinGet:
        if (!TakeUint(4, &u)) return Error("truncated LONG_BINGET");
        return Get(u);
      case kEmptyTuple:
        return MakeTuple(0);
      case kTuple1:
        return MakeTuple(1);
      case kTuple2:
        return MakeTuple(2);
      case kTuple3:
        return MakeTuple(3);
      case kTuple: {
        if (marks_.empty()) return Error("TUPLE without MARK");
        size_t n = stack_.size() - marks_.back();
        marks_.pop_back();
        return MakeTuple(n);
      }
      default:
        return Error(absl::StrFormat("unsupported opcode 0x%02x", op));
    }
  }

  absl::string_view data_;
  size_t pos_ = 0;
  std::vector<PickleValue> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, PickleValue> memo_;
  int tuples_ = 0;
};

void PutUint(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

class Writer {
 public:
  std::string Finish(const PickleValue& v) {
    out_.push_back(static_cast<char>(kProto));
    out_.push_back(2);
    Save(v);
    out_.push_back(kStop);
    return std::move(out_);
  }

 private:
  void MemoPut() {
    if (next_memo_ < 256) {
      out_.push_back(kBinPut);
      out_.push_back(static_cast<char>(next_memo_));
    } else {
      out_.push_back(kLongBinPut);
      PutUint(&out_, next_memo_, 4);
    }
    ++next_memo_;
  }

  void SaveInt(int64_t v) {
    if (v >= INT32_MIN && v <= INT32_MAX) {
      uint32_t u = static_cast<uint32_t>(static_cast<int32_t>(v));
      if (u > 0xffff) {
        out_.push_back(kBinInt);
        PutUint(&out_, u, 4);
      } else if (u > 0xff) {
        out_.push_back(kBinInt2);
        PutUint(&out_, u, 2);
      } else {
        out_.push_back(kBinInt1);
        PutUint(&out_, u, 1);
      }
      return;
    }
    // LONG1: little-endian two's complement, one byte more than the
    // magnitude's bits need, less a redundant 0xff for negatives.
    uint64_t magnitude = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
    int nbits = 0;
    while (nbits < 64 && (magnitude >> nbits) != 0) ++nbits;
    int nbytes = (nbits >> 3) + 1;
    std::string bytes;
    for (int i = 0; i < nbytes; ++i) {
      bytes.push_back(static_cast<char>(i < 8 ? (static_cast<uint64_t>(v) >> (8 * i)) & 0xff : (v < 0 ? 0xff : 0)));
    }
    if (v < 0 && nbytes > 1 && static_cast<unsigned char>(bytes[nbytes - 1]) == 0xff &&
        (static_cast<unsigned char>(bytes[nbytes - 2]) & 0x80) != 0) {
      bytes.pop_back();
    }
    out_.push_back(static_cast<char>(kLong1));
    out_.push_back(static_cast<char>(bytes.size()));
    out_ += bytes;
  }

  void Save(const PickleValue& v) {
    switch (v.kind) {
      case PickleValue::Kind::kNone:
        out_.push_back(kNone);
        return;
      case PickleValue::Kind::kBool:
        out_.push_back(static_cast<char>(v.boolean ? kNewTrue : kNewFalse));
        return;
      case PickleValue::Kind::kInt:
        SaveInt(v.integer);
        return;
      case PickleValue::Kind::kFloat: {
        out_.push_back(kBinFloat);
        uint64_t bits;
        std::memcpy(&bits, &v.real, sizeof(bits));
        for (int i = 7; i >= 0; --i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
        return;
      }
      case PickleValue::Kind::kString:
      case PickleValue::Kind::kBytes:  // Never written; Swift writes str.
        out_.push_back(kBinUnicode);
        PutUint(&out_, v.text.size(), 4);
        out_ += v.text;
        MemoPut();
        return;
      case PickleValue::Kind::kTuple: {
        size_t n = v.items.size();
        if (n == 0) {
          out_.push_back(kEmptyTuple);
          return;
        }
        if (n > 3) out_.push_back(kMark);
        for (const PickleValue& item : v.items) Save(item);
        if (n > 3) {
          out_.push_back(kTuple);
        } else {
          out_.push_back(static_cast<char>(kTuple1 + (n - 1)));
        }
        MemoPut();
        return;
      }
    }
  }

  std::string out_;
  uint64_t next_memo_ = 0;
};

}  // namespace

PickleValue PickleValue::Bool(bool b) {
  PickleValue v;
  v.kind = Kind::kBool;
  v.boolean = b;
  return v;
}
PickleValue PickleValue::Int(int64_t i) {
  PickleValue v;
  v.kind = Kind::kInt;
  v.integer = i;
  return v;
}
PickleValue PickleValue::Float(double d) {
  PickleValue v;
  v.kind = Kind::kFloat;
  v.real = d;
  return v;
}
PickleValue PickleValue::String(std::string s) {
  PickleValue v;
  v.kind = Kind::kString;
  v.text = std::move(s);
  return v;
}
PickleValue PickleValue::Tuple(std::vector<PickleValue> items) {
  PickleValue v;
  v.kind = Kind::kTuple;
  v.items = std::move(items);
  return v;
}

absl::StatusOr<PickleValue> ReadPickle(absl::string_view data) { return Reader(data).Read(); }

std::string WritePickle(const PickleValue& value) { return Writer().Finish(value); }

}  // namespace dbrepl

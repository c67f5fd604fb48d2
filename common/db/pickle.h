// The tiny subset of Python's pickle format that Swift's .pending files use
// (DatabaseBroker.put_record writes them, _commit_puts reads them, in
// swift/common/db.py): a tuple of strings, ints, floats, booleans and None,
// pickled with protocol 2.
//
//   ASSIGN_OR_RETURN(PickleValue v, ReadPickle(bytes));
//   if (v.kind == PickleValue::Kind::kTuple) ... v.items[0].text ...
//   std::string bytes = WritePickle(PickleValue::Tuple({PickleValue::String("o"), PickleValue::Int(10)}));
//
// ReadPickle understands PROTO, FRAME, MARK, the string opcodes (BINUNICODE,
// SHORT_BINUNICODE, BINSTRING, SHORT_BINSTRING, BINBYTES, SHORT_BINBYTES),
// the int opcodes (BININT, BININT1, BININT2, LONG1 up to 64 bits), NONE,
// NEWTRUE, NEWFALSE, BINFLOAT, the memo opcodes (BINPUT, LONG_BINPUT,
// MEMOIZE, BINGET, LONG_BINGET), the tuple opcodes (EMPTY_TUPLE, TUPLE,
// TUPLE1..3) and STOP. Everything else, in particular GLOBAL/REDUCE, is
// refused: like Swift's restricted unpickler, a pending entry can never run
// code. Bytes after STOP are ignored, as pickle.loads does.
//
// WritePickle emits exactly what CPython 3's pickle.dumps(value, protocol=2)
// emits for the same value (when no object appears twice).
//
// Pure functions; thread-safe. Malformed input is INVALID_ARGUMENT.
#ifndef DBREPL_COMMON_DB_PICKLE_H_
#define DBREPL_COMMON_DB_PICKLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dbrepl {

struct PickleValue {
  // kString is a Python str (UTF-8 here); kBytes a Python 3 bytes (from
  // BINBYTES). Python 2 str (BINSTRING) reads as kString, as
  // pickle.loads(encoding='utf8') does.
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kBytes, kTuple };

  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;
  std::vector<PickleValue> items;

  static PickleValue None() { return PickleValue(); }
  static PickleValue Bool(bool b);
  static PickleValue Int(int64_t i);
  static PickleValue Float(double d);
  static PickleValue String(std::string s);
  static PickleValue Tuple(std::vector<PickleValue> items);
};

absl::StatusOr<PickleValue> ReadPickle(absl::string_view data);

std::string WritePickle(const PickleValue& value);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_DB_PICKLE_H_

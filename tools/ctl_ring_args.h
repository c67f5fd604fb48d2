// The ring-related arguments several dbreplctl subcommands take: which
// database type a ring places (--type, or the ring file's name) and the
// cluster's hash path prefix/suffix (--hash-path-prefix/--hash-path-suffix,
// or --swift-dir's swift.conf). INVALID_ARGUMENT with the flag named when
// they cannot be told. Not thread-safe (dbreplctl's main thread).
#ifndef DBREPL_TOOLS_CTL_RING_ARGS_H_
#define DBREPL_TOOLS_CTL_RING_ARGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/db_type.h"
#include "common/hash_path.h"
#include "tools/ctl_command.h"

namespace dbrepl::ctl {

// --type, else "account..." / "container..." at the start of the file name.
absl::StatusOr<DbType> RingType(const CtlArgs& args, const std::string& ring_path);

// --hash-path-prefix/--hash-path-suffix, else swift.conf in --swift-dir
// (default /etc/swift).
absl::StatusOr<HashPathConfig> HashConfig(const CtlArgs& args);

}  // namespace dbrepl::ctl

#endif  // DBREPL_TOOLS_CTL_RING_ARGS_H_

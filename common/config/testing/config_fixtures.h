// Helpers for config tests: scratch files under TEST_TMPDIR, and a
// real-looking Swift container-server.conf.
#ifndef DBREPL_COMMON_CONFIG_TESTING_CONFIG_FIXTURES_H_
#define DBREPL_COMMON_CONFIG_TESTING_CONFIG_FIXTURES_H_

#include <string>

namespace dbrepl::testing {

// Writes `contents` to a new file called `name` in a fresh directory under
// $TEST_TMPDIR; returns its path. Aborts on failure.
std::string WriteTempConfig(const std::string& name, const std::string& contents);

// A container-server.conf as Swift ships it (trimmed), with a few values
// changed from their defaults; see the .cc for exactly which.
extern const char kContainerServerConf[];

}  // namespace dbrepl::testing

#endif  // DBREPL_COMMON_CONFIG_TESTING_CONFIG_FIXTURES_H_

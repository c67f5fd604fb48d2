// Helpers for ring tests: devices and small rings built by hand, scratch
// directories under TEST_TMPDIR, and the path of checked-in test data.
#ifndef DBREPL_COMMON_RING_TESTING_RING_FIXTURES_H_
#define DBREPL_COMMON_RING_TESTING_RING_FIXTURES_H_

#include <string>
#include <vector>

#include "common/ring/ring_data.h"

namespace dbrepl::testing {

// A device with replication address = ip/port.
RingDevice Dev(int id, int region, int zone, const std::string& ip, int port, const std::string& device,
               double weight = 1);

// A ring whose table is given row by row (devices must cover every id used).
RingData MakeRing(int part_power, std::vector<absl::optional<RingDevice>> devices,
                  std::vector<std::vector<uint32_t>> rows);

// A fresh, empty directory under $TEST_TMPDIR (or /tmp).
std::string NewTempDir();

// Reads a whole file; aborts the test binary if it cannot.
std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, const std::string& contents);

// Where checked-in files of common/ring/testdata are at test time.
std::string RingTestDataPath(const std::string& name);

}  // namespace dbrepl::testing

#endif  // DBREPL_COMMON_RING_TESTING_RING_FIXTURES_H_

#include "common/ring/testing/ring_fixtures.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace dbrepl::testing {

RingDevice Dev(int id, int region, int zone, const std::string& ip, int port, const std::string& device,
               double weight) {
  RingDevice d;
  d.id = id;
  d.region = region;
  d.zone = zone;
  d.ip = ip;
  d.port = port;
  d.replication_ip = ip;
  d.replication_port = port;
  d.device = device;
  d.weight = weight;
  return d;
}

RingData MakeRing(int part_power, std::vector<absl::optional<RingDevice>> devices,
                  std::vector<std::vector<uint32_t>> rows) {
  RingData data;
  data.part_shift = 32 - part_power;
  data.devices = std::move(devices);
  data.replica2part2dev = std::move(rows);
  return data;
}

std::string NewTempDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/ringtest.XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) {
    perror("mkdtemp");
    abort();
  }
  return tmpl;
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fprintf(stderr, "cannot read %s\n", path.c_str());
    abort();
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileOrDie(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  if (!out) {
    fprintf(stderr, "cannot write %s\n", path.c_str());
    abort();
  }
}

std::string RingTestDataPath(const std::string& name) {
  // Tests run in the runfiles root of the workspace.
  return absl::StrCat("common/ring/testdata/", name);
}

}  // namespace dbrepl::testing

// dbreplctl's subcommand registry and argument parsing.
//
// Each ctl_*.cc file registers its subcommands at static-initialisation time:
//
//   DBREPL_CTL_COMMAND(info, "info DB", "replication info and stats as JSON",
//                      [](CtlArgs& args) -> absl::Status { ... });
//
// A subcommand returns a Status; dbreplctl prints a non-OK status to stderr as
// "dbreplctl <cmd>: <message>" and exits 1 (2 for usage errors:
// INVALID_ARGUMENT). Never a stack trace. Output goes to stdout.
//
// Arguments: "--key value", "--key=value" and boolean "--flag"; '-' and '_'
// are interchangeable in keys ("--part-power" == "--part_power"). Everything
// else is positional, in order. Not thread-safe (used from main only).
#ifndef DBREPL_TOOLS_CTL_COMMAND_H_
#define DBREPL_TOOLS_CTL_COMMAND_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dbrepl::ctl {

class CtlArgs {
 public:
  // `boolean_flags` are keys that take no value (e.g. "deleted").
  static absl::StatusOr<CtlArgs> Parse(const std::vector<std::string>& argv,
                                       const std::set<std::string>& boolean_flags);

  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(const std::string& key) const;
  // Value of --key, or `def` when absent.
  std::string Get(const std::string& key, const std::string& def = "") const;
  // All values of a repeatable key (e.g. --device a --device b), in order.
  std::vector<std::string> GetAll(const std::string& key) const;
  // Integer/float values; INVALID_ARGUMENT naming the flag when malformed.
  absl::StatusOr<int64_t> GetInt(const std::string& key, int64_t def) const;
  absl::StatusOr<double> GetDouble(const std::string& key, double def) const;
  // INVALID_ARGUMENT if any flag was given that is not in `known`.
  absl::Status CheckKnown(const std::set<std::string>& known) const;

 private:
  std::vector<std::string> positional_;
  std::multimap<std::string, std::string> flags_;
};

struct CtlCommand {
  std::string name;
  std::string usage;    // e.g. "info DB"
  std::string summary;  // one line
  std::set<std::string> boolean_flags;
  std::function<absl::Status(const CtlArgs&)> run;
};

// Registers a command; returns true (for static initialisers).
bool RegisterCommand(CtlCommand command);
const std::map<std::string, CtlCommand>& Commands();

}  // namespace dbrepl::ctl

#endif  // DBREPL_TOOLS_CTL_COMMAND_H_

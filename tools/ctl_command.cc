#include "tools/ctl_command.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace dbrepl::ctl {
namespace {

std::map<std::string, CtlCommand>& Registry() {
  static auto* registry = new std::map<std::string, CtlCommand>();
  return *registry;
}

std::string NormalizeKey(std::string key) { return absl::StrReplaceAll(key, {{"-", "_"}}); }

}  // namespace

absl::StatusOr<CtlArgs> CtlArgs::Parse(const std::vector<std::string>& argv,
                                       const std::set<std::string>& boolean_flags) {
  CtlArgs args;
  bool only_positional = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (only_positional || !absl::StartsWith(a, "--") || a == "-") {
      args.positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    std::string body = a.substr(2);
    size_t eq = body.find('=');
    std::string key = NormalizeKey(body.substr(0, eq));
    if (key.empty()) return absl::InvalidArgumentError(absl::StrCat("malformed flag '", a, "'"));
    if (eq != std::string::npos) {
      args.flags_.emplace(key, body.substr(eq + 1));
    } else if (boolean_flags.count(key) > 0) {
      args.flags_.emplace(key, "true");
    } else {
      if (i + 1 >= argv.size()) return absl::InvalidArgumentError(absl::StrCat("flag --", key, " needs a value"));
      args.flags_.emplace(key, argv[++i]);
    }
  }
  return args;
}

bool CtlArgs::Has(const std::string& key) const { return flags_.count(NormalizeKey(key)) > 0; }

std::string CtlArgs::Get(const std::string& key, const std::string& def) const {
  auto range = flags_.equal_range(NormalizeKey(key));
  if (range.first == range.second) return def;
  return std::prev(range.second)->second;  // The last one wins.
}

std::vector<std::string> CtlArgs::GetAll(const std::string& key) const {
  std::vector<std::string> out;
  auto range = flags_.equal_range(NormalizeKey(key));
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

absl::StatusOr<int64_t> CtlArgs::GetInt(const std::string& key, int64_t def) const {
  if (!Has(key)) return def;
  int64_t v;
  if (!absl::SimpleAtoi(Get(key), &v)) {
    return absl::InvalidArgumentError(absl::StrCat("--", key, " must be an integer, got '", Get(key), "'"));
  }
  return v;
}

absl::StatusOr<double> CtlArgs::GetDouble(const std::string& key, double def) const {
  if (!Has(key)) return def;
  double v;
  if (!absl::SimpleAtod(Get(key), &v)) {
    return absl::InvalidArgumentError(absl::StrCat("--", key, " must be a number, got '", Get(key), "'"));
  }
  return v;
}

absl::Status CtlArgs::CheckKnown(const std::set<std::string>& known) const {
  for (const auto& [key, value] : flags_) {
    if (known.count(key) == 0) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", key));
  }
  return absl::OkStatus();
}

bool RegisterCommand(CtlCommand command) {
  std::string name = command.name;
  Registry().emplace(name, std::move(command));
  return true;
}

const std::map<std::string, CtlCommand>& Commands() { return Registry(); }

}  // namespace dbrepl::ctl

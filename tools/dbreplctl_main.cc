// dbreplctl: the operator's CLI. Subcommands live in ctl_*.cc files.
#include <iostream>
#include <string>
#include <vector>

#include "tools/ctl_command.h"

namespace {

void PrintUsage(std::ostream& out) {
  out << "usage: dbreplctl COMMAND [ARGS...]\n\ncommands:\n";
  for (const auto& [name, cmd] : dbrepl::ctl::Commands()) {
    out << "  " << cmd.usage << "\n      " << cmd.summary << "\n";
  }
  out << "\ncommands that connect take --tls_ca_file CA [--tls_cert_file CERT --tls_key_file KEY] for TLS/mTLS\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
    PrintUsage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  std::vector<std::string> words(argv + 1, argv + argc);
  // Two-word commands ("ring create") are registered under "ring create".
  const dbrepl::ctl::CtlCommand* cmd = nullptr;
  size_t consumed = 0;
  const auto& commands = dbrepl::ctl::Commands();
  if (words.size() >= 2) {
    auto it = commands.find(words[0] + " " + words[1]);
    if (it != commands.end()) {
      cmd = &it->second;
      consumed = 2;
    }
  }
  if (cmd == nullptr) {
    auto it = commands.find(words[0]);
    if (it != commands.end()) {
      cmd = &it->second;
      consumed = 1;
    }
  }
  if (cmd == nullptr) {
    std::cerr << "dbreplctl: unknown command '" << words[0] << "'\n";
    PrintUsage(std::cerr);
    return 2;
  }
  std::vector<std::string> rest(words.begin() + consumed, words.end());
  auto args = dbrepl::ctl::CtlArgs::Parse(rest, cmd->boolean_flags);
  absl::Status status = args.ok() ? cmd->run(*args) : args.status();
  if (!status.ok()) {
    std::cerr << "dbreplctl " << cmd->name << ": " << status.message() << "\n";
    if (status.code() == absl::StatusCode::kInvalidArgument) {
      std::cerr << "usage: dbreplctl " << cmd->usage << "\n";
      return 2;
    }
    return 1;
  }
  return 0;
}

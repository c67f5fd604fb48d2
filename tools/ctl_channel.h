// The gRPC channel dbreplctl opens to a dbrepl-peer or an agent's admin API.
// Plaintext by default; with --tls_ca_file, TLS: the server's certificate must
// be signed by that CA and name the host of the address; --tls_cert_file and
// --tls_key_file (both or neither) present a client certificate, as a peer
// that requires mTLS wants (the agent's --tls_* flags name the same files).
//
//   RETURN_IF_ERROR(args.CheckKnown(WithChannelFlags({"timeout"})));
//   ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, OpenChannel(args, address));
//
// INVALID_ARGUMENT naming the flag for a file that cannot be read or a
// certificate without its key. Not thread-safe (dbreplctl's main only).
#ifndef DBREPL_TOOLS_CTL_CHANNEL_H_
#define DBREPL_TOOLS_CTL_CHANNEL_H_

#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "tools/ctl_command.h"

namespace dbrepl::ctl {

// `known` with the TLS flags OpenChannel reads.
std::set<std::string> WithChannelFlags(std::set<std::string> known);

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const CtlArgs& args, const std::string& address);

}  // namespace dbrepl::ctl

#endif  // DBREPL_TOOLS_CTL_CHANNEL_H_

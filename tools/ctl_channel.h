// The gRPC channel dbreplctl opens to a dbrepl-peer or an agent's admin API,
// with the credentials its --tls_ca_file, --tls_cert_file and --tls_key_file
// name (common/rpc/client_credentials.h: plaintext, TLS or mTLS, as the
// agent's flags of the same names).
//
//   RETURN_IF_ERROR(args.CheckKnown(WithChannelFlags({"timeout"})));
//   ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, OpenChannel(args, address));
//
// INVALID_ARGUMENT naming the flag for a file that cannot be read or a
// certificate without its key. Thread-safe.
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

#include "tools/ctl_channel.h"

#include "common/rpc/client_credentials.h"

namespace dbrepl::ctl {

std::set<std::string> WithChannelFlags(std::set<std::string> known) {
  known.insert({"tls_ca_file", "tls_cert_file", "tls_key_file"});
  return known;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const CtlArgs& args, const std::string& address) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = ClientChannelCredentials(
      ClientTlsFiles{args.Get("tls_ca_file"), args.Get("tls_cert_file"), args.Get("tls_key_file")});
  if (!creds.ok()) return creds.status();
  return grpc::CreateChannel(address, *creds);
}

}  // namespace dbrepl::ctl

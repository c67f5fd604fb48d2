// The channel credentials a dbrepl client (the agent's peer client,
// dbreplctl) presents, from the files its --tls_ca_file, --tls_cert_file and
// --tls_key_file flags name: plaintext when all are empty; TLS when the CA is
// given (the server's certificate must be signed by it and name the host);
// mTLS when the certificate and its key are given too.
//
//   ASSIGN_OR_RETURN(auto creds, ClientChannelCredentials({ca, cert, key}));
//   auto channel = grpc::CreateChannel(address, creds);
//
// INVALID_ARGUMENT, naming the flag and the file, for a file that cannot be
// read or is empty, a certificate without its key (or the reverse), or a
// certificate without a CA. Thread-safe.
#ifndef DBREPL_COMMON_RPC_CLIENT_CREDENTIALS_H_
#define DBREPL_COMMON_RPC_CLIENT_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"

namespace dbrepl {

struct ClientTlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientChannelCredentials(const ClientTlsFiles& files);

}  // namespace dbrepl

#endif  // DBREPL_COMMON_RPC_CLIENT_CREDENTIALS_H_

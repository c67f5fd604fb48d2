#include "tools/ctl_channel.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace dbrepl::ctl {
namespace {

absl::StatusOr<std::string> ReadFlagFile(const CtlArgs& args, const std::string& flag) {
  const std::string path = args.Get(flag);
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--", flag, ": cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", path, " is empty"));
  return ss.str();
}

}  // namespace

std::set<std::string> WithChannelFlags(std::set<std::string> known) {
  known.insert({"tls_ca_file", "tls_cert_file", "tls_key_file"});
  return known;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const CtlArgs& args, const std::string& address) {
  const bool ca = args.Has("tls_ca_file"), cert = args.Has("tls_cert_file"), key = args.Has("tls_key_file");
  if (!ca && !cert && !key) return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  if (!ca) return absl::InvalidArgumentError("--tls_cert_file/--tls_key_file need --tls_ca_file");
  if (cert != key) return absl::InvalidArgumentError("--tls_cert_file and --tls_key_file go together");
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> roots = ReadFlagFile(args, "tls_ca_file");
  if (!roots.ok()) return roots.status();
  ssl.pem_root_certs = *roots;
  if (cert) {
    absl::StatusOr<std::string> chain = ReadFlagFile(args, "tls_cert_file");
    if (!chain.ok()) return chain.status();
    absl::StatusOr<std::string> private_key = ReadFlagFile(args, "tls_key_file");
    if (!private_key.ok()) return private_key.status();
    ssl.pem_cert_chain = *chain;
    ssl.pem_private_key = *private_key;
  }
  return grpc::CreateChannel(address, grpc::SslCredentials(ssl));
}

}  // namespace dbrepl::ctl

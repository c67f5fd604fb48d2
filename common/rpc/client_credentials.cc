#include "common/rpc/client_credentials.h"

#include "absl/strings/str_cat.h"
#include "common/fs_util.h"

namespace dbrepl {
namespace {

absl::StatusOr<std::string> ReadPem(const char* flag, const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFile(path);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " ", path, ": ", pem.status().message()));
  }
  if (pem->empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, " ", path, " is empty"));
  return pem;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientChannelCredentials(const ClientTlsFiles& files) {
  const bool ca = !files.ca_file.empty(), cert = !files.cert_file.empty(), key = !files.key_file.empty();
  if (!ca && !cert && !key) return grpc::InsecureChannelCredentials();
  if (cert != key) return absl::InvalidArgumentError("--tls_cert_file and --tls_key_file go together");
  if (!ca) return absl::InvalidArgumentError("--tls_cert_file/--tls_key_file need --tls_ca_file");
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> roots = ReadPem("tls_ca_file", files.ca_file);
  if (!roots.ok()) return roots.status();
  ssl.pem_root_certs = *std::move(roots);
  if (cert) {
    absl::StatusOr<std::string> chain = ReadPem("tls_cert_file", files.cert_file);
    if (!chain.ok()) return chain.status();
    absl::StatusOr<std::string> private_key = ReadPem("tls_key_file", files.key_file);
    if (!private_key.ok()) return private_key.status();
    ssl.pem_cert_chain = *std::move(chain);
    ssl.pem_private_key = *std::move(private_key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace dbrepl

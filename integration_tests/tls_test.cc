// TLS on the peer: with mTLS a client must present a certificate the CA
// signed; plaintext and certificate-less clients are refused; the plaintext
// health-only port answers Kubernetes-style probes and nothing else. The
// agent's PeerClient talks mTLS to it. Certificates are made with openssl.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "agent/grpc_peer_client.h"
#include "common/rpc/grpc_status.h"
#include "common/fs_util.h"
#include "common/server/grpc_server.h"
#include "common/testing/status_matchers.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "peer/peer_service.h"

namespace dbrepl::peer {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Creates ca.pem, server.pem/key (SAN 127.0.0.1, localhost), client.pem/key
// and rogue.pem/key (signed by another CA) in `dir`.
void MakeCertificates(const std::string& dir) {
  std::string script = absl::StrCat(
      "set -e; cd ", dir, "\n",
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dbrepl-ca -keyout ca.key -out ca.pem 2>/dev/null\n",
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rogue-ca -keyout rca.key -out rca.pem 2>/dev/null\n",
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext\n",
      "for n in server client rogue; do\n",
      "  openssl req -newkey rsa:2048 -nodes -subj /CN=$n -keyout $n.key -out $n.csr 2>/dev/null\n",
      "done\n",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext "
      "-out server.pem 2>/dev/null\n",
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out client.pem 2>/dev/null\n",
      "openssl x509 -req -in rogue.csr -CA rca.pem -CAkey rca.key -CAcreateserial -days 2 -out rogue.pem 2>/dev/null\n");
  std::string path = dir + "/make.sh";
  std::ofstream(path) << script;
  ASSERT_EQ(std::system(("bash " + path).c_str()), 0);
}

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& target, const std::string& dir,
                                          const std::string& client) {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = ReadFile(dir + "/ca.pem");
  if (!client.empty()) {
    o.pem_cert_chain = ReadFile(dir + "/" + client + ".pem");
    o.pem_private_key = ReadFile(dir + "/" + client + ".key");
  }
  return grpc::CreateChannel(target, grpc::SslCredentials(o));
}

absl::StatusOr<std::string> Health(const std::shared_ptr<grpc::Channel>& ch, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(ch);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = stub->Check(&ctx, req, &resp);
  if (!s.ok()) return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
}

TEST(TlsTest, MutualTlsIsEnforcedAndProbesUseThePlaintextHealthPort) {
  std::string dir = absl::StrCat(getenv("TEST_TMPDIR"), "/tls");
  ASSERT_OK(MakeDirs(dir + "/devices/sda"));
  MakeCertificates(dir);

  PeerServiceOptions po;
  po.devices = dir + "/devices";
  po.mount_check = false;
  PeerService service(po, nullptr);
  GrpcServerOptions so;
  so.bind_ip = "127.0.0.1";
  so.bind_port = 0;
  so.health_port = 0;
  so.tls = {dir + "/server.pem", dir + "/server.key", dir + "/ca.pem"};
  GrpcServer server(so);
  server.AddService(&service, "dbrepl.v1.ReplicationPeer");
  ASSERT_OK(server.Start());
  server.SetReady(true);
  std::string target = absl::StrCat("127.0.0.1:", server.port());

  // A client with a certificate from the cluster CA gets in.
  EXPECT_EQ(*Health(TlsChannel(target, dir, "client"), "readiness"), "SERVING");
  // No client certificate, or one from another CA: refused.
  EXPECT_FALSE(Health(TlsChannel(target, dir, ""), "readiness").ok());
  EXPECT_FALSE(Health(TlsChannel(target, dir, "rogue"), "readiness").ok());
  // Plaintext on the TLS port: refused.
  EXPECT_FALSE(Health(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()), "readiness").ok());

  // The probe port: plaintext health, mirroring readiness, and nothing else.
  auto probe = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server.health_port()),
                                   grpc::InsecureChannelCredentials());
  EXPECT_EQ(*Health(probe, "readiness"), "SERVING");
  EXPECT_EQ(*Health(probe, "liveness"), "SERVING");
  server.SetReady(false);
  EXPECT_EQ(*Health(probe, "readiness"), "NOT_SERVING");
  server.SetReady(true);
  {
    auto stub = v1::ReplicationPeer::NewStub(probe);
    grpc::ClientContext ctx;
    v1::SyncResponse resp;
    EXPECT_EQ(stub->Sync(&ctx, v1::SyncRequest(), &resp).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }

  // The agent's client speaks mTLS: a Sync reaches the service (and gets its
  // honest NOT_FOUND for a database that is not there).
  agent::PeerClientOptions co;
  co.tls_cert_file = dir + "/client.pem";
  co.tls_key_file = dir + "/client.key";
  co.tls_ca_file = dir + "/ca.pem";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<agent::GrpcPeerClient> peer_client, agent::GrpcPeerClient::Create(co));
  agent::GrpcPeerClient& client = *peer_client;
  v1::DbRef ref;
  ref.set_type(v1::CONTAINER);
  ref.set_device("sda");
  ref.set_partition(1);
  ref.set_hash("e8fbcd486a77117e2cd3398aa1f9485f");
  ReplicationInfo info;  // Defaults are valid, but for these two.
  info.id = "agent-db";
  info.created_at = "0000000001.00000";
  absl::StatusOr<v1::SyncResponse> sync = client.Sync(agent::PeerAddress{"127.0.0.1", server.port()}, ref, info);
  EXPECT_EQ(GetReason(sync.status()), ErrorReason::kDbNotFound) << sync.status();

  // dbreplctl speaks mTLS with the agent's files, and only with them.
  const std::string ctl = absl::StrCat(getenv("TEST_SRCDIR"), "/", getenv("TEST_WORKSPACE"), "/tools/dbreplctl");
  auto run = [&](const std::string& flags) {
    const std::string out = dir + "/ctl.out";
    int rc = std::system(absl::StrCat(ctl, " health ", target, " --service readiness --timeout 5 ", flags, " >",
                                      out, " 2>&1")
                             .c_str());
    return std::make_pair(WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ReadFile(out));
  };
  const std::string ca = " --tls_ca_file " + dir + "/ca.pem";
  const std::string mine = " --tls_cert_file " + dir + "/client.pem --tls_key_file " + dir + "/client.key";
  auto [ok_rc, ok_out] = run(ca + mine);
  EXPECT_EQ(ok_rc, 0) << ok_out;
  EXPECT_NE(ok_out.find("SERVING"), std::string::npos) << ok_out;
  EXPECT_NE(run("").first, 0) << "plaintext to the TLS port";
  EXPECT_NE(run(ca).first, 0) << "no client certificate";
  auto [bad_rc, bad_out] = run(ca + " --tls_cert_file " + dir + "/client.pem");
  EXPECT_EQ(bad_rc, 2) << bad_out;
  EXPECT_NE(bad_out.find("--tls_cert_file and --tls_key_file go together"), std::string::npos) << bad_out;
  auto [missing_rc, missing_out] = run(" --tls_ca_file " + dir + "/nonexistent.pem");
  EXPECT_EQ(missing_rc, 2) << missing_out;
  EXPECT_NE(missing_out.find("nonexistent.pem"), std::string::npos) << missing_out;
  server.Shutdown(absl::ZeroDuration());
}

TEST(TlsTest, TheAgentsUnreadableClientCertificateIsAClearError) {
  agent::PeerClientOptions co;
  co.tls_ca_file = "/nonexistent/ca.pem";
  absl::StatusOr<std::unique_ptr<agent::GrpcPeerClient>> client = agent::GrpcPeerClient::Create(co);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(client.status().message()).find("--tls_ca_file /nonexistent/ca.pem"), std::string::npos)
      << client.status();
  co.tls_cert_file = "/some/client.pem";  // Without its key.
  client = agent::GrpcPeerClient::Create(co);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TlsTest, UnreadableCertificateIsAClearStartupError) {
  GrpcServerOptions so;
  so.bind_ip = "127.0.0.1";
  so.tls = {"/nonexistent/server.pem", "/nonexistent/server.key", ""};
  GrpcServer server(so);
  absl::Status s = server.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("/nonexistent/server.pem"), std::string::npos);
}

}  // namespace
}  // namespace dbrepl::peer

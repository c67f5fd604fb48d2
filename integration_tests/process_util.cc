#include "integration_tests/process_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/subprocess.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace dbrepl::testing {

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(const std::vector<std::string>& argv,
                                                              const std::string& log_file) {
  int log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError(absl::StrCat("open ", log_file, ": ", strerror(errno)));
  absl::StatusOr<pid_t> spawned = SpawnProcess(argv, log_fd);
  close(log_fd);
  if (!spawned.ok()) return spawned.status();
  pid_t pid = *spawned;
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return absl::InternalError(absl::StrCat("pidfd_open: ", strerror(errno)));
  return std::unique_ptr<Subprocess>(new Subprocess(pid, pidfd, log_file));
}

Subprocess::~Subprocess() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  close(pidfd_);
}

absl::Status Subprocess::Signal(int sig) {
  if (kill(pid_, sig) != 0) return absl::InternalError(absl::StrCat("kill: ", strerror(errno)));
  return absl::OkStatus();
}

absl::StatusOr<int> Subprocess::Wait(absl::Duration timeout) {
  if (reaped_) return absl::FailedPreconditionError("already reaped");
  struct pollfd pfd = {pidfd_, POLLIN, 0};
  int rc = poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (rc == 0) return absl::DeadlineExceededError(absl::StrCat("pid ", pid_, " still running after ", absl::FormatDuration(timeout)));
  int status = 0;
  if (waitpid(pid_, &status, 0) != pid_) return absl::InternalError(absl::StrCat("waitpid: ", strerror(errno)));
  reaped_ = true;
  return status;
}

std::string Subprocess::Log() const {
  std::ifstream in(log_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<int> PickFreePort(const std::string& ip) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("bind ", ip, ": ", strerror(errno)));
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

absl::StatusOr<std::string> HealthCheck(const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
                                        absl::Duration timeout) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = stub->Check(&ctx, req, &resp);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
}

absl::Status WaitForServing(const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
                            absl::Duration timeout) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  auto reader = stub->Watch(&ctx, req);
  grpc::health::v1::HealthCheckResponse resp;
  std::string last = "none";
  while (reader->Read(&resp)) {
    last = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
    if (resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      ctx.TryCancel();
      reader->Finish();
      return absl::OkStatus();
    }
  }
  grpc::Status s = reader->Finish();
  return absl::DeadlineExceededError(
      absl::StrCat(service, " not SERVING after ", absl::FormatDuration(timeout), " (last: ", last, "; ",
                   s.error_message(), ")"));
}

absl::StatusOr<std::vector<std::string>> ListServices(const std::shared_ptr<grpc::Channel>& channel,
                                                      absl::Duration timeout) {
  using grpc::reflection::v1alpha::ServerReflection;
  using grpc::reflection::v1alpha::ServerReflectionRequest;
  using grpc::reflection::v1alpha::ServerReflectionResponse;
  auto stub = ServerReflection::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  auto stream = stub->ServerReflectionInfo(&ctx);
  ServerReflectionRequest req;
  req.set_list_services("*");
  ServerReflectionResponse resp;
  if (!stream->Write(req) || !stream->Read(&resp)) {
    grpc::Status s = stream->Finish();
    return absl::UnavailableError(absl::StrCat("reflection: ", s.error_message()));
  }
  stream->WritesDone();
  std::vector<std::string> names;
  for (const auto& svc : resp.list_services_response().service()) names.push_back(svc.name());
  grpc::Status s = stream->Finish();
  if (!s.ok()) return absl::UnavailableError(absl::StrCat("reflection: ", s.error_message()));
  return names;
}

std::shared_ptr<grpc::Channel> TestChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

std::string TestTmpDir() {
  const char* d = getenv("TEST_TMPDIR");
  return d != nullptr ? d : "/tmp";
}

}  // namespace dbrepl::testing

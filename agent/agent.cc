#include "agent/agent.h"

#include <random>

#include "glog/logging.h"

namespace dbrepl::agent {

Agent::Agent(ReplicationPass* replicator, absl::Duration interval, bool initial_delay)
    : replicator_(replicator), interval_(interval), initial_delay_(initial_delay) {}

Agent::~Agent() { Stop(); }

void Agent::Start() { thread_ = std::thread([this] { Loop(); }); }

void Agent::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  replicator_->RequestStop();
  if (thread_.joinable()) thread_.join();
}

bool Agent::RunPassNow(const PassOverrides& overrides) {
  absl::MutexLock lock(&mu_);
  if (running_ || requested_ || stopping_) return false;
  requested_ = true;
  requested_overrides_ = overrides;
  return true;
}

bool Agent::pass_running() const {
  absl::MutexLock lock(&mu_);
  return running_ || requested_;
}

void Agent::Loop() {
  absl::Time next = absl::Now();
  if (initial_delay_) {
    std::mt19937_64 rng(std::random_device{}());
    next += interval_ * std::uniform_real_distribution<double>(0, 1)(rng);
    LOG(INFO) << "first pass in " << (next - absl::Now());
  }
  while (true) {
    PassOverrides overrides;
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || requested_; };
      mu_.AwaitWithDeadline(absl::Condition(&wake), next);
      if (stopping_) return;
      overrides = requested_overrides_;
      requested_overrides_ = PassOverrides();
      requested_ = false;
      running_ = true;
    }
    absl::Time begin = absl::Now();
    absl::Status s = replicator_->RunPass(overrides);
    if (!s.ok()) LOG(ERROR) << "ERROR trying to replicate: " << s;
    {
      absl::MutexLock lock(&mu_);
      running_ = false;
    }
    next = begin + interval_;
  }
}

}  // namespace dbrepl::agent

// Responder: the identity checker and join worker threads, and the receive-thread side that
// hands them work and collects what they finished (responder.h, limits.h).
#include <memory>
#include <utility>

#include "ctl/netconf/limits.h"
#include "ctl/netconf/responder.h"

namespace almanac::netconf {
namespace {

#define COUNT(field) Count(&ResponderCounters::field)

}  // namespace

bool Responder::StartValidation(const zt::Identity& identity, const zt::InetAddress& from) {
  std::string source = from.ToString();
  if (validating_.size() >= kValidateQueueMax) return false;
  auto per_source = validating_per_source_.find(source);
  if (per_source != validating_per_source_.end() &&
      per_source->second >= kValidatePerSourceMax) {
    return false;
  }
  validating_.emplace(identity.address(), source);
  ++validating_per_source_[source];
  {
    absl::MutexLock lock(&work_mu_);
    validate_jobs_.push_back(ValidateJob{identity});
  }
  COUNT(validate_queued);
  return true;
}

void Responder::ValidateLoop() {
  for (;;) {
    ValidateJob job;
    {
      absl::MutexLock lock(&work_mu_);
      work_mu_.Await(absl::Condition(
          +[](Responder* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->work_mu_) {
            return r->stopping_ || !r->validate_jobs_.empty();
          },
          this));
      if (stopping_) return;
      job = std::move(validate_jobs_.front());
      validate_jobs_.pop_front();
      validate_busy_ = true;
    }
    ValidateDone done;
    done.valid = job.identity.Validate().ok();
    if (done.valid) {
      auto key = options_.identity.Agree(job.identity);
      done.valid = key.ok();
      if (key.ok()) done.key = *key;
    }
    done.identity = std::move(job.identity);
    {
      absl::MutexLock lock(&work_mu_);
      validate_done_.push_back(std::move(done));
      validate_busy_ = false;
    }
    if (options_.wake) options_.wake();
  }
}

void Responder::JoinLoop() {
  for (;;) {
    JoinJob job;
    {
      absl::MutexLock lock(&work_mu_);
      work_mu_.Await(absl::Condition(
          +[](Responder* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->work_mu_) {
            return r->stopping_ || !r->join_jobs_.empty();
          },
          this));
      if (stopping_) return;
      job = std::move(join_jobs_.front());
      join_jobs_.pop_front();
      ++joins_running_;
    }
    // Blocks until the join's events are durable: why this is not the receive thread.
    auto outcome = std::make_shared<commands::JoinOutcome>();
    auto committed = sequencer_->Submit(
        job.push ? commands::AssignPoolAddressCommand(job.request.nwid, job.request.address,
                                                      outcome)
                 : commands::JoinCommand(job.request, outcome));
    JoinDone done{std::move(job), committed.status(), *outcome};
    {
      absl::MutexLock lock(&work_mu_);
      join_done_.push_back(std::move(done));
      --joins_running_;
    }
    if (options_.wake) options_.wake();
  }
}

void Responder::Drain(absl::Time now, std::vector<Datagram>& out) {
  std::deque<ValidateDone> validated;
  std::deque<JoinDone> joined;
  {
    absl::MutexLock lock(&work_mu_);
    validated.swap(validate_done_);
    joined.swap(join_done_);
  }
  for (ValidateDone& done : validated) {
    const uint64_t address = done.identity.address();
    if (auto it = validating_.find(address); it != validating_.end()) {
      if (--validating_per_source_[it->second] == 0) validating_per_source_.erase(it->second);
      validating_.erase(it);
    }
    auto held = held_.extract(address);
    std::vector<Held> list;
    if (held) {
      list = std::move(held.mapped());
      held_count_ -= list.size();
    }
    if (!done.valid) {
      COUNT(identity_invalid);
      continue;  // its held packets go with it
    }
    if (AddPeerWithKey(done.identity, done.key) == nullptr) continue;
    for (Held& h : list) HandlePacket(std::move(h.packet), h.from, now, out);
  }
  for (JoinDone& done : joined) {
    --joins_in_flight_;
    if (done.job.push) {
      // Pushed whatever the outcome: a failed assignment still leaves a config to send.
      if (!done.status.ok()) COUNT(internal_errors);
      MemberKey key{done.job.request.nwid, done.job.request.address};
      if (auto recent = recent_.find(key); recent != recent_.end()) {
        PushTo(key, recent->second, now, out);
      }
      continue;
    }
    if (!done.status.ok()) {
      COUNT(internal_errors);  // the node asks again; nothing was written
      continue;
    }
    auto peer = peers_.find(done.job.request.address);
    if (peer == peers_.end()) {
      COUNT(joins_dropped);  // evicted meanwhile; its next request brings it back
      continue;
    }
    Answer(peer->second, done.job.packet_id, done.job.request.nwid, done.outcome.verdict,
           done.job.metadata, done.job.from, now, out);
  }
}

void Responder::WaitWorkersIdleForTest() {
  absl::MutexLock lock(&work_mu_);
  work_mu_.Await(absl::Condition(
      +[](Responder* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->work_mu_) {
        return r->validate_jobs_.empty() && !r->validate_busy_ && r->join_jobs_.empty() &&
               r->joins_running_ == 0;
      },
      this));
}

Responder::TableSizes Responder::table_sizes_for_test() const {
  return TableSizes{peers_.size(),      held_count_,         validating_.size(),
                    joins_in_flight_,   last_answer_.size(), recent_.size(),
                    reassembler_.packets_pending(), credentials_.size(),
                    network_parts_.size()};
}

}  // namespace almanac::netconf

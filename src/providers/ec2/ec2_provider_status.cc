// Ec2Provider's read side: ListInstances (adoption, by tag, paged) and
// DescribeStatus (batched DescribeInstanceStatus, unknown ids resolved).
#include <algorithm>

#include "providers/ec2/ec2_provider.h"

namespace lifeline::ec2 {
namespace {

constexpr size_t kStatusBatch = 100;  // DescribeInstanceStatus id limit

}  // namespace

void Ec2Provider::ListInstances(const std::string& group,
                                Done<std::vector<InstanceInfo>> done) {
  if (!init_status_.ok()) return PostResult(std::move(done), {init_status_});
  Ec2Query q("DescribeInstances");
  if (group.empty()) {
    q.AddFilter("tag-key", {std::string(kGroupTag)});
  } else {
    q.AddFilter("tag:" + std::string(kGroupTag), {group});
  }
  q.AddFilter("instance-state-name", LiveStates());
  q.Set("MaxResults", std::to_string(config_.page_size));
  auto out = std::make_shared<std::vector<InstanceInfo>>();
  std::weak_ptr<Ec2Provider*> weak = self_;
  client_.CallPaged(
      std::move(q), "DescribeInstances(group " + group + ")", {},
      [out](const Ec2Response& page) {
        for (Ec2Instance& i : ParseInstances(page.root())) {
          out->push_back(std::move(i.info));
        }
      },
      [this, weak, out, done = std::move(done)](Status s) mutable {
        if (!weak.lock()) return;
        if (!s.ok()) return done(s);
        if (out->empty()) return done(std::move(*out));
        AddElasticAddresses(out, std::move(done));
      });
}

void Ec2Provider::AddElasticAddresses(
    std::shared_ptr<std::vector<InstanceInfo>> instances,
    Done<std::vector<InstanceInfo>> done) {
  // One call for the region: accounts hold few elastic addresses, and an
  // instance-id filter would need one value per instance.
  client_.Call(Ec2Query("DescribeAddresses"), "DescribeAddresses(all)", {},
               [instances, done = std::move(done)](Result<Ec2Response> r) {
                 if (!r.ok()) return done(r.status());
                 for (const Ec2Address& a : ParseAddresses(r->root())) {
                   if (a.instance_id.empty()) continue;
                   for (InstanceInfo& i : *instances) {
                     if (i.id == a.instance_id) {
                       i.addresses.push_back(a.public_ip);
                     }
                   }
                 }
                 done(std::move(*instances));
               });
}

void Ec2Provider::DescribeStatus(const std::vector<std::string>& instance_ids,
                                 Done<std::vector<InstanceStatus>> done) {
  if (!init_status_.ok()) return PostResult(std::move(done), {init_status_});
  std::weak_ptr<Ec2Provider*> weak = self_;
  if (instance_ids.empty()) {
    ListInstances("", [this, weak, done = std::move(done)](
                          Result<std::vector<InstanceInfo>> r) mutable {
      if (!weak.lock()) return;
      if (!r.ok()) return done(r.status());
      if (r->empty()) return done(std::vector<InstanceStatus>{});
      std::vector<std::string> ids;
      for (const InstanceInfo& i : *r) ids.push_back(i.id);
      DescribeStatus(ids, std::move(done));
    });
    return;
  }
  // Batches run one after another; results keep the callers' order.
  struct Batches {
    std::vector<std::string> ids;
    size_t next = 0;
    std::shared_ptr<std::vector<InstanceStatus>> found =
        std::make_shared<std::vector<InstanceStatus>>();
    Done<std::vector<InstanceStatus>> done;
    std::function<void()> step;
  };
  auto b = std::make_shared<Batches>();
  b->ids = instance_ids;
  b->done = std::move(done);
  std::weak_ptr<Batches> wb = b;
  b->step = [this, weak, wb] {
    auto b = wb.lock();
    if (!b || !weak.lock()) return;
    if (b->next >= b->ids.size()) {
      std::map<std::string, InstanceStatus> by_id;
      for (InstanceStatus& s : *b->found) by_id[s.id] = s;
      std::vector<InstanceStatus> out;
      for (const std::string& id : b->ids) {
        auto it = by_id.find(id);
        if (it != by_id.end()) {
          out.push_back(it->second);
        } else {
          InstanceStatus s;
          s.id = id;
          s.lifecycle = RecentlyLaunched(id) ? Lifecycle::kPending
                                             : Lifecycle::kTerminated;
          out.push_back(s);
        }
      }
      auto done = std::move(b->done);
      b->step = nullptr;
      return done(std::move(out));
    }
    size_t end = std::min(b->ids.size(), b->next + kStatusBatch);
    std::vector<std::string> batch(b->ids.begin() + b->next,
                                   b->ids.begin() + end);
    b->next = end;
    DescribeStatusBatch(std::move(batch), b->found, [b](Status s) {
      if (!s.ok()) {
        auto done = std::move(b->done);
        b->step = nullptr;
        return done(s);
      }
      b->step();
    });
  };
  b->step();
}

void Ec2Provider::DescribeStatusBatch(
    std::vector<std::string> ids,
    std::shared_ptr<std::vector<InstanceStatus>> out,
    std::function<void(Status)> done) {
  Ec2Query q("DescribeInstanceStatus");
  q.Set("IncludeAllInstances", "true");
  q.SetList("InstanceId", ids);
  auto error = std::make_shared<CallError>();
  std::weak_ptr<Ec2Provider*> weak = self_;
  std::string label =
      "DescribeInstanceStatus(" + ids.front() +
      (ids.size() > 1 ? " +" + std::to_string(ids.size() - 1) : std::string()) +
      ")";
  client_.CallPaged(
      std::move(q), label, {},
      [out](const Ec2Response& page) {
        for (InstanceStatus& s : ParseInstanceStatuses(page.root())) {
          out->push_back(std::move(s));
        }
      },
      [this, weak, ids, out, error, done = std::move(done)](Status s) mutable {
        if (!weak.lock()) return;
        if (s.ok()) return done(s);
        // One unknown id fails the whole call: drop the ids EC2 names
        // (reported as terminated by the caller) and ask for the rest.
        std::vector<std::string> missing;
        if (error->code == "InvalidInstanceID.NotFound") {
          missing = IdsInNotFoundMessage(error->message);
        }
        std::vector<std::string> rest;
        for (const std::string& id : ids) {
          if (std::find(missing.begin(), missing.end(), id) == missing.end()) {
            rest.push_back(id);
          }
        }
        if (missing.empty() || rest.size() == ids.size()) return done(s);
        if (rest.empty()) return done(Status::Ok());
        DescribeStatusBatch(std::move(rest), out, std::move(done));
      },
      [error](const CallError& e) { *error = e; });
}

}  // namespace lifeline::ec2

// Elastic addresses the controller keeps attached: those a group owns
// (spec.addresses) and those an instance left behind when it was lost
// (terminated behind Lifeline's back). Each must be held by an active
// member ready for service; one that is not moves to the newest such member
// holding none (the one that restored the capacity, as an operator's
// failover script would pick). Moves are idempotent, one at a time per
// group; the left-behind set is kept in the journal across restarts.
// The replace rung moves a replaced instance's own addresses (replacement.cc).
#include <algorithm>

#include "controller/controller.h"

namespace lifeline {

namespace {
std::string LeftKey(const std::string& group) {
  return "left_addresses/" + group;
}
}  // namespace

void Controller::LeaveAddresses(GroupRuntime& g, const InstanceRecord& rec) {
  if (rec.info.addresses.empty()) return;
  for (const auto& a : rec.info.addresses) g.left_addresses.insert(a);
  PersistLeftAddresses(g);
  Record(EventKind::kObservation, "address.left", g.spec.name, rec.info.zone,
         rec.info.id,
         std::to_string(rec.info.addresses.size()) +
             " elastic address(es) left behind; they move to the instance "
             "that restores the capacity once it is ready",
         "addresses");
}

void Controller::PersistLeftAddresses(const GroupRuntime& g) {
  std::string text;
  for (const auto& a : g.left_addresses) text += (text.empty() ? "" : ",") + a;
  Status s = journal_->PutValue(LeftKey(g.spec.name), text);
  if (!s.ok()) {
    Record(EventKind::kAlert, "journal.write_failed", g.spec.name, "", "",
           "could not record left-behind addresses: " + s.ToString());
  }
}

void Controller::LoadLeftAddresses(GroupRuntime& g) {
  auto v = journal_->GetValue(LeftKey(g.spec.name));
  if (!v.ok()) return;
  size_t start = 0;
  while (start < v->size()) {
    size_t comma = v->find(',', start);
    if (comma == std::string::npos) comma = v->size();
    if (comma > start) g.left_addresses.insert(v->substr(start, comma - start));
    start = comma + 1;
  }
}

void Controller::ReconcileAddresses(GroupRuntime& g) {
  if (g.address_move_in_flight || loop_.Now() < g.address_after) return;
  if (g.spec.addresses.empty() && g.left_addresses.empty()) return;
  std::set<std::string> held;
  InstanceRecord* target = nullptr;
  // A left-behind address waits until the instance restoring the capacity
  // is launched and ready, so that it goes there rather than to an older one.
  int active = 0;
  bool settling = false;
  for (const auto& [zone, c] : g.zones) {
    active += c.active;
    settling = settling || c.launching > 0;
  }
  settling = settling || active < g.spec.desired;
  for (const auto& id : g.members) {
    auto it = instances_.find(id);
    if (it == instances_.end() || it->second.role != InstanceRole::kActive) {
      continue;
    }
    InstanceRecord& r = it->second;
    held.insert(r.info.addresses.begin(), r.info.addresses.end());
    if (!r.info.addresses.empty() || !r.workflow.empty() || r.verdict.unhealthy) {
      continue;
    }
    if (!ReadyForService(InputsFor(r))) {
      settling = true;
      continue;
    }
    if (!target || r.launched_at > target->launched_at ||
        (r.launched_at == target->launched_at && r.info.id > target->info.id)) {
      target = &r;
    }
  }
  // A left-behind address a member holds again needs nothing more.
  bool changed = false;
  for (auto it = g.left_addresses.begin(); it != g.left_addresses.end();) {
    if (held.count(*it)) {
      it = g.left_addresses.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed) PersistLeftAddresses(g);
  std::string address;
  bool owned = false;
  for (const auto& a : g.spec.addresses) {
    if (!held.count(a)) {
      address = a;
      owned = true;
      break;
    }
  }
  if (address.empty() && !g.left_addresses.empty() && !settling) {
    address = *g.left_addresses.begin();
  }
  if (address.empty() || !target) return;

  g.address_move_in_flight = true;
  std::string group = g.spec.name, to = target->info.id;
  Record(EventKind::kDecision, "address.attach", group, target->info.zone, to,
         "attaching " + address +
             (owned ? " (owned by the group)" : " (left by a lost instance)") +
             " to " + to,
         "addresses");
  std::weak_ptr<bool> alive = alive_;
  provider_.MoveAddress(address, to, [this, alive, group, address, to](Status st) {
    if (!alive.lock()) return;
    GroupRuntime* gr = Runtime(group);
    if (!gr) return;
    gr->address_move_in_flight = false;
    if (st.ok() || st.code() == StatusCode::kAlreadyExists) {
      auto it = instances_.find(to);
      if (it != instances_.end()) it->second.info.addresses.push_back(address);
      if (gr->left_addresses.erase(address)) PersistLeftAddresses(*gr);
      Record(EventKind::kAction, "address.attached", group, "", to,
             address + " is attached to " + to, "addresses");
      ScheduleReconcile(group);
      return;
    }
    gr->address_after = loop_.Now() + std::chrono::minutes(1);
    Record(EventKind::kAlert, "address.attach_failed", group, "", to,
           "could not attach " + address + " to " + to + " (" + st.ToString() +
               "); trying again in 1m",
           "addresses");
  });
}

}  // namespace lifeline

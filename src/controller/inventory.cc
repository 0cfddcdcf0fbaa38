// Inventory refresh: what a status poll cannot tell. Every
// inventory_interval the controller lists each adopted group's instances and
// learns the elastic addresses they hold now (an address associated after
// launch, by an operator or a script), so that the replace rung and the
// address keeper (addresses.cc) move what the instances really hold.
// An instance a workflow is acting on only gains addresses here (the
// workflow's own bookkeeping moves them), so a listing taken before a move
// cannot take an address back from the replacement.
#include <algorithm>

#include "controller/controller.h"

namespace lifeline {

void Controller::InventoryTick() {
  for (auto& [name, g] : groups_) {
    if (g.adopted) RefreshInventory(name);
  }
  std::weak_ptr<bool> alive = alive_;
  loop_.RunAfter(config_.inventory_interval, [this, alive] {
    if (alive.lock()) InventoryTick();
  });
}

void Controller::RefreshInventory(const std::string& group) {
  std::weak_ptr<bool> alive = alive_;
  provider_.ListInstances(group, [this, alive, group](
                                     Result<std::vector<InstanceInfo>> r) {
    if (!alive.lock()) return;
    if (!r.ok()) {
      Record(EventKind::kObservation, "inventory.failed", group, "", "",
             "could not list the group's instances: " + r.status().ToString(),
             "inventory");
      return;
    }
    bool changed = false;
    for (const InstanceInfo& info : *r) {
      auto it = instances_.find(info.id);
      if (it == instances_.end() || it->second.info.group != group) continue;
      std::vector<std::string> now = info.addresses;
      if (!it->second.workflow.empty()) {
        now = it->second.info.addresses;
        for (const auto& a : info.addresses) {
          if (std::find(now.begin(), now.end(), a) == now.end()) now.push_back(a);
        }
      }
      if (it->second.info.addresses != now) {
        Record(EventKind::kObservation, "instance.addresses", group,
               it->second.info.zone, info.id,
               "holds " + std::to_string(now.size()) +
                   " elastic address(es) now (was " +
                   std::to_string(it->second.info.addresses.size()) + ")",
               "inventory");
        it->second.info.addresses = std::move(now);
        changed = true;
      }
    }
    if (changed) ScheduleReconcile(group);
  });
}

}  // namespace lifeline

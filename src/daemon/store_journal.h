// StoreJournal: the controller's Journal (controller/workflow.h) kept in a
// Store, so that in-flight workflows and freeze flags survive a crash of
// lifelined.
//
// Layout: Namespace::kWorkflows, key = workflow id, value = WorkflowToJson;
// Namespace::kFlags, key = the controller's value name ("freeze/fleet",
// "freeze/group/web", "warm_pool/web"), value as given. Every Save, Remove
// and PutValue is one Store::Commit, durable when it returns OK.
//
// Errors name the journal, the operation and the object:
//   "journal: Save(wf-000042): store: Commit(1 writes) to ...: disk full"
//
// Thread-safety: as thread-safe as the Store (every Store is); the
// controller calls it from its loop thread. The Store must outlive it.
#pragma once

#include <string>
#include <vector>

#include "controller/workflow.h"
#include "store/store.h"

namespace lifeline {

class StoreJournal final : public Journal {
 public:
  explicit StoreJournal(Store& store) : store_(store) {}

  Status Save(const Workflow& w) override;
  Status Remove(const std::string& id) override;
  // Every journaled workflow, in id order. A damaged entry is kDataLoss
  // naming its id (the controller must not guess what it was doing).
  Result<std::vector<Workflow>> Load() override;
  Status PutValue(const std::string& key, const std::string& value) override;
  // kNotFound when the key was never put.
  Result<std::string> GetValue(const std::string& key) override;

 private:
  Store& store_;
};

}  // namespace lifeline

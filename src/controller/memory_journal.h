// MemoryJournal: a Journal kept in memory, for tests and the simulator.
// Stores the JSON form, exactly as a durable journal would, so a "crash"
// (dropping the controller and building a new one on the same journal)
// exercises the real serialization. Not thread-safe.
#pragma once

#include <map>
#include <string>

#include "controller/workflow.h"

namespace lifeline {

class MemoryJournal final : public Journal {
 public:
  Status Save(const Workflow& w) override {
    ++saves_;
    entries_[w.id] = WorkflowToJson(w);
    return Status::Ok();
  }
  Status Remove(const std::string& id) override {
    entries_.erase(id);
    return Status::Ok();
  }
  Result<std::vector<Workflow>> Load() override {
    std::vector<Workflow> out;
    for (const auto& [id, text] : entries_) {
      Workflow w;
      LIFELINE_RETURN_IF_ERROR(ParseWorkflowJson(text, &w));
      out.push_back(std::move(w));
    }
    return out;
  }
  Status PutValue(const std::string& key, const std::string& value) override {
    values_[key] = value;
    return Status::Ok();
  }
  Result<std::string> GetValue(const std::string& key) override {
    auto it = values_.find(key);
    if (it == values_.end()) return NotFound("journal value " + key);
    return it->second;
  }
  size_t size() const { return entries_.size(); }
  uint64_t saves() const { return saves_; }

 private:
  std::map<std::string, std::string> entries_;
  std::map<std::string, std::string> values_;
  uint64_t saves_ = 0;
};

}  // namespace lifeline

#include "daemon/store_journal.h"

namespace lifeline {

Status StoreJournal::Save(const Workflow& w) {
  WriteBatch b;
  b.Put(Namespace::kWorkflows, w.id, WorkflowToJson(w));
  Status s = store_.Commit(b);
  if (!s.ok()) return s.Annotate("journal: Save(" + w.id + ")");
  return s;
}

Status StoreJournal::Remove(const std::string& id) {
  WriteBatch b;
  b.Delete(Namespace::kWorkflows, id);
  Status s = store_.Commit(b);
  if (!s.ok()) return s.Annotate("journal: Remove(" + id + ")");
  return s;
}

Result<std::vector<Workflow>> StoreJournal::Load() {
  auto rows = store_.List(Namespace::kWorkflows);
  if (!rows.ok()) return rows.status().Annotate("journal: Load");
  std::vector<Workflow> out;
  out.reserve(rows->size());
  for (const auto& [id, text] : *rows) {
    Workflow w;
    Status s = ParseWorkflowJson(text, &w);
    if (!s.ok()) {
      return DataLoss("journal: Load: workflow " + id +
                      " is damaged: " + s.message());
    }
    out.push_back(std::move(w));
  }
  return out;
}

Status StoreJournal::PutValue(const std::string& key,
                              const std::string& value) {
  WriteBatch b;
  b.Put(Namespace::kFlags, key, value);
  Status s = store_.Commit(b);
  if (!s.ok()) return s.Annotate("journal: PutValue(" + key + ")");
  return s;
}

Result<std::string> StoreJournal::GetValue(const std::string& key) {
  auto v = store_.Get(Namespace::kFlags, key);
  if (!v.ok()) return v.status().Annotate("journal: GetValue(" + key + ")");
  if (!v->has_value()) return NotFound("journal: value " + key + " not set");
  return **v;
}

}  // namespace lifeline

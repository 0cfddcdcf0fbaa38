#include "store/store.h"

#include <array>

namespace lifeline {

namespace {
constexpr std::array<std::pair<Namespace, std::string_view>, 6> kNames{{
    {Namespace::kGroups, "groups"},
    {Namespace::kInstances, "instances"},
    {Namespace::kWorkflows, "workflows"},
    {Namespace::kShifts, "shifts"},
    {Namespace::kFlags, "flags"},
    {Namespace::kMeta, "meta"},
}};
}  // namespace

std::string_view ToString(Namespace ns) {
  for (const auto& [v, n] : kNames) {
    if (v == ns) return n;
  }
  return "unknown";
}

bool ParseNamespace(std::string_view s, Namespace* out) {
  for (const auto& [v, n] : kNames) {
    if (n == s) {
      *out = v;
      return true;
    }
  }
  return false;
}

WriteBatch& WriteBatch::Put(Namespace ns, std::string key, std::string value) {
  ops_.push_back({OpKind::kPut, ns, std::move(key), std::move(value)});
  return *this;
}

WriteBatch& WriteBatch::Delete(Namespace ns, std::string key) {
  ops_.push_back({OpKind::kDelete, ns, std::move(key), {}});
  return *this;
}

std::string DescribeBatch(const WriteBatch& batch) {
  return "Commit(" + std::to_string(batch.size()) +
         (batch.size() == 1 ? " write)" : " writes)");
}

Status ValidateBatch(const WriteBatch& batch) {
  for (size_t i = 0; i < batch.ops().size(); ++i) {
    const auto& op = batch.ops()[i];
    if (ToString(op.ns) == "unknown") {
      return InvalidArgument("store: " + DescribeBatch(batch) + ": write #" +
                             std::to_string(i + 1) +
                             " names an unknown namespace (" +
                             std::to_string(static_cast<int>(op.ns)) + ")");
    }
    if (op.key.empty()) {
      return InvalidArgument(
          "store: " + DescribeBatch(batch) + ": write #" +
          std::to_string(i + 1) + " (" +
          (op.kind == WriteBatch::OpKind::kPut ? "put" : "delete") + " in " +
          std::string(ToString(op.ns)) + ") has an empty key");
    }
  }
  return Status::Ok();
}

Status ValidateRetention(const HistoryRetention& retention) {
  if (retention.max_age && *retention.max_age < Duration::zero()) {
    return InvalidArgument("store: PruneHistory: max_age " +
                           FormatDuration(*retention.max_age) + " is negative");
  }
  return Status::Ok();
}

Result<uint64_t> CheckHistorySeqs(const std::vector<HistoryEvent>& events,
                                  uint64_t last_seq) {
  for (const auto& e : events) {
    const uint64_t seq = StoredSeq(e, last_seq);
    if (seq <= last_seq) {
      return InvalidArgument("store: AppendHistory(" +
                             std::to_string(events.size()) + " events): seq " +
                             std::to_string(seq) +
                             " is not after the last stored or earlier seq " +
                             std::to_string(last_seq));
    }
    last_seq = seq;
  }
  return last_seq;
}

}  // namespace lifeline

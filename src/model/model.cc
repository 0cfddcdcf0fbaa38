#include "model/model.h"

#include <array>
#include <utility>

namespace lifeline {

namespace {
template <typename E, size_t N>
bool ParseFrom(const std::array<std::pair<E, std::string_view>, N>& table,
               std::string_view s, E* out) {
  for (const auto& [value, name] : table) {
    if (name == s) {
      *out = value;
      return true;
    }
  }
  return false;
}
template <typename E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& table,
                        E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "unknown";
}

constexpr std::array<std::pair<Lifecycle, std::string_view>, 5> kLifecycle{{
    {Lifecycle::kPending, "pending"},
    {Lifecycle::kRunning, "running"},
    {Lifecycle::kStopping, "stopping"},
    {Lifecycle::kStopped, "stopped"},
    {Lifecycle::kTerminated, "terminated"},
}};
constexpr std::array<std::pair<CheckState, std::string_view>, 4> kCheck{{
    {CheckState::kUnknown, "unknown"},
    {CheckState::kOk, "ok"},
    {CheckState::kImpaired, "impaired"},
    {CheckState::kInitializing, "initializing"},
}};
constexpr std::array<std::pair<AppHealth, std::string_view>, 5> kApp{{
    {AppHealth::kUnknown, "unknown"},
    {AppHealth::kOk, "ok"},
    {AppHealth::kDegraded, "degraded"},
    {AppHealth::kSuspect, "suspect"},
    {AppHealth::kFailed, "failed"},
}};
constexpr std::array<std::pair<CheckKind, std::string_view>, 3> kKind{{
    {CheckKind::kSystem, "system"},
    {CheckKind::kInstance, "instance"},
    {CheckKind::kApplication, "application"},
}};
}  // namespace

std::string_view ToString(Lifecycle s) { return NameOf(kLifecycle, s); }
bool ParseLifecycle(std::string_view s, Lifecycle* out) {
  return ParseFrom(kLifecycle, s, out);
}
std::string_view ToString(CheckState s) { return NameOf(kCheck, s); }
bool ParseCheckState(std::string_view s, CheckState* out) {
  return ParseFrom(kCheck, s, out);
}
std::string_view ToString(AppHealth s) { return NameOf(kApp, s); }
bool ParseAppHealth(std::string_view s, AppHealth* out) {
  return ParseFrom(kApp, s, out);
}
std::string_view ToString(CheckKind k) { return NameOf(kKind, k); }
bool ParseCheckKind(std::string_view s, CheckKind* out) {
  return ParseFrom(kKind, s, out);
}

}  // namespace lifeline

// Role: what a bearer token may do through the API (docs/api.md, Auth).
//   viewer   : read everything (GET)
//   operator : viewer + instance health, freeze, zonal shifts, desired
//              capacity
//   admin    : operator + apply and delete groups
// Roles are ordered: a higher role may do everything a lower one may.
//
// Thread-safety: plain values.
#pragma once

#include <string_view>

namespace lifeline {

enum class Role { kViewer = 0, kOperator = 1, kAdmin = 2 };

std::string_view ToString(Role r);
bool ParseRole(std::string_view s, Role* out);
// True when `have` is at least `need`.
inline bool RoleAllows(Role have, Role need) {
  return static_cast<int>(have) >= static_cast<int>(need);
}

}  // namespace lifeline

#include "api/role.h"

namespace lifeline {

std::string_view ToString(Role r) {
  switch (r) {
    case Role::kViewer:
      return "viewer";
    case Role::kOperator:
      return "operator";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

bool ParseRole(std::string_view s, Role* out) {
  for (Role r : {Role::kViewer, Role::kOperator, Role::kAdmin}) {
    if (ToString(r) == s) {
      *out = r;
      return true;
    }
  }
  return false;
}

}  // namespace lifeline

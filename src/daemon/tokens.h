// TokenStore: bearer tokens and their roles (api/role.h) for the API.
//
// Two sources:
//   - <state_dir>/admin.token: generated on first start (32 random bytes as
//     hex, file mode 0600) and always accepted as admin;
//   - the tokens file (api.tokens_file), optional: one "<role> <token>" per
//     line, role viewer | operator | admin; blank lines and lines starting
//     with '#' are skipped. Like key files it must not be readable by
//     "other" (mode & 0007), because it holds secrets.
//
// Thread-safety: immutable after Open(); Authenticate may be called from
// any thread. Reload by opening a new store.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/role.h"
#include "core/status.h"

namespace lifeline {

class TokenStore {
 public:
  // Reads (or first creates) the admin token and reads the tokens file
  // when `tokens_file` is not empty. Errors name the file and the line:
  //   "tokens: /etc/lifeline/tokens:3: unknown role \"root\""
  static Result<std::unique_ptr<TokenStore>> Open(
      const std::string& state_dir, const std::string& tokens_file);

  // The role of `bearer` (the token without "Bearer "); kUnauthenticated
  // for an empty or unknown token. Compares in constant time.
  Result<Role> Authenticate(std::string_view bearer) const;

  const std::string& admin_token_path() const { return admin_path_; }
  size_t size() const { return tokens_.size(); }

 private:
  struct Entry {
    std::string token;
    Role role;
  };
  std::vector<Entry> tokens_;
  std::string admin_path_;
};

}  // namespace lifeline

#include "daemon/tokens.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lifeline {

namespace {

bool RoleFromName(std::string_view s, Role* out) {
  if (s == "viewer") {
    *out = Role::kViewer;
  } else if (s == "operator") {
    *out = Role::kOperator;
  } else if (s == "admin") {
    *out = Role::kAdmin;
  } else {
    return false;
  }
  return true;
}

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

Result<std::string> ReadSecretFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return NotFound("tokens: " + path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 0007) != 0) {
    return FailedPrecondition("tokens: " + path +
                              " is readable by others; chmod o-rwx it");
  }
  std::ifstream in(path);
  if (!in) return NotFound("tokens: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Creates the admin token file with a fresh random token (O_EXCL: never
// overwrites one another process just wrote).
Status CreateAdminToken(const std::string& path) {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    return Internal("tokens: no randomness for the admin token");
  }
  static const char* kHex = "0123456789abcdef";
  std::string token;
  for (unsigned char c : raw) {
    token += kHex[c >> 4];
    token += kHex[c & 15];
  }
  token += "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Status::Ok();
    return Unavailable("tokens: create " + path + ": " + std::strerror(errno));
  }
  ssize_t n = ::write(fd, token.data(), token.size());
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (n != static_cast<ssize_t>(token.size()) || !synced) {
    ::unlink(path.c_str());
    return Unavailable("tokens: write " + path + " failed");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<TokenStore>> TokenStore::Open(
    const std::string& state_dir, const std::string& tokens_file) {
  auto store = std::unique_ptr<TokenStore>(new TokenStore());
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    return Unavailable("tokens: create " + state_dir + ": " + ec.message());
  }
  store->admin_path_ = state_dir + "/admin.token";
  LIFELINE_RETURN_IF_ERROR(CreateAdminToken(store->admin_path_));
  auto admin = ReadSecretFile(store->admin_path_);
  if (!admin.ok()) return admin.status();
  std::string token = Trim(*admin);
  if (token.size() < 16) {
    return FailedPrecondition("tokens: " + store->admin_path_ +
                              " holds no token of at least 16 characters");
  }
  store->tokens_.push_back({token, Role::kAdmin});

  if (tokens_file.empty()) return store;
  auto text = ReadSecretFile(tokens_file);
  if (!text.ok()) return text.status();
  std::istringstream lines(*text);
  std::string line;
  for (int no = 1; std::getline(lines, line); ++no) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string role_name, tok, extra;
    words >> role_name >> tok >> extra;
    std::string where = "tokens: " + tokens_file + ":" + std::to_string(no);
    Role role;
    if (!RoleFromName(role_name, &role)) {
      return InvalidArgument(where + ": unknown role \"" + role_name +
                             "\" (viewer, operator or admin)");
    }
    if (tok.size() < 16 || !extra.empty()) {
      return InvalidArgument(where +
                             ": expected \"<role> <token>\" with a token of "
                             "at least 16 characters");
    }
    store->tokens_.push_back({tok, role});
  }
  return store;
}

Result<Role> TokenStore::Authenticate(std::string_view bearer) const {
  // Every entry is compared (no early exit), each in constant time.
  bool found = false;
  Role role = Role::kViewer;
  for (const auto& e : tokens_) {
    if (e.token.size() == bearer.size() && !bearer.empty() &&
        CRYPTO_memcmp(e.token.data(), bearer.data(), bearer.size()) == 0) {
      if (!found || static_cast<int>(e.role) > static_cast<int>(role)) {
        role = e.role;
      }
      found = true;
    }
  }
  if (!found) return Unauthenticated("api: unknown bearer token");
  return role;
}

}  // namespace lifeline

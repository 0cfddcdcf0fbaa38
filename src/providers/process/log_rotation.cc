#include "providers/process/log_rotation.h"

#include <filesystem>
#include <system_error>

namespace lifeline::process {

namespace fs = std::filesystem;

Status RotateLogIfLarge(const std::string& path, const LogRotation& policy,
                        bool* rotated) {
  *rotated = false;
  std::error_code ec;
  uintmax_t size = fs::file_size(path, ec);
  if (ec || size <= policy.max_bytes) return Status::Ok();
  auto fail = [&](const std::string& step) {
    return Internal("process: rotate log " + path + ": " + step + ": " +
                    ec.message());
  };
  if (policy.keep <= 0) {
    fs::resize_file(path, 0, ec);
    if (ec) return fail("truncate");
    *rotated = true;
    return Status::Ok();
  }
  auto numbered = [&](int n) { return path + "." + std::to_string(n); };
  fs::remove(numbered(policy.keep), ec);
  for (int n = policy.keep - 1; n >= 1; --n) {
    if (!fs::exists(numbered(n))) continue;
    fs::rename(numbered(n), numbered(n + 1), ec);
    if (ec) return fail("rename " + numbered(n));
  }
  fs::copy_file(path, numbered(1), fs::copy_options::overwrite_existing, ec);
  if (ec) return fail("copy");
  fs::resize_file(path, 0, ec);
  if (ec) return fail("truncate");
  *rotated = true;
  return Status::Ok();
}

}  // namespace lifeline::process

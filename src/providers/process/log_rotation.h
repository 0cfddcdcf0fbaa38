// Size-based rotation of a log file that running processes append to.
//
// Instances write their stdout/stderr straight into files opened with
// O_APPEND, so they keep logging while the daemon is down. The daemon
// rotates by copy-and-truncate: shift path.(N-1) -> path.N ..., copy path
// to path.1, then truncate path to zero; the writer's next O_APPEND write
// lands at the new end of file. Bytes written between the copy and the
// truncate are lost (a window of one copy), the price of not holding the
// instance's output pipe.
//
// Stateless; not safe to run concurrently on the same file.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace lifeline::process {

struct LogRotation {
  uint64_t max_bytes = 10 << 20;  // rotate once the file is larger
  int keep = 3;                   // rotated files kept: path.1 .. path.keep
};

// Rotates `path` if it is larger than max_bytes. Sets *rotated when it did.
// A missing file is not an error.
Status RotateLogIfLarge(const std::string& path, const LogRotation& policy,
                        bool* rotated);

}  // namespace lifeline::process

// The lifeline CLI: noun-verb commands over the HTTP API (docs/cli.md).
//
//   lifeline groups list|get NAME|apply -f FILE|set-desired NAME N|delete NAME
//   lifeline instances list [--group G --zone Z --health H --role R]
//   lifeline instances get ID | set-health ID --status S [--reason R]
//   lifeline shifts start|list|update ID|cancel ID
//   lifeline autoshift
//   lifeline practice-runs start|list [--group G]|cancel ID
//   lifeline events [--follow] [--instance ID ...]
//   lifeline freeze on|off|status [--group G] [--reason R]
//   lifeline workflows | why ID | preview | status
//
// Global: -o table|json, --endpoint (LIFELINE_ENDPOINT, default
// http://127.0.0.1:9440), --token (LIFELINE_TOKEN, else
// <state-dir>/admin.token with --state-dir / LIFELINE_STATE_DIR, default
// ./state).
//
// Exit codes: 0 ok; 1 the server said no, or it could not be reached; 2 a
// usage error (unknown command or flag, missing argument).
#pragma once

#include <ostream>

namespace lifeline {

int RunCli(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace lifeline

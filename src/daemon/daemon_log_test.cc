#include "daemon/daemon_log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace lifeline {
namespace {

struct Captured {
  std::ostringstream out;
  SimClock clock;
  std::unique_ptr<DaemonLog> log;
  explicit Captured(LogFormat f) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    auto logger = std::make_shared<spdlog::logger>("t", sink);
    logger->set_pattern("%v");
    log = std::make_unique<DaemonLog>(clock, f, logger);
    log->SetLevel("info");
  }
};

HistoryEvent Sample() {
  HistoryEvent e;
  e.seq = 7;
  e.kind = EventKind::kRefusal;
  e.type = "safety.refused";
  e.group = "web";
  e.instance = "i-1";
  e.rule = "budget";
  e.message = "group budget empty";
  e.evidence = {{"tokens", "0.2"}};
  return e;
}

TEST(DaemonLog, JsonLinesCarryEveryField) {
  Captured c(LogFormat::kJson);
  c.log->Event(Sample());
  auto j = nlohmann::json::parse(c.out.str());
  EXPECT_EQ(j["ts"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "group budget empty");
  EXPECT_EQ(j["event"], "safety.refused");
  EXPECT_EQ(j["rule"], "budget");
  EXPECT_EQ(j["evidence.tokens"], "0.2");
  EXPECT_EQ(j["seq"], "7");
}

TEST(DaemonLog, TextLinesQuoteValuesWithSpaces) {
  Captured c(LogFormat::kText);
  c.log->Warn("reload failed", {{"error", "t.yaml:1:2: bad \"x\""}});
  EXPECT_EQ(c.out.str(),
            "2026-01-01T00:00:00.000Z warn  reload failed "
            "error=\"t.yaml:1:2: bad \\\"x\\\"\"\n");
}

TEST(DaemonLog, LevelFiltersObservations) {
  Captured c(LogFormat::kText);
  HistoryEvent e = Sample();
  e.kind = EventKind::kObservation;
  c.log->Event(e);  // debug: below info
  EXPECT_EQ(c.out.str(), "");
  c.log->SetLevel("debug");
  c.log->Event(e);
  EXPECT_NE(c.out.str().find("event=safety.refused"), std::string::npos);
}

}  // namespace
}  // namespace lifeline

#include "controller/workflow.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "controller/memory_journal.h"

namespace lifeline {
namespace {

TEST(Workflow, JsonRoundTripKeepsEveryJournaledField) {
  Workflow w;
  w.id = "wf-000042";
  w.kind = WorkflowKind::kRecovery;
  w.group = "web";
  w.instance = "sim-000003";
  w.zone = "sim-1a";
  w.failure = FailureKind::kSystem;
  w.signals = {"system_check"};
  w.evidence = "system status check impaired";
  w.rung = 1;
  w.action = RecoveryAction::kReplace;
  w.state = WorkflowState::kAwaitingReplacement;
  w.launch_attempt = 2;
  w.replacement = "sim-000009";
  w.replacement_zone = "sim-1b";
  w.tried_zones = {"sim-1a"};
  w.snapshots = {{"snap-1", "vol-1", "/dev/sdf", true}};
  w.approved = true;
  Workflow back;
  ASSERT_TRUE(ParseWorkflowJson(WorkflowToJson(w), &back).ok());
  EXPECT_EQ(back.id, w.id);
  EXPECT_EQ(back.failure, w.failure);
  EXPECT_EQ(back.state, w.state);
  EXPECT_EQ(back.replacement, w.replacement);
  EXPECT_EQ(back.tried_zones, w.tried_zones);
  ASSERT_EQ(back.snapshots.size(), 1u);
  EXPECT_EQ(back.snapshots[0].device, "/dev/sdf");
  EXPECT_EQ(back.LaunchToken(), "wf-000042-2");
}

// The journal text is exactly nlohmann's compact dump of the workflow, in
// the fast (ASCII) path as in the general one: parsing and dumping it again
// gives the same bytes, and every field comes back.
TEST(Workflow, JsonIsNlohmannsCanonicalDumpWhateverTheText) {
  Workflow w;
  w.id = "wf-000007";
  w.kind = WorkflowKind::kLaunch;
  w.group = "we\"b\\";
  w.zone = "sim-1a";
  w.failure = FailureKind::kApplication;
  w.signals = {"heartbeat", "peers"};
  w.rung = -1;
  w.state = WorkflowState::kCleaningUp;
  w.launch_attempt = 12345;
  w.snapshots = {{"snap-1", "vol-1", "/dev/sdf", true},
                 {"snap-2", "vol-2", "/dev/sdg", false}};
  w.dry_run = true;
  for (std::string evidence :
       {std::string(""), std::string("plain"),
        std::string("tabs\tand\nnew\rlines\b\f"),
        std::string("ctrl \x01\x1f del \x7f slash / quote \" back \\"),
        std::string("caf\xc3\xa9 \xe2\x9c\x93")}) {
    w.evidence = evidence;
    w.tried_zones = {evidence, "sim-1b"};
    std::string text = WorkflowToJson(w);
    EXPECT_EQ(nlohmann::json::parse(text).dump(), text) << text;
    Workflow back;
    ASSERT_TRUE(ParseWorkflowJson(text, &back).ok()) << text;
    EXPECT_EQ(back.evidence, evidence);
    EXPECT_EQ(back.tried_zones, w.tried_zones);
    EXPECT_EQ(back.group, w.group);
    EXPECT_EQ(back.kind, w.kind);
    EXPECT_EQ(back.failure, w.failure);
    EXPECT_EQ(back.signals, w.signals);
    EXPECT_EQ(back.rung, w.rung);
    EXPECT_EQ(back.state, w.state);
    EXPECT_EQ(back.launch_attempt, w.launch_attempt);
    EXPECT_EQ(back.dry_run, true);
    EXPECT_EQ(back.approved, false);
    ASSERT_EQ(back.snapshots.size(), 2u);
    EXPECT_EQ(back.snapshots[1].id, "snap-2");
    EXPECT_EQ(back.snapshots[1].volume_id, "vol-2");
    EXPECT_FALSE(back.snapshots[1].complete);
    EXPECT_TRUE(back.snapshots[0].complete);
  }
  Workflow empty;
  std::string text = WorkflowToJson(empty);
  EXPECT_EQ(nlohmann::json::parse(text).dump(), text);
}

TEST(Workflow, BadJournalEntriesNameTheProblem) {
  Workflow w;
  Status s = ParseWorkflowJson("not json", &w);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = ParseWorkflowJson(R"({"id":"wf-1","kind":"recovery","group":"g","state":"dancing"})", &w);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("dancing"), std::string::npos);
  s = ParseWorkflowJson(R"({"id":"wf-1","kind":"recovery"})", &w);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(MemoryJournal, SavesLoadsAndRemoves) {
  MemoryJournal j;
  Workflow w;
  w.id = "wf-1";
  w.group = "web";
  ASSERT_TRUE(j.Save(w).ok());
  auto loaded = j.Load();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  ASSERT_TRUE(j.Remove("wf-1").ok());
  EXPECT_EQ(j.size(), 0u);
  ASSERT_TRUE(j.PutValue("freeze/fleet", "on").ok());
  EXPECT_EQ(*j.GetValue("freeze/fleet"), "on");
  EXPECT_FALSE(j.GetValue("nope").ok());
}

TEST(WorkflowState, EveryStateHasAName) {
  for (int s = 0; s <= static_cast<int>(WorkflowState::kFailed); ++s) {
    WorkflowState st = static_cast<WorkflowState>(s);
    WorkflowState back;
    ASSERT_TRUE(ParseWorkflowState(ToString(st), &back)) << s;
    EXPECT_EQ(back, st);
  }
}

}  // namespace
}  // namespace lifeline

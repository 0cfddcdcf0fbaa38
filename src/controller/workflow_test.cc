#include "controller/workflow.h"

#include <gtest/gtest.h>

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

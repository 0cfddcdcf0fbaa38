#include "daemon/store_journal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "store/memory_store.h"
#include "store/sqlite_store.h"

namespace lifeline {
namespace {

Workflow MakeWorkflow(const std::string& id, WorkflowState state) {
  Workflow w;
  w.id = id;
  w.kind = WorkflowKind::kRecovery;
  w.group = "web";
  w.instance = "i-1";
  w.zone = "z1";
  w.state = state;
  w.launch_attempt = 2;
  w.replacement = "i-2";
  return w;
}

void ExerciseJournal(Journal& j) {
  ASSERT_TRUE(
      j.Save(MakeWorkflow("wf-000002", WorkflowState::kLaunching)).ok());
  ASSERT_TRUE(
      j.Save(MakeWorkflow("wf-000001", WorkflowState::kRebooting)).ok());
  // A later save of the same id replaces the entry.
  ASSERT_TRUE(
      j.Save(MakeWorkflow("wf-000002", WorkflowState::kAwaitingReplacement))
          .ok());
  auto loaded = j.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].id, "wf-000001");
  EXPECT_EQ((*loaded)[1].state, WorkflowState::kAwaitingReplacement);
  EXPECT_EQ((*loaded)[1].LaunchToken(), "wf-000002-2");
  EXPECT_EQ((*loaded)[1].replacement, "i-2");

  ASSERT_TRUE(j.Remove("wf-000001").ok());
  ASSERT_TRUE(j.Remove("wf-absent").ok());  // removing nothing is fine
  loaded = j.Load();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);

  EXPECT_EQ(j.GetValue("freeze/fleet").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(j.PutValue("freeze/fleet", "on").ok());
  ASSERT_TRUE(j.PutValue("freeze/fleet", "off").ok());
  auto v = j.GetValue("freeze/fleet");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "off");
}

TEST(StoreJournal, SavesLoadsRemovesOnMemoryStore) {
  MemoryStore store;
  StoreJournal j(store);
  ExerciseJournal(j);
  // Workflows and values live in their own namespaces.
  auto flags = store.List(Namespace::kFlags);
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(flags->size(), 1u);
}

TEST(StoreJournal, SurvivesAStoreCrashSnapshot) {
  MemoryStore store;
  {
    StoreJournal j(store);
    ASSERT_TRUE(j.Save(MakeWorkflow("wf-7", WorkflowState::kLaunching)).ok());
    ASSERT_TRUE(j.PutValue("freeze/group/web", "on").ok());
  }
  MemoryStore restarted(store.Snapshot());
  StoreJournal j(restarted);
  auto loaded = j.Load();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].state, WorkflowState::kLaunching);
  EXPECT_EQ(*j.GetValue("freeze/group/web"), "on");
}

TEST(StoreJournal, StoreFailuresAreReportedWithTheOperation) {
  MemoryStore store;
  StoreJournal j(store);
  store.FailNext(1, Unavailable("disk busy"));
  Status s = j.Save(MakeWorkflow("wf-9", WorkflowState::kLaunching));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("journal: Save(wf-9)"), std::string::npos);
  auto loaded = j.Load();
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->empty());
}

TEST(StoreJournal, DamagedEntryIsDataLoss) {
  MemoryStore store;
  WriteBatch b;
  b.Put(Namespace::kWorkflows, "wf-bad", "{not json");
  ASSERT_TRUE(store.Commit(b).ok());
  StoreJournal j(store);
  auto loaded = j.Load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find("wf-bad"), std::string::npos);
}

TEST(StoreJournal, SqliteJournalSurvivesReopen) {
  std::string dir = ::testing::TempDir() + "/store_journal_test";
  std::filesystem::remove_all(dir);
  SqliteStore::Options o;
  o.path = dir + "/state.db";
  {
    auto store = SqliteStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    StoreJournal j(**store);
    ExerciseJournal(j);
  }
  auto store = SqliteStore::Open(o);
  ASSERT_TRUE(store.ok());
  StoreJournal j(**store);
  auto loaded = j.Load();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].id, "wf-000002");
  EXPECT_EQ(*j.GetValue("freeze/fleet"), "off");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lifeline

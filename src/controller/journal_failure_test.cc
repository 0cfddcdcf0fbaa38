// A journal that refuses writes (a full disk, a broken store) must hold the
// provider calls whose steps it could not record: a call issued without its
// journal record could be repeated or orphaned by a restarted Lifeline.
#include "controller/fleet_fixture.h"

namespace lifeline {
namespace {

// A MemoryJournal whose writes can be made to fail.
class RefusingJournal final : public Journal {
 public:
  Status Save(const Workflow& w) override {
    if (refuse_saves) return Unavailable("journal: disk full (test)");
    return inner.Save(w);
  }
  Status Remove(const std::string& id) override { return inner.Remove(id); }
  Result<std::vector<Workflow>> Load() override { return inner.Load(); }
  Status PutValue(const std::string& key, const std::string& value) override {
    if (refuse_values) return Unavailable("journal: disk full (test)");
    return inner.PutValue(key, value);
  }
  Result<std::string> GetValue(const std::string& key) override {
    return inner.GetValue(key);
  }

  MemoryJournal inner;
  bool refuse_saves = false;
  bool refuse_values = false;
};

class JournalFailureTest : public FleetTest {
 protected:
  size_t Alerts(const std::string& type) {
    HistoryQuery q;
    q.type_prefix = type;
    return history_.Query(q).size();
  }
  RefusingJournal journal_;
};

TEST_F(JournalFailureTest, ARebootWaitsUntilItsStepIsJournaled) {
  Boot(Web(6), &journal_);
  Run(minutes(3));
  const std::string victim = ActiveIds()[1];
  journal_.refuse_saves = true;
  ASSERT_TRUE(provider_.CrashInstance(victim).ok());
  Run(minutes(3));
  // The decision is made, but nothing is done while it cannot be recorded.
  EXPECT_EQ(provider_.counters(SimOp::kReboot).calls, 0u);
  EXPECT_EQ(Alerts("journal.write_failed"), 1u) << "one alert, not one a retry";
  EXPECT_FALSE(HasEvent("action.started", victim));

  journal_.refuse_saves = false;
  Run(minutes(5));
  EXPECT_EQ(provider_.counters(SimOp::kReboot).succeeded, 1u);
  EXPECT_TRUE(HasEvent("recovery.succeeded", victim));
  ExpectAllHealthy(6);
  EXPECT_EQ(provider_.instances_created(), 6u);
}

TEST_F(JournalFailureTest, NoLaunchBeforeItsWorkflowIdIsReservedDurably) {
  // Launch tokens derive from workflow ids: an id not reserved in the
  // journal could be handed out again after a restart, and a provider would
  // take the second launch for a replay of the first.
  journal_.refuse_values = true;
  Boot(Web(3), &journal_);
  Run(minutes(2));
  EXPECT_EQ(provider_.counters(SimOp::kLaunch).calls, 0u);
  EXPECT_EQ(LiveTotal(), 0);
  EXPECT_GE(Alerts("journal.write_failed"), 1u);

  journal_.refuse_values = false;
  Run(minutes(2));
  EXPECT_EQ(LiveTotal(), 3);
  ExpectAllHealthy(3);
  auto floor = journal_.inner.GetValue("workflow_id_floor");
  ASSERT_TRUE(floor.ok());
  EXPECT_GT(std::stoull(*floor), 3u);
}

TEST_F(JournalFailureTest, AWorkflowResumesFromTheJournalOnceItHealed) {
  // The journal heals, the reboot is issued, and a restarted controller on
  // the same journal finds nothing left to do twice.
  Boot(Web(6), &journal_);
  Run(minutes(3));
  const std::string victim = ActiveIds()[0];
  journal_.refuse_saves = true;
  ASSERT_TRUE(provider_.CrashInstance(victim).ok());
  Run(seconds(30));
  journal_.refuse_saves = false;
  Run(minutes(5));
  heartbeats_.reset();
  controller_.reset();
  Boot(Web(6), &journal_);
  Run(minutes(5));
  EXPECT_EQ(provider_.counters(SimOp::kReboot).succeeded, 1u);
  EXPECT_EQ(provider_.instances_created(), 6u);
  ExpectAllHealthy(6);
  ExpectNoOrphans();
}

}  // namespace
}  // namespace lifeline

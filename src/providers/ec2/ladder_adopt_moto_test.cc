// Adoption and elastic addresses, end to end: the real Controller over
// Ec2Provider against moto_server (fixture: ladder_fixture.h).
#include "providers/ec2/ladder_fixture.h"

namespace lifeline::ec2 {
namespace {

class Ec2AdoptionTest : public Ec2LadderTest {
 protected:
  // Waits until the controller has polled EC2's status `polls` more times
  // after being ready, so that a duplicate launch would have happened.
  void WaitForPolls(int polls) {
    ASSERT_TRUE(Eventually([&] { return Look().ready; }));
    uint64_t start = RequestsSent();
    ASSERT_TRUE(Eventually([&] {
      return RequestsSent() >= start + static_cast<uint64_t>(polls);
    }));
  }
  uint64_t RequestsSent() {
    uint64_t n = 0;
    OnLoop([&] { n = provider_->client().requests_sent(); });
    return n;
  }
  std::string AddressHolder(const std::string& ip) {
    return Aws("describe-addresses --public-ips " + ip +
               " --query Addresses[0].InstanceId");
  }
  // An address left by a lost instance is attached once its successor is
  // ready, which can be just after the group looks settled: wait for it.
  void ExpectHeldBy(const std::string& ip, const std::string& id) {
    std::string holder;
    EXPECT_TRUE(Eventually(
        [&] {
          holder = AddressHolder(ip);
          return holder == id;
        },
        seconds(30)))
        << ip << " is held by '" << holder << "', not by " << id;
  }
  // Allocates an elastic address and associates it with `id`.
  std::string AssociateNewAddress(const std::string& id) {
    const std::string ip =
        Aws("allocate-address --domain vpc --query PublicIp");
    Aws("associate-address --instance-id " + id + " --public-ip " + ip);
    EXPECT_EQ(AddressHolder(ip), id);
    return ip;
  }
  // Waits until `victim` is gone and the group is whole again; returns the
  // one instance not in `before` ("" if that did not happen).
  std::string WaitForReplacementOf(const std::string& victim,
                                   const std::vector<std::string>& before) {
    if (!Eventually(
            [&] { return Settled(3) && !LiveRunningIds().count(victim); })) {
      ADD_FAILURE() << victim << " was not replaced";
      return "";
    }
    std::string rep;
    for (const std::string& id : Look().healthy_active) {
      if (std::find(before.begin(), before.end(), id) == before.end()) {
        rep = id;
      }
    }
    return rep;
  }
  std::vector<std::string> AddressesOf(const std::string& id) {
    std::vector<std::string> out;
    OnLoop([&] {
      if (const InstanceRecord* r = controller_->instance(id)) {
        out = r->info.addresses;
      }
    });
    return out;
  }
};

TEST_F(Ec2AdoptionTest, AdoptsAnExistingGroupByTagAndLaunchesNoDuplicates) {
  // Two instances of the group exist already (launched by an earlier
  // Lifeline, or by the operators' scripts), plus instances that are not
  // the group's.
  const std::string tagged =
      Aws("run-instances --image-id " + image_ +
          " --count 2 --instance-type t3.micro --subnet-id " + subnet_a_ +
          " --security-group-ids " + sg_ +
          " --tag-specifications "
          "'ResourceType=instance,Tags=[{Key=lifeline:group,Value=web}]' "
          "--query Instances[].InstanceId");
  Aws("run-instances --image-id " + image_ +
      " --count 1 --tag-specifications "
      "'ResourceType=instance,Tags=[{Key=lifeline:group,Value=other}]'");
  Aws("run-instances --image-id " + image_ + " --count 1");  // untagged

  Boot(WebSpec());
  std::vector<std::string> first = WaitSettled(3);
  ASSERT_EQ(first.size(), 3u);
  for (const std::string& id : {tagged.substr(0, tagged.find('\t')),
                                tagged.substr(tagged.find('\t') + 1)}) {
    EXPECT_NE(std::find(first.begin(), first.end(), id), first.end())
        << id << " was not adopted";
  }
  EXPECT_EQ(Look().stats.launches, 1u);  // only the missing one

  // A fresh controller (a restart with no journal) takes the group over:
  // it finds all three by tag and launches nothing.
  Boot(WebSpec());
  WaitForPolls(8);
  EXPECT_EQ(WaitSettled(3), first);
  EXPECT_EQ(Look().stats.launches, 0u);
  EXPECT_EQ(LiveRunningIds(),
            std::set<std::string>(first.begin(), first.end()));
  // The other group's and the untagged instances were left alone.
  EXPECT_EQ(Aws("describe-instances --filters "
                "Name=instance-state-name,Values=running "
                "--query 'length(Reservations[].Instances[])'"),
            "5");
}

TEST_F(Ec2AdoptionTest, ElasticAddressMovesToTheReplacement) {
  Boot(ReplaceFirstSpec());
  std::vector<std::string> before = WaitSettled(3);
  ASSERT_EQ(before.size(), 3u);
  const std::string victim = before.front();
  const std::string ip = AssociateNewAddress(victim);

  // The controller learns which instance holds which elastic address from
  // the provider when it adopts the group (InstanceStatus carries none), so
  // a restarted Lifeline takes over the fleet with its addresses. It keeps
  // its journal, as lifelined keeps its state dir: workflow ids, and so
  // launch tokens, continue where they were (see the disabled test below
  // for a restart without it).
  Boot(ReplaceFirstSpec(), journal_.get());
  WaitForPolls(4);
  ASSERT_EQ(WaitSettled(3), before);
  EXPECT_EQ(Look().stats.launches, 0u);
  EXPECT_EQ(AddressesOf(victim), std::vector<std::string>{ip});
  for (const std::string& id : before) {
    if (id != victim) {
      EXPECT_TRUE(AddressesOf(id).empty()) << id;
    }
  }
  WaitPastColdStart();

  // Stopped behind Lifeline's back: the ladder replaces it, and the address
  // follows once the replacement is healthy, before the old one goes.
  Aws("stop-instances --instance-ids " + victim);
  const std::string rep = WaitForReplacementOf(victim, before);
  ASSERT_FALSE(rep.empty());
  EXPECT_EQ(AddressHolder(ip), rep);
  EXPECT_EQ(AddressesOf(rep), std::vector<std::string>{ip});
  EXPECT_EQ(Describe(victim, "State.Name"), "terminated");
  EXPECT_TRUE(HasEvent("recovery.succeeded", victim));
  EXPECT_FALSE(HasEvent("move.failed"));
}

// Launch tokens are "<workflow id>-<attempt>", and EC2's ClientToken is
// idempotent per account and region: a fresh journal (a lost state dir, a
// second controller) must not number its workflows like the earlier one,
// or its first launch "returns" an instance the group already runs.
TEST_F(Ec2AdoptionTest, FreshControllersReplacementIsANewInstance) {
  Boot(ReplaceFirstSpec());
  std::vector<std::string> before = WaitSettled(3);
  ASSERT_EQ(before.size(), 3u);
  Boot(ReplaceFirstSpec());  // a fresh journal
  ASSERT_EQ(WaitSettled(3), before);
  WaitPastColdStart();

  const std::string victim = before.front();
  Aws("stop-instances --instance-ids " + victim);
  ASSERT_TRUE(Eventually([&] { return HasEvent("replacement.ready"); }));
  std::string rep;
  OnLoop([&] {
    for (const HistoryEvent& e : history_.Query({})) {
      if (e.type == "replacement.ready") rep = e.instance;
    }
  });
  EXPECT_TRUE(std::find(before.begin(), before.end(), rep) == before.end())
      << "the replacement " << rep << " is one of the group's own instances";
}

// The elastic address of an instance terminated behind Lifeline's back
// (known from adoption) moves to the instance that restores the capacity.
TEST_F(Ec2AdoptionTest, LostInstancesAddressMovesToTheNewInstance) {
  Boot(WebSpec());
  std::vector<std::string> before = WaitSettled(3);
  ASSERT_EQ(before.size(), 3u);
  const std::string victim = before.front();
  const std::string ip = AssociateNewAddress(victim);
  Boot(WebSpec(), journal_.get());  // adopts, learning the address
  ASSERT_EQ(WaitSettled(3), before);
  ASSERT_EQ(AddressesOf(victim), std::vector<std::string>{ip});
  WaitPastColdStart();

  Aws("terminate-instances --instance-ids " + victim);
  const std::string rep = WaitForReplacementOf(victim, before);
  ASSERT_FALSE(rep.empty());
  ExpectHeldBy(ip, rep);
}

// An elastic address associated after launch is learned by the inventory
// refresh and moves with the instance's replacement.
TEST_F(Ec2AdoptionTest,
       AddressAssociatedAfterLaunchMovesToReplacement) {
  Boot(ReplaceFirstSpec());
  std::vector<std::string> before = WaitSettled(3);
  ASSERT_EQ(before.size(), 3u);
  WaitPastColdStart();
  const std::string victim = before.front();
  const std::string ip = AssociateNewAddress(victim);

  Aws("stop-instances --instance-ids " + victim);
  const std::string rep = WaitForReplacementOf(victim, before);
  ASSERT_FALSE(rep.empty());
  ExpectHeldBy(ip, rep);
}

// GroupSpec::addresses (config key groups[].addresses): an address the group
// owns is attached to one of its instances.
TEST_F(Ec2AdoptionTest, GroupOwnedAddressIsKeptAttached) {
  const std::string ip = Aws("allocate-address --domain vpc --query PublicIp");
  GroupSpec spec = WebSpec();
  spec.addresses = {ip};
  Boot(spec);
  std::vector<std::string> before = WaitSettled(3);
  ASSERT_EQ(before.size(), 3u);
  EXPECT_TRUE(Eventually(
      [&] {
        std::string holder = AddressHolder(ip);
        return std::find(before.begin(), before.end(), holder) != before.end();
      },
      seconds(30)))
      << "the group's address was never attached to one of its instances";
}

}  // namespace
}  // namespace lifeline::ec2

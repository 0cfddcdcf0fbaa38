// Fuzzes the heartbeat datagram parser and the whole receive path behind
// it (key lookup, MAC, skew window, detector). Arbitrary bytes must never
// crash, and must never be accepted: the key is secret to the fuzzer, so
// any "authenticated" input means the MAC check is broken.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "core/clock.h"
#include "heartbeat/datagram_processor.h"
#include "heartbeat/wire.h"

namespace hb = lifeline::heartbeat;

namespace {

struct World {
  World()
      : detector(hb::DetectorConfig{}, 2, clock.Now()),
        processor(detector, keys, std::chrono::seconds(30), counters) {
    auto ring = hb::KeyRing::Create(
        {{1, "web", std::string(32, 'k')}, {2, "db", std::string(32, 'd')}});
    keys.Set(*ring);
    (void)detector.Track("i-0abc123", "web", clock.Now());
    (void)detector.Track("web-a-17", "db", clock.Now());
  }
  lifeline::SimClock clock;
  hb::KeyStore keys;
  hb::ShardedDetector detector;
  hb::ReceiverCounters counters;
  hb::DatagramProcessor processor;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();  // one world for the whole run
  std::span<const uint8_t> bytes(data, size);

  hb::ParsedDatagram parsed;
  hb::DropReason r = hb::ParseDatagram(bytes, &parsed);
  if (r == hb::DropReason::kNone) {
    // A parse that succeeds must describe bytes inside the input.
    if (parsed.header.entry_count == 0 ||
        parsed.header.entry_count > hb::kMaxEntries ||
        parsed.signed_bytes.size() + hb::kTagBytes != size) {
      std::abort();
    }
    for (size_t i = 0; i < parsed.header.entry_count; ++i) {
      const auto& id = parsed.entries[i].instance_id;
      if (!hb::ValidInstanceId(id) ||
          reinterpret_cast<const uint8_t*>(id.data()) < data ||
          reinterpret_cast<const uint8_t*>(id.data()) + id.size() >
              data + size) {
        std::abort();
      }
    }
  }

  world->clock.Advance(std::chrono::milliseconds(1));
  hb::DropReason verdict = world->processor.Process(bytes, world->clock.Now(),
                                                    world->clock.WallNow());
  if (verdict == hb::DropReason::kNone) std::abort();  // forged and accepted
  hb::DetectorOutput out;
  world->detector.AdvanceTo(world->clock.Now(), &out);
  return 0;
}

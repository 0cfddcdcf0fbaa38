// Fuzzes the API's request decoding (src/api/decode.h): every decoder must
// return a value or a Status for any input — never crash, hang or throw —
// and an accepted group spec must survive a round trip through its JSON
// form. The first byte picks the decoder; the rest is the body, or for the
// query decoders "k=v&k=v" parameters.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/decode.h"
#include "api/problem.h"

namespace {

lifeline::QueryParams Params(const std::string& s) {
  lifeline::QueryParams out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t amp = s.find('&', pos);
    if (amp == std::string::npos) amp = s.size();
    std::string kv = s.substr(pos, amp - pos);
    size_t eq = kv.find('=');
    out.emplace(kv.substr(0, eq),
                eq == std::string::npos ? "" : kv.substr(eq + 1));
    pos = amp + 1;
  }
  return out;
}

void Touch(const lifeline::Status& st) {
  // Problem documents are built from these messages: they must serialise.
  if (!st.ok()) (void)lifeline::DumpJson(lifeline::ProblemJson(st));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t which = data[0] % 8;
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (which) {
    case 0: {
      auto g = lifeline::DecodeGroupSpec(body, "web");
      Touch(g.status());
      if (g.ok()) {
        auto again = lifeline::DecodeGroupSpec(
            lifeline::EncodeGroupSpec(*g).dump(), "web");
        if (!again.ok() || !(*again == *g)) std::abort();
      }
      break;
    }
    case 1:
      Touch(lifeline::DecodeDesiredCapacity(body).status());
      break;
    case 2:
      Touch(lifeline::DecodeInstanceHealth(body).status());
      break;
    case 3:
      Touch(lifeline::DecodeFreeze(body).status());
      break;
    case 4:
      Touch(lifeline::DecodeShiftStart(body).status());
      break;
    case 5:
      Touch(lifeline::DecodeShiftUpdate(body).status());
      break;
    case 6:
      Touch(lifeline::DecodeEventsQuery(Params(body)).status());
      break;
    case 7:
      Touch(lifeline::DecodeInstanceFilter(Params(body)).status());
      break;
  }
  return 0;
}

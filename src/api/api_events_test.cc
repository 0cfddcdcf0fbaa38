// Paging through the history over the API: GET /v1/events?after= walks
// forward without gaps, and an event stream resumed far behind the feed
// receives every event it missed, in order.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/api_server.h"
#include "api/api_test_util.h"
#include "api/fake_backend.h"

namespace lifeline {
namespace {

constexpr const char* kViewer = "viewer-token";

// Reads an event stream on its own thread and collects the frames' ids.
class StreamIds {
 public:
  StreamIds(int port, std::string path, std::string last_event_id)
      : thread_([this, port, path, last_event_id] {
          httplib::Client c("127.0.0.1", port);
          c.set_read_timeout(std::chrono::seconds(10));
          httplib::Headers h{{"Authorization", "Bearer viewer-token"},
                             {"Last-Event-ID", last_event_id}};
          c.Get(path.c_str(), h, [&](const char* data, size_t n) {
            std::lock_guard<std::mutex> lock(mu_);
            text_.append(data, n);
            return !stop_;
          });
        }) {}
  ~StreamIds() {
    stop_ = true;
    thread_.join();
  }
  // The ids of the complete frames received so far, in order.
  std::vector<uint64_t> ids() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<uint64_t> out;
    // Each frame starts "id: <seq>\n" at the start of a line.
    for (size_t at = 0; (at = text_.find("id: ", at)) != std::string::npos;
         at += 4) {
      if (at > 0 && text_[at - 1] != '\n') continue;
      const size_t eol = text_.find('\n', at);
      if (eol == std::string::npos) break;  // not complete yet
      out.push_back(std::stoull(text_.substr(at + 4, eol - at - 4)));
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::string text_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class ApiEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiServerOptions o;
    o.port = 0;
    o.stream_keepalive = std::chrono::milliseconds(100);
    // A small feed, so that a resumed stream must catch up from the
    // history over several pages.
    o.stream_buffer = 64;
    server_ = std::make_unique<ApiServer>(backend_, o);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override { server_->Stop(); }

  HttpReply Get(const std::string& path) {
    return Call(server_->port(), "GET", path, kViewer);
  }

  // Appends `n` events of type "test.paging", each followed by one of type
  // "test.other", in one loop task; returns the seqs of the "test.paging"
  // ones.
  std::vector<uint64_t> AppendPaging(int n) {
    std::vector<uint64_t> seqs;
    Status st = backend_.RunOnLoop([&] {
      for (int i = 0; i < n; ++i) {
        HistoryEvent e;
        e.kind = EventKind::kAudit;
        e.type = "test.paging";
        e.message = "event " + std::to_string(i);
        seqs.push_back(backend_.history().Append(e));
        e.type = "test.other";
        backend_.history().Append(e);
      }
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return seqs;
  }

  // The newest seq in the history now.
  uint64_t LatestSeq() {
    auto r = Get("/v1/events?limit=1");
    return r.json["last_seq"].get<uint64_t>();
  }

  FakeBackend backend_;
  std::unique_ptr<ApiServer> server_;
};

std::vector<uint64_t> SeqsOf(const HttpReply& r) {
  std::vector<uint64_t> out;
  for (const auto& e : r.json["events"]) out.push_back(e["seq"]);
  return out;
}

TEST_F(ApiEventsTest, PagingWithAfterVisitsEveryEventOnce) {
  std::vector<uint64_t> appended = AppendPaging(2500);
  ASSERT_EQ(appended.size(), 2500u);
  std::vector<uint64_t> walked;
  uint64_t after = 0;
  for (int page = 0; page < 10; ++page) {
    auto r = Get("/v1/events?type=test.paging&limit=1000&after=" +
                 std::to_string(after));
    ASSERT_EQ(r.status, 200) << r.body;
    std::vector<uint64_t> seqs = SeqsOf(r);
    walked.insert(walked.end(), seqs.begin(), seqs.end());
    const uint64_t last = r.json["last_seq"];
    EXPECT_EQ(last, seqs.empty() ? after : seqs.back());
    if (seqs.size() < 1000) break;
    after = last;
  }
  EXPECT_EQ(walked, appended);

  // The first page after a point is the oldest events after it.
  auto first = Get("/v1/events?type=test.paging&limit=3&after=" +
                   std::to_string(appended[9]));
  EXPECT_EQ(SeqsOf(first),
            (std::vector<uint64_t>{appended[10], appended[11], appended[12]}));
  // Past the end: nothing, and last_seq stays at `after`.
  const uint64_t end = appended.back() + 1;  // its "test.other" twin
  auto none = Get("/v1/events?type=test.paging&after=" + std::to_string(end));
  EXPECT_TRUE(none.json["events"].empty()) << none.body;
  EXPECT_EQ(none.json["last_seq"], end);
}

TEST_F(ApiEventsTest, WithoutAfterTheNewestAreReturned) {
  std::vector<uint64_t> appended = AppendPaging(50);
  auto r = Get("/v1/events?type=test.paging&limit=3");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(SeqsOf(r),
            (std::vector<uint64_t>{appended[47], appended[48], appended[49]}));
  EXPECT_EQ(r.json["last_seq"], appended[49]);
}

TEST_F(ApiEventsTest, FilteredStreamResumedFarBehindGetsEveryEventInOrder) {
  const uint64_t resume = LatestSeq();
  std::vector<uint64_t> appended = AppendPaging(2500);
  StreamIds stream(server_->port(), "/v1/events/stream?type=test.paging",
                   std::to_string(resume));
  ASSERT_TRUE(WaitUntil([&] { return stream.ids().size() >= 2500; }))
      << stream.ids().size() << " of 2500 events arrived";
  // Then new events come from the feed.
  std::vector<uint64_t> more = AppendPaging(3);
  appended.insert(appended.end(), more.begin(), more.end());
  ASSERT_TRUE(WaitUntil([&] { return stream.ids().size() >= 2503; }));
  EXPECT_EQ(stream.ids(), appended);
}

TEST_F(ApiEventsTest, StreamResumedFarBehindSkipsNoSeq) {
  std::vector<uint64_t> appended = AppendPaging(1500);  // 3000 events
  const uint64_t resume = appended.front();
  const uint64_t newest = LatestSeq();
  StreamIds stream(server_->port(), "/v1/events/stream",
                   std::to_string(resume));
  ASSERT_TRUE(WaitUntil([&] {
    auto ids = stream.ids();
    return !ids.empty() && ids.back() >= newest;
  })) << stream.ids().size()
      << " events arrived";
  // Every seq after the resume point, once and in order (the controller may
  // append events of its own meanwhile: they are in the history too).
  std::vector<uint64_t> ids = stream.ids();
  ASSERT_FALSE(ids.empty());
  std::vector<uint64_t> expected;
  for (uint64_t seq = resume + 1; seq <= ids.back(); ++seq) {
    expected.push_back(seq);
  }
  EXPECT_EQ(ids, expected);
}

}  // namespace
}  // namespace lifeline

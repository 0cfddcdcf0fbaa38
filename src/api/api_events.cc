// GET /v1/events (a query of the History) and GET /v1/events/stream
// (server-sent events, resumable with Last-Event-ID).
#include "api/decode.h"
#include "api/handlers.h"
#include "api/problem.h"
#include "api/views.h"

namespace lifeline {

using nlohmann::json;

void ApiHandlers::ListEvents(const Req& req, Res& res, const Ctx&) {
  auto q = DecodeEventsQuery(req.params);
  if (!q.ok()) return WriteProblem(res, q.status());
  // With `after` the client is paging forward: give it the next `limit`
  // events, so that asking again with after=<last_seq> leaves no gap.
  // Without it, the newest `limit`.
  q->oldest_first = req.has_param("after");
  // Paging forward, an incomplete answer (the store cannot be read now) is
  // a 503, never a page that skips events; the newest events are answered
  // from memory at worst.
  auto events = OnLoop(backend_, [&] {
    return q->oldest_first ? backend_.history().TryQuery(*q)
                           : Result<std::vector<HistoryEvent>>(
                                 backend_.history().Query(*q));
  });
  if (!events.ok()) return WriteProblem(res, events.status());
  if (!events->ok()) return WriteProblem(res, events->status());
  json list = json::array();
  uint64_t last = q->after_seq;  // the last event returned, else `after`
  for (const auto& e : **events) {
    list.push_back(EventView(e));
    last = std::max(last, e.seq);
  }
  WriteJson(res, 200, {{"events", list}, {"last_seq", last}});
}

namespace {

std::string SseFrame(const HistoryEvent& e) {
  return "id: " + std::to_string(e.seq) + "\ndata: " + DumpJson(EventView(e)) +
         "\n\n";
}

bool ParseSeq(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

// Per-connection state of one event stream.
struct StreamState {
  HistoryQuery filter;
  uint64_t last = 0;  // newest seq considered (sent or filtered out)
};

}  // namespace

void ApiHandlers::StreamEvents(const Req& req, Res& res, const Ctx&) {
  auto q = DecodeEventsQuery(req.params);
  if (!q.ok()) return WriteProblem(res, q.status());
  auto state = std::make_shared<StreamState>();
  state->filter = *q;
  // Resume point: Last-Event-ID (a reconnecting EventSource), else the
  // "after" parameter, else from now on.
  std::string last_id = req.get_header_value("Last-Event-ID");
  if (!last_id.empty()) {
    if (!ParseSeq(last_id, &state->last)) {
      return WriteProblem(res, 400,
                          "header Last-Event-ID: \"" + last_id +
                              "\" is not an event seq (a non-negative "
                              "integer)");
    }
  } else if (req.has_param("after")) {
    state->last = q->after_seq;
  } else {
    state->last = feed_->latest();
  }
  state->filter.after_seq = 0;  // Matches() must not hide newer events
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  std::shared_ptr<EventFeed> feed = feed_;
  ApiBackend* backend = &backend_;
  Duration keepalive = stream_keepalive_;
  res.set_chunked_content_provider(
      "text/event-stream",
      [state, feed, backend, keepalive](size_t, httplib::DataSink& sink) {
        EventFeed::Batch b = feed->WaitAfter(state->last, keepalive, 1000);
        if (b.closed) {
          sink.done();
          return true;
        }
        std::string out;
        if (b.gap) {
          // Fell behind the feed: catch up from the history itself, one
          // page forward at a time. Events after the floor come from the
          // feed once the stream has caught up to it.
          HistoryQuery q = state->filter;
          q.after_seq = state->last;
          q.limit = 1000;
          q.oldest_first = true;
          uint64_t floor = feed->floor();
          std::vector<HistoryEvent> events;
          lifeline::Status read = lifeline::Status::Ok();
          lifeline::Status st = backend->RunOnLoop([&] {
            auto r = backend->history().TryQuery(q);
            if (r.ok()) {
              events = std::move(r).value();
            } else {
              read = r.status();
            }
          });
          // The history cannot say what came next (its store is down):
          // end the stream rather than skip; the client resumes with
          // Last-Event-ID.
          if (!st.ok() || !read.ok()) return false;
          // A short page holds every match up to the floor; so does one
          // that reaches past it. A full page may not: continue after its
          // last event on the next call (the feed reports the gap again).
          bool reached_floor = events.size() < q.limit;
          uint64_t sent = state->last;
          for (const auto& e : events) {
            if (e.seq > floor) {
              reached_floor = true;
              break;
            }
            out += SseFrame(e);
            sent = e.seq;
          }
          state->last = reached_floor ? std::max(state->last, floor) : sent;
        } else {
          for (const auto& e : b.events) {
            if (Matches(state->filter, e)) out += SseFrame(e);
            state->last = e.seq;
          }
        }
        if (out.empty() && b.events.empty() && !b.gap) out = ": keepalive\n\n";
        if (out.empty()) return true;
        return sink.write(out.data(), out.size());
      });
}

}  // namespace lifeline

#include "api/fake_backend.h"

#include <condition_variable>
#include <mutex>

namespace lifeline {

namespace {

SimConfig FastSim() {
  SimConfig c = DefaultSimConfig();
  for (auto& l : c.latency) {
    l.base = std::chrono::milliseconds(2);
    l.jitter = std::chrono::milliseconds(2);
  }
  c.latency_of(SimOp::kBoot) =
      SimLatency{std::chrono::milliseconds(20), std::chrono::milliseconds(10)};
  return c;
}

ControllerConfig FastController() {
  ControllerConfig c;
  c.status_poll_interval = std::chrono::milliseconds(200);
  c.reconcile_interval = std::chrono::milliseconds(500);
  c.heartbeat_settle = std::chrono::milliseconds(50);
  c.recovery_stable = std::chrono::milliseconds(100);
  c.safety.cold_start_grace = std::chrono::milliseconds(0);
  return c;
}

}  // namespace

FakeBackend::FakeBackend() : loop_(clock_) {
  provider_ = std::make_unique<SimProvider>(loop_, 7, FastSim());
  controller_ = std::make_unique<Controller>(loop_, *provider_, history_,
                                             FastController());
  shifts_ = std::make_unique<ZonalShiftManager>(*controller_);
  autoshift_ = std::make_unique<AutoshiftDetector>(*controller_, *shifts_);
  practice_ = std::make_unique<PracticeRunner>(*controller_, *shifts_);
  tokens_ = {{"admin-token", Role::kAdmin},
             {"operator-token", Role::kOperator},
             {"viewer-token", Role::kViewer}};
  controller_->Start();
  thread_ = std::thread([this] { loop_.Run(); });
}

FakeBackend::~FakeBackend() {
  loop_.Stop();
  thread_.join();
  practice_.reset();
  autoshift_.reset();
  shifts_.reset();
  controller_.reset();
  provider_.reset();
}

Status FakeBackend::RunOnLoop(std::function<void()> f) {
  // Shared with the posted task so that a timed-out call can make sure f
  // never runs after the caller's stack is gone.
  struct Call {
    std::mutex mu;
    std::condition_variable cv;
    bool started = false, done = false, abandoned = false;
  };
  auto call = std::make_shared<Call>();
  loop_.Post([call, f = std::move(f)] {
    {
      std::lock_guard<std::mutex> lock(call->mu);
      if (call->abandoned) return;
      call->started = true;
    }
    f();
    {
      std::lock_guard<std::mutex> lock(call->mu);
      call->done = true;
    }
    call->cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(call->mu);
  if (call->cv.wait_for(lock, loop_timeout_, [&] { return call->done; })) {
    return Status::Ok();
  }
  if (!call->started) {
    call->abandoned = true;
    return DeadlineExceeded("the controller loop did not answer within " +
                            FormatDuration(loop_timeout_));
  }
  call->cv.wait(lock, [&] { return call->done; });
  return Status::Ok();
}

std::string FakeBackend::MetricsText() {
  return "# TYPE lifeline_fake_backend_up gauge\nlifeline_fake_backend_up 1\n";
}

bool FakeBackend::Ready() {
  bool ready = false;
  Status st = RunOnLoop([&] { ready = controller_->ready(); });
  return st.ok() && ready;
}

Result<Role> FakeBackend::Authenticate(const std::string& bearer) {
  auto it = tokens_.find(bearer);
  if (it == tokens_.end()) return Unauthenticated("unknown token");
  return it->second;
}

GroupSpec FakeBackend::Web(int desired) {
  GroupSpec g;
  g.name = "web";
  g.desired = desired;
  g.min = 0;
  g.max = 30;
  g.zones = {"sim-1a", "sim-1b", "sim-1c"};
  g.launch.image = "img-1";
  g.launch.instance_type = "m5.large";
  g.grace_period = std::chrono::seconds(60);
  return g;
}

}  // namespace lifeline

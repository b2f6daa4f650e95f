#include "td/internal.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

namespace td {
namespace {
std::mutex mutex;
std::condition_variable condition;
std::map<int, std::deque<std::string>> queues;
std::atomic<int> actor_count{0};
}  // namespace

int actor_spawn(const std::string &name) {
  return name.empty() ? 0 : ++actor_count;
}

void actor_post(int queue, std::string event) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    queues[queue].push_back(std::move(event));
  }
  condition.notify_all();
}

bool actor_wait(int queue, double timeout, std::string &event) {
  // Clamped, so that huge or NaN timeouts keep the deadline arithmetic finite.
  double deadline = time_now() + (timeout > 0 ? std::min(timeout, 1e7) : 0.0);
  std::unique_lock<std::mutex> lock(mutex);
  while (true) {
    auto &events = queues[queue];
    if (!events.empty()) {
      event = std::move(events.front());
      events.pop_front();
      return true;
    }
    double left = deadline - time_now();
    if (left <= 0) {
      return false;
    }
    condition.wait_for(lock, std::chrono::duration<double>(left));
  }
}

void actor_drop(int queue) {
  std::lock_guard<std::mutex> lock(mutex);
  queues.erase(queue);
}

}  // namespace td

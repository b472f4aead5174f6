#pragma once
// Content-MD5 for many threads at once: each thread hands in a whole message (an upload part),
// or the next whole blocks of one it reads piece by piece, and waits; meanwhile the messages of
// all waiting threads are hashed side by side in the lanes of md5_lanes.hpp. No thread of its own: whichever caller finds nobody
// hashing takes the lead, hashes every lane until its own message is done, then hands the lead
// to a waiting caller. A message that arrives mid-way joins a free lane at the next round.
#include <array>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>

#include "aws/md5_lanes.hpp"

namespace m2r::aws {

class Md5Batcher {
 public:
  explicit Md5Batcher(Md5Kernel kernel = best_md5_kernel());

  // The raw 16-byte MD5 of `message`. Thread-safe; blocks until the digest is ready.
  std::string digest(std::string_view message);

  // Feeds `blocks` (a multiple of 64 bytes) into a message's running state; md5_lane_finish
  // then pads the rest. Thread-safe; blocks until the blocks are in.
  void update(Md5LaneState& state, std::string_view blocks);

 private:
  struct Job {
    std::string_view blocks;
    std::size_t offset = 0;  // bytes already fed
    Md5LaneState state;
    bool done = false;
  };

  void lead(std::unique_lock<std::mutex>& lock, const Job& own);
  void admit_waiting();
  bool retire_finished_lanes();

  Md5Kernel m_kernel;
  std::mutex m_mutex;
  std::condition_variable m_done;
  std::deque<Job*> m_waiting;                     // handed in, not yet in a lane
  std::array<Job*, k_md5_lanes> m_lanes{};        // touched by the leader only
  bool m_leading = false;
};

}  // namespace m2r::aws

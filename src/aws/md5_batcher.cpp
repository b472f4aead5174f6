#include "aws/md5_batcher.hpp"

#include <algorithm>

namespace m2r::aws {
namespace {
// Blocks per lane per round: 64 KiB, long enough that the lock is taken a few thousand times
// per GiB, short enough that a message arriving mid-way waits well under a millisecond.
constexpr std::size_t k_round_blocks = 1024;
}  // namespace

Md5Batcher::Md5Batcher(Md5Kernel kernel) : m_kernel(kernel) {}

std::string Md5Batcher::digest(std::string_view message) {
  Md5LaneState state;
  const std::size_t whole = message.size() / k_md5_block * k_md5_block;
  update(state, message.substr(0, whole));
  return md5_lane_finish(state, message.substr(whole));
}

void Md5Batcher::update(Md5LaneState& state, std::string_view blocks) {
  if (blocks.empty()) return;
  Job job{blocks.substr(0, blocks.size() / k_md5_block * k_md5_block), 0, state};
  std::unique_lock lock(m_mutex);
  m_waiting.push_back(&job);
  for (;;) {
    if (job.done) {
      state = job.state;
      return;
    }
    if (!m_leading) {
      m_leading = true;
      lead(lock, job);
      m_leading = false;
      m_done.notify_all();  // the next waiting caller takes the lead
      continue;
    }
    m_done.wait(lock);
  }
}

void Md5Batcher::admit_waiting() {
  for (auto& lane : m_lanes) {
    if (lane || m_waiting.empty()) continue;
    lane = m_waiting.front();
    m_waiting.pop_front();
  }
}

// Lanes whose blocks are all in are handed back; returns whether any was.
bool Md5Batcher::retire_finished_lanes() {
  bool finished = false;
  for (auto& lane : m_lanes) {
    if (!lane || lane->offset < lane->blocks.size()) continue;
    lane->done = true;
    lane = nullptr;
    finished = true;
  }
  return finished;
}

void Md5Batcher::lead(std::unique_lock<std::mutex>& lock, const Job& own) {
  while (!own.done) {
    admit_waiting();
    if (retire_finished_lanes()) {
      m_done.notify_all();
      continue;
    }
    // Every active lane has at least one block left: feed them all the same number.
    std::size_t blocks = k_round_blocks;
    const unsigned char* any = nullptr;
    for (Job* job : m_lanes) {
      if (!job) continue;
      blocks = std::min(blocks, (job->blocks.size() - job->offset) / k_md5_block);
      any = reinterpret_cast<const unsigned char*>(job->blocks.data() + job->offset);
    }
    std::array<Md5LaneState, k_md5_lanes> states{};
    std::array<const unsigned char*, k_md5_lanes> data{};
    for (std::size_t i = 0; i < k_md5_lanes; ++i) {
      Job* job = m_lanes[i];
      // An idle lane hashes a copy of a busy one's bytes; its state is thrown away.
      data[i] = job ? reinterpret_cast<const unsigned char*>(job->blocks.data() + job->offset) : any;
      if (job) states[i] = job->state;
    }
    const auto lanes = m_lanes;
    lock.unlock();  // callers may hand in messages meanwhile; the lanes are the leader's alone
    md5_lanes_update(m_kernel, states, data, blocks);
    lock.lock();
    for (std::size_t i = 0; i < k_md5_lanes; ++i) {
      if (!lanes[i]) continue;
      lanes[i]->state = states[i];
      lanes[i]->offset += blocks * k_md5_block;
    }
  }
}

}  // namespace m2r::aws

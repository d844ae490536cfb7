#pragma once
// Time as a program under test sees it: the real monotonic clock, or the fake kernel's virtual one.
#include <chrono>

namespace muxlab {

using Duration = std::chrono::nanoseconds;
// Time since the clock's own origin (its creation for a virtual clock).
using Time = std::chrono::nanoseconds;

// A wait that blocks until something is ready.
inline constexpr Duration infinite = Duration::max();

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Time now() const = 0;
};

// std::chrono::steady_clock, measured from the moment this object was made.
class SteadyClock final : public Clock {
 public:
  SteadyClock() : origin_(std::chrono::steady_clock::now()) {}
  Time now() const override { return std::chrono::steady_clock::now() - origin_; }

 private:
  std::chrono::steady_clock::time_point origin_;
};

}  // namespace muxlab

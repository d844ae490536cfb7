#pragma once
// The fake kernel's only source of chance. SplitMix64 (Steele, Lea and Flood, 2014) is a few lines
// of integer arithmetic, so it gives the same numbers with every compiler and standard library,
// which std::mt19937's distributions do not promise. The kernel draws in simulation order, so one
// seed gives one run.
#include <cstdint>

namespace muxlab::fake {

class SeededRandom {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }

  // Uniform in [0, bound); 0 when bound is 0. Draws below 2^64 mod bound are thrown away so
  // that every value is equally likely.
  std::uint64_t below(std::uint64_t bound) {
    if (bound == 0) return 0;
    const std::uint64_t threshold = (0 - bound) % bound;
    for (;;) {
      const std::uint64_t r = next();
      if (r >= threshold) return r % bound;
    }
  }

  // True with the given probability. 0 and 1 draw nothing, so a fault that is switched off does
  // not shift the numbers the other faults get.
  bool chance(double probability) {
    if (probability <= 0) return false;
    if (probability >= 1) return true;
    return static_cast<double>(next() >> 11) * 0x1.0p-53 < probability;
  }

 private:
  std::uint64_t state_;
};

}  // namespace muxlab::fake

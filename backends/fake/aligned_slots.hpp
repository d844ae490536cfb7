#pragma once
// Room for N objects of T side by side, aligned to alignof(T) (a cache line for the hot types), in
// one plain allocation aligned by hand: operator new with an alignment would bypass the plain
// operator new that heap accounting (bench/) replaces. The slots are raw storage: the owner
// constructs and destroys what it puts there.
// Internal to backends/fake.
#include <cstddef>
#include <cstdint>
#include <memory>

namespace muxlab::fake {

template <class T, std::size_t N>
class AlignedSlots {
 public:
  AlignedSlots()
      : memory_(std::make_unique_for_overwrite<std::byte[]>(N * sizeof(T) + alignof(T))) {
    const auto address = reinterpret_cast<std::uintptr_t>(memory_.get());
    const std::uintptr_t aligned = (address + alignof(T) - 1) & ~(alignof(T) - 1);
    first_ = reinterpret_cast<T*>(memory_.get() + (aligned - address));
  }

  T* operator[](std::size_t i) const { return first_ + i; }

 private:
  std::unique_ptr<std::byte[]> memory_;
  T* first_ = nullptr;
};

}  // namespace muxlab::fake

// The fake kernel's building blocks: the byte FIFO, the event queue and its clock, the PRNG and
// the handle table.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "event_queue.hpp"
#include "handle_table.hpp"
#include "seeded_random.hpp"
#include "stream_buffer.hpp"

namespace muxlab::fake {
namespace {

std::vector<std::byte> bytes(std::size_t n, unsigned first = 0) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::byte>((first + i) & 0xff);
  return v;
}

TEST(StreamBuffer, TakesBytesOutInTheOrderTheyCameIn) {
  StreamBuffer b;
  b.append(bytes(3, 0));
  b.append(bytes(3, 3));
  EXPECT_EQ(b.size(), 6u);
  std::vector<std::byte> out(4);
  EXPECT_EQ(b.take(out), 4u);
  EXPECT_EQ(out, bytes(4, 0));
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.take(out), 2u);
  EXPECT_EQ(std::vector<std::byte>(out.begin(), out.begin() + 2), bytes(2, 4));
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.take(out), 0u);
}

TEST(StreamBuffer, CopyLeavesTheBytesAndClipsToWhatIsThere) {
  StreamBuffer b;
  b.append(bytes(10));
  EXPECT_EQ(b.copy(2, 3), bytes(3, 2));
  EXPECT_EQ(b.copy(8, 5), bytes(2, 8));
  EXPECT_TRUE(b.copy(12, 1).empty());
  EXPECT_EQ(b.size(), 10u);
}

TEST(StreamBuffer, DiscardDropsFromTheFrontAcrossCompaction) {
  StreamBuffer b;
  // Enough appends and discards to compact the storage several times over.
  unsigned next_in = 0;
  unsigned next_out = 0;
  for (int round = 0; round < 50; ++round) {
    b.append(bytes(100, next_in));
    next_in += 100;
    b.discard(70);
    next_out += 70;
    EXPECT_EQ(b.copy(0, 1), bytes(1, next_out)) << "round " << round;
  }
  EXPECT_EQ(b.size(), 50u * 30u);
  b.clear();
  EXPECT_TRUE(b.empty());
}

TEST(EventQueue, RunsEventsByTimeThenInTheOrderTheyWereScheduled) {
  using std::chrono::milliseconds;
  EventQueue q;
  std::string order;
  q.schedule(Time(milliseconds(20)), [&] { order += "c"; });
  q.schedule(Time(milliseconds(10)), [&] { order += "a"; });
  q.schedule(Time(milliseconds(10)), [&] { order += "b"; });
  EXPECT_EQ(q.next_time(), Time(milliseconds(10)));
  q.run_until(Time(milliseconds(15)));
  EXPECT_EQ(order, "ab");
  EXPECT_EQ(q.now(), Time(milliseconds(15))) << "the clock stops where it was asked to";
  q.schedule(Time(milliseconds(1)), [&] {
    order += "d";  // due in the past: runs at the next run, at the current time
    q.schedule(q.now(), [&] { order += "e"; });
  });
  q.run_until(q.now());
  EXPECT_EQ(order, "abde") << "events scheduled while running also run if due";
  EXPECT_EQ(q.now(), Time(milliseconds(15)));
  q.run_until(Time(milliseconds(5)));
  EXPECT_EQ(q.now(), Time(milliseconds(15))) << "time never goes back";
  q.run_until(Time(milliseconds(30)));
  EXPECT_EQ(order, "abdec");
  EXPECT_FALSE(q.next_time().has_value());
}

TEST(SeededRandom, IsSplitMix64) {
  // The reference sequence for seed 0: the same on every compiler and standard library.
  SeededRandom r(0);
  EXPECT_EQ(r.next(), 0xe220a8397b1dcdafu);
  EXPECT_EQ(r.next(), 0x6e789e6aa1b965f4u);
  EXPECT_EQ(r.next(), 0x06c45d188009454fu);
}

TEST(SeededRandom, BelowStaysInRangeAndChanceHonoursItsEnds) {
  SeededRandom r(42);
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const std::uint64_t v = r.below(7);
    ASSERT_LT(v, 7u);
    ++seen[v];
  }
  for (int count : seen)
    EXPECT_GT(count, 800) << "roughly uniform";
  EXPECT_EQ(r.below(0), 0u);
  SeededRandom a(5);
  SeededRandom b(5);
  EXPECT_FALSE(a.chance(0));
  EXPECT_TRUE(a.chance(1));
  EXPECT_EQ(a.next(), b.next()) << "chance(0) and chance(1) draw nothing";
}

TEST(HandleTable, HandsOutTheLowestFreeNumberBelowTheLimit) {
  HandleTable<int> t;
  int ten = 10, eleven = 11, twelve = 12, thirteen = 13, fourteen = 14;
  EXPECT_EQ(t.allocate(ten, 6), Handle{3});
  EXPECT_EQ(t.allocate(eleven, 6), Handle{4});
  EXPECT_EQ(t.allocate(twelve, 6), Handle{5});
  EXPECT_EQ(t.allocate(thirteen, 6), std::nullopt) << "6 is the limit: 0 to 5 only";
  t.release(4);
  EXPECT_EQ(t.find(4), nullptr);
  EXPECT_EQ(t.find(5), &twelve);
  EXPECT_EQ(t.allocate(fourteen, 6), Handle{4});
  EXPECT_EQ(t.find(4), &fourteen);
  EXPECT_EQ(t.find(invalid_handle), nullptr);
  EXPECT_EQ(t.find(1000), nullptr);
  t.release(invalid_handle);  // harmless
  t.release(1000);
  EXPECT_FALSE(is_handle_number(invalid_handle));
  EXPECT_TRUE(is_handle_number(Handle{0}));
}

}  // namespace
}  // namespace muxlab::fake

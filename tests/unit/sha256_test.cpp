// The SHA-256 of the client programs' show=sha256, against the standard's own examples (NIST's
// FIPS 180-4 example values: one block, the empty message, the 448-bit message that needs a
// second block for its padding, one million 'a'), and against digests that Python's hashlib
// computed for the message lengths where padding changes shape.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "sha256.hpp"

namespace muxlab::programs {
namespace {

TEST(Sha256, OneBlockMessage) {
  EXPECT_EQ(Sha256::hex_of("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, EmptyMessage) {
  EXPECT_EQ(Sha256::hex_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, MessageOf448BitsPadsIntoASecondBlock) {
  EXPECT_EQ(Sha256::hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, OneMillionA) {
  EXPECT_EQ(Sha256::hex_of(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// 55 bytes leave just room for the 1 bit and the length; 56 to 63 push them into a new block.
TEST(Sha256, LengthsAroundTheBlockBoundary) {
  const std::pair<std::size_t, std::string_view> expected[] = {
      {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
      {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
      {57, "ae14a2563ccf969d99aca69ce6bb74981f734bbf9f655f73b8f06db68cab5217"},
      {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
      {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
      {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
      {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
      {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"},
  };
  for (const auto& [length, digest] : expected)
    EXPECT_EQ(Sha256::hex_of(std::string(length, 'x')), digest) << length << " bytes of 'x'";
}

// A receiver adds what each recv returned: the pieces' sizes must not matter.
TEST(Sha256, PiecesOfAnySizeGiveTheDigestOfTheWhole) {
  const std::string million(1'000'000, 'a');
  Sha256 sha;
  std::size_t at = 0;
  for (std::size_t piece = 1; at < million.size(); piece = piece % 150 + 1) {
    const std::size_t n = std::min(piece, million.size() - at);
    sha.add(std::string_view(million).substr(at, n));
    at += n;
  }
  EXPECT_EQ(sha.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, ADigestLeavesTheMessageOpen) {
  Sha256 sha;
  sha.add("ab");
  EXPECT_EQ(sha.hex_digest(), Sha256::hex_of("ab"));
  sha.add("c");
  EXPECT_EQ(sha.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace muxlab::programs

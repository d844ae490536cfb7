#pragma once
// SHA-256 (FIPS 180-4), so a client program can state that a large answer arrived whole and in
// order with one short line of output: a script compares 64 hex digits instead of a megabyte.
// Written from the standard; checked against its test vectors (tests/unit/sha256_test.cpp).
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace muxlab::programs {

class Sha256 {
 public:
  static constexpr std::size_t kDigestSize = 32;
  using Digest = std::array<std::uint8_t, kDigestSize>;

  Sha256();

  // Appends bytes to the message; any number of calls, of any sizes.
  void add(std::span<const std::byte> bytes);
  void add(std::string_view text);

  // The digest of everything added so far. The message stays open: more may be added after.
  Digest digest() const;
  // The digest as 64 lower-case hex digits, as sha256sum prints it.
  std::string hex_digest() const;

  // The hex digest of one whole message.
  static std::string hex_of(std::string_view text);

 private:
  static constexpr std::size_t kBlockSize = 64;

  // Mixes one 64-byte block into the state.
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, kBlockSize> pending_{};  // the start of a block not yet complete
  std::size_t pending_size_ = 0;
  std::uint64_t message_bytes_ = 0;
};

}  // namespace muxlab::programs

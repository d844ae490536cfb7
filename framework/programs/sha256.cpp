#include "sha256.hpp"

#include <algorithm>

namespace muxlab::programs {
namespace {

// FIPS 180-4, 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first
// 64 primes.
constexpr std::uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// FIPS 180-4, 5.3.3: the first 32 bits of the fractional parts of the square roots of the first
// 8 primes.
constexpr std::array<std::uint32_t, 8> kInitialState = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

constexpr std::uint32_t rotate_right(std::uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

// The four functions of FIPS 180-4, 4.1.2 (Σ0, Σ1 on the working variables; σ0, σ1 on the
// message schedule).
constexpr std::uint32_t big_sigma0(std::uint32_t x) {
  return rotate_right(x, 2) ^ rotate_right(x, 13) ^ rotate_right(x, 22);
}
constexpr std::uint32_t big_sigma1(std::uint32_t x) {
  return rotate_right(x, 6) ^ rotate_right(x, 11) ^ rotate_right(x, 25);
}
constexpr std::uint32_t small_sigma0(std::uint32_t x) {
  return rotate_right(x, 7) ^ rotate_right(x, 18) ^ (x >> 3);
}
constexpr std::uint32_t small_sigma1(std::uint32_t x) {
  return rotate_right(x, 17) ^ rotate_right(x, 19) ^ (x >> 10);
}

// The standard's words are big-endian, whatever the machine's order.
std::uint32_t load_big_endian(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 |
         std::uint32_t{p[3]};
}

}  // namespace

Sha256::Sha256() : state_(kInitialState) {}

void Sha256::compress(const std::uint8_t* block) {
  std::uint32_t schedule[64];
  for (int t = 0; t < 16; ++t)
    schedule[t] = load_big_endian(block + 4 * t);
  for (int t = 16; t < 64; ++t)
    schedule[t] = small_sigma1(schedule[t - 2]) + schedule[t - 7] + small_sigma0(schedule[t - 15]) +
                  schedule[t - 16];

  std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
  std::uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
  for (int t = 0; t < 64; ++t) {
    const std::uint32_t choose = (e & f) ^ (~e & g);
    const std::uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
    const std::uint32_t t1 = h + big_sigma1(e) + choose + kRoundConstants[t] + schedule[t];
    const std::uint32_t t2 = big_sigma0(a) + majority;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
  state_[5] += f;
  state_[6] += g;
  state_[7] += h;
}

void Sha256::add(std::span<const std::byte> bytes) {
  const auto* in = reinterpret_cast<const std::uint8_t*>(bytes.data());
  std::size_t left = bytes.size();
  message_bytes_ += left;
  if (pending_size_ > 0) {
    const std::size_t taken = std::min(left, kBlockSize - pending_size_);
    std::copy_n(in, taken, pending_.data() + pending_size_);
    pending_size_ += taken;
    in += taken;
    left -= taken;
    if (pending_size_ < kBlockSize) return;
    compress(pending_.data());
    pending_size_ = 0;
  }
  for (; left >= kBlockSize; in += kBlockSize, left -= kBlockSize)
    compress(in);
  std::copy_n(in, left, pending_.data());
  pending_size_ = left;
}

void Sha256::add(std::string_view text) {
  add(std::as_bytes(std::span(text.data(), text.size())));
}

Sha256::Digest Sha256::digest() const {
  // FIPS 180-4, 5.1.1: a 1 bit, zeros up to 8 bytes short of a block boundary, then the
  // message's length in bits as a big-endian 64-bit number. On a copy, so the message stays
  // open.
  Sha256 padded = *this;
  const std::uint64_t message_bits = message_bytes_ * 8;
  std::uint8_t padding[kBlockSize + 8] = {0x80};
  const std::size_t zeros_and_marker =
      (pending_size_ < kBlockSize - 8 ? kBlockSize - 8 : 2 * kBlockSize - 8) - pending_size_;
  for (int i = 0; i < 8; ++i)
    padding[zeros_and_marker + i] = static_cast<std::uint8_t>(message_bits >> (56 - 8 * i));
  padded.add(std::as_bytes(std::span(padding, zeros_and_marker + 8)));

  Digest out{};
  for (std::size_t i = 0; i < padded.state_.size(); ++i)
    for (int j = 0; j < 4; ++j)
      out[4 * i + j] = static_cast<std::uint8_t>(padded.state_[i] >> (24 - 8 * j));
  return out;
}

std::string Sha256::hex_digest() const {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * kDigestSize);
  for (const std::uint8_t byte : digest()) {
    hex += kHexDigits[byte >> 4];
    hex += kHexDigits[byte & 0xf];
  }
  return hex;
}

std::string Sha256::hex_of(std::string_view text) {
  Sha256 sha;
  sha.add(text);
  return sha.hex_digest();
}

}  // namespace muxlab::programs

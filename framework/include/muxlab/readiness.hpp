#pragma once
// What a caller asks to be told about (Interest) and what a backend reports (Readiness).
// Every backend maps its native flags onto Readiness; see docs/readiness.md for the table.
#include <cstdint>
#include <string>
#include <string_view>

namespace muxlab {

enum class Interest : std::uint8_t {
  none = 0,
  read = 1 << 0,
  write = 1 << 1,
  read_write = read | write,
};

enum class Readiness : std::uint8_t {
  none = 0,
  readable = 1 << 0,      // recv/accept will not block
  writable = 1 << 1,      // send/connect-completion will not block
  read_closed = 1 << 2,   // the peer sent FIN: EPOLLRDHUP, POLLRDHUP, EV_EOF on the read filter
  write_closed = 1 << 3,  // this side can send no more: EPOLLHUP (both shut), EV_EOF on write
  error = 1 << 4,         // a pending error: EPOLLERR, POLLERR/POLLNVAL, select's except set
};

// How a registration fires. Level is the default everywhere; the others where the backend has them.
enum class Trigger : std::uint8_t {
  level = 0,
  edge = 1 << 0,     // EPOLLET, EV_CLEAR
  oneshot = 1 << 1,  // EPOLLONESHOT, EV_ONESHOT: one report, then disarmed until modify()
};

#define MUXLAB_FLAG_OPERATORS(E)                                                        \
  constexpr E operator|(E a, E b) {                                                     \
    return static_cast<E>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b)); \
  }                                                                                     \
  constexpr E operator&(E a, E b) {                                                     \
    return static_cast<E>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b)); \
  }                                                                                     \
  constexpr E operator~(E a) {                                                          \
    return static_cast<E>(~static_cast<std::uint8_t>(a) & 0x1f);                        \
  }                                                                                     \
  constexpr E& operator|=(E& a, E b) {                                                  \
    return a = a | b;                                                                   \
  }                                                                                     \
  constexpr E& operator&=(E& a, E b) {                                                  \
    return a = a & b;                                                                   \
  }                                                                                     \
  /* true when every flag of `flags` is in `set` */                                     \
  constexpr bool has(E set, E flags) {                                                  \
    return (set & flags) == flags;                                                      \
  }                                                                                     \
  constexpr bool any(E set) {                                                           \
    return static_cast<std::uint8_t>(set) != 0;                                         \
  }

MUXLAB_FLAG_OPERATORS(Interest)
MUXLAB_FLAG_OPERATORS(Readiness)
MUXLAB_FLAG_OPERATORS(Trigger)
#undef MUXLAB_FLAG_OPERATORS

// Whether `interest` is something a backend can register: read, write or both, and no other
// bit. Backend::add and modify refuse anything else with invalid_argument (Interest::none too:
// to stop reports, remove the handle).
constexpr bool is_valid_registration(Interest interest) {
  const auto bits = static_cast<std::uint8_t>(interest);
  return bits != 0 && (bits & ~static_cast<std::uint8_t>(Interest::read_write)) == 0;
}

// The words of that refusal, naming the value: "interest 0x00 (none) asks for nothing: ...".
inline std::string invalid_registration_text(Interest interest) {
  constexpr std::string_view kHex = "0123456789abcdef";
  const auto bits = static_cast<std::uint8_t>(interest);
  std::string text = "interest 0x";
  text += kHex[bits >> 4];
  text += kHex[bits & 0xf];
  text += bits == 0 ? " (none) asks for nothing" : " has bits that are no Interest";
  text += ": register read, write or read|write (to stop reports, remove the handle)";
  return text;
}

// "readable|writable|read_closed", or "none". The names scripts and traces use.
std::string to_string(Readiness r);
std::string to_string(Interest i);
std::string to_string(Trigger t);

// Parses the spelling to_string gives ("readable|writable"); false on an unknown name.
bool parse_readiness(std::string_view text, Readiness& out);

}  // namespace muxlab

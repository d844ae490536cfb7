#include "muxlab/error.hpp"

#include <array>
#include <string_view>

namespace muxlab {
namespace {

// Indexed by code: "ok" for 0, then every Errc in order.
constexpr std::array<std::string_view, 24> kNames = {
    "ok",
    "would_block",
    "in_progress",
    "already_in_progress",
    "already_connected",
    "not_connected",
    "connection_refused",
    "connection_reset",
    "broken_pipe",
    "shut_down",
    "address_in_use",
    "bad_handle",
    "too_many_handles",
    "already_registered",
    "not_registered",
    "unsupported",
    "invalid_argument",
    "timed_out",
    "no_resources",
    "not_permitted",
    "connection_aborted",
    "unreachable",
    "address_not_available",
    "other",
};
static_assert(kNames.size() == static_cast<std::size_t>(Errc::other) + 1,
              "every Errc up to the last one (other) has its name here");

class MuxlabCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "muxlab"; }
  std::string message(int code) const override {
    if (code < 0 || static_cast<std::size_t>(code) >= kNames.size()) return "unknown";
    return std::string(kNames[static_cast<std::size_t>(code)]);
  }
};

}  // namespace

const std::error_category& muxlab_category() noexcept {
  static const MuxlabCategory category;
  return category;
}

std::string error_name(std::error_code code) {
  if (!code) return "ok";
  if (code.category() == muxlab_category()) return code.message();
  // A code no backend could map: keep the native name so nothing is hidden.
  return std::string(code.category().name()) + ":" + std::to_string(code.value()) + " (" +
         code.message() + ")";
}

std::string Error::message() const {
  std::string text = error_name(code);
  if (!detail.empty()) text += ": " + detail;
  return text;
}

}  // namespace muxlab

#pragma once
// Sets an environment variable for one scope, and restores it: for the toolkit's settings
// (MUXLAB_SEED, MUXLAB_CHECK_DETERMINISM, MUXLAB_SCENARIO_ROOT).
#include <cstdlib>
#include <optional>
#include <string>

namespace muxlab::testing {

class ScopedVariable {
 public:
  ScopedVariable(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    set(value);
  }
  ~ScopedVariable() { set(old_ ? old_->c_str() : nullptr); }
  ScopedVariable(const ScopedVariable&) = delete;
  ScopedVariable& operator=(const ScopedVariable&) = delete;

 private:
  void set(const char* value) {
#if defined(_WIN32)
    _putenv_s(name_, value ? value : "");
#else
    if (value)
      setenv(name_, value, 1);
    else
      unsetenv(name_);
#endif
  }
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace muxlab::testing

// The one table of verbs, assembled from its families.
#include <stdexcept>
#include <vector>

#include "scenario_steps.hpp"

namespace muxlab {
namespace script {

std::span<const Verb> verbs() {
  static const std::vector<Verb> table = [] {
    std::vector<Verb> rows(socket_verbs().begin(), socket_verbs().end());
    rows.insert(rows.end(), program_verbs().begin(), program_verbs().end());
    // Each family's rows follow StepArgs (a static_assert there); together they cover it.
    if (rows.size() != std::variant_size_v<StepArgs>)
      throw std::logic_error("the verb table and StepArgs differ in length");
    return rows;
  }();
  return table;
}

const Verb* find_verb(std::string_view name) {
  for (const Verb& verb : verbs())
    if (verb.name == name) return &verb;
  return nullptr;
}

const Verb& verb_of(const Step& step) {
  return verbs()[step.args.index()];
}

}  // namespace script

std::string_view Step::verb() const {
  return script::verb_of(*this).name;
}

}  // namespace muxlab

#include "muxlab/net.hpp"

namespace muxlab {

std::string to_string(const Endpoint& e) {
  return std::to_string(e.address >> 24) + "." + std::to_string((e.address >> 16) & 0xff) + "." +
         std::to_string((e.address >> 8) & 0xff) + "." + std::to_string(e.address & 0xff) + ":" +
         std::to_string(e.port);
}

}  // namespace muxlab

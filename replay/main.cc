// almanac-replay: audit and replay of an Almanac controller's journal. See replay/cli.h.
#include <iostream>
#include <string>
#include <vector>

#include "replay/cli.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + 1, argv + argc);
  return almanac::replay::RunReplay(args, std::cout, std::cerr);
}

#include <iostream>

#include "cli/cli.h"

int main(int argc, char** argv) {
  return lifeline::RunCli(argc, argv, std::cout, std::cerr);
}

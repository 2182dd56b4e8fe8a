// Runs the built `ocular` binary (path from the OCULAR_BINARY define) and captures its output.
#pragma once

#include <string>
#include <vector>

namespace ocular::testing {

struct CliResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

CliResult RunOcular(const std::vector<std::string>& args);

// Number of lines in `s` (a final line without '\n' counts).
int CountLines(const std::string& s);

}  // namespace ocular::testing

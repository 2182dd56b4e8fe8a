#include "tests/cli/cli_run.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "tests/support/golden.h"

namespace ocular::testing {
namespace {

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

CliResult RunOcular(const std::vector<std::string>& args) {
  TempDir tmp;
  const auto out = tmp.path() / "stdout", err = tmp.path() / "stderr";
  std::string cmd = Quote(OCULAR_BINARY);
  // append() rather than operator+ chains: GCC 12 reports a false -Wrestrict on the latter.
  for (const std::string& a : args) cmd.append(" ").append(Quote(a));
  cmd.append(" >").append(Quote(out.string())).append(" 2>").append(Quote(err.string()));
  int status = std::system(cmd.c_str());
  CliResult r;
  if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.out = ReadFileText(out);
  r.err = ReadFileText(err);
  return r;
}

int CountLines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  if (!s.empty() && s.back() != '\n') ++n;
  return n;
}

}  // namespace ocular::testing

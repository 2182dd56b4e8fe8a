#include "apps/openmp_env.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace ocular::cli {

void EnsurePassiveOpenMpWaiting(int argc, char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;  // the user's choice, or already done
  // Only the commands that run the model: a second exec costs a process start (~100 shared
  // libraries to map), which inspect, preprocess, tokenize and --version need not pay.
  if (argc < 2) return;
  const char* cmd = argv[1];
  if (std::strcmp(cmd, "serve") != 0 && std::strcmp(cmd, "run") != 0 && std::strcmp(cmd, "bench") != 0) return;
  if (setenv("OMP_WAIT_POLICY", "passive", /*overwrite=*/0) != 0) return;
  // Same process (pid, open descriptors, signal mask) with the environment libgomp will read.
  execv("/proc/self/exe", argv);
  // Not reached unless exec failed (e.g. no /proc): run on with the default policy.
}

}  // namespace ocular::cli

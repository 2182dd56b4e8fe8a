#include "apps/openmp_env.h"

#include <unistd.h>

#include <cstdlib>

namespace ocular::cli {

void EnsurePassiveOpenMpWaiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;  // the user's choice, or already done
  if (setenv("OMP_WAIT_POLICY", "passive", /*overwrite=*/0) != 0) return;
  // Same process (pid, open descriptors, signal mask) with the environment libgomp will read.
  execv("/proc/self/exe", argv);
  // Not reached unless exec failed (e.g. no /proc): run on with the default policy.
}

}  // namespace ocular::cli

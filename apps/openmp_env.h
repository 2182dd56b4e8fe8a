// oneDNN (Debian's build) runs its parallel regions on libgomp's OpenMP threads, next to our own
// ThreadPool on the same cores. With libgomp's default waiting policy its idle threads spin for
// a while after every region and take the cores our pool's workers need: under load a chunked
// vision encode ran ~10x slower. libgomp reads OMP_WAIT_POLICY once, when the library loads
// (before main), so setting it later has no effect: the process re-executes itself once with
// OMP_WAIT_POLICY=passive unless the user chose a policy. Only `serve`, `run` and `bench` do.
#pragma once

namespace ocular::cli {

// Call first thing in main(). Returns only when no re-exec was needed or it failed.
void EnsurePassiveOpenMpWaiting(int argc, char** argv);

}  // namespace ocular::cli

// The `ocular` command: wiring only. Each subcommand lives in its own cmd_*.cc file.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "apps/cli_util.h"
#include "apps/commands.h"
#include "apps/openmp_env.h"
#include "base/log.h"

int main(int argc, char** argv) {
  ocular::cli::EnsurePassiveOpenMpWaiting(argc, argv);
  ocular::LogToStderr();
  if (!ocular::SetLogLevelFromEnv()) {
    std::fprintf(stderr, "ocular: error: OCULAR_LOG_LEVEL must be debug, info, warn, error or off\n");
    return ocular::cli::kExitError;
  }
  CLI::App app{"Ocular: a fast Qwen3-VL inference server and toolkit"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ocular 0.1.0");
  int exit_code = ocular::cli::kExitOk;
  // Subcommands (one line each).
  ocular::cli::RegisterPreprocess(app, exit_code);
  ocular::cli::RegisterInspect(app, exit_code);
  ocular::cli::RegisterGen(app, exit_code);
  ocular::cli::RegisterTokenize(app, exit_code);
  ocular::cli::RegisterServe(app, exit_code);
  ocular::cli::RegisterBench(app, exit_code);
  ocular::cli::RegisterBenchServe(app, exit_code);
  ocular::cli::RegisterRun(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "ocular: error: %s (see ocular --help)\n", e.what());
    return ocular::cli::kExitError;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "ocular: error: out of memory\n");
    return ocular::cli::kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ocular: error: %s\n", e.what());
    return ocular::cli::kExitError;
  }
  return exit_code;
}

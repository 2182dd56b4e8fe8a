// Every `ocular` subcommand registers itself on the root CLI11 app. Each Register* function
// adds its options and a callback that stores the command's exit code in `exit_code`.
#pragma once

namespace CLI {
class App;
}

namespace ocular::cli {

// One line per subcommand (cmd_<name>.cc).
void RegisterPreprocess(CLI::App& root, int& exit_code);
void RegisterInspect(CLI::App& root, int& exit_code);
void RegisterGen(CLI::App& root, int& exit_code);
void RegisterTokenize(CLI::App& root, int& exit_code);
void RegisterServe(CLI::App& root, int& exit_code);
void RegisterBench(CLI::App& root, int& exit_code);
void RegisterBenchServe(CLI::App& root, int& exit_code);  // `bench serve`; after RegisterBench
void RegisterRun(CLI::App& root, int& exit_code);
}  // namespace ocular::cli

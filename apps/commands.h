// Every `ocular` subcommand registers itself on the root CLI11 app. Each Register* function
// adds its options and a callback that stores the command's exit code in `exit_code`.
#pragma once

namespace CLI {
class App;
}

namespace ocular::cli {

// One line per subcommand (cmd_<name>.cc).
}  // namespace ocular::cli

use std::process::ExitCode;

fn main() -> ExitCode {
    jifen::cli::main()
}

//! The `haoqi` binary; everything it does is in `haoqi::cli`.

fn main() -> std::process::ExitCode {
    haoqi::cli::main()
}

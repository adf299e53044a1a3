//! The `haoqi` binary; everything it does is in `haoqi_pipeline::cli`.

fn main() -> std::process::ExitCode {
    haoqi_pipeline::cli::main()
}

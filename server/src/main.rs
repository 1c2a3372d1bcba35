//! `viewing-server`: see `viewing-server --help`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    viewing_server::main()
}

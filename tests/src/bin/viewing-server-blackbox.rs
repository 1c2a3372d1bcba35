//! The viewing-server program, for the black-box tests (see Cargo.toml).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    viewing_server::main()
}

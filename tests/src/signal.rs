//! Killing a test server the hard way, for the durability and relay-hardening tests.

use std::time::Duration;

use crate::Server;

impl Server {
    /// Sends SIGKILL (no shutdown of any kind) and waits, at most 10 s, for the process to end.
    pub fn kill_9(&mut self) {
        let status = std::process::Command::new("kill")
            .args(["-9", &self.pid().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("kill -9: {e}"));
        assert!(status.success(), "kill -9 failed");
        assert!(
            self.wait_exit(Duration::from_secs(10)).is_some(),
            "the server survived SIGKILL"
        );
    }
}

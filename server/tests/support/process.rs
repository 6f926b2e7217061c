//! The `fanout` binary of this package as its own OS process: for tests that need a
//! real process (SIGKILL, SIGTERM, several instances, a restart on the same files).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// How long a process may take to print the address it listens on.
const START_WITHIN: Duration = Duration::from_secs(30);
/// How often [`FanoutProcess::wait_exit`] looks.
const EXIT_POLL: Duration = Duration::from_millis(20);

/// One running `fanout` process; killed when dropped.
pub struct FanoutProcess {
    child: Child,
    /// `http://<addr>` it listens on.
    pub base_url: String,
    /// Everything it printed so far (stdout and stderr), for assertions and failure
    /// messages.
    output: Arc<Mutex<Vec<String>>>,
}

impl FanoutProcess {
    /// Starts `fanout` on the config file `config` in `dir` (logging at `info`) and
    /// waits until it prints the address it listens on.
    pub fn start(config: &Path, dir: &Path) -> Self {
        Self::start_logging(config, dir, "info")
    }

    /// [`FanoutProcess::start`] with `RUST_LOG` set to `log`.
    pub fn start_logging(config: &Path, dir: &Path, log: &str) -> Self {
        Self::try_start(config, dir, log)
            .unwrap_or_else(|output| panic!("fanout did not start:\n{output}"))
    }

    /// Starts `fanout`, or answers everything it printed when it exits (or stays
    /// silent) instead of listening.
    pub fn try_start(config: &Path, dir: &Path, log: &str) -> Result<Self, String> {
        Self::spawn(Command::new(env!("CARGO_BIN_EXE_fanout")), config, dir, log)
    }

    /// [`FanoutProcess::start_logging`] with more environment variables (`AWS_*`
    /// credentials, say: the test's own are never passed on).
    pub fn start_with_env(config: &Path, dir: &Path, log: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fanout"));
        command.envs(env.iter().copied());
        Self::spawn(command, config, dir, log)
            .unwrap_or_else(|output| panic!("fanout did not start:\n{output}"))
    }

    /// [`FanoutProcess::try_start`] with at most `limit` open file descriptors (through
    /// the shell's `ulimit -n`): for what happens when the process runs out.
    pub fn try_start_with_fd_limit(
        config: &Path,
        dir: &Path,
        log: &str,
        limit: u32,
    ) -> Result<Self, String> {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("ulimit -n {limit} && exec \"$0\""))
            .arg(env!("CARGO_BIN_EXE_fanout"));
        Self::spawn(command, config, dir, log)
    }

    fn spawn(mut command: Command, config: &Path, dir: &Path, log: &str) -> Result<Self, String> {
        // The test's own environment must not configure the server (nor point its S3
        // client anywhere): only what the test sets on `command` is passed on.
        let set: Vec<_> = command
            .get_envs()
            .map(|(name, _)| name.to_owned())
            .collect();
        for (name, _) in std::env::vars_os() {
            let ours = name
                .to_str()
                .is_some_and(|n| n.starts_with("FANOUT_") || n.starts_with("AWS_"));
            if ours && !set.contains(&name) {
                command.env_remove(name);
            }
        }
        let mut child = command
            .env("FANOUT_CONFIG", config)
            .env("RUST_LOG", log)
            .env("NO_COLOR", "1")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        let (listening, address) = mpsc::channel();
        let streams: [Box<dyn Read + Send>; 2] = [
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ];
        for stream in streams {
            let output = Arc::clone(&output);
            let listening = listening.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if let Some(url) = line.strip_prefix("fanout listening on ") {
                        let _ = listening.send(Some(url.trim().to_string()));
                    }
                    output.lock().unwrap().push(line);
                }
                let _ = listening.send(None);
            });
        }
        let mut process = Self {
            child,
            base_url: String::new(),
            output,
        };
        // Both streams end (`None` twice) when the process exits without listening.
        for _ in 0..2 {
            match tokio::task::block_in_place(|| address.recv_timeout(START_WITHIN)) {
                Ok(Some(url)) => {
                    process.base_url = url;
                    return Ok(process);
                }
                Ok(None) => continue,
                Err(_) => break,
            }
        }
        let _ = process.child.kill();
        let _ = process.child.wait();
        Err(process.output())
    }

    /// Everything it printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process dies at once, whatever it was doing.
    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        tokio::task::block_in_place(|| self.child.wait()).unwrap();
    }

    /// SIGTERM: the process shuts down gracefully.
    pub fn sigterm(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM failed");
    }

    /// Waits until the process has exited, at most `within`.
    pub async fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                return exit;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("fanout did not exit within {within:?}:\n{}", self.output());
            }
            tokio::time::sleep(EXIT_POLL).await;
        }
    }
}

impl Drop for FanoutProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

//! Carrying out one command line against the server: the session's own commands
//! (connect, close, help, printwatches) here, and the table that hands every other
//! command to its function in `cmd/`.

use std::sync::Mutex;
use std::time::Duration;

use zookeeper_client::Client;

use crate::cmd;
use crate::command::{self, Command};
use crate::watches::{lock, Watches};

/// What a command printed, and whether it succeeded (a one-shot run's exit status).
pub struct Outcome {
    pub text: String,
    pub ok: bool,
}

impl Outcome {
    fn ok(text: String) -> Outcome {
        Outcome { text, ok: true }
    }

    fn failed(text: String) -> Outcome {
        Outcome { text, ok: false }
    }
}

/// A connection to a server and the shell's state around it.
pub struct Session {
    client: Mutex<Option<Client>>,
    server: Mutex<String>,
    timeout: Duration,
    read_only: bool,
    watches: Watches,
}

async fn open(
    server: &str,
    timeout: Duration,
    read_only: bool,
) -> Result<Client, zookeeper_client::Error> {
    Client::connector()
        .with_session_timeout(timeout)
        .with_readonly(read_only)
        .connect(server)
        .await
}

/// Prints the session's state changes as zkCli's default watcher does; the closing of
/// a session the shell closed itself is printed by `close`.
pub fn report_state(client: &Client) {
    let mut states = client.state_watcher();
    tokio::spawn(async move {
        loop {
            let state = states.changed().await;
            if state == zookeeper_client::SessionState::Closed {
                break;
            }
            let name = match state {
                zookeeper_client::SessionState::SyncConnected => "SyncConnected",
                zookeeper_client::SessionState::Disconnected => "Disconnected",
                zookeeper_client::SessionState::Expired => "Expired",
                zookeeper_client::SessionState::AuthFailed => "AuthFailed",
                zookeeper_client::SessionState::ConnectedReadOnly => "ConnectedReadOnly",
                _ => "Closed",
            };
            println!("\nWATCHER::\n\nWatchedEvent state:{name} type:None path:null");
            if state.is_terminated() {
                break;
            }
        }
    });
}

impl Session {
    pub async fn connect(
        server: &str,
        timeout: Duration,
        read_only: bool,
    ) -> Result<Session, String> {
        let client = open(server, timeout, read_only)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Session {
            client: Mutex::new(Some(client)),
            server: Mutex::new(server.to_string()),
            timeout,
            read_only,
            watches: Watches::new(),
        })
    }

    /// Closes the session (its ephemerals go at once) and waits for the server's word.
    pub async fn close(&self) {
        // The watches go first: their receivers must not outlive the session.
        self.watches.clear();
        let Some(client) = lock(&self.client).take() else {
            return;
        };
        let mut states = client.state_watcher();
        drop(client);
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while !states.changed().await.is_terminated() {}
        })
        .await;
    }

    pub fn client(&self) -> Option<Client> {
        lock(&self.client).clone()
    }

    pub fn server(&self) -> String {
        lock(&self.server).clone()
    }

    /// Runs one command line's words. `json` makes read commands print JSON.
    pub async fn execute(&self, words: &[&str], json: bool) -> Outcome {
        let cmd = match command::parse(words) {
            Ok(c) => c,
            Err(text) => return Outcome::failed(text),
        };
        match cmd {
            Command::Connect { server } => {
                self.close().await;
                return match open(&server, self.timeout, self.read_only).await {
                    Ok(c) => {
                        report_state(&c);
                        *lock(&self.client) = Some(c);
                        *lock(&self.server) = server;
                        Outcome::ok(
                            "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n"
                                .into(),
                        )
                    }
                    Err(e) => Outcome::failed(format!("Unable to connect to {server}: {e}\n")),
                };
            }
            Command::Close => {
                if lock(&self.client).is_none() {
                    return Outcome::ok(String::new());
                }
                self.close().await;
                return Outcome::ok(
                    "\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n".into(),
                );
            }
            Command::Help => return Outcome::ok(command::help_text()),
            Command::PrintWatches { on } => {
                let Some(on) = on else {
                    return Outcome::ok(format!(
                        "printwatches is {}\n",
                        if self.watches.printing() { "on" } else { "off" }
                    ));
                };
                self.watches.set_printing(on);
                return Outcome::ok(String::new());
            }
            _ => {}
        }
        let Some(client) = self.client() else {
            return Outcome::failed("Not connected\n".into());
        };
        match self.request(&client, cmd, json).await {
            Ok(text) => Outcome::ok(text),
            Err(text) => Outcome::failed(text),
        }
    }

    /// The dispatch table: each command that asks the server, to its function.
    async fn request(&self, c: &Client, cmd: Command, json: bool) -> Result<String, String> {
        let w = &self.watches;
        match cmd {
            Command::Ls(args) => cmd::ls::run(c, w, args, json).await,
            Command::Get(args) => cmd::get::run(c, w, args, json).await,
            Command::Set(args) => cmd::set::run(c, args, json).await,
            Command::Stat(args) => cmd::stat::run(c, w, args, json).await,
            Command::Create(args) => cmd::create::run(c, args, json).await,
            Command::Delete(args) => cmd::delete::run(c, args).await,
            Command::DeleteAll { path } => cmd::delete_all::run(c, &path).await,
            Command::GetAcl(args) => cmd::get_acl::run(c, args, json).await,
            Command::SetAcl(args) => cmd::set_acl::run(c, args).await,
            Command::AddAuth(args) => cmd::add_auth::run(c, args).await,
            Command::Sync { path } => cmd::sync::run(c, &path).await,
            Command::Config(args) => cmd::config::run(c, w, args, json).await,
            Command::Reconfig(args) => cmd::reconfig::run(c, args).await,
            Command::AddWatch(args) => cmd::add_watch::run(c, w, args).await,
            Command::RemoveWatches { path } => cmd::remove_watches::run(w, &path),
            Command::GetEphemerals { path } => cmd::get_ephemerals::run(c, &path, json).await,
            Command::GetAllChildrenNumber { path } => {
                cmd::get_all_children_number::run(c, &path, json).await
            }
            Command::WhoAmI => cmd::who_am_i::run(c, json).await,
            // The session's and the shell's own commands, answered before this.
            Command::Connect { .. }
            | Command::Close
            | Command::History
            | Command::Redo { .. }
            | Command::PrintWatches { .. }
            | Command::Quit
            | Command::Help => Ok(String::new()),
        }
    }
}

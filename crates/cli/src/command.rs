//! zkCli's commands and flags, parsed from the words of one line.

/// One parsed command. Those that ask the server carry their arguments, one struct per
/// command, to the function in `cmd/` that carries them out.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Ls(Ls),
    Get(Get),
    Set(Set),
    Stat(Stat),
    Create(Create),
    Delete(Delete),
    DeleteAll { path: String },
    GetAcl(GetAcl),
    SetAcl(SetAcl),
    AddAuth(AddAuth),
    Sync { path: String },
    Config(Config),
    Reconfig(Reconfig),
    AddWatch(AddWatch),
    RemoveWatches { path: String },
    GetEphemerals { path: String },
    GetAllChildrenNumber { path: String },
    WhoAmI,
    Connect { server: String },
    Close,
    History,
    Redo { index: usize },
    PrintWatches { on: Option<bool> },
    Quit,
    Help,
}

/// `ls [-s] [-w] [-R] path`
#[derive(Debug, Clone, PartialEq)]
pub struct Ls {
    pub path: String,
    pub stat: bool,
    pub watch: bool,
    pub recursive: bool,
}

/// `get [-s] [-w] path`
#[derive(Debug, Clone, PartialEq)]
pub struct Get {
    pub path: String,
    pub stat: bool,
    pub watch: bool,
}

/// `set [-s] [-v version] path data`
#[derive(Debug, Clone, PartialEq)]
pub struct Set {
    pub path: String,
    pub data: String,
    pub stat: bool,
    pub version: Option<i32>,
}

/// `stat [-w] path`
#[derive(Debug, Clone, PartialEq)]
pub struct Stat {
    pub path: String,
    pub watch: bool,
}

/// `create [-s] [-e] [-c] [-t ttl] path [data] [acl]`
#[derive(Debug, Clone, PartialEq)]
pub struct Create {
    pub path: String,
    pub data: Option<String>,
    pub acl: Option<String>,
    pub sequential: bool,
    pub ephemeral: bool,
    pub container: bool,
    pub ttl: Option<u64>,
}

/// `delete [-v version] path`
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    pub path: String,
    pub version: Option<i32>,
}

/// `getAcl [-s] path`
#[derive(Debug, Clone, PartialEq)]
pub struct GetAcl {
    pub path: String,
    pub stat: bool,
}

/// `setAcl [-s] [-v version] [-R] path acl`
#[derive(Debug, Clone, PartialEq)]
pub struct SetAcl {
    pub path: String,
    pub acl: String,
    pub stat: bool,
    pub version: Option<i32>,
    pub recursive: bool,
}

/// `addauth scheme auth`
#[derive(Debug, Clone, PartialEq)]
pub struct AddAuth {
    pub scheme: String,
    pub auth: String,
}

/// `config [-c] [-w] [-s]`
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub stat: bool,
    pub watch: bool,
}

/// `reconfig [-v version] -add … -remove … | -members …`
#[derive(Debug, Clone, PartialEq)]
pub struct Reconfig {
    pub add: Vec<String>,
    pub remove: Vec<String>,
    pub members: Vec<String>,
    pub version: Option<i64>,
}

/// `addWatch [-m mode] path`
#[derive(Debug, Clone, PartialEq)]
pub struct AddWatch {
    pub path: String,
    pub recursive: bool,
}

/// The usage lines zkCli prints for `help` and after a malformed command.
pub const USAGE: &[(&str, &str)] = &[
    ("addWatch", "addWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE"),
    ("addauth", "addauth scheme auth"),
    ("close", "close "),
    ("config", "config [-c] [-w] [-s]"),
    ("connect", "connect host:port"),
    ("create", "create [-s] [-e] [-c] [-t ttl] path [data] [acl]"),
    ("delete", "delete [-v version] path"),
    ("deleteall", "deleteall path [-b batch size]"),
    ("get", "get [-s] [-w] path"),
    ("getAcl", "getAcl [-s] path"),
    ("getAllChildrenNumber", "getAllChildrenNumber path"),
    ("getEphemerals", "getEphemerals path"),
    ("history", "history "),
    ("ls", "ls [-s] [-w] [-R] path"),
    ("printwatches", "printwatches on|off"),
    ("quit", "quit "),
    ("reconfig", "reconfig [-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]"),
    ("redo", "redo cmdno"),
    ("removewatches", "removewatches path [-c|-d|-a] [-l]"),
    ("set", "set [-s] [-v version] path data"),
    ("setAcl", "setAcl [-s] [-v version] [-R] path acl"),
    ("stat", "stat [-w] path"),
    ("sync", "sync path"),
    ("whoami", "whoami "),
];

pub fn usage(name: &str) -> String {
    USAGE
        .iter()
        .find(|(n, _)| *n == name)
        .map_or_else(help_text, |(_, u)| format!("{u}\n"))
}

pub fn help_text() -> String {
    let mut out = String::from(
        "ZooKeeper -server host:port -client-configuration properties-file cmd args\n",
    );
    for (_, u) in USAGE {
        out.push('\t');
        out.push_str(u);
        out.push('\n');
    }
    out
}

/// Flags (with and without a value) and the positional words of one command.
struct Args {
    flags: Vec<(String, Option<String>)>,
    positional: Vec<String>,
}

impl Args {
    /// `known` are the command's flags; `valued` those of them that take a value.
    fn parse(words: &[&str], known: &[&str], valued: &[&str]) -> Result<Args, String> {
        let mut flags = Vec::new();
        let mut positional = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let w = words[i];
            if known.contains(&w) {
                if valued.contains(&w) {
                    let v = words
                        .get(i + 1)
                        .ok_or_else(|| format!("{w} needs a value"))?;
                    flags.push((w.to_string(), Some(v.to_string())));
                    i += 1;
                } else {
                    flags.push((w.to_string(), None));
                }
            } else {
                positional.push(w.to_string());
            }
            i += 1;
        }
        Ok(Args { flags, positional })
    }

    fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|(f, _)| f == flag)
    }

    fn value(&self, flag: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(f, _)| f == flag)
            .and_then(|(_, v)| v.as_deref())
    }

    fn path(&self) -> Result<String, String> {
        self.positional
            .first()
            .cloned()
            .ok_or_else(|| "missing path".into())
    }

    fn version(&self) -> Result<Option<i32>, String> {
        self.value("-v")
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("version {v:?} is not a number"))
            })
            .transpose()
    }
}

/// Parses one command line's words; an error carries the text zkCli would print.
pub fn parse(words: &[&str]) -> Result<Command, String> {
    let Some((name, rest)) = words.split_first() else {
        return Err(String::new());
    };
    let (known, valued) = flags_of(name);
    let a = Args::parse(rest, known, valued).map_err(|e| format!("{e}\n{}", usage(name)))?;
    if let Some(cmd) = parse_read(name, &a)? {
        return Ok(cmd);
    }
    if let Some(cmd) = parse_write(name, &a)? {
        return Ok(cmd);
    }
    parse_shell(name, &a)
}

/// A command's flags, and those of them that take a value.
fn flags_of(name: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match name {
        "ls" => (&["-s", "-w", "-R"], &[]),
        "get" => (&["-s", "-w"], &[]),
        "set" => (&["-s", "-v"], &["-v"]),
        "stat" => (&["-w"], &[]),
        "create" => (&["-s", "-e", "-c", "-t"], &["-t"]),
        "delete" => (&["-v"], &["-v"]),
        "deleteall" | "rmr" => (&["-b"], &["-b"]),
        "getAcl" => (&["-s"], &[]),
        "setAcl" => (&["-s", "-v", "-R"], &["-v"]),
        "config" => (&["-c", "-w", "-s"], &[]),
        "addWatch" => (&["-m"], &["-m"]),
        "removewatches" => (&["-c", "-d", "-a", "-l"], &[]),
        "reconfig" => (
            &["-s", "-v", "-file", "-members", "-add", "-remove"],
            &["-v", "-file", "-members", "-add", "-remove"],
        ),
        _ => (&[], &[]),
    }
}

/// The commands that only read; None if `name` is not one of them.
fn parse_read(name: &str, a: &Args) -> Result<Option<Command>, String> {
    let bad = |_: String| usage(name);
    Ok(Some(match name {
        "ls" => Command::Ls(Ls {
            path: a.path().map_err(bad)?,
            stat: a.has("-s"),
            watch: a.has("-w"),
            recursive: a.has("-R"),
        }),
        "get" => Command::Get(Get {
            path: a.path().map_err(bad)?,
            stat: a.has("-s"),
            watch: a.has("-w"),
        }),
        "stat" => Command::Stat(Stat {
            path: a.path().map_err(bad)?,
            watch: a.has("-w"),
        }),
        "getAcl" => Command::GetAcl(GetAcl {
            path: a.path().map_err(bad)?,
            stat: a.has("-s"),
        }),
        "config" => Command::Config(Config {
            stat: a.has("-s"),
            watch: a.has("-w"),
        }),
        "getEphemerals" => Command::GetEphemerals {
            path: a.positional.first().cloned().unwrap_or_else(|| "/".into()),
        },
        "getAllChildrenNumber" => Command::GetAllChildrenNumber {
            path: a.path().map_err(bad)?,
        },
        "whoami" => Command::WhoAmI,
        _ => return Ok(None),
    }))
}

/// The commands that change the tree, the session's identity or the ensemble.
fn parse_write(name: &str, a: &Args) -> Result<Option<Command>, String> {
    let bad = |_: String| usage(name);
    Ok(Some(match name {
        "set" => {
            let data = a.positional.get(1).cloned().ok_or_else(|| usage(name))?;
            Command::Set(Set {
                path: a.path().map_err(bad)?,
                data,
                stat: a.has("-s"),
                version: a.version()?,
            })
        }
        "create" => {
            let ttl = a
                .value("-t")
                .map(|t| {
                    t.parse::<u64>()
                        .map_err(|_| format!("ttl {t:?} is not a number"))
                })
                .transpose()?;
            Command::Create(Create {
                path: a.path().map_err(bad)?,
                data: a.positional.get(1).cloned(),
                acl: a.positional.get(2).cloned(),
                sequential: a.has("-s"),
                ephemeral: a.has("-e"),
                container: a.has("-c"),
                ttl,
            })
        }
        "delete" => Command::Delete(Delete {
            path: a.path().map_err(bad)?,
            version: a.version()?,
        }),
        "deleteall" | "rmr" => Command::DeleteAll {
            path: a.path().map_err(bad)?,
        },
        "setAcl" => Command::SetAcl(SetAcl {
            path: a.path().map_err(bad)?,
            acl: a.positional.get(1).cloned().ok_or_else(|| usage(name))?,
            stat: a.has("-s"),
            version: a.version()?,
            recursive: a.has("-R"),
        }),
        "addauth" => Command::AddAuth(AddAuth {
            scheme: a.positional.first().cloned().ok_or_else(|| usage(name))?,
            auth: a.positional.get(1).cloned().unwrap_or_default(),
        }),
        "sync" => Command::Sync {
            path: a.path().map_err(bad)?,
        },
        "reconfig" => Command::Reconfig(parse_reconfig(name, a)?),
        _ => return Ok(None),
    }))
}

fn parse_reconfig(name: &str, a: &Args) -> Result<Reconfig, String> {
    let list = |flag: &str| -> Vec<String> {
        a.value(flag)
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    };
    let version = a
        .value("-v")
        .map(|v| i64::from_str_radix(v.trim_start_matches("0x"), 16).map_err(|_| usage(name)))
        .transpose()?;
    let (add, remove, members) = (list("-add"), list("-remove"), list("-members"));
    if add.is_empty() && remove.is_empty() && members.is_empty() {
        return Err(usage(name));
    }
    Ok(Reconfig {
        add,
        remove,
        members,
        version,
    })
}

/// Watches and the shell's own commands; zkCli's help for an unknown name.
fn parse_shell(name: &str, a: &Args) -> Result<Command, String> {
    let bad = |_: String| usage(name);
    Ok(match name {
        "addWatch" => Command::AddWatch(AddWatch {
            path: a.path().map_err(bad)?,
            recursive: a.value("-m").is_none_or(|m| m == "PERSISTENT_RECURSIVE"),
        }),
        "removewatches" => Command::RemoveWatches {
            path: a.path().map_err(bad)?,
        },
        "connect" => Command::Connect {
            server: a.positional.first().cloned().ok_or_else(|| usage(name))?,
        },
        "close" => Command::Close,
        "history" => Command::History,
        "redo" => Command::Redo {
            index: a
                .positional
                .first()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| usage(name))?,
        },
        "printwatches" => Command::PrintWatches {
            on: a.positional.first().map(|v| v == "on"),
        },
        "quit" | "exit" => Command::Quit,
        "help" => Command::Help,
        _ => return Err(help_text()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_paths() {
        assert_eq!(
            parse(&["ls", "-s", "-R", "/a"]),
            Ok(Command::Ls(Ls {
                path: "/a".into(),
                stat: true,
                watch: false,
                recursive: true
            }))
        );
        assert_eq!(
            parse(&["set", "-v", "3", "/a", "x"]),
            Ok(Command::Set(Set {
                path: "/a".into(),
                data: "x".into(),
                stat: false,
                version: Some(3)
            }))
        );
        assert!(
            matches!(parse(&["create", "-e", "-s", "/q-", "d"]), Ok(Command::Create(c)) if c.ephemeral && c.sequential)
        );
        assert_eq!(parse(&["get"]), Err(usage("get")));
        assert!(parse(&["nosuch"]).is_err());
    }
}

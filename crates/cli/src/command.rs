//! zkCli's commands and flags, parsed from the words of one line.

/// One parsed command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Ls {
        path: String,
        stat: bool,
        watch: bool,
        recursive: bool,
    },
    Get {
        path: String,
        stat: bool,
        watch: bool,
    },
    Set {
        path: String,
        data: String,
        stat: bool,
        version: Option<i32>,
    },
    Stat {
        path: String,
        watch: bool,
    },
    Create(Create),
    Delete {
        path: String,
        version: Option<i32>,
    },
    DeleteAll {
        path: String,
    },
    GetAcl {
        path: String,
        stat: bool,
    },
    SetAcl {
        path: String,
        acl: String,
        stat: bool,
        version: Option<i32>,
        recursive: bool,
    },
    AddAuth {
        scheme: String,
        auth: String,
    },
    Sync {
        path: String,
    },
    Config {
        stat: bool,
        watch: bool,
    },
    Reconfig {
        add: Vec<String>,
        remove: Vec<String>,
        members: Vec<String>,
        version: Option<i64>,
    },
    AddWatch {
        path: String,
        recursive: bool,
    },
    RemoveWatches {
        path: String,
    },
    GetEphemerals {
        path: String,
    },
    GetAllChildrenNumber {
        path: String,
    },
    WhoAmI,
    Connect {
        server: String,
    },
    Close,
    History,
    Redo {
        index: usize,
    },
    PrintWatches {
        on: Option<bool>,
    },
    Quit,
    Help,
}

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
    let (known, valued): (&[&str], &[&str]) = match *name {
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
    };
    let a = Args::parse(rest, known, valued).map_err(|e| format!("{e}\n{}", usage(name)))?;
    let bad = |_: String| usage(name);
    let cmd = match *name {
        "ls" => Command::Ls {
            path: a.path().map_err(bad)?,
            stat: a.has("-s"),
            watch: a.has("-w"),
            recursive: a.has("-R"),
        },
        "get" => Command::Get {
            path: a.path().map_err(bad)?,
            stat: a.has("-s"),
            watch: a.has("-w"),
        },
        "set" => {
            let data = a.positional.get(1).cloned().ok_or_else(|| usage(name))?;
            Command::Set {
                path: a.path().map_err(bad)?,
                data,
                stat: a.has("-s"),
                version: a.version()?,
            }
        }
        "stat" => Command::Stat {
            path: a.path().map_err(bad)?,
            watch: a.has("-w"),
        },
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
        "delete" => Command::Delete {
            path: a.path().map_err(bad)?,
            version: a.version()?,
        },
        "deleteall" | "rmr" => Command::DeleteAll {
            path: a.path().map_err(bad)?,
        },
        "getAcl" => Command::GetAcl {
            path: a.path().map_err(bad)?,
            stat: a.has("-s"),
        },
        "setAcl" => Command::SetAcl {
            path: a.path().map_err(bad)?,
            acl: a.positional.get(1).cloned().ok_or_else(|| usage(name))?,
            stat: a.has("-s"),
            version: a.version()?,
            recursive: a.has("-R"),
        },
        "addauth" => Command::AddAuth {
            scheme: a.positional.first().cloned().ok_or_else(|| usage(name))?,
            auth: a.positional.get(1).cloned().unwrap_or_default(),
        },
        "sync" => Command::Sync {
            path: a.path().map_err(bad)?,
        },
        "config" => Command::Config {
            stat: a.has("-s"),
            watch: a.has("-w"),
        },
        "addWatch" => Command::AddWatch {
            path: a.path().map_err(bad)?,
            recursive: a.value("-m").is_none_or(|m| m == "PERSISTENT_RECURSIVE"),
        },
        "removewatches" => Command::RemoveWatches {
            path: a.path().map_err(bad)?,
        },
        "getEphemerals" => Command::GetEphemerals {
            path: a.positional.first().cloned().unwrap_or_else(|| "/".into()),
        },
        "getAllChildrenNumber" => Command::GetAllChildrenNumber {
            path: a.path().map_err(bad)?,
        },
        "whoami" => Command::WhoAmI,
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
        "reconfig" => {
            let list = |flag: &str| -> Vec<String> {
                a.value(flag)
                    .map(|v| v.split(',').map(str::to_string).collect())
                    .unwrap_or_default()
            };
            let version = a
                .value("-v")
                .map(|v| {
                    i64::from_str_radix(v.trim_start_matches("0x"), 16).map_err(|_| usage(name))
                })
                .transpose()?;
            let (add, remove, members) = (list("-add"), list("-remove"), list("-members"));
            if add.is_empty() && remove.is_empty() && members.is_empty() {
                return Err(usage(name));
            }
            Command::Reconfig {
                add,
                remove,
                members,
                version,
            }
        }
        _ => return Err(help_text()),
    };
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_paths() {
        assert_eq!(
            parse(&["ls", "-s", "-R", "/a"]),
            Ok(Command::Ls {
                path: "/a".into(),
                stat: true,
                watch: false,
                recursive: true
            })
        );
        assert_eq!(
            parse(&["set", "-v", "3", "/a", "x"]),
            Ok(Command::Set {
                path: "/a".into(),
                data: "x".into(),
                stat: false,
                version: Some(3)
            })
        );
        assert!(
            matches!(parse(&["create", "-e", "-s", "/q-", "d"]), Ok(Command::Create(c)) if c.ephemeral && c.sequential)
        );
        assert_eq!(parse(&["get"]), Err(usage("get")));
        assert!(parse(&["nosuch"]).is_err());
    }
}

//! `addWatch [-m mode] path`: a persistent watch, recursive unless `-m PERSISTENT`.

use zookeeper_client::{AddWatchMode, Client};

use crate::command::AddWatch;
use crate::format;
use crate::watches::Watches;

pub async fn run(c: &Client, watches: &Watches, args: AddWatch) -> Result<String, String> {
    let mode = if args.recursive {
        AddWatchMode::PersistentRecursive
    } else {
        AddWatchMode::Persistent
    };
    let watcher = c
        .watch(&args.path, mode)
        .await
        .map_err(|e| format::error(&e, &args.path))?;
    watches.keep(args.path, watcher);
    Ok(String::new())
}

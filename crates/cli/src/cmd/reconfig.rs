//! `reconfig`: members added and removed, or a whole new membership.

use zookeeper_client::{Client, EnsembleUpdate};

use crate::command::Reconfig;

pub async fn run(c: &Client, args: Reconfig) -> Result<String, String> {
    let Reconfig {
        add,
        remove,
        members,
        version,
    } = args;
    let update = if members.is_empty() {
        EnsembleUpdate::Incremental {
            joinings: add.iter().map(String::as_str),
            leavings: remove.iter().map(String::as_str),
        }
    } else {
        EnsembleUpdate::New {
            ensemble: members.iter().map(String::as_str),
        }
    };
    let (data, _) = c
        .update_ensemble(update, version)
        .await
        .map_err(|e| match e {
            zookeeper_client::Error::ReconfigDisabled => {
                "KeeperErrorCode = Reconfig is disabled\n".to_string()
            }
            other => format!("KeeperErrorCode = {other}\n"),
        })?;
    Ok(format!(
        "Committed new configuration:\n{}\n",
        String::from_utf8_lossy(&data)
    ))
}

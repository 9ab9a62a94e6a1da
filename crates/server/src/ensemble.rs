//! zoo.cfg's ensemble as the consensus layer and the operators see it: Raft timing
//! from tickTime, the members from the server.N lines, and /zookeeper/config.

use corral_consensus::{Members, Timing};

use crate::config::Config;

/// Raft timing from zoo.cfg. Heartbeats go every tickTime/40 (50 ms at ZooKeeper's
/// default tickTime of 2000 ms). A leader whose process is gone is replaced as soon
/// as its lease (a little over two heartbeats) runs out; a leader that is merely
/// silent, after tickTime/5 to 2*tickTime/5. A follower that hears nothing from a
/// leader for 2*tickTime/5, or a leader without a quorum for that long, stops
/// serving clients. initLimit and syncLimit have no Raft counterpart: a catching-up
/// follower is fed by log or snapshot for as long as it takes. docs/decisions.md
/// gives the reasoning.
pub fn timing(config: &Config) -> Timing {
    let tick = u64::from(config.tick_time.max(1));
    let heartbeat_ms = (tick / 40).max(10);
    let election_min_ms = (tick / 5).max(heartbeat_ms * 4);
    let election_max_ms = (tick * 2 / 5).max(election_min_ms + heartbeat_ms);
    Timing {
        heartbeat_ms,
        election_min_ms,
        election_max_ms,
        snap_count: config.snap_count.max(1),
        lost_after_ms: election_max_ms,
    }
}

/// The ensemble's members from the server.N lines; the client port comes from this
/// server's own line when it names one. The error says what is wrong with them.
pub fn members(config: &mut Config) -> Result<Members, String> {
    let Some(me) = config.me().cloned() else {
        return Err(format!(
            "myid {} (from {}/myid) is not among the server.N lines",
            config.my_id,
            config.data_dir.display()
        ));
    };
    if config.peer_type_observer && !me.observer {
        return Err(format!(
            "peerType=observer but server.{} is not marked :observer",
            me.id
        ));
    }
    if let Some((address, port)) = &me.client {
        config.client_port = *port;
        if let Some(ip) = address.as_deref().and_then(|a| a.parse().ok()) {
            config.client_port_address = ip;
        }
    }
    let mut members = Members {
        connect: config.peer_connect.clone(),
        ..Members::default()
    };
    for p in &config.servers {
        let side = if p.observer {
            &mut members.observers
        } else {
            &mut members.voters
        };
        side.insert(p.id, p.quorum_address());
    }
    if members.voters.is_empty() {
        return Err("no voting server.N lines".into());
    }
    Ok(members)
}

/// /zookeeper/config as ZooKeeper writes it: one server.N line per member, then the
/// configuration version.
pub fn ensemble_config(config: &Config) -> Vec<u8> {
    let mut out = String::new();
    for p in &config.servers {
        let role = if p.observer {
            "observer"
        } else {
            "participant"
        };
        let client = match &p.client {
            Some((address, port)) => {
                format!(";{}:{port}", address.as_deref().unwrap_or("0.0.0.0"))
            }
            None => String::new(),
        };
        out.push_str(&format!(
            "server.{}={}:{}:{}:{role}{client}\n",
            p.id, p.host, p.quorum_port, p.election_port
        ));
    }
    out.push_str("version=0");
    out.into_bytes()
}

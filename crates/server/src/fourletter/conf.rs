//! conf: the configuration the server runs with, and the size of its data.

use std::fmt::Write as _;

use crate::state::ServerState;

pub(crate) fn configuration(state: &ServerState) -> String {
    let c = &state.config;
    let (data_size, log_size) = crate::report::dir_sizes(state);
    // ZooKeeper prints -1 for a port it does not listen on.
    let port = |p: Option<u16>| p.map_or(-1, i32::from);
    let client_port = port(Some(c.client_port).filter(|_| !c.tls.secure_only));
    let mut out = format!(
        "clientPort={}\nsecureClientPort={}\ndataDir={}\ndataDirSize={}\ndataLogDir={}\ndataLogSize={}\ntickTime={}\nmaxClientCnxns={}\nminSessionTimeout={}\nmaxSessionTimeout={}\nclientPortListenBacklog=-1\nserverId={}\n",
        client_port,
        port(c.tls.secure_client_port),
        c.data_dir.display(),
        data_size,
        c.log_dir().display(),
        log_size,
        c.tick_time,
        c.max_client_cnxns,
        c.min_session_timeout,
        c.max_session_timeout,
        c.my_id,
    );
    if let (true, Some(me)) = (state.ensemble, c.me()) {
        // The quorum part ends without a newline, as ZooKeeper's does.
        let _ = write!(
            out,
            "initLimit={}\nsyncLimit={}\nelectionAlg=3\nelectionPort={}\nquorumPort={}\npeerType={}\nmembership: \n{}",
            c.init_limit,
            c.sync_limit,
            me.election_port,
            me.quorum_port,
            u8::from(me.observer),
            String::from_utf8_lossy(&crate::ensemble::ensemble_config(c)),
        );
    }
    out
}

//! The fault campaign: a Corral ensemble of real processes on 127.0.0.1, concurrent
//! clients through the `zookeeper-client` crate, a nemesis that injects faults on a
//! schedule drawn from a seed, and checkers that judge what the clients saw against
//! ZooKeeper's guarantees.
//!
//! `history` is what the clients record; `check` judges a history and knows nothing of
//! processes or sockets. The rest drives a run: `cluster` owns the server processes,
//! `proxy` the fault-injecting TCP links between peers and in front of clients,
//! `nemesis` the schedule of faults, `workload` the clients, and `run` ties them
//! together and writes the report.

pub mod check;
pub mod cluster;
pub mod history;
pub mod nemesis;
pub mod proxy;
pub mod run;
pub mod workload;

//! One function per zkCli command that asks the server, each in its own file as
//! mini-redis has them: it takes the command's parsed arguments and the client (and
//! the shell's watches, when it sets one) and returns zkCli's output, or the error
//! text zkCli prints. `run` dispatches to them; `walk` lists a subtree for the
//! recursive ones.

pub mod add_auth;
pub mod add_watch;
pub mod config;
pub mod create;
pub mod delete;
pub mod delete_all;
pub mod get;
pub mod get_acl;
pub mod get_all_children_number;
pub mod get_ephemerals;
pub mod ls;
pub mod reconfig;
pub mod remove_watches;
pub mod set;
pub mod set_acl;
pub mod stat;
pub mod sync;
mod walk;
pub mod who_am_i;

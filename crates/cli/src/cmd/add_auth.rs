//! `addauth scheme auth`: adds an identity to the session.

use zookeeper_client::Client;

use crate::command::AddAuth;

pub async fn run(c: &Client, args: AddAuth) -> Result<String, String> {
    c.auth(&args.scheme, args.auth.as_bytes())
        .await
        .map_err(|e| format!("{e}\n"))?;
    Ok(String::new())
}

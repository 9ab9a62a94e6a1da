//! A subtree, listed for `ls -R`, `deleteall` and `setAcl -R`.

use zookeeper_client::Client;

/// `path` and every node under it, parents before children (zkCli's ls -R order).
pub(super) async fn subtree(
    c: &Client,
    path: &str,
) -> Result<Vec<String>, zookeeper_client::Error> {
    let mut out = Vec::new();
    let mut todo = vec![path.to_string()];
    while let Some(p) = todo.pop() {
        let mut children = c.list_children(&p).await?;
        children.sort();
        for child in children.iter().rev() {
            todo.push(if p == "/" {
                format!("/{child}")
            } else {
                format!("{p}/{child}")
            });
        }
        out.push(p);
    }
    Ok(out)
}

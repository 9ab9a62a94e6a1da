//! Znode path rules, as ZooKeeper's `PathUtils.validatePath` has them.

/// Why a path is refused. The server answers BadArguments for all of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path must not be empty")]
    Empty,
    #[error("path must start with /")]
    NotAbsolute,
    #[error("path must not end with /")]
    TrailingSlash,
    #[error("empty node name")]
    EmptyName,
    #[error("relative paths (. and ..) are not allowed")]
    Relative,
    #[error("invalid character {0:?}")]
    BadChar(char),
}

/// Checks a path. A sequential create is checked with a digit appended, as ZooKeeper
/// does, so that a trailing slash is allowed there.
pub fn validate(path: &str, sequential: bool) -> Result<(), PathError> {
    if sequential {
        return validate_plain(&format!("{path}1"));
    }
    validate_plain(path)
}

fn validate_plain(path: &str) -> Result<(), PathError> {
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    if !path.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    if path == "/" {
        return Ok(());
    }
    if path.ends_with('/') {
        return Err(PathError::TrailingSlash);
    }
    for name in path[1..].split('/') {
        if name.is_empty() {
            return Err(PathError::EmptyName);
        }
        if name == "." || name == ".." {
            return Err(PathError::Relative);
        }
    }
    if let Some(c) = path.chars().find(|&c| forbidden(c)) {
        return Err(PathError::BadChar(c));
    }
    Ok(())
}

fn forbidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{e000}'..='\u{f8ff}' | '\u{fff0}'..='\u{ffff}')
}

/// The parent of a path ("/" for top-level nodes). `None` for the root.
pub fn parent(path: &str) -> Option<&str> {
    if path == "/" {
        return None;
    }
    let cut = path.rfind('/')?;
    Some(if cut == 0 { "/" } else { &path[..cut] })
}

/// The last name of a path.
pub fn name(path: &str) -> &str {
    path.rfind('/').map_or(path, |cut| &path[cut + 1..])
}

/// Joins a parent and a child name.
pub fn join(parent: &str, child: &str) -> String {
    if parent == "/" {
        format!("/{child}")
    } else {
        format!("{parent}/{child}")
    }
}

/// Whether `path` is `root` or below it.
pub fn is_within(path: &str, root: &str) -> bool {
    root == "/"
        || path == root
        || (path.starts_with(root) && path.as_bytes().get(root.len()) == Some(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(validate("/", false).is_ok());
        assert!(validate("/a/b-c", false).is_ok());
        assert_eq!(validate("", false), Err(PathError::Empty));
        assert_eq!(validate("a", false), Err(PathError::NotAbsolute));
        assert_eq!(validate("/a/", false), Err(PathError::TrailingSlash));
        assert!(validate("/a/", true).is_ok());
        assert_eq!(validate("//a", false), Err(PathError::EmptyName));
        assert_eq!(validate("/a/./b", false), Err(PathError::Relative));
        assert_eq!(validate("/a/..", false), Err(PathError::Relative));
        assert_eq!(validate("/a\0b", false), Err(PathError::BadChar('\0')));
        assert!(validate("/a\u{fffd}", false).is_err());
    }

    #[test]
    fn parents_and_names() {
        assert_eq!(parent("/"), None);
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(name("/a/b"), "b");
        assert_eq!(join("/", "a"), "/a");
        assert!(is_within("/a/b", "/a"));
        assert!(!is_within("/ab", "/a"));
    }
}

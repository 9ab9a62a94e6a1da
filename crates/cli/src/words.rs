//! Splitting a command line into words, as zkCli does: whitespace separates, and single
//! or double quotes keep spaces inside one word.

pub fn split(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            None => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn quotes_keep_spaces() {
        assert_eq!(
            split(r#"create /a "hello world" x"#),
            ["create", "/a", "hello world", "x"]
        );
        assert_eq!(split("  ls   / "), ["ls", "/"]);
        assert_eq!(split("set /a ''"), ["set", "/a", ""]);
    }
}

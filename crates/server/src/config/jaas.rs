//! A JAAS login configuration file, as Java reads it: sections
//! `Name { module flag key=value ...; ... };`, values bare or double-quoted, and `//`,
//! `/* */` and `#` comments. Only what Corral needs is kept: each section's modules with
//! their options. The parser never panics; a mistake is an error naming the line.

use std::collections::BTreeMap;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct LoginModule {
    pub class: String,
    pub flag: String,
    pub options: BTreeMap<String, String>,
}

/// Sections by name, each a list of login modules.
pub type Jaas = BTreeMap<String, Vec<LoginModule>>;

#[derive(Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Quoted(String),
    Punct(char),
}

fn tokens(text: &str) -> Result<Vec<(Tok, usize)>, String> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    while let Some((at, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '#' => while chars.next_if(|&(_, c)| c != '\n').is_some() {},
            '/' if chars.peek().map(|&(_, c)| c) == Some('/') => {
                while chars.next_if(|&(_, c)| c != '\n').is_some() {}
            }
            '/' if chars.peek().map(|&(_, c)| c) == Some('*') => {
                chars.next();
                let mut last = ' ';
                loop {
                    match chars.next() {
                        Some((_, '/')) if last == '*' => break,
                        Some((_, c)) => last = c,
                        None => return Err(format!("line {}: comment not closed", line_of(at))),
                    }
                }
            }
            '{' | '}' | ';' | '=' => out.push((Tok::Punct(c), line_of(at))),
            '"' => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, c)) => value.push(c),
                            None => return Err(format!("line {}: quote not closed", line_of(at))),
                        },
                        Some((_, c)) => value.push(c),
                        None => return Err(format!("line {}: quote not closed", line_of(at))),
                    }
                }
                out.push((Tok::Quoted(value), line_of(at)));
            }
            c => {
                let mut word = String::from(c);
                while let Some((_, c)) =
                    chars.next_if(|&(_, c)| !c.is_whitespace() && !"{};=\"".contains(c))
                {
                    word.push(c);
                }
                out.push((Tok::Word(word), line_of(at)));
            }
        }
    }
    Ok(out)
}

pub fn parse(text: &str) -> Result<Jaas, String> {
    let toks = tokens(text)?;
    let mut it = toks.into_iter().peekable();
    let mut jaas = Jaas::new();
    let bad = |line: usize, what: &str| format!("line {line}: expected {what}");
    while let Some((tok, line)) = it.next() {
        let Tok::Word(name) = tok else {
            return Err(bad(line, "a section name"));
        };
        match it.next() {
            Some((Tok::Punct('{'), _)) => {}
            _ => return Err(bad(line, "'{' after the section name")),
        }
        let mut modules = Vec::new();
        loop {
            match it.next() {
                Some((Tok::Punct('}'), _)) => break,
                Some((Tok::Word(class), line)) => {
                    let Some((Tok::Word(flag), _)) = it.next() else {
                        return Err(bad(
                            line,
                            "a control flag (required, requisite, sufficient, optional)",
                        ));
                    };
                    if !["required", "requisite", "sufficient", "optional"]
                        .contains(&flag.to_ascii_lowercase().as_str())
                    {
                        return Err(format!("line {line}: {flag:?} is not a control flag"));
                    }
                    let mut options = BTreeMap::new();
                    loop {
                        match it.next() {
                            Some((Tok::Punct(';'), _)) => break,
                            Some((Tok::Word(key), line)) => {
                                if it.next().map(|t| t.0) != Some(Tok::Punct('=')) {
                                    return Err(bad(line, "'=' after an option name"));
                                }
                                let value = match it.next() {
                                    Some((Tok::Quoted(v) | Tok::Word(v), _)) => v,
                                    _ => return Err(bad(line, "an option value")),
                                };
                                options.insert(key, value);
                            }
                            Some((_, line)) => return Err(bad(line, "an option or ';'")),
                            None => return Err("the file ends inside a login module".into()),
                        }
                    }
                    modules.push(LoginModule {
                        class,
                        flag,
                        options,
                    });
                }
                Some((_, line)) => return Err(bad(line, "a login module class or '}'")),
                None => return Err(format!("section {name} is not closed")),
            }
        }
        match it.next() {
            Some((Tok::Punct(';'), _)) => {}
            _ => return Err(format!("section {name}: expected ';' after '}}'")),
        }
        jaas.entry(name).or_default().extend(modules);
    }
    Ok(jaas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_zookeeper_server_section() {
        let text = r#"
            // the users
            Server {
              org.apache.zookeeper.server.auth.DigestLoginModule required
              user_super="adminsecret" /* inline */
              user_bob="bob\"secret";
            };
            # another
            Client { org.apache.zookeeper.server.auth.DigestLoginModule required username=bob password="x"; };
        "#;
        let jaas = parse(text).unwrap_or_default();
        let server = &jaas["Server"][0];
        assert_eq!(
            server.class,
            "org.apache.zookeeper.server.auth.DigestLoginModule"
        );
        assert_eq!(server.flag, "required");
        assert_eq!(server.options["user_bob"], "bob\"secret");
        assert_eq!(server.options["user_super"], "adminsecret");
        assert_eq!(jaas["Client"][0].options["username"], "bob");
    }

    #[test]
    fn mistakes_are_errors() {
        for text in [
            "Server {",
            "Server { M required a=\"x; };",
            "Server { M always; };",
            "Server { M required a; };",
            "Server { M required a=; };",
            "Server { M required a=1 }; ",
            "Server { M required; }",
            "{ };",
            "/* open",
            "Server \"x\" { };",
        ] {
            assert!(parse(text).is_err(), "{text:?} parsed");
        }
    }
}

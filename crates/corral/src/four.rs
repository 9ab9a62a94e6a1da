//! `corral four`: what `echo ruok | nc host 2181` does, without netcat.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

pub fn run(word: &str, server: &str) -> ExitCode {
    if word.len() != 4 {
        eprintln!("corral four: a four-letter word has four letters, not {word:?}");
        return ExitCode::from(2);
    }
    let result = (|| -> std::io::Result<String> {
        let mut stream = TcpStream::connect(server)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.write_all(word.as_bytes())?;
        let mut out = String::new();
        stream.read_to_string(&mut out)?;
        Ok(out)
    })();
    match result {
        Ok(text) => {
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("corral four: {server}: {e}");
            ExitCode::FAILURE
        }
    }
}

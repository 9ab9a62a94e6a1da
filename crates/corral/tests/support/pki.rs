//! Certificates for quorum TLS, made with the openssl command as an operator makes
//! them: a CA, and per member one PEM key store (certificate chain and key in one
//! file, as ZooKeeper's PEM key store holds them) for 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::Command;

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A certificate authority in a directory of its own.
pub struct Ca {
    pub dir: PathBuf,
    pub cert: PathBuf,
    key: PathBuf,
    serial: std::cell::Cell<u32>,
}

impl Ca {
    pub fn new(dir: &Path, name: &str) -> Ca {
        std::fs::create_dir_all(dir).expect("pki dir");
        let (cert, key) = (
            dir.join(format!("{name}.pem")),
            dir.join(format!("{name}.key")),
        );
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            path(&key),
            "-out",
            path(&cert),
        ]);
        Ca {
            dir: dir.to_path_buf(),
            cert,
            key,
            serial: std::cell::Cell::new(1),
        }
    }

    /// A member's key store for `cn`, valid for 127.0.0.1 (`san`), for both ends of a
    /// peer connection; written to `out`.
    pub fn issue(&self, cn: &str, san: &str, out: &Path) {
        let stem = self.dir.join(cn);
        let (key, csr, crt, ext) = (
            stem.with_extension("key"),
            stem.with_extension("csr"),
            stem.with_extension("crt"),
            stem.with_extension("ext"),
        );
        openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            &format!("/CN={cn}"),
            "-keyout",
            path(&key),
            "-out",
            path(&csr),
        ]);
        std::fs::write(
            &ext,
            format!(
                "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                 extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName={san}\n"
            ),
        )
        .expect("ext file");
        let serial = self.serial.get();
        self.serial.set(serial + 1);
        openssl(&[
            "x509",
            "-req",
            "-in",
            path(&csr),
            "-CA",
            path(&self.cert),
            "-CAkey",
            path(&self.key),
            "-set_serial",
            &serial.to_string(),
            "-days",
            "2",
            "-extfile",
            path(&ext),
            "-out",
            path(&crt),
        ]);
        let mut pem = std::fs::read(&crt).expect("cert");
        pem.extend(std::fs::read(&key).expect("key"));
        // Written whole under another name, then renamed: a reload never reads half.
        let tmp = out.with_extension("tmp");
        std::fs::write(&tmp, pem).expect("key store");
        std::fs::rename(&tmp, out).expect("key store in place");
    }
}

pub fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

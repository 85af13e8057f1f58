//! A real Radicale CardDAV server on loopback, in a temporary directory, with one user
//! (htpasswd, plain). Installed on first use by `tools`.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "anna";
pub const PASSWORD: &str = "s3cret pass";

pub struct Radicale {
    child: Child,
    pub base: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
    agent: ureq::Agent,
}

impl Radicale {
    pub fn start() -> Radicale {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        std::fs::write(dir.path().join("users"), format!("{USER}:{PASSWORD}\n")).unwrap();
        let config = format!(
            "[server]\nhosts = 127.0.0.1:{port}\n\
             [auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\n\
             [rights]\ntype = owner_only\n\
             [storage]\nfilesystem_folder = {store}\n\
             [logging]\nlevel = info\nmask_passwords = True\n",
            users = dir.path().join("users").display(),
            store = dir.path().join("collections").display(),
        );
        let config_path = dir.path().join("config");
        std::fs::write(&config_path, config).unwrap();
        let log = dir.path().join("radicale.log");
        let child = crate::tools::command("radicale")
            .arg("--config")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start radicale");
        let r = Radicale {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(20))
                .build(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "radicale did not start:\n{}",
                r.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        r
    }

    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// Requests of this method Radicale has answered so far.
    pub fn count(&self, method: &str) -> usize {
        self.log()
            .lines()
            .filter(|l| l.contains(&format!("{method} request for")))
            .count()
    }

    fn call(&self, method: &str, path: &str, ct: &str, body: &str) -> u16 {
        let auth = format!("Basic {}", base64(format!("{USER}:{PASSWORD}").as_bytes()));
        let r = self
            .agent
            .request(method, &format!("{}{path}", self.base))
            .set("Authorization", &auth)
            .set("Content-Type", ct)
            .send_string(body);
        match r {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(s, _)) => s,
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    /// Creates an address book; answers its URL.
    pub fn addressbook(&self, name: &str) -> String {
        let path = format!("/{USER}/{name}/");
        let status = self.call(
            "MKCOL",
            &path,
            "application/xml",
            r#"<?xml version="1.0" encoding="UTF-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>
<D:resourcetype><D:collection/><C:addressbook/></D:resourcetype>
<D:displayname>Company</D:displayname></D:prop></D:set></D:mkcol>"#,
        );
        assert_eq!(status, 201, "MKCOL: {}", self.log());
        format!("{}{path}", self.base)
    }

    pub fn put_card(&self, book: &str, file: &str, vcard: &str) {
        let status = self.call(
            "PUT",
            &format!("/{USER}/{book}/{file}"),
            "text/vcard",
            vcard,
        );
        assert!(
            status == 201 || status == 204,
            "PUT {file}: {status}\n{}",
            self.log()
        );
    }

    pub fn delete_card(&self, book: &str, file: &str) {
        let status = self.call(
            "DELETE",
            &format!("/{USER}/{book}/{file}"),
            "text/vcard",
            "",
        );
        assert!(status == 200 || status == 204, "DELETE {file}: {status}");
    }
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                T[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

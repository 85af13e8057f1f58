//! Starts the real `phonedir` binary on free ports with a fresh data directory and talks
//! to it over real HTTP and HTTPS.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The test directory's key: random-looking, as open registration wants (no runs, 8+ characters).
pub const KEY: &str = "ACMEq7Rt2xK9pL";

/// Server flags for tests whose sources (Radicale, the fakes) listen on loopback, which the
/// server reaches only when allowed.
pub const LOCAL_SOURCES: &[&str] = &["--source-allow", "127.0.0.0/8"];

pub struct Server {
    child: Child,
    pub http: String,
    pub https: String,
    pub log: Arc<Mutex<String>>,
    data: Arc<tempfile::TempDir>,
    agent: ureq::Agent,
    tls_agent: ureq::Agent,
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// Every value of a header sent more than once (`Set-Cookie`).
    pub fn headers_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn xml(&self) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(&self.body)
            .unwrap_or_else(|e| panic!("not well-formed XML ({e}): {}", self.body))
    }
}

/// A server started with `flags`, the sync.blue sample book pushed to `KEY`.
pub fn with_book(flags: &[&str]) -> Server {
    let s = Server::start(flags);
    let r = s.push(
        &format!("/contacts/{KEY}"),
        &fixture("syncblue-directory.csv"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    s
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_phonedir")
}

/// A fixture file from tests/data (real-world shaped inputs; see tests/data/README.md).
pub fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A certificate made once (and kept in target/tmp across runs) and copied into each
/// test server's data directory, as a server restarted on its data directory finds it: an
/// RSA key takes a second or more to make, and almost every test starts a server. The
/// tests of making certificates start without it (`start_fresh`).
fn seed_certificate(data: &Path) {
    static MADE: OnceLock<PathBuf> = OnceLock::new();
    let made = MADE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("seed-certificate");
        // Made anew by the same rules as a server's, when it nears its end.
        phonedir::http::tls::load(&dir, None, None, &Default::default()).expect("seed certificate");
        dir.join("certs")
    });
    let to = data.join("certs");
    std::fs::create_dir_all(&to).expect("certs dir");
    for f in ["selfsigned.pem", "selfsigned.key.pem", "selfsigned.json"] {
        std::fs::copy(made.join(f), to.join(f)).expect("copy seed certificate");
    }
}

impl Server {
    pub fn start(extra: &[&str]) -> Server {
        let data = tempfile::tempdir().expect("tempdir");
        seed_certificate(data.path());
        Server::start_in(Arc::new(data), extra)
    }

    /// Starts on an empty data directory: the server makes its certificate itself.
    pub fn start_fresh(extra: &[&str]) -> Server {
        Server::start_in(Arc::new(tempfile::tempdir().expect("tempdir")), extra)
    }

    /// Starts on an existing data directory (a restart).
    pub fn start_in(data: Arc<tempfile::TempDir>, extra: &[&str]) -> Server {
        let mut child = Command::new(bin())
            .args(["serve", "--data-dir"])
            .arg(data.path())
            .args(["--http", "127.0.0.1:0", "--https", "127.0.0.1:0"])
            .args(extra)
            .env("PHONEDIR_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn phonedir");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                for scheme in ["http", "https"] {
                    let marker = format!("listening on {scheme}://");
                    if let Some(i) = line.find(&marker) {
                        let addr = line[i + marker.len()..].trim().to_owned();
                        let _ = tx.send((scheme, addr));
                    }
                }
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let (mut http, mut https) = (None, None);
        // Generous: a loaded CI machine builds and starts many servers at once.
        let deadline = Instant::now() + Duration::from_secs(90);
        while http.is_none() || https.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(("http", a)) => http = Some(format!("http://{a}")),
                Ok((_, a)) => https = Some(format!("https://localhost:{}", port_of(&a))),
                Err(_) => panic!("server did not start:\n{}", log.lock().unwrap()),
            }
        }
        let cert = data.path().join("certs/selfsigned.pem");
        let server = Server {
            child,
            http: http.unwrap(),
            https: https.unwrap(),
            log,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(90))
                .build(),
            tls_agent: tls_agent(&cert, 5),
            data,
        };
        server.wait_healthy();
        server
    }

    fn wait_healthy(&self) {
        for _ in 0..100 {
            if self.get("/healthz").status == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("/healthz never answered 200");
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.http)
    }

    pub fn get(&self, path: &str) -> Response {
        self.request("GET", &self.url(path), &[], None)
    }

    pub fn get_tls(&self, path: &str) -> Response {
        let url = format!("{}{path}", self.https);
        send(self.tls_agent.request("GET", &url), None)
    }

    pub fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Response {
        let mut req = self.agent.request(method, url);
        for (k, v) in headers {
            req = req.set(k, v);
        }
        send(req, body)
    }

    /// What `curl -F file=@NAME URL` sends.
    pub fn push(&self, path: &str, file: &[u8]) -> Response {
        let (ct, body) = multipart("file", "contacts.csv", file);
        self.request(
            "POST",
            &self.url(path),
            &[("Content-Type", &ct)],
            Some(&body),
        )
    }

    // Verbs: what a test does, in the words of the product, on the directory `KEY`.

    /// Pushes `csv` as the default source, as `curl -F file=@…` does.
    pub fn push_csv(&self, csv: &str) -> Response {
        self.push_file(csv.as_bytes())
    }

    /// Pushes a file with query parameters (`"?source=crm&region=DE"`, or `""`) and expects
    /// it stored: answers the push report.
    pub fn pushed(&self, query: &str, file: &[u8]) -> serde_json::Value {
        let r = self.push(&format!("/contacts/{KEY}{query}"), file);
        assert_eq!(r.status, 200, "push{query}: {}", r.body);
        r.json()
    }

    /// Pushes a file's bytes (any encoding) as the default source.
    pub fn push_file(&self, file: &[u8]) -> Response {
        self.push(&format!("/contacts/{KEY}"), file)
    }

    /// Pushes `csv` as the source `source`, with further query parameters (`&region=DE`).
    pub fn push_source(&self, source: &str, csv: &str, query: &str) -> Response {
        self.push(
            &format!("/contacts/{KEY}?source={source}{query}"),
            csv.as_bytes(),
        )
    }

    /// A phone book of `KEY`: `s.book("yealink/v1?q=anna")`, `s.book("")` for the CSV.
    pub fn book(&self, format_and_query: &str) -> Response {
        let sep = if format_and_query.is_empty() || format_and_query.starts_with('?') {
            ""
        } else {
            "/"
        };
        self.get(&format!("/contacts/{KEY}{sep}{format_and_query}"))
    }

    /// Caller-ID lookup as JSON.
    pub fn lookup(&self, number: &str) -> Response {
        self.get(&format!(
            "/contacts/{KEY}/lookup?number={}",
            url::form_urlencoded::byte_serialize(number.as_bytes()).collect::<String>()
        ))
    }

    /// The management API of `KEY`, with its key.
    pub fn api(&self) -> Api<'_> {
        Api { s: self, key: KEY }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Kills the server (SIGKILL: no chance to finish anything), keeping its data.
    pub fn kill(mut self) -> Arc<tempfile::TempDir> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.data.clone()
    }

    /// Stops the server the way an operator does (SIGTERM), and waits for it.
    pub fn stop(mut self) -> Arc<tempfile::TempDir> {
        terminate(&mut self.child);
        self.data.clone()
    }
}

/// The management API of one directory.
pub struct Api<'a> {
    s: &'a Server,
    key: &'a str,
}

impl Api<'_> {
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> Response {
        let url = self
            .s
            .url(&format!("/api/v1/directories/{}{path}", self.key));
        let auth = format!("Bearer {}", self.key);
        self.s.request(
            method,
            &url,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body.map(str::as_bytes),
        )
    }

    /// `GET /api/v1/directories/KEY`.
    pub fn status(&self) -> Response {
        self.call("GET", "", None)
    }

    pub fn settings(&self, json: &str) -> Response {
        self.call("PUT", "/settings", Some(json))
    }

    /// What changed since `since`, as the change log answers it.
    pub fn changes(&self, since: i64) -> Response {
        self.call("GET", &format!("/changes?since={since}"), None)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn port_of(addr: &str) -> &str {
    addr.rsplit(':').next().unwrap_or(addr)
}

/// Sends `req` and reads the answer, whatever its status.
pub fn send(req: ureq::Request, body: Option<&[u8]>) -> Response {
    let result = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = resp.status();
    // Every value of every header (a response may set several cookies).
    let mut names = resp.headers_names();
    names.sort();
    names.dedup();
    let headers = names
        .iter()
        .flat_map(|n| resp.all(n).into_iter().map(|v| (n.clone(), v.to_owned())))
        .collect();
    let body = resp.into_string().expect("body");
    Response {
        status,
        headers,
        body,
    }
}

pub fn multipart(field: &str, filename: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----phonedirtestboundary7MA4YWxk";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A client that trusts exactly the server's generated certificate and follows up to
/// `redirects` redirects.
pub fn tls_agent(cert: &PathBuf, redirects: u32) -> ureq::Agent {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(cert).expect("cert file") {
        roots.add(c.expect("cert")).expect("root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    ureq::AgentBuilder::new()
        .tls_config(Arc::new(config))
        .timeout(Duration::from_secs(90))
        .redirects(redirects)
        .build()
}

/// Runs the CLI and returns (success, stdout, stderr).
pub fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin())
        .args(args)
        .output()
        .expect("run phonedir");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The CSV book as (display_name, phone cell) rows.
pub fn csv_rows(body: &str) -> Vec<(String, String)> {
    let mut r = csv::Reader::from_reader(body.as_bytes());
    let h = r.headers().expect("header").clone();
    let name = h
        .iter()
        .position(|c| c == "display_name")
        .expect("display_name");
    let phone = h.iter().position(|c| c == "phone").expect("phone");
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            (rec[name].to_owned(), rec[phone].to_owned())
        })
        .collect()
}

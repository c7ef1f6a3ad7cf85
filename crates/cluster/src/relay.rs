//! The query's line back to its client. A cluster's scheduler and executors plan the
//! query again to rebuild its functions (`engine::remote`), and those functions' failures
//! are ES|QL warnings the user must see. So the client serves, for each query it runs:
//! * the query's [`Recipe`] to whoever names the query's id (a random 128-bit token, the
//!   only credential: it travels inside the plan);
//! * a sink for the warnings of the functions running on executors, each acknowledged
//!   only once recorded, so every warning is in before the job can finish.
//!
//! One JSON object per line over TCP, request then response; a connection per request
//! (warnings are rare: each message is sent once per site and process).

use crate::recipe::Recipe;
use engine::warnings::Site;
use engine::Warnings;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How long a cluster process waits for the client.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Request {
    Recipe {
        query: String,
    },
    Warning {
        query: String,
        line: usize,
        column: usize,
        text: String,
        message: String,
    },
    /// A problem with the input found by an executor's scan of raw files.
    Diagnostic {
        query: String,
        diagnostic: WireDiagnostic,
    },
    /// One partition of a raw scan is done: its counters. A partition run again (a lost
    /// executor) replaces its earlier report rather than adding to it.
    ScanPart {
        query: String,
        scan: String,
        partition: usize,
        counts: cloudtrail::ScanCounts,
        pruned: usize,
    },
}

/// A [`cloudtrail::Diagnostic`] on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireDiagnostic {
    path: std::path::PathBuf,
    line: Option<u64>,
    column: Option<u64>,
    record: Option<u64>,
    offset: Option<u64>,
    message: String,
    kind: String,
    raw: Option<Vec<u8>>,
}

impl WireDiagnostic {
    pub fn of(d: &cloudtrail::Diagnostic) -> WireDiagnostic {
        use cloudtrail::DiagnosticKind as K;
        WireDiagnostic {
            path: d.path.clone(),
            line: d.line,
            column: d.column,
            record: d.record,
            offset: d.offset,
            message: d.message.clone(),
            kind: match d.kind {
                K::Rejected => "rejected",
                K::FileFailed => "file_failed",
                K::PipelineError => "pipeline_error",
            }
            .into(),
            raw: d.raw.as_ref().map(|r| r.to_vec()),
        }
    }

    fn diagnostic(self) -> cloudtrail::Diagnostic {
        use cloudtrail::DiagnosticKind as K;
        cloudtrail::Diagnostic {
            path: self.path,
            line: self.line,
            column: self.column,
            record: self.record,
            offset: self.offset,
            message: self.message,
            kind: match self.kind.as_str() {
                "file_failed" => K::FileFailed,
                "pipeline_error" => K::PipelineError,
                _ => K::Rejected,
            },
            raw: self.raw.map(Into::into),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Response {
    Recipe(Recipe),
    Recorded,
    Error(String),
}

struct Query {
    recipe: Recipe,
    warnings: Warnings,
    /// The raw files the query reads, when it reads raw files.
    raw: Option<RawSink>,
}

/// Where the reports of raw scans on executors go: the client's own dataset, so its
/// warnings and summary line are those of a local run.
struct RawSink {
    files: Arc<dyn engine::Dataset>,
    parts: HashMap<(String, usize), (cloudtrail::ScanCounts, usize)>,
    /// The absolute path executors read → the path as the client names it.
    names: HashMap<std::path::PathBuf, std::path::PathBuf>,
}

impl RawSink {
    fn files(&self) -> Option<&datasets::CloudTrailFiles> {
        let any: &dyn std::any::Any = self.files.as_ref();
        any.downcast_ref::<datasets::CloudTrailFiles>()
    }
}

/// The client's relay: one per process, serving every query it has running.
pub struct Relay {
    addr: SocketAddr,
    queries: Arc<Mutex<HashMap<String, Query>>>,
}

impl Relay {
    /// The process's relay, listening on `ip` (an address of this machine the cluster can
    /// reach); started on first use.
    pub fn on(ip: IpAddr) -> std::io::Result<&'static Relay> {
        static RELAY: OnceLock<Relay> = OnceLock::new();
        if let Some(r) = RELAY.get() {
            return Ok(r);
        }
        let listener = TcpListener::bind((ip, 0))?;
        let addr = listener.local_addr()?;
        let queries: Arc<Mutex<HashMap<String, Query>>> = Arc::default();
        let served = queries.clone();
        std::thread::Builder::new()
            .name("trailhunt-relay".into())
            .spawn(move || {
                for conn in listener.incoming().flatten() {
                    let served = served.clone();
                    let _ = std::thread::Builder::new()
                        .name("trailhunt-relay-conn".into())
                        .spawn(move || serve(conn, &served));
                }
            })?;
        Ok(RELAY.get_or_init(|| Relay { addr, queries }))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `recipe` under a new id until the returned guard is dropped; warnings sent
    /// for it go to `warnings`.
    ///
    /// `raw`: the query's raw files (a `datasets::CloudTrailFiles`), whose problems and
    /// counters executors report here.
    pub fn register(
        &self,
        recipe: Recipe,
        warnings: Warnings,
        raw: Option<Arc<dyn engine::Dataset>>,
    ) -> Registration<'_> {
        let id = crate::random_id();
        let raw = raw.map(|files| {
            let mut sink = RawSink {
                files,
                parts: HashMap::new(),
                names: HashMap::new(),
            };
            if let Some(spec) = sink.files().and_then(|f| f.spec().ok()) {
                sink.names = spec
                    .files
                    .into_iter()
                    .filter_map(|p| std::path::absolute(&p).ok().map(|a| (a, p)))
                    .collect();
            }
            sink
        });
        if let Some(files) = raw.as_ref().and_then(RawSink::files) {
            files.remote_scan_started();
        }
        lock(&self.queries).insert(
            id.clone(),
            Query {
                recipe,
                warnings,
                raw,
            },
        );
        Registration { relay: self, id }
    }
}

/// A query served by the relay; dropping it forgets the query.
pub struct Registration<'a> {
    relay: &'a Relay,
    id: String,
}

impl Registration<'_> {
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        lock(&self.relay.queries).remove(&self.id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn serve(conn: TcpStream, queries: &Mutex<HashMap<String, Query>>) {
    let _ = conn.set_read_timeout(Some(CLIENT_TIMEOUT));
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut line = String::new();
    // A request is one line; a peer that sends more than a recipe could hold is not ours.
    if reader.by_ref().take(1 << 20).read_line(&mut line).is_err() {
        return;
    }
    let response = match serde_json::from_str::<Request>(&line) {
        Err(e) => Response::Error(format!("unreadable request: {e}")),
        Ok(Request::Recipe { query }) => match lock(queries).get(&query) {
            Some(q) => Response::Recipe(q.recipe.clone()),
            None => Response::Error(format!("no query [{query}] is running here")),
        },
        Ok(Request::Warning {
            query,
            line,
            column,
            text,
            message,
        }) => {
            let warnings = lock(queries).get(&query).map(|q| q.warnings.clone());
            match warnings {
                Some(w) => {
                    w.failure(&Site { line, column, text }, &message);
                    Response::Recorded
                }
                None => Response::Error(format!("no query [{query}] is running here")),
            }
        }
        Ok(Request::Diagnostic { query, diagnostic }) => {
            let sink = lock(queries)
                .get(&query)
                .and_then(|q| q.raw.as_ref())
                .and_then(|r| {
                    let mut d = diagnostic.clone().diagnostic();
                    if let Some(name) = r.names.get(&d.path) {
                        d.path = name.clone();
                    }
                    r.files().map(|f| (f.diagnostic_sink(), d))
                });
            match sink {
                Some((sink, d)) => {
                    sink(&d);
                    Response::Recorded
                }
                None => Response::Error(format!("no raw scan of query [{query}] is running here")),
            }
        }
        Ok(Request::ScanPart {
            query,
            scan,
            partition,
            counts,
            pruned,
        }) => {
            let mut queries = lock(queries);
            match queries.get_mut(&query).and_then(|q| q.raw.as_mut()) {
                Some(raw) => {
                    raw.parts.insert((scan, partition), (counts, pruned));
                    let mut total = cloudtrail::ScanCounts::default();
                    let mut total_pruned = 0;
                    for (c, p) in raw.parts.values() {
                        total = total.plus(c);
                        total_pruned += p;
                    }
                    if let Some(files) = raw.files() {
                        files.remote_scan(&total, total_pruned);
                    }
                    Response::Recorded
                }
                None => Response::Error(format!("no raw scan of query [{query}] is running here")),
            }
        }
    };
    let mut out = conn;
    if let Ok(mut text) = serde_json::to_string(&response) {
        text.push('\n');
        let _ = out.write_all(text.as_bytes());
    }
}

/// Sends one request to the client at `addr` and reads its response.
fn ask(addr: &str, request: &Request) -> Result<Response, String> {
    let target: SocketAddr = addr
        .parse()
        .map_err(|e| format!("bad client address [{addr}]: {e}"))?;
    let conn = TcpStream::connect_timeout(&target, CLIENT_TIMEOUT)
        .map_err(|e| format!("cannot reach the client that runs the query at {addr}: {e}"))?;
    conn.set_read_timeout(Some(CLIENT_TIMEOUT))
        .and_then(|_| conn.set_write_timeout(Some(CLIENT_TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let mut text = serde_json::to_string(request).map_err(|e| e.to_string())?;
    text.push('\n');
    (&conn)
        .write_all(text.as_bytes())
        .map_err(|e| format!("the client at {addr} stopped answering: {e}"))?;
    let mut line = String::new();
    BufReader::new(&conn)
        .take(256 << 20)
        .read_line(&mut line)
        .map_err(|e| format!("the client at {addr} stopped answering: {e}"))?;
    serde_json::from_str(&line).map_err(|e| format!("unreadable answer from {addr}: {e}"))
}

/// The recipe of query `id` from the client at `addr`.
pub fn fetch_recipe(addr: &str, id: &str) -> Result<Recipe, String> {
    match ask(
        addr,
        &Request::Recipe {
            query: id.to_string(),
        },
    )? {
        Response::Recipe(r) => Ok(r),
        Response::Error(e) => Err(e),
        Response::Recorded => Err(format!("unexpected answer from {addr}")),
    }
}

/// Sends one warning of query `id` to the client at `addr`.
pub fn send_warning(addr: &str, id: &str, site: &Site, message: &str) -> Result<(), String> {
    match ask(
        addr,
        &Request::Warning {
            query: id.to_string(),
            line: site.line,
            column: site.column,
            text: site.text.clone(),
            message: message.to_string(),
        },
    )? {
        Response::Recorded => Ok(()),
        Response::Error(e) => Err(e),
        Response::Recipe(_) => Err(format!("unexpected answer from {addr}")),
    }
}

/// Reports a problem an executor's raw scan found to the client at `addr`.
pub fn send_diagnostic(addr: &str, id: &str, d: &cloudtrail::Diagnostic) -> Result<(), String> {
    expect_recorded(
        addr,
        &Request::Diagnostic {
            query: id.to_string(),
            diagnostic: WireDiagnostic::of(d),
        },
    )
}

/// Reports the counters of one finished partition of a raw scan.
pub fn send_scan_part(
    addr: &str,
    id: &str,
    scan: &str,
    partition: usize,
    counts: &cloudtrail::ScanCounts,
    pruned: usize,
) -> Result<(), String> {
    expect_recorded(
        addr,
        &Request::ScanPart {
            query: id.to_string(),
            scan: scan.to_string(),
            partition,
            counts: *counts,
            pruned,
        },
    )
}

fn expect_recorded(addr: &str, request: &Request) -> Result<(), String> {
    match ask(addr, request)? {
        Response::Recorded => Ok(()),
        Response::Error(e) => Err(e),
        Response::Recipe(_) => Err(format!("unexpected answer from {addr}")),
    }
}

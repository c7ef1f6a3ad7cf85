//! `--cluster df://HOST:PORT`: the engine's plans run on a Ballista cluster.

use crate::codec::{LogicalCodec, Origin, PhysicalCodec};
use crate::recipe::Recipe;
use crate::relay::Relay;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use engine::remote::{RemoteJob, RemoteRunner};
use engine::EngineError;
use futures::future::BoxFuture;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use ballista::extension::{SessionConfigExt, SessionContextExt};

/// A cluster to run plans on.
#[derive(Debug, Clone)]
pub struct Cluster {
    url: String,
    host: String,
    port: u16,
    /// How long to wait for the scheduler to answer (`--cluster-timeout`).
    connect_timeout: Duration,
}

/// The scheduler's port when the URL names none (Ballista's).
pub const DEFAULT_PORT: u16 = 50050;

impl Cluster {
    /// Parses `df://HOST[:PORT]`.
    pub fn parse(url: &str, connect_timeout: Duration) -> Result<Cluster, String> {
        let rest = url.strip_prefix("df://").ok_or_else(|| {
            format!("invalid --cluster [{url}]: expected df://HOST:PORT (a `trailhunt scheduler`)")
        })?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (
                h.trim_start_matches('[').trim_end_matches(']').to_string(),
                p.parse::<u16>()
                    .map_err(|_| format!("invalid --cluster [{url}]: bad port [{p}]"))?,
            ),
            _ => (rest.to_string(), DEFAULT_PORT),
        };
        if host.is_empty() {
            return Err(format!("invalid --cluster [{url}]: no host"));
        }
        Ok(Cluster {
            url: url.to_string(),
            host,
            port,
            connect_timeout,
        })
    }

    fn scheduler_addr(&self) -> Result<SocketAddr, EngineError> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| {
                EngineError::Execution(format!(
                    "cannot resolve the cluster's scheduler host [{}] (--cluster {})",
                    self.host, self.url
                ))
            })
    }

    /// The address of this machine the cluster reaches it by: the one the OS would use
    /// to reach the scheduler (no packet is sent).
    fn client_ip(&self, scheduler: SocketAddr) -> IpAddr {
        if let Ok(ip) = std::env::var("TRAILHUNT_CLUSTER_CLIENT_IP") {
            if let Ok(ip) = ip.parse() {
                return ip;
            }
        }
        let any: SocketAddr = if scheduler.is_ipv4() {
            "0.0.0.0:0".parse().expect("literal")
        } else {
            "[::]:0".parse().expect("literal")
        };
        UdpSocket::bind(any)
            .and_then(|s| s.connect(scheduler).map(|_| s))
            .and_then(|s| s.local_addr())
            .map(|a| a.ip())
            .unwrap_or(scheduler.ip())
    }

    async fn run_plan(
        &self,
        plan: LogicalPlan,
        job: RemoteJob<'_>,
    ) -> Result<Vec<RecordBatch>, EngineError> {
        let fail = |m: String| EngineError::Execution(m);
        let scheduler = self.scheduler_addr()?;
        // Ballista's client retries a refused connection for a long time: say at once
        // when nothing listens.
        TcpStream::connect_timeout(&scheduler, self.connect_timeout).map_err(|e| {
            fail(format!(
                "cannot reach the cluster's scheduler at {scheduler} (--cluster {}): {e}; \
                 is `trailhunt scheduler --bind {scheduler}` running, and reachable from here?",
                self.url
            ))
        })?;
        let recipe = Recipe::of(&job).map_err(|e| fail(e.to_string()))?;
        let relay = Relay::on(self.client_ip(scheduler)).map_err(|e| {
            fail(format!(
                "cannot listen for the cluster's warnings on this machine: {e}"
            ))
        })?;
        let raw = job
            .datasets
            .iter()
            .find(|d| {
                let any: &dyn std::any::Any = d.as_ref();
                any.is::<datasets::CloudTrailFiles>()
            })
            .cloned();
        let registration = relay.register(recipe, job.warnings.clone(), raw);
        let origin = Origin {
            client: relay.addr().to_string(),
            query: registration.id().to_string(),
        };
        let config = SessionConfig::new_with_ballista()
            .with_collect_statistics(false)
            .with_round_robin_repartition(false)
            .with_ballista_logical_extension_codec(Arc::new(LogicalCodec::client(origin.clone())))
            .with_ballista_physical_extension_codec(Arc::new(PhysicalCodec::client(origin)));
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .build();
        let url = format!("df://{}:{}", self.host, self.port);
        let ctx = SessionContext::remote_with_state(&url, state)
            .await
            .map_err(|e| fail(format!("cluster {}: {e}", self.url)))?;
        let df = ctx
            .execute_logical_plan(plan)
            .await
            .map_err(|e| fail(format!("cluster {}: {}", self.url, clean(e))))?;
        let batches = df.collect().await.map_err(|e| {
            let e = clean(e);
            if e.ends_with(&format!("failed: {}", crate::process::NO_EXECUTOR_CANCEL)) {
                fail(format!(
                    "cluster {}: the scheduler cancelled the query: it has no executor (it \
                     gives up after its --no-executors-grace); start `trailhunt executor \
                     --scheduler {scheduler}` on a worker, and check that it can reach the \
                     scheduler ({e})",
                    self.url
                ))
            } else {
                fail(format!("cluster {}: {e}", self.url))
            }
        })?;
        drop(registration);
        Ok(batches)
    }
}

fn clean(e: datafusion::error::DataFusionError) -> String {
    match e {
        datafusion::error::DataFusionError::External(inner) => inner.to_string(),
        datafusion::error::DataFusionError::Context(_, inner) => clean(*inner),
        other => other.to_string(),
    }
}

impl RemoteRunner for Cluster {
    fn describe(&self) -> String {
        self.url.clone()
    }

    fn run<'a>(
        &'a self,
        plan: LogicalPlan,
        job: RemoteJob<'a>,
    ) -> BoxFuture<'a, Result<Vec<RecordBatch>, EngineError>> {
        Box::pin(self.run_plan(plan, job))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<(String, u16), String> {
        Cluster::parse(url, Duration::from_secs(1)).map(|c| (c.host, c.port))
    }

    #[test]
    fn cluster_urls() {
        assert_eq!(
            parse("df://10.0.0.5:50050").unwrap(),
            ("10.0.0.5".into(), 50050)
        );
        assert_eq!(
            parse("df://sched.internal").unwrap(),
            ("sched.internal".into(), DEFAULT_PORT)
        );
        assert_eq!(parse("df://sched:7000/").unwrap(), ("sched".into(), 7000));
        assert_eq!(parse("df://[::1]:7000").unwrap(), ("::1".into(), 7000));
        for bad in [
            "http://x:1",
            "sched:50050",
            "df://",
            "df://:50050",
            "df://h:port",
            "df://h:70000",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.starts_with("invalid --cluster ["), "{bad}: {e}");
        }
        assert!(parse("http://x:1")
            .unwrap_err()
            .contains("expected df://HOST:PORT"));
    }

    #[test]
    fn an_unresolvable_scheduler_is_named() {
        let c = Cluster::parse("df://no-such-host.invalid:1", Duration::from_secs(1)).unwrap();
        let e = c.scheduler_addr().unwrap_err().to_string();
        assert!(
            e.contains("[no-such-host.invalid]")
                && e.contains("--cluster df://no-such-host.invalid:1"),
            "{e}"
        );
    }
}

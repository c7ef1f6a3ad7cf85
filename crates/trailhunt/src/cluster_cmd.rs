//! `trailhunt scheduler`, `trailhunt executor` and `--cluster`: wiring to crate `cluster`
//! when the binary is built with the `cluster` feature, a clear error otherwise.

use anyhow::{anyhow, Result};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Args)]
pub(crate) struct SchedulerArgs {
    /// Address to listen on for clients and executors (host:port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:50050")]
    bind: SocketAddr,
    /// The host name executors and clients reach this scheduler by (default: the bind
    /// address).
    #[arg(long, value_name = "HOST")]
    external_host: Option<String>,
    /// Seconds without a heartbeat after which an executor is lost and its tasks run
    /// elsewhere.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    executor_timeout: u64,
    /// Seconds a job waits for an executor before it fails.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    no_executors_grace: u64,
    /// How this machine reaches a store in S3 (it plans the store's scans).
    #[command(flatten)]
    s3: crate::S3AccessArgs,
}

#[derive(Args)]
pub(crate) struct ExecutorArgs {
    /// The scheduler (host:port of `trailhunt scheduler --bind`).
    #[arg(long, value_name = "ADDR")]
    scheduler: SocketAddr,
    /// Address for shuffle data (Arrow Flight); the executor's gRPC service listens on the
    /// next port unless --grpc-port says.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:50051")]
    bind: SocketAddr,
    #[arg(long, value_name = "PORT")]
    grpc_port: Option<u16>,
    /// The host name the scheduler and other executors reach this one by.
    #[arg(long, value_name = "HOST")]
    external_host: Option<String>,
    /// Tasks run at once (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    concurrent_tasks: usize,
    /// Where shuffle files are written (default: a temporary folder).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// Seconds between heartbeats to the scheduler.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    heartbeat: u64,
    /// How this machine reaches a store in S3 (`--store s3://…`).
    #[command(flatten)]
    s3: crate::S3AccessArgs,
}

#[cfg(feature = "cluster")]
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

#[cfg(feature = "cluster")]
pub(crate) fn cmd_scheduler(args: &SchedulerArgs) -> Result<i32> {
    let opts = cluster::process::SchedulerOptions {
        bind: args.bind,
        external_host: args.external_host.clone(),
        executor_timeout_secs: args.executor_timeout.max(1),
        no_executors_grace_secs: args.no_executors_grace.max(1),
        s3: args.s3.options(),
    };
    eprintln!("trailhunt: scheduler listening on {}", args.bind);
    runtime()?
        .block_on(cluster::process::run_scheduler(opts))
        .map_err(|e| anyhow!("scheduler on {}: {e}", args.bind))?;
    Ok(0)
}

#[cfg(feature = "cluster")]
pub(crate) fn cmd_executor(args: &ExecutorArgs) -> Result<i32> {
    let opts = cluster::process::ExecutorOptions {
        scheduler: args.scheduler,
        bind: args.bind,
        external_host: args.external_host.clone(),
        grpc_port: args.grpc_port,
        concurrent_tasks: args.concurrent_tasks,
        work_dir: args.work_dir.clone(),
        heartbeat_secs: args.heartbeat.max(1),
        s3: args.s3.options(),
    };
    eprintln!(
        "trailhunt: executor on {} for the scheduler at {}",
        args.bind, args.scheduler
    );
    runtime()?
        .block_on(cluster::process::run_executor(opts))
        .map_err(|e| {
            anyhow!(
                "executor on {} (scheduler {}): {e}",
                args.bind,
                args.scheduler
            )
        })?;
    Ok(0)
}

/// The engine's runner for `--cluster URL`.
#[cfg(feature = "cluster")]
pub(crate) fn remote(url: &str, timeout: std::time::Duration) -> Result<engine::remote::Remote> {
    let cluster = cluster::Cluster::parse(url, timeout).map_err(|e| anyhow!(e))?;
    Ok(engine::remote::Remote(std::sync::Arc::new(cluster)))
}

#[cfg(not(feature = "cluster"))]
const NOT_BUILT: &str = "this trailhunt was built without cluster support: build it with \
     `cargo build --release -p trailhunt --features cluster`";

#[cfg(not(feature = "cluster"))]
pub(crate) fn cmd_scheduler(_: &SchedulerArgs) -> Result<i32> {
    Err(anyhow!(NOT_BUILT))
}

#[cfg(not(feature = "cluster"))]
pub(crate) fn cmd_executor(_: &ExecutorArgs) -> Result<i32> {
    Err(anyhow!(NOT_BUILT))
}

#[cfg(not(feature = "cluster"))]
pub(crate) fn remote(_: &str, _: std::time::Duration) -> Result<engine::remote::Remote> {
    Err(anyhow!("--cluster: {NOT_BUILT}"))
}

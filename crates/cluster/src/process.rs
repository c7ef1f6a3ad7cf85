//! `trailhunt scheduler` and `trailhunt executor`: Ballista's scheduler and executor with
//! trailhunt's codecs, so they can rebuild its functions and open its store.

use crate::codec::{LogicalCodec, PhysicalCodec};
use std::net::SocketAddr;
use std::sync::Arc;

/// Settings of `trailhunt scheduler`.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    pub bind: SocketAddr,
    /// The host executors and clients use to reach it (default: the bind address).
    pub external_host: Option<String>,
    /// An executor that has not sent a heartbeat for this long is lost and its tasks run
    /// again elsewhere.
    pub executor_timeout_secs: u64,
    /// A job fails, rather than waits, after this long with no executor.
    pub no_executors_grace_secs: u64,
}

/// Settings of `trailhunt executor`.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    pub scheduler: SocketAddr,
    /// Arrow Flight (shuffle data); its gRPC service listens on the next port.
    pub bind: SocketAddr,
    pub external_host: Option<String>,
    pub grpc_port: Option<u16>,
    /// Tasks run at once (0: one per core).
    pub concurrent_tasks: usize,
    pub work_dir: Option<std::path::PathBuf>,
    pub heartbeat_secs: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("{0}")]
    Ballista(String),
}

fn ballista(e: impl std::fmt::Display) -> ProcessError {
    ProcessError::Ballista(e.to_string())
}

/// Ballista's log on stderr: warnings and errors, or what `RUST_LOG` asks for.
fn init_logging() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .try_init();
}

/// Runs a scheduler until the process is stopped.
pub async fn run_scheduler(opts: SchedulerOptions) -> Result<(), ProcessError> {
    init_logging();
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::SchedulerConfig;
    let config = SchedulerConfig {
        bind_host: opts.bind.ip().to_string(),
        bind_port: opts.bind.port(),
        external_host: opts
            .external_host
            .clone()
            .unwrap_or_else(|| opts.bind.ip().to_string()),
        executor_timeout_seconds: opts.executor_timeout_secs,
        expire_dead_executor_interval_seconds: opts.executor_timeout_secs.clamp(1, 15),
        no_executors_grace_period_seconds: opts.no_executors_grace_secs,
        override_logical_codec: Some(Arc::new(LogicalCodec::cluster())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(ballista)?;
    ballista_scheduler::scheduler_process::start_server(cluster, opts.bind, Arc::new(config))
        .await
        .map_err(ballista)
}

/// Runs an executor until the process is stopped.
pub async fn run_executor(opts: ExecutorOptions) -> Result<(), ProcessError> {
    init_logging();
    use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
    let config = ExecutorProcessConfig {
        bind_host: opts.bind.ip().to_string(),
        external_host: opts.external_host.clone(),
        port: opts.bind.port(),
        grpc_port: opts
            .grpc_port
            .unwrap_or_else(|| opts.bind.port().wrapping_add(1)),
        scheduler_host: opts.scheduler.ip().to_string(),
        scheduler_port: opts.scheduler.port(),
        scheduler_connect_timeout_seconds: 30,
        vcores: opts.concurrent_tasks,
        work_dir: opts
            .work_dir
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
        executor_heartbeat_interval_seconds: opts.heartbeat_secs,
        print_thread_info: false,
        override_logical_codec: Some(Arc::new(LogicalCodec::cluster())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(ballista)
}

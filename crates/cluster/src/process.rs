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
    /// How this machine reaches a store in S3 (the scheduler plans its scans).
    pub s3: sources::S3Options,
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
    /// How this machine reaches a store in S3 (its Parquet files).
    pub s3: sources::S3Options,
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
        // Checked twice per timeout, so a lost executor is noticed within 1.5 timeouts.
        expire_dead_executor_interval_seconds: (opts.executor_timeout_secs / 2).clamp(1, 15),
        no_executors_grace_period_seconds: opts.no_executors_grace_secs,
        override_logical_codec: Some(Arc::new(LogicalCodec::cluster(opts.s3.clone()))),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(ballista)?;
    tokio::spawn(cancel_jobs_without_executors(
        cluster.clone(),
        opts.bind,
        opts.executor_timeout_secs,
        opts.no_executors_grace_secs,
    ));
    ballista_scheduler::scheduler_process::start_server(cluster, opts.bind, Arc::new(config))
        .await
        .map_err(ballista)
}

/// What a job's client is told when it was cancelled for want of executors.
pub const NO_EXECUTOR_CANCEL: &str = "Cancelled";

/// Ballista fails the jobs of a cluster whose last executor was lost, after its grace, but
/// lets a job wait for a first executor forever (an autoscaler may be starting one). A
/// user who ran `--cluster` with no executor would wait forever: after `grace` seconds
/// with no live executor, every job not finished is cancelled, and the client says why.
async fn cancel_jobs_without_executors(
    cluster: ballista_scheduler::cluster::BallistaCluster,
    bind: SocketAddr,
    executor_timeout_secs: u64,
    grace_secs: u64,
) {
    use ballista_core::serde::protobuf::executor_status::Status as Executor;
    use ballista_core::serde::protobuf::job_status::Status as Job;
    use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
    use ballista_core::serde::protobuf::CancelJobParams;
    let (executors, jobs) = (cluster.cluster_state(), cluster.job_state());
    let mut empty_since: Option<std::time::Instant> = None;
    let mut cancelled = std::collections::HashSet::new();
    let own = match bind.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => {
            SocketAddr::from(([127, 0, 0, 1], bind.port()))
        }
        ip if ip.is_unspecified() => SocketAddr::from(([0u16, 0, 0, 0, 0, 0, 0, 1], bind.port())),
        _ => bind,
    };
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let alive = executors.executor_heartbeats().values().any(|h| {
            matches!(
                h.status.as_ref().and_then(|s| s.status.as_ref()),
                Some(Executor::Active(_))
            ) && h.timestamp + executor_timeout_secs > now
        });
        if alive {
            empty_since = None;
            continue;
        }
        let since = *empty_since.get_or_insert_with(std::time::Instant::now);
        if since.elapsed().as_secs() < grace_secs {
            continue;
        }
        let Ok(all) = jobs.get_all_jobs().await else {
            continue;
        };
        for job in all {
            let waiting = matches!(
                jobs.get_job_status(&job).await,
                Ok(Some(ballista_core::serde::protobuf::JobStatus {
                    status: Some(Job::Queued(_) | Job::Running(_)),
                    ..
                }))
            );
            let id = job.to_string();
            if !waiting || cancelled.contains(&id) {
                continue;
            }
            log::warn!(
                "no executor for {grace_secs} s (--no-executors-grace): cancelling job {id}"
            );
            if let Ok(mut client) = SchedulerGrpcClient::connect(format!("http://{own}")).await {
                let _ = client
                    .cancel_job(CancelJobParams { job_id: id.clone() })
                    .await;
            }
            cancelled.insert(id);
        }
    }
}

/// An executor's runtime: Ballista's (spill files in the work dir), with an object store
/// registry that opens any `s3://` bucket a plan reads (a store in S3) with this
/// machine's AWS chain. One registry for all sessions, so each bucket is resolved once.
fn runtime_producer(
    work_dir: Option<std::path::PathBuf>,
    s3: sources::S3Options,
) -> ballista_core::RuntimeProducer {
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    let registry = Arc::new(store::remote::S3Registry::new(s3));
    Arc::new(move |_config| {
        let mut builder = RuntimeEnvBuilder::new().with_object_store_registry(registry.clone());
        if let Some(dir) = &work_dir {
            builder = builder.with_temp_file_path(dir.clone());
        }
        builder.build_arc()
    })
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
        override_logical_codec: Some(Arc::new(LogicalCodec::cluster(opts.s3.clone()))),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        override_runtime_producer: Some(runtime_producer(opts.work_dir.clone(), opts.s3.clone())),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(ballista)
}

//! How trailhunt's plans cross process boundaries: Ballista's codecs, plus
//! * the ES|QL functions, sent as (client, query id, function key) and rebuilt on the other
//!   side by planning the same query again ([`engine::remote::query_functions`]), with
//!   their warnings relayed to the client ([`crate::relay`]);
//! * the store's table, sent as its folder and the exact commit (file list) the client
//!   planned against, so every process reads the same files.

use crate::relay;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{
    ColumnarValue, Extension, LogicalPlan, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use engine::remote::FunctionKey;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};

/// Where a function's query lives: the client's relay and the query's id there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Origin {
    pub client: String,
    pub query: String,
}

/// A function on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct WireFunction {
    origin: Origin,
    name: String,
    ordinal: Option<u32>,
}

/// An ES|QL function rebuilt in this process, remembering where it came from so it can be
/// sent on (the scheduler sends what it decoded to the executors).
#[derive(Debug)]
struct Traveling {
    inner: Arc<ScalarUDF>,
    origin: Origin,
    key: FunctionKey,
}

impl PartialEq for Traveling {
    fn eq(&self, other: &Self) -> bool {
        self.origin == other.origin && self.key == other.key
    }
}
impl Eq for Traveling {}
impl std::hash::Hash for Traveling {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.origin.hash(state);
        self.key.hash(state);
    }
}

impl ScalarUDFImpl for Traveling {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn signature(&self) -> &Signature {
        self.inner.signature()
    }
    fn return_type(
        &self,
        arg_types: &[datafusion::arrow::datatypes::DataType],
    ) -> Result<datafusion::arrow::datatypes::DataType> {
        self.inner.return_type(arg_types)
    }
    fn return_field_from_args(
        &self,
        args: ReturnFieldArgs,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        self.inner.return_field_from_args(args)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }
}

/// The functions of the queries this process has seen lately, by origin.
type Functions = Arc<Vec<(FunctionKey, Arc<ScalarUDF>)>>;

fn functions_of(origin: &Origin) -> Result<Functions> {
    /// Queries remembered per process: a job's tasks decode the same query many times.
    const REMEMBERED: usize = 64;
    static CACHE: OnceLock<Mutex<VecDeque<(Origin, Functions)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some((_, f)) = lock(cache).iter().find(|(o, _)| o == origin) {
        return Ok(f.clone());
    }
    let fail = |m: String| DataFusionError::Execution(m);
    let recipe = relay::fetch_recipe(&origin.client, &origin.query).map_err(fail)?;
    let datasets = recipe.datasets().map_err(|e| fail(e.to_string()))?;
    let (client, query) = (origin.client.clone(), origin.query.clone());
    let warnings = engine::Warnings::forwarding(move |site, message| {
        // A warning that cannot reach the client is reported where it happened: the
        // function cannot fail the query for it.
        if let Err(e) = relay::send_warning(&client, &query, site, message) {
            eprintln!("trailhunt: a warning of query {query} did not reach its client: {e}");
        }
    });
    let functions = engine::remote::query_functions(
        &recipe.query,
        &esql::Params::default(),
        &datasets,
        recipe.now_ms,
        recipe.time_filter(),
        &warnings,
    )
    .map_err(|e| {
        fail(format!(
            "planning the query again on the cluster failed: {e}"
        ))
    })?;
    let functions: Functions = Arc::new(functions);
    let mut cache = lock(cache);
    if cache.len() >= REMEMBERED {
        cache.pop_front();
    }
    cache.push_back((origin.clone(), functions.clone()));
    Ok(functions)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Encoding and decoding of functions, shared by the two codecs.
#[derive(Debug, Clone, Default)]
struct FunctionCodec {
    /// On the client: the query being sent. Elsewhere functions carry their own origin.
    origin: Option<Origin>,
}

impl FunctionCodec {
    fn encode(&self, udf: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        let any: &dyn std::any::Any = udf.inner().as_ref();
        let wire = if let Some(t) = any.downcast_ref::<Traveling>() {
            WireFunction {
                origin: t.origin.clone(),
                name: t.key.name.clone(),
                ordinal: t.key.ordinal,
            }
        } else if engine::remote::is_engine_function(udf) {
            let origin = self.origin.clone().ok_or_else(|| {
                DataFusionError::Internal(format!(
                    "the ES|QL function [{}] has no query to be rebuilt from",
                    udf.name()
                ))
            })?;
            let key = FunctionKey::of(udf);
            WireFunction {
                origin,
                name: key.name,
                ordinal: key.ordinal,
            }
        } else {
            // One of DataFusion's own: every process has it by name.
            return Ok(());
        };
        serde_json::to_writer(buf, &wire).map_err(|e| DataFusionError::External(Box::new(e)))
    }

    fn decode(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        if buf.is_empty() {
            return Err(DataFusionError::Plan(format!(
                "function [{name}] is not known on this cluster process"
            )));
        }
        let wire: WireFunction = serde_json::from_slice(buf)
            .map_err(|e| DataFusionError::Internal(format!("unreadable function [{name}]: {e}")))?;
        let key = FunctionKey {
            name: wire.name,
            ordinal: wire.ordinal,
        };
        let functions = functions_of(&wire.origin)?;
        let inner = functions
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, f)| f.clone())
            .ok_or_else(|| {
                DataFusionError::Internal(format!(
                    "function [{}] (#{:?}) is not in the query planned again on the cluster: \
                     do the client and the cluster run the same trailhunt version?",
                    key.name, key.ordinal
                ))
            })?;
        Ok(Arc::new(ScalarUDF::new_from_impl(Traveling {
            inner,
            origin: wire.origin,
            key,
        })))
    }
}

/// The store's table on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct WireStore {
    /// A folder every executor sees at this path, or `s3://` read with each machine's own
    /// AWS chain.
    root: store::StoreLocation,
    manifest: store::Manifest,
}

/// The first byte of a table provider on the wire.
const STORE_TABLE: u8 = b'S';
const MEMORY_TABLE: u8 = b'M';
const RAW_TABLE: u8 = b'R';

/// The first bytes of trailhunt's own execution plans on the wire (Ballista's start
/// with a protobuf tag, never with these).
const RAW_SCAN: &[u8] = b"trailhunt-raw-scan:";

/// A lookup table sent whole: small tables only, as a plan travels in one message.
const MAX_MEMORY_TABLE: usize = 64 << 20;

fn encode_memory(dataset: &dyn engine::Dataset, buf: &mut Vec<u8>) -> Result<()> {
    let schema = dataset.schema();
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let batches = dataset
        .scan(&columns)
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    buf.push(MEMORY_TABLE);
    let mut writer = datafusion::arrow::ipc::writer::StreamWriter::try_new(&mut *buf, &schema)?;
    for b in batches {
        let b = b.map_err(|e| DataFusionError::External(Box::new(e)))?;
        writer.write(&b)?;
    }
    writer.finish()?;
    drop(writer);
    if buf.len() > MAX_MEMORY_TABLE {
        return Err(DataFusionError::Plan(format!(
            "lookup table [{}] is {} MiB as Arrow: too large to send with a plan (at most {} MiB)",
            dataset.name(),
            buf.len() >> 20,
            MAX_MEMORY_TABLE >> 20
        )));
    }
    Ok(())
}

/// The logical codec: Ballista's, plus functions and the store's table.
#[derive(Debug)]
pub struct LogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
    functions: FunctionCodec,
    /// How this process reaches a store in S3.
    s3: sources::S3Options,
}

impl LogicalCodec {
    /// For a scheduler or an executor, which reach a store in S3 with `s3`.
    pub fn cluster(s3: sources::S3Options) -> LogicalCodec {
        LogicalCodec {
            ballista: BallistaLogicalExtensionCodec::default(),
            functions: FunctionCodec::default(),
            s3,
        }
    }

    /// For a client sending the query `origin`.
    pub fn client(origin: Origin) -> LogicalCodec {
        LogicalCodec {
            ballista: BallistaLogicalExtensionCodec::default(),
            functions: FunctionCodec {
                origin: Some(origin),
            },
            s3: sources::S3Options::default(),
        }
    }
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        match buf.split_first() {
            Some((&STORE_TABLE, json)) => {
                let w: WireStore = serde_json::from_slice(json).map_err(|e| {
                    DataFusionError::Internal(format!("unreadable store table [{table_ref}]: {e}"))
                })?;
                Ok(Arc::new(store::StoreTable::at(
                    w.root,
                    self.s3.clone(),
                    Arc::new(w.manifest),
                    schema,
                )))
            }
            Some((&RAW_TABLE, json)) => {
                let w: crate::raw::WireRawTable = serde_json::from_slice(json).map_err(|e| {
                    DataFusionError::Internal(format!("unreadable raw table [{table_ref}]: {e}"))
                })?;
                Ok(Arc::new(crate::raw::RawTable::new(w, schema)))
            }
            Some((&MEMORY_TABLE, ipc)) => {
                let reader = datafusion::arrow::ipc::reader::StreamReader::try_new(
                    std::io::Cursor::new(ipc),
                    None,
                )?;
                let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
                Ok(Arc::new(datafusion::datasource::MemTable::try_new(
                    schema,
                    vec![batches],
                )?))
            }
            _ => self
                .ballista
                .try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let any: &dyn std::any::Any = node.as_ref();
        if let Some(table) = any.downcast_ref::<store::StoreTable>() {
            let wire = WireStore {
                root: table.location().absolute().map_err(|e| {
                    DataFusionError::Plan(format!("store {}: {e}", table.location()))
                })?,
                manifest: table.manifest().as_ref().clone(),
            };
            buf.push(STORE_TABLE);
            return serde_json::to_writer(buf, &wire)
                .map_err(|e| DataFusionError::External(Box::new(e)));
        }
        if let Some(table) = any.downcast_ref::<engine::DatasetTable>() {
            let dataset = table.dataset();
            if dataset.in_memory() {
                return encode_memory(dataset.as_ref(), buf);
            }
            let any: &dyn std::any::Any = dataset.as_ref();
            if let Some(files) = any.downcast_ref::<datasets::CloudTrailFiles>() {
                let origin = self.functions.origin.clone().ok_or_else(|| {
                    DataFusionError::Internal("raw files with no query to report to".into())
                })?;
                let mut spec = files.spec().map_err(DataFusionError::Plan)?;
                // Executors have their own working directory; problems they report are
                // named by the client's paths again (`relay`).
                spec.files = spec
                    .files
                    .iter()
                    .map(std::path::absolute)
                    .collect::<std::io::Result<_>>()
                    .map_err(|e| DataFusionError::Plan(format!("input path: {e}")))?;
                spec.objects = std::mem::take(&mut spec.objects)
                    .into_iter()
                    .map(|(p, o)| std::path::absolute(&p).map(|p| (p, o)))
                    .collect::<std::io::Result<_>>()
                    .map_err(|e| DataFusionError::Plan(format!("input path: {e}")))?;
                buf.push(RAW_TABLE);
                return serde_json::to_writer(buf, &crate::raw::WireRawTable { spec, origin })
                    .map_err(|e| DataFusionError::External(Box::new(e)));
            }
        }
        Err(DataFusionError::Plan(format!(
            "[{table_ref}] cannot be read on a cluster: only a store (`--store DIR`), raw \
             files (`--input`) on a folder every executor reads at the same path, and \
             lookup tables can"
        )))
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn datafusion::datasource::file_format::FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn datafusion::datasource::file_format::FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        self.functions.decode(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.functions.encode(node, buf)
    }
}

/// The physical codec: Ballista's, plus functions.
#[derive(Debug, Default)]
pub struct PhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
    functions: FunctionCodec,
}

impl PhysicalCodec {
    pub fn client(origin: Origin) -> PhysicalCodec {
        PhysicalCodec {
            ballista: BallistaPhysicalExtensionCodec::default(),
            functions: FunctionCodec {
                origin: Some(origin),
            },
        }
    }
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if let Some(json) = buf.strip_prefix(RAW_SCAN) {
            let wire = serde_json::from_slice(json)
                .map_err(|e| DataFusionError::Internal(format!("unreadable raw scan: {e}")))?;
            return crate::raw::raw_scan_exec(wire);
        }
        self.ballista.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if let Some(wire) = crate::raw::wire_of(node.as_ref()) {
            buf.extend_from_slice(RAW_SCAN);
            return serde_json::to_writer(buf, &wire)
                .map_err(|e| DataFusionError::External(Box::new(e)));
        }
        self.ballista.try_encode(node, buf, proto_converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        self.functions.decode(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.functions.encode(node, buf)
    }
}

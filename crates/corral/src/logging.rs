//! Log lines in ZooKeeper's shape, `date time [myid:N] - LEVEL [component] - message`,
//! so operators' greps keep working, or one JSON object per line (`corral.logFormat=json`).
//! Lines go to stderr, and also to a file rolled daily (seven kept) in `corral.logDir`
//! when it is set (or ZOO_LOG_DIR, which ZooKeeper's scripts use). RUST_LOG (or
//! CORRAL_LOG) filters as usual.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use corral_server::config::LogFormat;

/// Daily files kept in the log directory.
const KEPT_FILES: usize = 7;

struct ZkFormat {
    my_id: u64,
    json: bool,
}

fn component(target: &str) -> &str {
    target.split("::").last().unwrap_or(target)
}

impl<S, N> FormatEvent<S, N> for ZkFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let now = chrono::Local::now();
        if self.json {
            let mut fields = JsonFields::default();
            event.record(&mut fields);
            fields.map.insert(
                "time".into(),
                now.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string().into(),
            );
            fields.map.insert("myid".into(), self.my_id.into());
            fields
                .map
                .insert("level".into(), meta.level().as_str().into());
            fields
                .map
                .insert("component".into(), component(meta.target()).into());
            let line = serde_json::Value::Object(fields.map);
            return writeln!(writer, "{line}");
        }
        write!(
            writer,
            "{} [myid:{}] - {:<5} [{}] - ",
            now.format("%Y-%m-%d %H:%M:%S,%3f"),
            self.my_id,
            meta.level(),
            component(meta.target())
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// An event's fields as JSON values; the message under "message".
#[derive(Default)]
struct JsonFields {
    map: serde_json::Map<String, serde_json::Value>,
}

impl Visit for JsonFields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.map
            .insert(field.name().into(), format!("{value:?}").into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.map.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.map.insert(field.name().into(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.map.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.map.insert(field.name().into(), value.into());
    }
}

fn filter() -> EnvFilter {
    std::env::var("CORRAL_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info,openraft=warn"))
}

/// Sets up logging; the guard must live as long as the process logs to a file.
pub fn init(
    my_id: u64,
    format: LogFormat,
    dir: Option<&std::path::Path>,
) -> Result<Option<WorkerGuard>, String> {
    let json = format == LogFormat::Json;
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .event_format(ZkFormat { my_id, json });
    let (file, guard) = match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create the log directory {}: {e}", dir.display()))?;
            let appender = tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("corral")
                .filename_suffix("log")
                .max_log_files(KEPT_FILES)
                .build(dir)
                .map_err(|e| format!("cannot log to {}: {e}", dir.display()))?;
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .event_format(ZkFormat { my_id, json });
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(filter())
        .with(stderr)
        .with(file)
        .try_init();
    Ok(guard)
}

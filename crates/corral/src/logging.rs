//! Log lines in ZooKeeper's shape, `date time [myid:N] - LEVEL [component] - message`,
//! so operators' greps keep working. RUST_LOG (or CORRAL_LOG) filters as usual.

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

struct ZkFormat {
    my_id: u64,
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
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S,%3f");
        let component = meta.target().split("::").last().unwrap_or(meta.target());
        write!(
            writer,
            "{now} [myid:{}] - {:<5} [{component}] - ",
            self.my_id,
            meta.level()
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

pub fn init(my_id: u64) {
    let filter = std::env::var("CORRAL_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info,openraft=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .event_format(ZkFormat { my_id })
        .try_init();
}

//! Python bindings of wabill (the module `wabill._wabill`, wrapped by `wabill/__init__.py`):
//! logs in as paths or Arrow streams, priced lines, summary and invoices out as Arrow record
//! batches, every error a `wabill.WabillError` with wabill's positioned message. Every function
//! takes the pricing options by name as keyword arguments, each set on wabill's
//! [`Setup`] (`Setup::OPTIONS`), so that they are the command line's.

use std::io::Read;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use arrow::array::builder::{
    BooleanBuilder, Decimal128Builder, StringBuilder, TimestampSecondBuilder, UInt64Builder,
};
use arrow::array::{ArrayRef, RecordBatch, RecordBatchReader, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::ffi_stream::RecordBatchStreamReader;
use arrow::pyarrow::{FromPyArrow, IntoPyArrow};
use csv::StringRecord;
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyTuple};
use wabill::billing::{Billing, Tariff};
use wabill::log::{
    open_log, price_logs, ArrowLines, ArrowLog, Businesses, Counts, LogInput, ReadOptions, ReconcileSink,
    Row, RowSummary, Setup, Sink, MONEY,
};
use wabill::reconcile::{Analytics, Bucket, Reconciler, Tolerance, DIMENSIONS, DISAGREEMENT_COLUMNS};
use wabill::report::{GroupBy, GroupKey, Render, Summary, Totals};
use wabill::{Decimal, Engine, Error, Position, PricedLine};

create_exception!(
    _wabill,
    WabillError,
    PyValueError,
    "A bad log, configuration or file: wabill's message, positioned."
);

/// wabill's error as a Python exception: its message and its causes, as the CLI prints them.
fn py_err(e: &Error) -> PyErr {
    WabillError::new_err(py_message(e))
}

fn arrow_err(e: ArrowError) -> PyErr {
    WabillError::new_err(e.to_string())
}

/// A log as Python gives it: a path, or an Arrow stream and its name for messages.
enum Log {
    Path(String),
    Stream(RecordBatchStreamReader, String),
}

impl Log {
    /// Its name in messages.
    fn name(&self) -> &str {
        match self {
            Log::Path(path) => path,
            Log::Stream(_, name) => name,
        }
    }

    fn open(self) -> Result<LogInput<Box<dyn Read + Send>>, Error> {
        Ok(match self {
            Log::Path(path) => LogInput { reader: open_log(&path)?, name: path },
            Log::Stream(stream, name) => {
                let schema = stream.schema();
                LogInput { name, reader: Box::new(ArrowLog::new(schema, stream)) }
            }
        })
    }
}

/// The pricing options given by name (keyword arguments), each set on the library's
/// [`Setup`] as the command line gives it: an unknown name is an error naming it.
fn setup_of(options: Option<&Bound<PyDict>>) -> PyResult<Setup> {
    let mut setup = Setup::default();
    for (name, value) in options.into_iter().flat_map(|o| o.iter()) {
        let name: String = name.extract()?;
        let texts = if value.is_none() { Vec::new() } else { texts(&value)? };
        if texts.len() > 1 && !Setup::repeats(&name) {
            let message = format!("{name}: one value, not a list (only rates takes several)");
            return Err(WabillError::new_err(message));
        }
        if texts.is_empty() {
            setup.set(&name, None).map_err(|e| py_err(&e))?;
        }
        for text in &texts {
            setup.set(&name, Some(text)).map_err(|e| py_err(&e))?;
        }
    }
    Ok(setup)
}

/// An option's value as text, as the command line gives it; a list or tuple, each of its
/// items.
fn texts(value: &Bound<PyAny>) -> PyResult<Vec<String>> {
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        return value.try_iter()?.map(|item| text(&item?)).collect();
    }
    Ok(vec![text(value)?])
}

/// `true` or `false`, a path, a `datetime.timedelta` of whole seconds, anything else as `str()`
/// gives it (a `datetime.date` as `YYYY-MM-DD`; a `datetime.datetime` is refused, not cut to
/// its date).
fn text(value: &Bound<PyAny>) -> PyResult<String> {
    if value.is_instance_of::<PyBool>() {
        return Ok(value.is_truthy()?.to_string());
    }
    if let Ok(path) = value.extract::<PathBuf>() {
        return Ok(path.display().to_string());
    }
    if value.hasattr("total_seconds")? {
        let whole = value.getattr("microseconds")?.extract::<i64>()? == 0;
        let seconds =
            value.getattr("days")?.extract::<i64>()? * 86_400 + value.getattr("seconds")?.extract::<i64>()?;
        if !whole {
            return Err(WabillError::new_err(format!("not whole seconds: {}", value.str()?)));
        }
        return Ok(format!("{seconds}s"));
    }
    if value.hasattr("hour")? && value.hasattr("year")? {
        return Err(WabillError::new_err(format!("a date, not a date and time: {}", value.str()?)));
    }
    Ok(value.str()?.to_string())
}

/// A run set up: the engine and how logs are read (every file the options name read, every
/// option checked, before any log is opened).
struct Run {
    setup: Setup,
    engine: Engine,
    read: ReadOptions,
}

impl Run {
    fn new(setup: Setup) -> Result<Run, Error> {
        Ok(Run { engine: setup.engine()?, read: setup.read_options()?, setup })
    }

    /// Prices the logs into the sink; the counts, and the notes of what the accounts file
    /// says of the logs' businesses (with `strict_accounts`, one it lacks is an error).
    fn price<S: Sink>(
        mut self,
        logs: Vec<Log>,
        sink: &mut S,
        businesses: fn(&S) -> &Businesses,
    ) -> Result<(Counts, Vec<String>), Error> {
        let inputs = logs.into_iter().map(Log::open).collect::<Result<Vec<_>, Error>>()?;
        let counts = price_logs(inputs, &mut self.engine, &self.read, sink)?;
        let check = self.setup.check_accounts(&self.engine, businesses(sink))?;
        Ok((counts, check.notes()))
    }
}

/// The logs, the run of the options given by name, and a billing of each tariff file.
fn prepare(
    logs: &Bound<PyAny>,
    tariffs: &[String],
    options: Option<&Bound<PyDict>>,
) -> PyResult<(Vec<Log>, Run, Vec<Billing>)> {
    let logs = logs_of(logs)?;
    let run = Run::new(setup_of(options)?).map_err(|e| py_err(&e))?;
    let billings = tariffs.iter().map(|p| Billing::new(Tariff::from_toml(&wabill::log::read_text(p)?, p)?));
    Ok((logs, run, billings.collect::<Result<_, Error>>().map_err(|e| py_err(&e))?))
}

/// Where the priced batches go: kept, sent to a reader on another thread, or nowhere (the
/// lines are not made: a comparison of tariffs keeps their billings alone).
enum Out {
    Keep(Vec<RecordBatch>),
    Send(SyncSender<Message>),
    Nowhere,
}

/// What the pricing thread of a stream sends.
enum Message {
    Schema(SchemaRef),
    Batch(RecordBatch),
    Failed(String),
}

/// The sink of a run from Python: priced lines as record batches, the summary, the tariffs'
/// billings, the rejected rows, the logs' businesses.
struct PySink {
    lines: Option<ArrowLines>,
    out: Out,
    summary: RowSummary,
    billings: Vec<Billing>,
    rejects: Vec<(String, u64, String)>,
    businesses: Businesses,
    /// The logs' names, for messages.
    logs: Vec<String>,
}

impl PySink {
    fn new(logs: &[Log], out: Out, summary: Summary, billings: Vec<Billing>) -> PySink {
        PySink {
            lines: None,
            out,
            summary: RowSummary::new(summary),
            billings,
            rejects: Vec::new(),
            businesses: Businesses::default(),
            logs: logs.iter().map(|l| l.name().to_string()).collect(),
        }
    }

    fn emit(&mut self, batch: RecordBatch) -> Result<(), Error> {
        match &mut self.out {
            Out::Keep(batches) => batches.push(batch),
            Out::Send(to) => to
                .send(Message::Batch(batch))
                .map_err(|_| Error::io("<stream>", std::io::Error::other("the reader was closed")))?,
            Out::Nowhere => {}
        }
        Ok(())
    }

    /// Prices the logs into it, and emits the last batch of lines.
    fn run(&mut self, run: Run, logs: Vec<Log>) -> Result<(Counts, Vec<String>), Error> {
        let done = run.price(logs, self, |s| &s.businesses)?;
        if let Some(batch) = self.lines.as_mut().and_then(ArrowLines::finish) {
            self.emit(batch)?;
        }
        Ok(done)
    }
}

impl Sink for PySink {
    fn begin(&mut self, headers: &[StringRecord]) -> Result<(), Error> {
        self.summary.begin(headers, &self.logs)?;
        if let Out::Nowhere = self.out {
            return Ok(());
        }
        let extra: &[&str] = if self.billings.is_empty() { &[] } else { &["aggregator_fee"] };
        let lines = ArrowLines::new(headers, extra);
        if let Out::Send(to) = &self.out {
            let _ = to.send(Message::Schema(lines.schema()));
        }
        self.lines = Some(lines);
        Ok(())
    }

    fn priced(&mut self, row: &Row, line: &PricedLine) -> Result<(), Error> {
        let mut fee = None;
        if !self.billings.is_empty() {
            let event = row.event().expect("a priced row has its event");
            for b in &mut self.billings {
                let f = b.add(&event, line)?;
                fee.get_or_insert(f);
            }
        }
        if let Some(lines) = &mut self.lines {
            let extra: &[Option<Decimal>] = if self.billings.is_empty() { &[] } else { &[fee] };
            if let Some(batch) = lines.push(row, line, extra)? {
                self.emit(batch)?;
            }
        }
        self.summary.add(row, line)
    }

    fn rejected(&mut self, row: &Row, error: &Error) -> Result<(), Error> {
        self.rejects.push((row.file().to_string(), row.line(), error.to_string()));
        Ok(())
    }

    fn business(&mut self, name: &str, first: Position) {
        self.businesses.add(name, first);
    }
}

fn logs_of(logs: &Bound<PyAny>) -> PyResult<Vec<Log>> {
    let list: Vec<Bound<PyAny>> = logs.extract()?;
    list.iter()
        .enumerate()
        .map(|(i, log)| {
            if let Ok(path) = log.extract::<std::path::PathBuf>() {
                return Ok(Log::Path(path.display().to_string()));
            }
            let name = if list.len() == 1 { "<arrow>".to_string() } else { format!("<arrow {}>", i + 1) };
            Ok(Log::Stream(RecordBatchStreamReader::from_pyarrow_bound(log)?, name))
        })
        .collect()
}

fn table<'py>(py: Python<'py>, schema: SchemaRef, batches: Vec<RecordBatch>) -> PyResult<Bound<'py, PyAny>> {
    arrow::pyarrow::Table::try_new(batches, schema).map_err(arrow_err)?.into_pyarrow(py)
}

/// The summary's groups as a record batch: the grouping's keys, the currency, the counts, the
/// charge.
fn summary_batch(summary: &Summary) -> Result<RecordBatch, ArrowError> {
    let keys: Vec<String> = summary.keys().iter().map(|k| k.to_string()).collect();
    let groups = summary.groups();
    let mut fields: Vec<Field> = keys.iter().map(|k| Field::new(k, DataType::Utf8, false)).collect();
    fields.push(Field::new("currency", DataType::Utf8, false));
    for n in ["lines", "charged", "unverified"] {
        fields.push(Field::new(n, DataType::UInt64, false));
    }
    fields.push(Field::new("charge", MONEY, false));
    let mut columns: Vec<ArrayRef> = Vec::new();
    for k in 0..keys.len() {
        columns.push(Arc::new(StringArray::from_iter_values(groups.iter().map(|g| g.keys[k].clone()))));
    }
    columns.push(Arc::new(StringArray::from_iter_values(groups.iter().map(|g| g.currency.code()))));
    let counts: [fn(&Totals) -> u64; 3] = [|t| t.lines, |t| t.charged, |t| t.unverified];
    for count in counts {
        let mut b = UInt64Builder::new();
        groups.iter().for_each(|g| b.append_value(count(&g.totals)));
        columns.push(Arc::new(b.finish()));
    }
    let mut charge = Decimal128Builder::new().with_data_type(MONEY);
    for g in &groups {
        charge.append_value(money(g.totals.charge)?);
    }
    columns.push(Arc::new(charge.finish()));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// An amount as `decimal128(38, 10)` ([`wabill::log::money`]), or why it cannot be one.
fn money(d: Decimal) -> Result<i128, ArrowError> {
    wabill::log::money(d).map_err(|why| ArrowError::InvalidArgumentError(format!("{d}: {why}")))
}

/// A tariff's invoice lines as a record batch (docs/rules.md §8's columns).
fn invoices_batch(billing: &Billing) -> Result<RecordBatch, PyErr> {
    let invoices = billing.invoices().map_err(|e| py_err(&e))?;
    let text = |n: &str| Field::new(n, DataType::Utf8, false);
    let schema = Schema::new(vec![
        text("invoice"),
        text("month"),
        text("currency"),
        text("part"),
        Field::new("quantity", MONEY, false),
        Field::new("unit_price", MONEY, true),
        Field::new("amount", MONEY, false),
        text("description"),
    ]);
    let [mut invoice, mut month, mut currency, mut part, mut description] =
        std::array::from_fn(|_| StringBuilder::new());
    let [mut quantity, mut unit_price, mut amount] =
        std::array::from_fn(|_| Decimal128Builder::new().with_data_type(MONEY));
    for inv in &invoices {
        for l in &inv.lines {
            invoice.append_value(&*inv.unit);
            month.append_value(inv.month.to_string());
            currency.append_value(inv.currency.code());
            part.append_value(l.part.as_str());
            quantity.append_value(money(l.quantity).map_err(arrow_err)?);
            unit_price.append_option(l.unit_price.map(money).transpose().map_err(arrow_err)?);
            amount.append_value(money(l.amount).map_err(arrow_err)?);
            description.append_value(&l.description);
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(invoice.finish()),
        Arc::new(month.finish()),
        Arc::new(currency.finish()),
        Arc::new(part.finish()),
        Arc::new(quantity.finish()),
        Arc::new(unit_price.finish()),
        Arc::new(amount.finish()),
        Arc::new(description.finish()),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).map_err(arrow_err)
}

fn counts_dict<'py>(py: Python<'py>, counts: &Counts) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("rows", counts.rows)?;
    d.set_item("priced", counts.priced)?;
    d.set_item("rejected", counts.rejected)?;
    d.set_item("duplicates", counts.duplicates)?;
    Ok(d)
}

/// The counts and notes of a run as a dict's items.
fn set_run(result: &Bound<PyDict>, (counts, notes): (Counts, Vec<String>)) -> PyResult<()> {
    result.set_item("counts", counts_dict(result.py(), &counts)?)?;
    result.set_item("notes", notes)
}

/// Prices logs with the pricing options given by name (`Setup::OPTIONS`); a dict of `lines`,
/// `summary` (grouped by `group_by`: the line's keys or the log's columns), `invoices` (one
/// table per tariff), `counts`, `rejects` and `notes` (what the accounts file says of the
/// logs' businesses).
#[pyfunction]
#[pyo3(signature = (logs, tariffs=Vec::new(), group_by=None, **options))]
fn price<'py>(
    py: Python<'py>,
    logs: &Bound<'py, PyAny>,
    tariffs: Vec<String>,
    group_by: Option<Vec<String>>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (logs, run, billings) = prepare(logs, &tariffs, options)?;
    let summary = match group_by {
        Some(keys) => {
            let keys = keys.iter().map(|k| k.parse()).collect::<Result<Vec<GroupKey>, Error>>();
            Summary::with_keys(&keys.map_err(|e| py_err(&e))?)
        }
        None => Summary::new(&GroupBy::DEFAULT),
    };
    let mut sink = PySink::new(&logs, Out::Keep(Vec::new()), summary, billings);
    let done = py.detach(|| sink.run(run, logs)).map_err(|e| py_err(&e))?;
    let schema = match &sink.lines {
        Some(l) => l.schema(),
        None => Arc::new(Schema::empty()),
    };
    let Out::Keep(batches) = std::mem::replace(&mut sink.out, Out::Nowhere) else { unreachable!() };
    let result = PyDict::new(py);
    result.set_item("lines", table(py, schema, batches)?)?;
    let summary = summary_batch(sink.summary.summary()).map_err(arrow_err)?;
    result.set_item("summary", table(py, summary.schema(), vec![summary])?)?;
    let invoices = sink
        .billings
        .iter()
        .map(|b| {
            let batch = invoices_batch(b)?;
            Ok((b.tariff().name.clone(), table(py, batch.schema(), vec![batch])?))
        })
        .collect::<PyResult<Vec<_>>>()?;
    result.set_item("invoices", invoices)?;
    result.set_item("rejects", std::mem::take(&mut sink.rejects))?;
    set_run(&result, done)?;
    Ok(result)
}

/// Bills logs under several tariffs (`wabill compare`), keeping no line; a dict of
/// `comparison` (the CSV of `wabill compare --format csv`), `counts` and `notes`.
#[pyfunction]
#[pyo3(signature = (logs, tariffs, **options))]
fn compare<'py>(
    py: Python<'py>,
    logs: &Bound<'py, PyAny>,
    tariffs: Vec<String>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (logs, run, billings) = prepare(logs, &tariffs, options)?;
    let mut sink = PySink::new(&logs, Out::Nowhere, Summary::new(&[]), billings);
    let done = py.detach(|| sink.run(run, logs)).map_err(|e| py_err(&e))?;
    let comparison = wabill::billing::compare(&sink.billings).map_err(|e| py_err(&e))?;
    let mut text = Vec::new();
    Render::csv(&comparison, &mut text).map_err(|e| py_err(&Error::io("<comparison>", e)))?;
    let result = PyDict::new(py);
    result.set_item("comparison", String::from_utf8_lossy(&text).into_owned())?;
    set_run(&result, done)?;
    Ok(result)
}

/// The priced lines of a run on another thread, a record batch at a time.
struct Stream {
    schema: SchemaRef,
    batches: Receiver<Message>,
}

impl Iterator for Stream {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.batches.recv().ok()? {
            Message::Batch(b) => Some(Ok(b)),
            Message::Failed(e) => Some(Err(ArrowError::ExternalError(e.into()))),
            Message::Schema(_) => self.next(),
        }
    }
}

impl RecordBatchReader for Stream {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// Prices logs on another thread; a `pyarrow.RecordBatchReader` of the priced lines, a batch
/// of 65,536 lines at a time, a few batches ahead of the reader: memory as the CLI's. The
/// options' files are read, and the options checked, before it returns.
#[pyfunction]
#[pyo3(signature = (logs, tariffs=Vec::new(), **options))]
fn price_stream<'py>(
    py: Python<'py>,
    logs: &Bound<'py, PyAny>,
    tariffs: Vec<String>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (logs, run, billings) = prepare(logs, &tariffs, options)?;
    let (to, from) = sync_channel(2);
    std::thread::spawn(move || {
        let mut sink = PySink::new(&logs, Out::Send(to.clone()), Summary::new(&[]), billings);
        if let Err(e) = sink.run(run, logs) {
            let _ = to.send(Message::Failed(py_message(&e)));
        }
    });
    let (first, from) = py.detach(move || (from.recv(), from));
    let schema = match first {
        Ok(Message::Schema(s)) => s,
        Ok(Message::Failed(e)) => return Err(WabillError::new_err(e)),
        _ => return Err(WabillError::new_err("the pricing thread ended without a schema")),
    };
    let stream: Box<dyn RecordBatchReader + Send> = Box::new(Stream { schema, batches: from });
    stream.into_pyarrow(py)
}

fn py_message(e: &Error) -> String {
    let mut message = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        message.push_str(": ");
        message.push_str(&c.to_string());
        cause = c.source();
    }
    message
}

/// The disagreements, a row each ([`DISAGREEMENT_COLUMNS`]), as a record batch: `line` a
/// count, `meta_billable` a boolean, the charges money, empty fields null.
fn disagreements_batch(rows: &[Vec<String>]) -> Result<RecordBatch, ArrowError> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (i, name) in DISAGREEMENT_COLUMNS.iter().enumerate() {
        let cells = rows.iter().map(|r| r[i].as_str());
        let (kind, column): (DataType, ArrayRef) = match *name {
            "line" => {
                let mut b = UInt64Builder::new();
                for c in cells {
                    b.append_option(c.parse().ok());
                }
                (DataType::UInt64, Arc::new(b.finish()))
            }
            "meta_billable" => {
                let mut b = BooleanBuilder::new();
                for c in cells {
                    b.append_option(c.parse().ok());
                }
                (DataType::Boolean, Arc::new(b.finish()))
            }
            "wabill_charge" | "meta_charge" | "difference" => {
                let mut b = Decimal128Builder::new().with_data_type(MONEY);
                for c in cells {
                    let d = c.parse::<Decimal>().map_err(|e| ArrowError::ParseError(format!("{c}: {e}")))?;
                    b.append_value(money(d)?);
                }
                (MONEY, Arc::new(b.finish()))
            }
            _ => {
                let mut b = StringBuilder::new();
                for c in cells {
                    b.append_option(Some(c).filter(|c| !c.is_empty()));
                }
                (DataType::Utf8, Arc::new(b.finish()))
            }
        };
        fields.push(Field::new(*name, kind, true));
        columns.push(column);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// Rows of the bucket table as a record batch: the columns of `wabill reconcile --format csv`,
/// times as `timestamp[s, UTC]`, costs as money, empty fields null.
fn buckets_batch(rows: &[Bucket]) -> Result<RecordBatch, ArrowError> {
    let text = |n: &str| Field::new(n, DataType::Utf8, true);
    let time = |n: &str| {
        Field::new(n, DataType::Timestamp(arrow::datatypes::TimeUnit::Second, Some("UTC".into())), false)
    };
    let mut fields =
        vec![Field::new("source", DataType::Utf8, false), text("waba"), time("start"), time("end")];
    fields.extend(DIMENSIONS.iter().map(|d| text(d)));
    fields.push(text("currency"));
    for n in ["wabill_volume", "meta_volume"] {
        fields.push(Field::new(n, DataType::UInt64, false));
    }
    for n in ["wabill_cost", "meta_cost"] {
        fields.push(Field::new(n, MONEY, true));
    }
    for n in ["volume_agrees", "cost_agrees"] {
        fields.push(Field::new(n, DataType::Boolean, false));
    }
    fields.push(text("note"));
    let strings = |f: &dyn Fn(&Bucket) -> Option<String>| -> ArrayRef {
        let mut b = StringBuilder::new();
        for r in rows {
            b.append_option(f(r).filter(|s| !s.is_empty()));
        }
        Arc::new(b.finish())
    };
    let times = |f: fn(&Bucket) -> i64| -> ArrayRef {
        let mut b = TimestampSecondBuilder::new().with_timezone("UTC");
        rows.iter().for_each(|r| b.append_value(f(r)));
        Arc::new(b.finish())
    };
    let mut columns: Vec<ArrayRef> = vec![
        strings(&|r| Some(r.source.to_string())),
        strings(&|r| r.waba.clone()),
        times(|r| r.start),
        times(|r| r.end),
    ];
    for i in 0..DIMENSIONS.len() {
        columns.push(strings(&|r| Some(r.dims[i].clone())));
    }
    columns.push(strings(&|r| r.currency.map(|c| c.to_string())));
    let volumes: [fn(&Bucket) -> u64; 2] = [|r| r.wabill.volume, |r| r.meta.volume];
    for volume in volumes {
        let mut b = UInt64Builder::new();
        rows.iter().for_each(|r| b.append_value(volume(r)));
        columns.push(Arc::new(b.finish()));
    }
    let costs: [fn(&Bucket) -> Option<Decimal>; 2] = [|r| r.wabill.cost, |r| r.meta.cost];
    for cost in costs {
        let mut b = Decimal128Builder::new().with_data_type(MONEY);
        for r in rows {
            b.append_option(cost(r).map(money).transpose()?);
        }
        columns.push(Arc::new(b.finish()));
    }
    let agrees: [fn(&Bucket) -> bool; 2] = [|r| r.volume_agrees, |r| r.cost_agrees];
    for agree in agrees {
        let mut b = BooleanBuilder::new();
        rows.iter().for_each(|r| b.append_value(agree(r)));
        columns.push(Arc::new(b.finish()));
    }
    columns.push(strings(&|r| Some(r.note.clone())));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// Reads the analytics responses: each `(name, text)`, the text read from the file `name` when
/// absent.
fn analytics_of(given: Vec<(String, Option<String>)>) -> Result<Vec<Analytics>, Error> {
    given
        .into_iter()
        .map(|(name, text)| {
            let text = match text {
                Some(t) => t,
                None => wabill::log::read_text(&name)?,
            };
            Analytics::from_json(&text, &name)
        })
        .collect()
}

/// Checks logs against Meta's verdicts and analytics (`wabill reconcile`) with the pricing
/// options given by name; a dict of `disagreements`, `messages`, `buckets` (tables), `agrees`,
/// `compared` (the message counts), `counts` and `notes`.
#[pyfunction]
#[pyo3(signature = (logs, analytics=Vec::new(), tolerance="0.01", **options))]
fn reconcile<'py>(
    py: Python<'py>,
    logs: &Bound<'py, PyAny>,
    analytics: Vec<(String, Option<String>)>,
    tolerance: &str,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (logs, run, _) = prepare(logs, &[], options)?;
    let tolerance: Tolerance =
        tolerance.parse().map_err(|e| WabillError::new_err(format!("tolerance: {e}")))?;
    let analytics = analytics_of(analytics).map_err(|e| py_err(&e))?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let keep = |d: &wabill::reconcile::Disagreement, event: &wabill::Event, line: &PricedLine| {
        rows.push(d.record(event, line));
        Ok(())
    };
    let mut sink = ReconcileSink::new(Reconciler::new(analytics, tolerance), keep, Businesses::default());
    let done = py.detach(|| run.price(logs, &mut sink, |s| &s.inner)).map_err(|e| py_err(&e))?;
    let (result, _, _) = sink.finish();
    let result_dict = PyDict::new(py);
    let disagreements = disagreements_batch(&rows).map_err(arrow_err)?;
    result_dict.set_item("disagreements", table(py, disagreements.schema(), vec![disagreements])?)?;
    let all = result.rows();
    let (messages, buckets) = all.split_at(all.len() - result.buckets.len());
    for (name, part) in [("messages", messages), ("buckets", buckets)] {
        let batch = buckets_batch(part).map_err(arrow_err)?;
        result_dict.set_item(name, table(py, batch.schema(), vec![batch])?)?;
    }
    result_dict.set_item("agrees", result.agrees())?;
    let m = &result.messages;
    let compared = PyDict::new(py);
    compared.set_item("compared", m.compared)?;
    compared.set_item("agree", m.agree)?;
    compared.set_item("disagree", m.disagreements())?;
    let by_kind = PyDict::new(py);
    for (kind, n) in &m.disagree {
        by_kind.set_item(kind.to_string(), n)?;
    }
    compared.set_item("by_kind", by_kind)?;
    compared.set_item("without_verdict", m.without_verdict)?;
    result_dict.set_item("compared", compared)?;
    set_run(&result_dict, done)?;
    Ok(result_dict)
}

#[pymodule]
fn _wabill(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("WabillError", m.py().get_type::<WabillError>())?;
    m.add_function(wrap_pyfunction!(price, m)?)?;
    m.add_function(wrap_pyfunction!(price_stream, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(reconcile, m)?)?;
    Ok(())
}

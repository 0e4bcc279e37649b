//! The subcommands and their options (docs/rules.md §9).

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use chrono::NaiveDate;
use chrono_tz::Tz;
use clap::{Args, Parser, Subcommand};

use wabill::billing::{compare as compare_tariffs, Billing, Tariff};
use wabill::log::{price_logs, read_text, Counts, InputFormat, LogInput, Setup, Sink};
use wabill::report::{Format, GroupKey, Invoices, Render, Summary};
use wabill::{Error, RuleChoice};

use output::Output;
use paths::Named;
use sink::PriceSink;

mod background;
mod cards;
mod convert;
mod generate;
mod output;
mod paths;
mod progress;
mod rates;
mod reconcile;
mod report;
mod sink;

#[derive(Parser)]
#[command(
    name = "wabill",
    version,
    about = "Prices recorded WhatsApp Business message logs and explains every charge"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Price logs under Meta's rules: priced lines, a summary, and a tariff's invoices.
    Price(PriceArgs),
    /// Price logs under several aggregator tariffs and compare them.
    Compare(CompareArgs),
    /// Price logs into one self-contained HTML page of charts (and tariffs compared).
    Report(report::ReportArgs),
    /// Check wabill against Meta: each message against Meta's verdict, and Meta's analytics
    /// bucket by bucket.
    Reconcile(reconcile::ReconcileArgs),
    /// Show the rate card in force (or every dated price), or import Meta's card files.
    Rates(rates::RatesArgs),
    /// Write a deterministic synthetic log (and its accounts), for demos and benchmarks.
    Generate(GenerateArgs),
    /// Convert Meta's webhook logs to wabill's CSV log, one row per message.
    Convert(convert::ConvertArgs),
}

#[derive(Args)]
struct GenerateArgs {
    /// Events to write.
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// Users in the pool events are drawn from.
    #[arg(long, default_value_t = 10_000)]
    users: u64,
    /// Business numbers (two per WABA, two WABAs per portfolio, in six time zones).
    #[arg(long, default_value_t = 12)]
    businesses: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The first day (UTC).
    #[arg(long, default_value = "2025-09-01")]
    start: NaiveDate,
    /// Days the log spans.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Write the log there (default: stdout).
    #[arg(long, value_name = "FILE")]
    output: Option<String>,
    /// Write the businesses' accounts file there.
    #[arg(long, value_name = "FILE")]
    accounts: Option<String>,
    /// `csv` (wabill's log) or `webhooks` (Meta's notifications, one a line).
    #[arg(long, value_enum, default_value = "csv")]
    format: LogFormat,
}

/// The formats `generate` writes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Csv,
    Webhooks,
}

/// The options every pricing command shares.
#[derive(Args)]
struct PricingArgs {
    #[command(flatten)]
    book: cards::BookArgs,
    /// Accounts CSV: business,waba,portfolio,timezone,currency,country,auth_intl_from.
    #[arg(long, value_name = "FILE")]
    accounts: Option<PathBuf>,
    /// Refuse a log whose businesses are not all in the accounts file (else each is reported
    /// and priced with the defaults: its own WABA, UTC, USD).
    #[arg(long, requires = "accounts")]
    strict_accounts: bool,
    /// Aliases CSV (`phone,bsuid`): each phone number and business-scoped user id of a row
    /// are one person (one window, one pair state).
    #[arg(long, value_name = "FILE")]
    aliases: Option<PathBuf>,
    /// `auto` (the rule set of each event's local date) or one rule set for every event:
    /// nbp, cbp-2022, cbp-2023, pmp-2025, pmp-2026.
    #[arg(long, value_name = "NAME", default_value = "auto")]
    rules: RuleChoice,
    /// Price every event with the rate card in force on this local date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    rates_date: Option<NaiveDate>,
    /// Accept an unsorted log (reads it whole into memory to sort it).
    #[arg(long)]
    sort: bool,
    /// Skip bad rows instead of stopping at the first, reporting each with its reason.
    #[arg(long)]
    skip_invalid: bool,
    /// Read timestamps written without an offset in this IANA zone (e.g. Europe/Paris).
    #[arg(long, value_name = "ZONE")]
    naive_zone: Option<Tz>,
    /// The logs' format: `csv`, or `webhooks` (Meta's notifications); by default each log's
    /// name (`.json`, `.jsonl`, `.ndjson`) or first byte (`{`, `[`) tells.
    #[arg(long, value_enum, value_name = "FORMAT")]
    input_format: Option<LogFormat>,
    /// A row repeating a message id seen less than this many days before is a duplicate.
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    dedup_days: u32,
    /// pmp-2026: free non-template messages per business number per local month.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    service_allowance: u64,
    #[command(flatten)]
    webhooks: convert::WebhookArgs,
    /// Report the run's time, rows per second and peak memory on stderr.
    #[arg(long)]
    stats: bool,
    /// Fill each line's facts (set by `price --explain`).
    #[arg(skip)]
    explain: bool,
}

#[derive(Args)]
struct PriceArgs {
    /// Log CSV files (`-` for stdin); several are merged by timestamp.
    #[arg(required = true, value_name = "LOG")]
    logs: Vec<String>,
    #[command(flatten)]
    pricing: PricingArgs,
    /// Write the priced lines there (`-` for stdout; the summary then goes to stderr).
    #[arg(long, value_name = "FILE")]
    lines: Option<String>,
    /// The summary's format: table, csv or json.
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    format: Format,
    /// The summary's grouping, comma-separated: month, business, waba, portfolio, market,
    /// country, category, type, rules, model, or any column of the log (e.g. campaign).
    #[arg(
        long,
        value_name = "KEYS",
        value_delimiter = ',',
        default_value = "month,business,market,category,type"
    )]
    group_by: Vec<GroupKey>,
    /// Write skipped rows there with their reasons (implies --skip-invalid).
    #[arg(long, value_name = "FILE")]
    rejects: Option<String>,
    /// Price an aggregator tariff (TOML) too, and print its invoices.
    #[arg(long, value_name = "FILE")]
    tariff: Option<PathBuf>,
    /// Write the tariff's invoice lines there as CSV (`-` for stdout).
    #[arg(long, value_name = "FILE", requires = "tariff")]
    invoices: Option<String>,
    /// Explain each priced line: a sentence and the facts behind it (the user message that
    /// opened the window, the entry point, the conversation, the tier, the allowance) as more
    /// columns of `--lines`.
    #[arg(long, requires = "lines")]
    explain: bool,
}

#[derive(Args)]
struct CompareArgs {
    /// Log CSV files (`-` for stdin); several are merged by timestamp.
    #[arg(required = true, value_name = "LOG")]
    logs: Vec<String>,
    #[command(flatten)]
    pricing: PricingArgs,
    /// A tariff (TOML); give it once per tariff.
    #[arg(long = "tariff", value_name = "FILE", required = true)]
    tariffs: Vec<PathBuf>,
    /// The comparison's format: table, csv or json.
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    format: Format,
}

/// Runs the command; its exit status when it ran (0, or `reconcile --check`'s 3 when anything
/// disagrees).
pub fn run(cli: Cli) -> Result<u8, Error> {
    let (subcommand, inputs, outputs) = cli.command.files();
    if let Err(message) = paths::check(&inputs, &outputs) {
        usage_error(subcommand, message);
    }
    match cli.command {
        Command::Price(args) => price(args).map(|()| 0),
        Command::Compare(args) => compare(args).map(|()| 0),
        Command::Report(args) => report::report(args).map(|()| 0),
        Command::Reconcile(args) => {
            let check = args.check;
            let agrees = reconcile::reconcile(args)?;
            Ok(if check && !agrees { reconcile::DISAGREES } else { 0 })
        }
        Command::Rates(args) => rates::rates(args).map(|()| 0),
        Command::Generate(args) => generate(args).map(|()| 0),
        Command::Convert(args) => convert::convert(args).map(|()| 0),
    }
}

impl Command {
    /// The subcommand's name, and the files it reads and writes.
    fn files(&self) -> (&'static str, Vec<Named<'_>>, Vec<Named<'_>>) {
        match self {
            Command::Price(a) => {
                let mut inputs: Vec<Named> = a.logs.iter().map(|l| Named::new("LOG", l)).collect();
                inputs.extend(a.pricing.files());
                inputs.extend(a.tariff.iter().map(|t| Named::new("--tariff", t)));
                let outputs = [("--lines", &a.lines), ("--rejects", &a.rejects), ("--invoices", &a.invoices)];
                let outputs = outputs.into_iter().filter_map(|(o, p)| p.as_ref().map(|p| Named::new(o, p)));
                ("price", inputs, outputs.collect())
            }
            Command::Compare(a) => {
                let mut inputs: Vec<Named> = a.logs.iter().map(|l| Named::new("LOG", l)).collect();
                inputs.extend(a.pricing.files());
                inputs.extend(a.tariffs.iter().map(|t| Named::new("--tariff", t)));
                ("compare", inputs, Vec::new())
            }
            Command::Report(a) => {
                let mut inputs: Vec<Named> = a.logs.iter().map(|l| Named::new("LOG", l)).collect();
                inputs.extend(a.pricing.files());
                inputs.extend(a.tariffs.iter().map(|t| Named::new("--tariff", t)));
                ("report", inputs, vec![Named::new("--html", &a.html)])
            }
            Command::Reconcile(a) => {
                let mut inputs: Vec<Named> = a.logs.iter().map(|l| Named::new("LOG", l)).collect();
                inputs.extend(a.pricing.files());
                inputs.extend(a.analytics.iter().map(|t| Named::new("--analytics", t)));
                let outputs = a.disagreements.iter().map(|p| Named::new("--disagreements", p));
                ("reconcile", inputs, outputs.collect())
            }
            Command::Convert(a) => {
                let mut inputs: Vec<Named> = a.logs.iter().map(|l| Named::new("LOG", l)).collect();
                inputs.extend(a.webhooks.templates.iter().map(|t| Named::new("--templates", t)));
                ("convert", inputs, vec![Named::new("--output", &a.output)])
            }
            Command::Rates(a) => match &a.import {
                Some(rates::Import::Import { files, read, out }) => {
                    let mut inputs: Vec<Named> = files.iter().map(|f| Named::new("FILE", &f.path)).collect();
                    inputs.extend(read.files());
                    ("rates", inputs, vec![Named::new("--out", out)])
                }
                None => ("rates", a.book.files().collect(), Vec::new()),
            },
            Command::Generate(a) => {
                let mut outputs = vec![Named::new("--output", a.output.as_deref().unwrap_or("-"))];
                outputs.extend(a.accounts.iter().map(|p| Named::new("--accounts", p)));
                ("generate", Vec::new(), outputs)
            }
        }
    }
}

/// Reports bad usage as clap does (exit status 2).
fn usage_error(subcommand: &str, message: String) -> ! {
    use clap::CommandFactory;
    let mut command = Cli::command();
    command.build();
    let command = command.find_subcommand_mut(subcommand).expect("a subcommand of wabill");
    command.error(clap::error::ErrorKind::ArgumentConflict, message).exit()
}

/// Whether an error is a write to a closed pipe (e.g. `| head`): the run ends quietly.
pub fn is_broken_pipe(e: &Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe) {
            return true;
        }
        cause = c.source();
    }
    false
}

/// A log (`-`: stdin) as the library opens it ([`wabill::log::open_log`]); the bytes read of
/// a log that is not Parquet are added to `read`, and the second value says whether they are.
fn open_log(path: &str, read: &Arc<AtomicU64>) -> Result<(Box<dyn Read + Send>, bool), Error> {
    let counted = |inner: Box<dyn Read + Send>| -> Box<dyn Read + Send> {
        Box::new(progress::Counting { inner, read: read.clone() })
    };
    if path == "-" {
        return Ok((wabill::log::gunzipped(counted(Box::new(io::stdin())), path)?, true));
    }
    wabill::log::open_log_through(path, counted)
}

/// A csv error as the I/O error it wraps (keeping its kind, e.g. a broken pipe), or as one.
fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn io_error(path: impl AsRef<Path>, source: io::Error) -> Error {
    Error::io(path.as_ref().display().to_string(), source)
}

impl PricingArgs {
    /// The files it reads.
    fn files(&self) -> impl Iterator<Item = Named<'_>> {
        let files = [
            ("--accounts", &self.accounts),
            ("--aliases", &self.aliases),
            ("--templates", &self.webhooks.templates),
        ];
        let files =
            files.into_iter().filter_map(|(option, path)| path.as_ref().map(|p| Named::new(option, p)));
        self.book.files().chain(files)
    }

    /// The library's setup of these options; with a rejects file, bad rows are skipped.
    fn setup(&self, rejects: bool) -> Setup {
        let mut setup = self.book.setup();
        setup.accounts.clone_from(&self.accounts);
        setup.strict_accounts = self.strict_accounts;
        setup.aliases.clone_from(&self.aliases);
        setup.rules = self.rules;
        setup.rates_date = self.rates_date;
        setup.sort = self.sort;
        setup.skip_invalid = self.skip_invalid || rejects;
        setup.naive_zone = self.naive_zone;
        setup.input_format = self.input_format.map(|f| match f {
            LogFormat::Csv => InputFormat::Csv,
            LogFormat::Webhooks => InputFormat::Webhooks,
        });
        setup.dedup_days = self.dedup_days;
        setup.service_allowance = self.service_allowance;
        self.webhooks.set(&mut setup);
        setup.explain = self.explain;
        setup
    }
}

fn load_tariff(path: &Path) -> Result<Tariff, Error> {
    let name = path.display().to_string();
    Tariff::from_toml(&read_text(&name)?, &name)
}

/// A billing of each tariff file, in order.
fn billings(paths: &[PathBuf]) -> Result<Vec<Billing>, Error> {
    paths.iter().map(|p| load_tariff(p).and_then(Billing::new)).collect()
}

/// Prices the logs through the engine into the sink, reporting the counts.
fn run_logs<S: Sink>(
    logs: &[String],
    pricing: &PricingArgs,
    rejects: bool,
    sink: &mut S,
    price_sink: fn(&mut S) -> &mut PriceSink,
) -> Result<(), Error> {
    let started = std::time::Instant::now();
    let setup = pricing.setup(rejects);
    let mut engine = setup.engine()?;
    let options = setup.read_options()?;
    if options.sort {
        eprintln!("wabill: --sort: reading the whole log into memory to sort it");
    }
    let read = Arc::new(AtomicU64::new(0));
    let mut counted = true;
    let mut inputs = Vec::with_capacity(logs.len());
    for name in logs {
        let (reader, counts) = open_log(name, &read)?;
        counted &= counts;
        inputs.push(LogInput { name: name.clone(), reader });
    }
    // The share read is known when every log is a file whose bytes are counted.
    let size = logs
        .iter()
        .map(|name| std::fs::metadata(name).ok().filter(|m| m.is_file() && name != "-").map(|m| m.len()))
        .sum::<Option<u64>>()
        .filter(|_| counted);
    price_sink(sink).progress = progress::Progress::on_terminal(size, read);
    let counts = price_logs(inputs, &mut engine, &options, sink);
    if let Some(p) = price_sink(sink).progress.take() {
        p.finish();
    }
    let counts = counts?;
    report_counts(&counts);
    // After the closing counts: the businesses the accounts file does not list (a typo there
    // moves a business to UTC and USD), and those it lists that no row names.
    for note in setup.check_accounts(&engine, &price_sink(sink).businesses)?.notes() {
        eprintln!("wabill: {note}");
    }
    if pricing.stats {
        let seconds = started.elapsed().as_secs_f64();
        let peak = peak_memory()
            .map_or_else(|| "unknown".to_string(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0));
        eprintln!(
            "wabill: stats: {:.3} s, {:.0} rows/s, peak memory {peak}, {} live pairs and {} ids at the end",
            seconds,
            counts.rows as f64 / seconds.max(1e-9),
            engine.live_pairs(),
            engine.remembered_ids()
        );
    }
    Ok(())
}

/// The process's peak resident memory in KiB (Linux: `VmHWM`), if known.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Writes `text` to stdout, or to stderr when an output (`-`) takes stdout.
fn emit(text: &[u8], to_stderr: bool) -> Result<(), Error> {
    if to_stderr {
        io::stderr().write_all(text).map_err(|e| io_error("<stderr>", e))
    } else {
        let mut out = io::stdout().lock();
        out.write_all(text).and_then(|()| out.flush()).map_err(|e| io_error("<stdout>", e))
    }
}

fn price(mut args: PriceArgs) -> Result<(), Error> {
    // The outputs are opened first: one that cannot be written fails the run before it starts.
    let create = |to: &Option<String>| to.as_deref().map(Output::create).transpose();
    let (lines, rejects, invoices_to) =
        (create(&args.lines)?, create(&args.rejects)?, create(&args.invoices)?);
    let billings = match &args.tariff {
        Some(path) => billings(std::slice::from_ref(path))?,
        None => Vec::new(),
    };
    let mut sink = PriceSink::new(Summary::with_keys(&args.group_by), billings);
    sink.logs.clone_from(&args.logs);
    sink.lines_to = lines;
    if args.explain {
        args.pricing.explain = true;
        sink.explainer = Some(wabill::report::Explainer::new());
    }
    sink.rejects_to = rejects;
    run_logs(&args.logs, &args.pricing, args.rejects.is_some(), &mut sink, |s| s)?;
    let (summary, billings) = sink.finish()?;
    let invoices = match billings.first() {
        Some(b) => Some((b.tariff(), b.invoices()?)),
        None => None,
    };
    if let (Some(mut out), Some((_, invoices))) = (invoices_to, &invoices) {
        let name = out.name();
        Invoices { tariff: billings[0].tariff(), invoices }.csv(&mut out).map_err(|e| io_error(&name, e))?;
        out.finish()?;
    }
    let mut text = Vec::new();
    let render = |text: &mut Vec<u8>| -> io::Result<()> {
        match (args.format, &invoices) {
            (Format::Json, Some((tariff, invoices))) => {
                let value = serde_json::json!({ "summary": summary.json()?, "invoices": Invoices { tariff, invoices }.json()? });
                serde_json::to_writer_pretty(&mut *text, &value)?;
                writeln!(text)
            }
            (format, invoices) => {
                summary.render(format, text)?;
                match (format, invoices) {
                    (Format::Csv, Some((tariff, invoices))) => {
                        writeln!(text)?;
                        Invoices { tariff, invoices }.csv(text)?;
                    }
                    (Format::Table, Some((tariff, invoices))) => {
                        writeln!(text)?;
                        Invoices { tariff, invoices }.table(text)?;
                    }
                    _ => {}
                }
                Ok(())
            }
        }
    };
    render(&mut text).map_err(|e| io_error("<summary>", e))?;
    let stdout_taken = [&args.lines, &args.rejects, &args.invoices].iter().any(|o| o.as_deref() == Some("-"));
    emit(&text, stdout_taken)
}

fn generate(args: GenerateArgs) -> Result<(), Error> {
    let g = generate::Generate {
        events: args.events,
        users: args.users,
        businesses: args.businesses,
        seed: args.seed,
        start: args.start,
        days: args.days,
    };
    if let Some(path) = &args.accounts {
        let mut out = Output::create(path)?;
        generate::write_accounts(&g, &mut out).map_err(|e| io_error(path, e))?;
        out.finish()?;
    }
    let mut out = Output::create(args.output.as_deref().unwrap_or("-"))?;
    let name = out.name();
    let format = match args.format {
        LogFormat::Csv => generate::Format::Csv,
        LogFormat::Webhooks => generate::Format::Webhooks,
    };
    generate::write_log_as(&g, format, &mut out).map_err(|e| io_error(&name, e))?;
    out.finish()
}

fn compare(args: CompareArgs) -> Result<(), Error> {
    let mut sink = PriceSink::new(Summary::new(&[]), billings(&args.tariffs)?);
    run_logs(&args.logs, &args.pricing, false, &mut sink, |s| s)?;
    let (_, billings) = sink.finish()?;
    let comparison = compare_tariffs(&billings)?;
    let mut text = Vec::new();
    comparison.render(args.format, &mut text).map_err(|e| io_error("<comparison>", e))?;
    emit(&text, false)
}

/// The closing counts: rows read = priced lines + rejected rows; duplicates apart.
fn report_counts(c: &Counts) {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    eprintln!(
        "wabill: {} read: {} priced ({}), {} rejected",
        plural(c.rows, "row", "rows"),
        c.priced,
        plural(c.duplicates, "duplicate", "duplicates"),
        c.rejected
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }

    /// Every option the library's setup takes by name (and Python with it) is a flag of the
    /// pricing commands, spelt with `-` for `_`: the two cannot drift apart.
    #[test]
    fn every_option_of_the_setup_is_a_flag() {
        use clap::Args;
        let command = super::PricingArgs::augment_args(clap::Command::new("price"));
        let flags: Vec<&str> = command.get_arguments().filter_map(|a| a.get_long()).collect();
        for name in wabill::log::Setup::OPTIONS {
            let flag = name.replace('_', "-");
            assert!(flags.contains(&flag.as_str()), "--{flag} is not a flag of the pricing commands");
        }
    }
}

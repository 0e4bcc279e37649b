//! Per-event cost of the engine, and of the CSV path around it.
//!
//! `cargo bench` runs them; the figures of record are in BENCHMARKS.md.

use std::hint::black_box;

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use wabill::log::{price_logs, LogInput, ReadOptions, Row, Sink};
use wabill::{Accounts, Category, Engine, Error, Event, Kind, Options, Pricebook, PricedLine};

const USERS: usize = 5_000;
const EVENTS: usize = 100_000;

/// A deterministic mix: user messages, replies, utility and marketing templates, OTPs.
fn users() -> Vec<String> {
    let prefixes = ["33", "91", "55", "1212", "62", "234", "49", "44"];
    (0..USERS).map(|i| format!("{}{:09}", prefixes[i % prefixes.len()], i * 7919 % 1_000_000_000)).collect()
}

fn events(users: &[String]) -> Vec<Event<'_>> {
    let start: DateTime<Utc> = "2025-09-01T00:00:00Z".parse().unwrap();
    (0..EVENTS)
        .map(|i| {
            let t = start + TimeDelta::seconds(i as i64 * 3);
            let user = &users[(i * 2654435761) % USERS];
            let business = ["B1", "B2", "B3"][i % 3];
            match i % 10 {
                0..=2 => Event::mo(t, business, user),
                3..=5 => Event::mt(t, business, user, Kind::NonTemplate),
                6 => Event::mt(t, business, user, Kind::Template(Category::Utility)),
                7 | 8 => Event::mt(t, business, user, Kind::Template(Category::Marketing)),
                _ => Event::mt(t, business, user, Kind::Template(Category::Authentication)),
            }
        })
        .collect()
}

fn push(c: &mut Criterion) {
    let book = std::sync::Arc::new(Pricebook::embedded(Accounts::default()));
    let users = users();
    let events = events(&users);
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(EVENTS as u64));
    // A new engine for each 100,000 events: the cost includes growing its tables.
    g.bench_function("push", |b| {
        b.iter(|| {
            let mut engine = Engine::new(book.clone(), Options::default());
            for ev in &events {
                black_box(engine.push(ev).unwrap());
            }
        })
    });
    // One engine for every iteration, each 100,000 events 3.5 days after the last (moved on
    // outside the timing): the steady state of a long log.
    g.bench_function("push_warm", |b| {
        let mut engine = Engine::new(book.clone(), Options::default());
        let span = TimeDelta::seconds(EVENTS as i64 * 3);
        let mut offset = TimeDelta::zero();
        let later = || {
            let moved: Vec<Event> =
                events.iter().map(|ev| Event { timestamp: ev.timestamp + offset, ..*ev }).collect();
            offset += span;
            moved
        };
        b.iter_batched_ref(
            later,
            |moved| {
                for ev in moved.iter() {
                    black_box(engine.push(ev).unwrap());
                }
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

struct Discard;

impl Sink for Discard {
    fn begin(&mut self, _: &[csv::StringRecord]) -> Result<(), Error> {
        Ok(())
    }
    fn priced(&mut self, _: &Row, line: &PricedLine) -> Result<(), Error> {
        black_box(line);
        Ok(())
    }
    fn rejected(&mut self, _: &Row, _: &Error) -> Result<(), Error> {
        Ok(())
    }
}

fn csv_path(c: &mut Criterion) {
    let book = std::sync::Arc::new(Pricebook::embedded(Accounts::default()));
    let users = users();
    let mut text = String::from("timestamp,business,user,direction,category\n");
    for ev in events(&users) {
        let category = match ev.kind {
            Kind::Template(c) => c.as_str(),
            Kind::NonTemplate | Kind::Call => "",
        };
        text.push_str(&format!(
            "{},{},{},{},{category}\n",
            ev.timestamp.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            ev.business,
            ev.user,
            ev.direction
        ));
    }
    let mut g = c.benchmark_group("csv");
    g.throughput(Throughput::Elements(EVENTS as u64));
    g.bench_function("read records (floor)", |b| {
        b.iter(|| {
            let mut r = csv::Reader::from_reader(text.as_bytes());
            let mut rec = csv::ByteRecord::new();
            let mut n = 0;
            while r.read_byte_record(&mut rec).unwrap() {
                n += rec.len();
            }
            black_box(n)
        })
    });
    g.bench_function("price log", |b| {
        b.iter(|| {
            let mut engine = Engine::new(book.clone(), Options::default());
            let input = vec![LogInput { name: "bench.csv".to_string(), reader: text.as_bytes() }];
            price_logs(input, &mut engine, &ReadOptions::default(), &mut Discard).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, push, csv_path);
criterion_main!(benches);

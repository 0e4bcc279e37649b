//! A deterministic synthetic log generator, for demos and benchmarks.
//!
//! The log is a sequence of episodes — support sessions, marketing campaigns, OTPs, utility
//! notifications, ad entry points — started at an even pace over the days asked for, each
//! unfolding over minutes to a day, merged into one log sorted by timestamp. Users are drawn
//! uniformly from a pool, so the users active per day stay the same when the log is made longer
//! by adding days. The same options and seed always give the same bytes.

use std::collections::BinaryHeap;
use std::io::{self, Write};

use chrono::{DateTime, NaiveDate, Utc};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Generate {
    pub events: u64,
    pub users: u64,
    pub businesses: u32,
    pub seed: u64,
    pub start: NaiveDate,
    pub days: u32,
}

/// Calling codes and their weight among users (of 1000).
const MARKETS: [(&str, u64); 24] = [
    ("91", 220),
    ("55", 140),
    ("62", 90),
    ("52", 70),
    ("1212", 50),
    ("234", 40),
    ("20", 35),
    ("92", 35),
    ("49", 30),
    ("44", 30),
    ("33", 30),
    ("39", 25),
    ("34", 25),
    ("90", 25),
    ("966", 20),
    ("971", 20),
    ("57", 20),
    ("54", 20),
    ("1809", 10),
    ("263", 10),
    ("254", 20),
    ("81", 10),
    ("48", 10),
    ("60", 20),
];

const ZONES: [&str; 6] =
    ["Europe/Paris", "Asia/Kolkata", "America/Sao_Paulo", "America/Mexico_City", "UTC", "Asia/Jakarta"];

/// SplitMix64: a tiny, fixed algorithm, so that a seed gives the same log with every build.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Mo,
    EntryPoint,
    Reply,
    Marketing,
    Utility,
    Authentication,
}

/// An event waiting to be written: ordered by time, then by when it was planned.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Planned {
    at: std::cmp::Reverse<(i64, u64)>,
    user: u64,
    business: u32,
    kind: Kind,
}

/// The number of generated business `i`.
pub fn business_number(i: u32) -> String {
    format!("1555{:07}", i)
}

/// The user id of user `u`.
fn user_number(u: u64, buf: &mut String) {
    let mut h = Rng(u ^ 0x5EED);
    let pick = h.below(1000);
    let mut acc = 0;
    let prefix = MARKETS.iter().find(|(_, w)| {
        acc += w;
        pick < acc
    });
    buf.clear();
    buf.push_str(prefix.map_or("91", |p| p.0));
    buf.push_str(&format!("{:09}", u % 1_000_000_000));
}

/// Writes the accounts of the generated businesses.
pub fn write_accounts(g: &Generate, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "business,waba,portfolio,timezone,currency,country")?;
    for b in 0..g.businesses {
        let zone = ZONES[(b / 2) as usize % ZONES.len()];
        writeln!(out, "{},waba-{},portfolio-{},{zone},USD,", business_number(b), b / 2, b / 4)?;
    }
    Ok(())
}

/// How a generated log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// wabill's CSV log.
    Csv,
    /// Meta's webhooks, one notification a line: a user message as a `messages` entry, a
    /// business message as its statuses (`sent`, then `delivered` or `failed`, then `read`),
    /// Meta's category on each; a repeated webhook repeats its last status.
    Webhooks,
}

/// One row of a generated log.
struct Row<'a> {
    at: i64,
    id: u64,
    business: &'a str,
    user: &'a str,
    direction: &'a str,
    category: &'a str,
    status: &'a str,
    entry: &'a str,
}

impl Row<'_> {
    /// Writes the row: as a CSV line, or as its webhooks (all its statuses, or with `repeat`
    /// only the last, as Meta retries it).
    fn write(&self, format: Format, repeat: bool, out: &mut dyn Write) -> io::Result<()> {
        let Row { at, id, business, user, direction, category, status, entry } = *self;
        if format == Format::Csv {
            let ts = DateTime::<Utc>::from_timestamp(at, 0).expect("in range").format("%Y-%m-%dT%H:%M:%SZ");
            return writeln!(
                out,
                "{ts},wamid.{id:012x},{business},{user},{direction},{category},{status},{entry}"
            );
        }
        let head = format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"{business}","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"{business}","phone_number_id":"{business}"}},"#
        );
        let tail = "}}]}]}";
        if direction == "mo" {
            let referral =
                if entry.is_empty() { "" } else { r#","referral":{"source_type":"ad","source_id":"1"}"# };
            return writeln!(
                out,
                r#"{head}"messages":[{{"from":"{user}","id":"wamid.{id:012x}","timestamp":"{at}","type":"text","text":{{"body":"hi"}}{referral}}}]{tail}"#
            );
        }
        let category = if category.is_empty() { "service" } else { category };
        let stages: &[&str] = match status {
            "sent" => &["sent"],
            "failed" => &["sent", "failed"],
            "read" => &["sent", "delivered", "read"],
            _ => &["sent", "delivered"],
        };
        let stages = if repeat { &stages[stages.len() - 1..] } else { stages };
        for stage in stages {
            writeln!(
                out,
                r#"{head}"statuses":[{{"id":"wamid.{id:012x}","status":"{stage}","timestamp":"{at}","recipient_id":"{user}","pricing":{{"billable":true,"pricing_model":"PMP","category":"{category}"}}}}]{tail}"#
            )?;
        }
        Ok(())
    }
}

/// Writes a log of about `g.events` events (exactly, unless the episodes run out) in `format`.
pub fn write_log_as(g: &Generate, format: Format, out: &mut dyn Write) -> io::Result<()> {
    let mut rng = Rng(g.seed);
    let start = g.start.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp();
    let span = i64::from(g.days.max(1)) * 86_400;
    // About 1.62 events per episode (the mix below); more episodes follow if needed.
    let episodes = (g.events * 100 / 162).max(1);
    let mut pending: BinaryHeap<Planned> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut plan = |pending: &mut BinaryHeap<Planned>, at: i64, user: u64, business: u32, kind: Kind| {
        seq += 1;
        pending.push(Planned { at: std::cmp::Reverse((at, seq)), user, business, kind });
    };
    if format == Format::Csv {
        writeln!(out, "timestamp,id,business,user,direction,category,status,entry_point")?;
    }
    let (mut written, mut episode) = (0u64, 0u64);
    let mut user = String::new();
    while written < g.events {
        let next_episode = start + (span as i128 * episode as i128 / episodes as i128) as i64;
        let due = pending.peek().map(|p| p.at.0 .0);
        if due.is_none_or(|d| next_episode <= d) {
            let u = rng.below(g.users.max(1));
            let b = (u % u64::from(g.businesses.max(1))) as u32;
            let t = next_episode;
            match rng.below(100) {
                0..=29 => {
                    plan(&mut pending, t, u, b, Kind::Mo);
                    plan(&mut pending, t + 60 + rng.below(600) as i64, u, b, Kind::Reply);
                    if rng.chance(400) {
                        plan(&mut pending, t + 3600, u, b, Kind::Utility);
                    }
                }
                30..=59 => plan(&mut pending, t, u, b, Kind::Marketing),
                60..=79 => {
                    plan(&mut pending, t, u, b, Kind::Authentication);
                    if rng.chance(500) {
                        plan(&mut pending, t + 30, u, b, Kind::Mo);
                    }
                }
                80..=94 => plan(&mut pending, t, u, b, Kind::Utility),
                _ => {
                    plan(&mut pending, t, u, b, Kind::EntryPoint);
                    plan(&mut pending, t + 300, u, b, Kind::Reply);
                    plan(&mut pending, t + 86_000, u, b, Kind::Marketing);
                }
            }
            episode += 1;
            continue;
        }
        let Some(p) = pending.pop() else { break };
        let (at, id) = p.at.0;
        user_number(p.user, &mut user);
        let business = business_number(p.business);
        let (direction, category, entry) = match p.kind {
            Kind::Mo => ("mo", "", ""),
            Kind::EntryPoint => ("mo", "", "ctwa"),
            Kind::Reply => ("mt", "", ""),
            Kind::Marketing => ("mt", "marketing", ""),
            Kind::Utility => ("mt", "utility", ""),
            Kind::Authentication => ("mt", "authentication", ""),
        };
        let status = match (direction, rng.below(1000)) {
            ("mo", _) => "",
            (_, 0..=39) => "failed",
            (_, 40..=59) => "sent",
            (_, 60..=459) => "read",
            _ => "delivered",
        };
        let row = Row { at, id, business: &business, user: &user, direction, category, status, entry };
        row.write(format, false, out)?;
        written += 1;
        // A webhook delivered twice now and then.
        if direction == "mt" && rng.chance(2) && written < g.events {
            row.write(format, true, out)?;
            written += 1;
        }
    }
    Ok(())
}

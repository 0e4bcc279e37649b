//! The report as one self-contained HTML page: headline totals per
//! currency, cost by month and category, by market, the most expensive businesses, free and
//! charged messages by reason, and, with tariffs, their comparison and cost curves with the
//! break-even points marked.
//!
//! The page needs nothing from outside: no script, no font, no style sheet; the charts are
//! inline SVG drawn here ([`svg`]), sized by their `viewBox` so that they fit a phone's width,
//! and a print style lays the cards out on paper. The same figures give the same bytes.

mod svg;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::summary::{GroupBy, GroupKey, Summary, Totals};
use crate::billing::{compare, Billing, Comparison, Crossing, Profile, Tariff};
use crate::domain::error::Error;
use crate::domain::event::{PricingCategory, PricingType};
use crate::domain::money::{checked_add, format_fixed, Currency};

use svg::{Bar, Column, Line, Marker, Segment, Tick};

/// How many markets and businesses are drawn; the others are summed in one bar.
const TOP: usize = 10;

/// The figures of the report, made of a summary ([`HtmlReport::new`]) and optionally of tariffs
/// billed over the same log ([`HtmlReport::tariffs`]), ready to render as one self-contained
/// HTML page ([`HtmlReport::write_html`]): no script, no font, no style sheet from outside; the
/// charts are inline SVG, sized to the screen's width; a print style lays it out on paper.
///
/// ```
/// use wabill::report::{HtmlReport, Summary};
/// use wabill::{Accounts, Category, Engine, Event, Kind, Options, Pricebook};
///
/// let mut engine = Engine::new(Pricebook::embedded(Accounts::default()).into(), Options::default());
/// let mut summary = Summary::new(&HtmlReport::GROUPING);
/// let t = "2025-09-01T08:00:00Z".parse().unwrap();
/// let line = engine.push(&Event::mt(t, "shop", "+91 98765 43210", Kind::Template(Category::Utility)))?;
/// summary.add(line)?;
/// let html = HtmlReport::new(&summary)?.html();
/// assert!(html.starts_with("<!doctype html>") && html.contains("<svg"));
/// # Ok::<(), wabill::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct HtmlReport {
    logs: Vec<String>,
    currencies: Vec<CurrencyFigures>,
    /// Per pricing type: lines and charged lines (all currencies).
    reasons: Vec<(String, Totals)>,
    tariffs: Option<TariffFigures>,
}

/// The money figures of one currency.
#[derive(Debug, Clone)]
struct CurrencyFigures {
    currency: Currency,
    totals: Totals,
    /// Per month: per category with a charge, its exact sum.
    months: BTreeMap<String, BTreeMap<String, Decimal>>,
    markets: Vec<(String, Totals)>,
    businesses: Vec<(String, Totals)>,
}

/// The tariffs compared, and each one's cost at traffic levels around the log's.
#[derive(Debug, Clone)]
struct TariffFigures {
    comparison: Comparison,
    /// Messages per active user in the log (the curves' x is this times the scale).
    today: Decimal,
    /// Per tariff: (messages per active user, total cost) at each level drawn.
    curves: Vec<Vec<(Decimal, Decimal)>>,
    /// The levels at which two tariffs cost the same, with the cost there and its sentence.
    markers: Vec<(Decimal, Decimal, String)>,
    /// The x axis's ends, messages per active user.
    range: (Decimal, Decimal),
}

impl HtmlReport {
    /// The keys of the summary a report is made of.
    pub const GROUPING: [GroupBy; 5] = GroupBy::DEFAULT;

    /// The report of a summary grouped by (at least) [`HtmlReport::GROUPING`].
    pub fn new(summary: &Summary) -> Result<HtmlReport, Error> {
        // A group's keys are in the order of the summary's keys (the log's columns included).
        let at = |g: GroupBy| summary.keys().iter().position(|k| *k == GroupKey::Line(g));
        let (Some(month), Some(business), Some(market), Some(category), Some(kind)) = (
            at(GroupBy::Month),
            at(GroupBy::Business),
            at(GroupBy::Market),
            at(GroupBy::Category),
            at(GroupBy::Type),
        ) else {
            return Err(Error::config(
                "a report needs a summary grouped by month, business, market, category and type",
            ));
        };
        let mut currencies: BTreeMap<Currency, CurrencyFigures> = BTreeMap::new();
        let mut reasons: BTreeMap<String, Totals> = BTreeMap::new();
        let mut markets: BTreeMap<(Currency, String), Totals> = BTreeMap::new();
        let mut businesses: BTreeMap<(Currency, String), Totals> = BTreeMap::new();
        let add = |into: &mut Totals, t: &Totals, what: &str| into.add(t, &what).map_err(Error::from);
        for g in summary.groups() {
            let c = g.currency;
            let figures = currencies.entry(c).or_insert_with(|| CurrencyFigures {
                currency: c,
                totals: Totals::default(),
                months: BTreeMap::new(),
                markets: Vec::new(),
                businesses: Vec::new(),
            });
            add(&mut figures.totals, &g.totals, "the total")?;
            let cells = figures.months.entry(g.keys[month].clone()).or_default();
            if !g.totals.charge.is_zero() {
                let cell = cells.entry(g.keys[category].clone()).or_default();
                *cell = checked_add(*cell, g.totals.charge, &"a month's cost")?;
            }
            add(markets.entry((c, g.keys[market].clone())).or_default(), &g.totals, "a market's cost")?;
            add(
                businesses.entry((c, g.keys[business].clone())).or_default(),
                &g.totals,
                "a business's cost",
            )?;
            add(reasons.entry(g.keys[kind].clone()).or_default(), &g.totals, "a reason's count")?;
        }
        let ranked = |map: &BTreeMap<(Currency, String), Totals>, c: Currency| {
            let mut v: Vec<(String, Totals)> =
                map.iter().filter(|((k, _), _)| *k == c).map(|((_, n), t)| (n.clone(), *t)).collect();
            v.sort_by(|a, b| b.1.charge.cmp(&a.1.charge).then(b.1.lines.cmp(&a.1.lines)).then(a.0.cmp(&b.0)));
            v
        };
        for (c, figures) in currencies.iter_mut() {
            figures.markets = ranked(&markets, *c);
            figures.businesses = ranked(&businesses, *c);
        }
        let mut reasons: Vec<(String, Totals)> = reasons.into_iter().collect();
        reasons.sort_by(|a, b| b.1.lines.cmp(&a.1.lines).then(a.0.cmp(&b.0)));
        Ok(HtmlReport {
            logs: Vec::new(),
            currencies: currencies.into_values().collect(),
            reasons,
            tariffs: None,
        })
    }

    /// Names the logs the report was made of (shown under its title).
    pub fn logs(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> HtmlReport {
        self.logs = names.into_iter().map(Into::into).collect();
        self
    }

    /// Adds the comparison of tariffs billed over the same log ([`compare`]), and each
    /// tariff's cost with every user's traffic scaled ([`Profile::invoice`]) from a quarter to
    /// four times the log's, or further to show where two tariffs cost the same.
    pub fn tariffs(mut self, billings: &[Billing]) -> Result<HtmlReport, Error> {
        if billings.is_empty() {
            return Ok(self);
        }
        let comparison = compare(billings)?;
        let Some(today) = comparison.messages_per_user().filter(|x| !x.is_zero()) else {
            self.tariffs = Some(TariffFigures {
                comparison,
                today: Decimal::ZERO,
                curves: Vec::new(),
                markers: Vec::new(),
                range: (Decimal::ZERO, Decimal::ZERO),
            });
            return Ok(self);
        };
        let profiles: Vec<(Vec<Profile>, &Tariff)> =
            billings.iter().map(|b| (b.profiles(), b.tariff())).collect();
        let cost = |i: usize, x: Decimal| {
            let (ps, t) = &profiles[i];
            crate::billing::compare::total_at(ps, t, x / today)
        };
        let (mut lo, mut hi) = (today / Decimal::from(4), today * Decimal::from(4));
        let levels: Vec<Decimal> = comparison
            .break_even
            .iter()
            .filter_map(|b| match b.crossing {
                Crossing::At { level, .. } => Some(level),
                _ => None,
            })
            .collect();
        let margin = Decimal::new(15, 1);
        for &level in &levels {
            lo = lo.min(level / margin);
            hi = hi.max(level * margin);
        }
        let (lo, hi) = (nice_below(lo), nice_above(hi));
        const POINTS: usize = 48;
        let (l0, l1) = (f(lo).ln(), f(hi).ln());
        let xs: Vec<Decimal> = (0..=POINTS)
            .map(|i| {
                let x = (l0 + (l1 - l0) * i as f64 / POINTS as f64).exp();
                // A level of traffic, not money: where to evaluate the curve.
                Decimal::try_from(x).unwrap_or(Decimal::ONE).round_dp(4).max(Decimal::new(1, 4))
            })
            .collect();
        let curves = (0..billings.len())
            .map(|i| xs.iter().map(|&x| cost(i, x).map(|c| (x, c))).collect::<Result<Vec<_>, Error>>())
            .collect::<Result<Vec<_>, Error>>()?;
        let mut markers = Vec::new();
        for b in &comparison.break_even {
            if let Crossing::At { level, .. } = b.crossing {
                markers.push((level, cost(b.a, level)?, comparison.break_even_line(b.a, b.b, &b.crossing)));
            }
        }
        self.tariffs = Some(TariffFigures { comparison, today, curves, markers, range: (lo, hi) });
        Ok(self)
    }

    /// The page.
    pub fn html(&self) -> String {
        let mut out = Vec::new();
        self.write_html(&mut out).expect("writing to memory");
        String::from_utf8(out).expect("the page is UTF-8")
    }

    /// Writes the page.
    pub fn write_html(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut page = String::with_capacity(64 * 1024);
        self.page(&mut page);
        out.write_all(page.as_bytes())
    }

    fn page(&self, out: &mut String) {
        let months: Vec<&String> = {
            let mut m: Vec<&String> = self.currencies.iter().flat_map(|c| c.months.keys()).collect();
            m.sort();
            m.dedup();
            m
        };
        let period = match (months.first(), months.last()) {
            (Some(a), Some(b)) if a != b => format!("{a} to {b}"),
            (Some(a), _) => a.to_string(),
            _ => "no messages".into(),
        };
        let _ = write!(
            out,
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>WhatsApp Business costs, {period}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
             <header class=\"top\"><div class=\"wrap\"><p class=\"kicker\">wabill report</p>\
             <h1>WhatsApp Business costs</h1><p class=\"sub\">{period}{logs}</p></div></header>\n<main class=\"wrap\">\n",
            period = esc(&period),
            logs = if self.logs.is_empty() {
                String::new()
            } else {
                format!(" · {}", esc(&self.logs.join(", ")))
            },
        );
        self.headline(out);
        out.push_str("<div class=\"grid\">\n");
        for c in &self.currencies {
            month_category(out, c);
            ranking(out, c, "markets", "Cost by market", &c.markets, "#0f766e");
            ranking(out, c, "businesses", "Most expensive businesses", &c.businesses, "#7c3aed");
        }
        self.reasons(out);
        if let Some(t) = &self.tariffs {
            tariffs(out, t);
        }
        out.push_str(
            "</div>\n<footer>Meta fees as wabill prices them under the rules of each message's date. \
             Amounts are exact sums rounded half away from zero to the currency's minor unit; \
             <code>wabill price --format csv</code> gives the exact figures.</footer>\n</main>\n</body>\n</html>\n",
        );
    }

    fn headline(&self, out: &mut String) {
        out.push_str("<section class=\"kpis\">\n");
        for c in &self.currencies {
            let t = &c.totals;
            let amount = format_fixed(c.currency.round(t.charge), c.currency.minor_units());
            let _ = writeln!(
                out,
                "<div class=\"kpi kpi-main\"><p class=\"kpi-label\">Meta fees</p>\
                 <p class=\"kpi-value\"><span class=\"total\" data-currency=\"{code}\" data-amount=\"{amount}\">{shown}</span> \
                 <span class=\"unit\">{code}</span></p><p class=\"kpi-note\">{charged} of {lines} messages charged</p></div>",
                code = c.currency.code(),
                shown = thousands(&amount),
                charged = count(t.charged),
                lines = count(t.lines),
            );
            let per = if t.charged > 0 {
                let avg = c.currency.round(t.charge / Decimal::from(t.charged));
                format_fixed(avg, c.currency.minor_units())
            } else {
                "-".into()
            };
            let _ = writeln!(
                out,
                "<div class=\"kpi\"><p class=\"kpi-label\">Per charged message</p><p class=\"kpi-value\">{per} \
                 <span class=\"unit\">{code}</span></p><p class=\"kpi-note\">{months} month{s}, {markets} market{ms}</p></div>",
                code = c.currency.code(),
                months = c.months.len(),
                s = if c.months.len() == 1 { "" } else { "s" },
                markets = c.markets.len(),
                ms = if c.markets.len() == 1 { "" } else { "s" },
            );
        }
        let lines: u64 = self.currencies.iter().map(|c| c.totals.lines).sum();
        let charged: u64 = self.currencies.iter().map(|c| c.totals.charged).sum();
        let unverified: u64 = self.currencies.iter().map(|c| c.totals.unverified).sum();
        let share = (charged * 100).checked_div(lines).unwrap_or(0);
        let _ = writeln!(
            out,
            "<div class=\"kpi\"><p class=\"kpi-label\">Messages</p><p class=\"kpi-value\">{}</p>\
             <p class=\"kpi-note\">{} free, {share}% charged</p></div>",
            count(lines),
            count(lines - charged),
        );
        let _ = writeln!(
            out,
            "<div class=\"kpi\"><p class=\"kpi-label\">Unverified rates</p><p class=\"kpi-value\">{}</p>\
             <p class=\"kpi-note\">lines priced at an estimated rate</p></div>",
            count(unverified),
        );
        out.push_str("</section>\n");
    }

    fn reasons(&self, out: &mut String) {
        let bars: Vec<Bar> = self
            .reasons
            .iter()
            .map(|(reason, t)| {
                let free = t.lines - t.charged;
                let label = if reason.is_empty() { "(none)".to_string() } else { reason.clone() };
                Bar {
                    label: label.clone(),
                    segments: vec![
                        Segment {
                            value: t.charged as f64,
                            colour: CHARGED,
                            title: format!("{label}: {} charged — {}", count(t.charged), why(reason)),
                        },
                        Segment {
                            value: free as f64,
                            colour: FREE,
                            title: format!("{label}: {} free — {}", count(free), why(reason)),
                        },
                    ],
                    value: if t.charged > 0 && free > 0 {
                        format!("{} ({} free)", count(t.lines), count(free))
                    } else {
                        count(t.lines)
                    },
                }
            })
            .collect();
        let _ = write!(
            out,
            "<article class=\"card\"><h2>Free and charged messages by reason</h2>\
             <p class=\"note\">Messages by pricing type: charged at a rate, or free and why.</p>{}\
             <ul class=\"legend\"><li><i style=\"background:{CHARGED}\"></i>charged</li><li><i style=\"background:{FREE}\"></i>free</li></ul>\
             <dl class=\"reasons\">",
            svg::bars("chart-reasons", "Free and charged messages by reason", &bars),
        );
        for (reason, _) in &self.reasons {
            let _ = write!(
                out,
                "<dt>{}</dt><dd>{}</dd>",
                esc(if reason.is_empty() { "(none)" } else { reason }),
                esc(why(reason))
            );
        }
        out.push_str("</dl></article>\n");
    }
}

/// The colours of charged and free messages.
const CHARGED: &str = "#2563eb";
const FREE: &str = "#cbd5e1";

/// What a pricing type means, for a reader of the report.
fn why(reason: &str) -> &'static str {
    let Ok(t) = reason.parse::<PricingType>() else { return "" };
    match t {
        PricingType::Regular => "charged at the rate of its market and category",
        PricingType::Conversation => {
            "free: inside a conversation already open (charged on the message that opened it)"
        }
        PricingType::FreeCustomerService => "free: within 24 hours of the user's last message",
        PricingType::FreeGroupCustomerService => "free: within 24 hours of a group member's last message",
        PricingType::FreeEntryPoint => "free: within the 72-hour window of an ad or page button",
        PricingType::FreeTier => "free: within a monthly free allowance of conversations",
        PricingType::Inbound => "a user's message or call: never charged",
        PricingType::Undelivered => "never delivered (or a call not answered): not charged",
        PricingType::Violation => {
            "free-form outside the customer service window: not charged, but refused by Meta"
        }
        PricingType::Duplicate => "a repeated webhook of a message already priced",
    }
}

/// A category's colour, the same in every chart; its place in the charts is its place in
/// [`PricingCategory::ALL`].
fn category_colour(category: &str) -> &'static str {
    let Ok(c) = category.parse::<PricingCategory>() else { return "#64748b" };
    match c {
        PricingCategory::Marketing => "#4f46e5",
        PricingCategory::MarketingLite => "#818cf8",
        PricingCategory::Utility => "#0891b2",
        PricingCategory::Authentication => "#16a34a",
        PricingCategory::AuthenticationInternational => "#84cc16",
        PricingCategory::Service => "#f59e0b",
        PricingCategory::Call => "#0d9488",
        PricingCategory::GroupMarketing => "#a855f7",
        PricingCategory::GroupUtility => "#06b6d4",
        PricingCategory::GroupService => "#fbbf24",
        PricingCategory::ReferralConversion => "#db2777",
        PricingCategory::BusinessInitiated => "#9333ea",
        PricingCategory::UserInitiated => "#ea580c",
    }
}

const TARIFF_COLOURS: [&str; 6] = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2"];

fn month_category(out: &mut String, c: &CurrencyFigures) {
    let cur = c.currency;
    let mut categories: Vec<&String> = c.months.values().flat_map(|m| m.keys()).collect();
    categories.sort_by_key(|k| {
        let place = PricingCategory::ALL.iter().position(|c| c.as_str() == k.as_str());
        (place.unwrap_or(usize::MAX), k.to_string())
    });
    categories.dedup();
    let mut max = Decimal::ZERO;
    let columns: Vec<Column> = c
        .months
        .iter()
        .map(|(month, cells)| {
            let total: Decimal = cells.values().copied().sum();
            max = max.max(total);
            Column {
                label: month.clone(),
                total: money(cur, total),
                segments: categories
                    .iter()
                    .filter_map(|cat| {
                        cells.get(*cat).map(|v| Segment {
                            value: f(*v),
                            colour: category_colour(cat),
                            title: format!("{month} {cat}: {} {}", money(cur, *v), cur.code()),
                        })
                    })
                    .collect(),
            }
        })
        .collect();
    let ticks = linear_ticks(max, cur);
    let _ = write!(
        out,
        "<article class=\"card\"><h2>Cost by month and category <span class=\"unit\">{code}</span></h2>{}<ul class=\"legend\">",
        svg::columns(&format!("chart-months-{}", cur.code()), "Cost by month and category", &columns, &ticks),
        code = cur.code(),
    );
    for cat in &categories {
        let sum: Decimal = c.months.values().filter_map(|m| m.get(*cat)).copied().sum();
        let _ = write!(
            out,
            "<li><i style=\"background:{}\"></i>{} <b>{}</b></li>",
            category_colour(cat),
            esc(cat),
            money(cur, sum)
        );
    }
    out.push_str("</ul></article>\n");
}

fn ranking(
    out: &mut String,
    c: &CurrencyFigures,
    id: &str,
    title: &str,
    rows: &[(String, Totals)],
    colour: &'static str,
) {
    let cur = c.currency;
    let mut bars: Vec<Bar> = rows
        .iter()
        .take(TOP)
        .map(|(name, t)| Bar {
            label: if name.is_empty() { "(none)".into() } else { name.clone() },
            segments: vec![Segment {
                value: f(t.charge),
                colour,
                title: format!(
                    "{name}: {} {} for {} messages",
                    money(cur, t.charge),
                    cur.code(),
                    count(t.lines)
                ),
            }],
            value: money(cur, t.charge),
        })
        .collect();
    if rows.len() > TOP {
        let rest: Decimal = rows[TOP..].iter().map(|(_, t)| t.charge).sum();
        let n = rows.len() - TOP;
        bars.push(Bar {
            label: format!("{n} more"),
            segments: vec![Segment {
                value: f(rest),
                colour: FREE,
                title: format!("{n} more: {}", money(cur, rest)),
            }],
            value: money(cur, rest),
        });
    }
    let _ = writeln!(
        out,
        "<article class=\"card\"><h2>{title} <span class=\"unit\">{code}</span></h2>{}</article>",
        svg::bars(&format!("chart-{id}-{}", cur.code()), title, &bars),
        code = cur.code(),
    );
}

fn tariffs(out: &mut String, t: &TariffFigures) {
    let c = &t.comparison;
    let cur = c.currency;
    let cheapest = c.cheapest();
    let _ = write!(
        out,
        "<article class=\"card wide\"><h2>Aggregator tariffs compared <span class=\"unit\">{code}</span></h2>\
         <p class=\"note\">{} messages, {} delivered, {} active users (summed over invoices): {} messages per active user.</p>\
         <div class=\"split\"><div><div class=\"scroll\"><table><thead><tr><th>tariff</th><th class=\"num\">total</th><th class=\"num\">above cheapest</th>\
         <th class=\"num\">per active user</th><th class=\"num\">per delivered</th></tr></thead><tbody>",
        count(c.messages),
        count(c.delivered),
        count(c.active_users),
        c.messages_per_user().map_or_else(|| "-".into(), |x| format_fixed(x, 2)),
        code = cur.code(),
    );
    let ratio = |d: Option<Decimal>| d.map_or_else(|| "-".into(), |d| format_fixed(d, 4));
    for (i, name) in c.tariffs.iter().enumerate() {
        let _ = write!(
            out,
            "<tr{}><td><i class=\"swatch\" style=\"background:{}\"></i>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            if i == cheapest { " class=\"best\"" } else { "" },
            TARIFF_COLOURS[i % TARIFF_COLOURS.len()],
            esc(name),
            money(cur, c.totals[i]),
            money(cur, c.above_cheapest(i)),
            ratio(c.per_active_user(i)),
            ratio(c.per_delivered(i)),
        );
    }
    out.push_str("</tbody></table></div><ul class=\"break-even-list\">");
    for b in &c.break_even {
        let _ = write!(out, "<li>{}</li>", esc(&c.break_even_line(b.a, b.b, &b.crossing)));
    }
    out.push_str("</ul></div><div>");
    curves(out, t);
    out.push_str("</div></div>");
    if !c.invoices.is_empty() {
        out.push_str(
            "<h3>Per invoice</h3><div class=\"scroll\"><table><thead><tr><th>invoice</th><th>month</th>",
        );
        for name in &c.tariffs {
            let _ = write!(out, "<th class=\"num\">{}</th>", esc(name));
        }
        out.push_str("</tr></thead><tbody>");
        for r in &c.invoices {
            let _ = write!(out, "<tr><td>{}</td><td>{}</td>", esc(&r.unit), esc(&r.month));
            for (i, a) in r.amounts.iter().enumerate() {
                let best = if i == r.cheapest { " best" } else { "" };
                let _ = write!(out, "<td class=\"num{best}\">{}</td>", money(cur, *a));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table></div>");
    }
    out.push_str("</article>\n");
}

/// Each tariff's cost curve, with the break-even points and the log's traffic marked.
fn curves(out: &mut String, t: &TariffFigures) {
    let c = &t.comparison;
    if !t.curves.is_empty() {
        let lines: Vec<Line> = t
            .curves
            .iter()
            .enumerate()
            .map(|(i, points)| Line {
                name: c.tariffs[i].clone(),
                colour: TARIFF_COLOURS[i % TARIFF_COLOURS.len()],
                points: points.iter().map(|(x, y)| (f(*x), f(*y))).collect(),
            })
            .collect();
        let (ylo, yhi) = t
            .curves
            .iter()
            .flatten()
            .map(|(_, y)| *y)
            .filter(|y| y.is_sign_positive() && !y.is_zero())
            .fold((None, Decimal::ZERO), |(lo, hi): (Option<Decimal>, Decimal), y| {
                (Some(lo.map_or(y, |l| l.min(y))), hi.max(y))
            });
        let ylo = ylo.unwrap_or(Decimal::ONE);
        let y_ticks =
            log_ticks(nice_below(ylo), nice_above(yhi.max(ylo)), |d| thousands(&d.normalize().to_string()));
        let x_ticks = log_ticks(t.range.0, t.range.1, |d| d.normalize().to_string());
        let markers: Vec<Marker> = t
            .markers
            .iter()
            .map(|(x, y, title)| Marker {
                x: f(*x),
                y: f(*y),
                title: title.clone(),
                label: format_fixed(*x, 2),
            })
            .collect();
        let today_label = format!("this log: {}", format_fixed(t.today, 2));
        let _ = write!(
            out,
            "<h3 class=\"first\">Cost as traffic changes</h3><p class=\"note\">Each tariff's total with every user's traffic scaled \
             (same active users), by messages per active user; both axes logarithmic. Circles mark where two tariffs cost the same.</p>{}\
             <ul class=\"legend\">",
            svg::lines(
                "chart-curves",
                "Cost of each tariff by messages per active user",
                &lines,
                &x_ticks,
                &y_ticks,
                Some((f(t.today), &today_label)),
                &markers,
                "messages per active user",
            ),
        );
        for l in &lines {
            let _ = write!(out, "<li><i style=\"background:{}\"></i>{}</li>", l.colour, esc(&l.name));
        }
        out.push_str("</ul>");
    }
}

/// A decimal as a float, for geometry only.
fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// An amount rounded to the currency's minor unit, with thousands separated.
fn money(c: Currency, d: Decimal) -> String {
    thousands(&format_fixed(c.round(d), c.minor_units()))
}

fn count(n: u64) -> String {
    thousands(&n.to_string())
}

/// A number's text with a comma between each group of three digits of its integer part.
fn thousands(text: &str) -> String {
    let (sign, rest) = text.strip_prefix('-').map_or(("", text), |r| ("-", r));
    let (int, frac) = rest.split_once('.').map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut out = String::from(sign);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// 1, 2 and 5 times powers of ten, as exact decimals, from 10^-4 to 10^12.
fn steps() -> impl Iterator<Item = Decimal> {
    (-4i32..=12).flat_map(|e| {
        [1i64, 2, 5].map(move |m| {
            if e < 0 {
                Decimal::new(m, (-e) as u32)
            } else {
                Decimal::from(m) * Decimal::from(10i64.pow(e as u32))
            }
        })
    })
}

/// The largest step at or below `d` (the smallest step when none is).
fn nice_below(d: Decimal) -> Decimal {
    steps().take_while(|s| *s <= d).last().unwrap_or(Decimal::new(1, 4))
}

/// The smallest step at or above `d`.
fn nice_above(d: Decimal) -> Decimal {
    steps().find(|s| *s >= d).unwrap_or(Decimal::from(10i64.pow(12)))
}

/// Ticks from 0 to a round amount at or above `max`, 3 to 6 of them, labelled at the
/// currency's scale.
fn linear_ticks(max: Decimal, c: Currency) -> Vec<Tick> {
    let max = if max.is_zero() { Decimal::ONE } else { max };
    let step = steps().find(|s| max / s <= Decimal::from(5)).unwrap_or(max);
    let mut ticks = Vec::new();
    let mut at = Decimal::ZERO;
    loop {
        ticks.push(Tick { at: f(at), label: money(c, at) });
        if at >= max {
            break ticks;
        }
        at += step;
    }
}

/// Ticks of a logarithmic axis from `lo` to `hi` (steps): 1, 2 and 5 of each decade, or only
/// the decades when that makes more than eight; the ends always.
fn log_ticks(lo: Decimal, hi: Decimal, label: impl Fn(Decimal) -> String) -> Vec<Tick> {
    let all: Vec<Decimal> = steps().filter(|s| *s >= lo && *s <= hi).collect();
    let chosen: Vec<Decimal> = if all.len() > 8 {
        all.iter()
            .copied()
            .enumerate()
            .filter(|(i, s)| *i == 0 || *i == all.len() - 1 || is_decade(*s))
            .map(|(_, s)| s)
            .collect()
    } else {
        all
    };
    chosen.into_iter().map(|s| Tick { at: f(s), label: label(s) }).collect()
}

/// Whether `d` is a power of ten.
fn is_decade(d: Decimal) -> bool {
    d.normalize().to_string().chars().filter(|c| *c != '0' && *c != '.').eq(['1'])
}

/// Text made safe for HTML, in content and in quoted attributes.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = include_str!("report.css");

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pricing type has its words and every category its own colour (2026's calls and
    /// groups included).
    #[test]
    fn every_reason_is_described_and_every_category_coloured() {
        assert!(PricingType::ALL.iter().all(|t| !why(t.as_str()).is_empty()));
        let colours: std::collections::HashSet<_> =
            PricingCategory::ALL.iter().map(|c| category_colour(c.as_str())).collect();
        assert_eq!(colours.len(), PricingCategory::ALL.len());
        assert!(!colours.contains(category_colour("")));
    }

    #[test]
    fn thousands_are_separated_and_text_escaped() {
        assert_eq!(thousands("1234567.891"), "1,234,567.891");
        assert_eq!(thousands("-1000"), "-1,000");
        assert_eq!(thousands("999.5"), "999.5");
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    /// Names from the log are text in the page, never markup; the same summary gives the same
    /// bytes.
    #[test]
    fn names_are_escaped_and_the_page_is_the_same_each_time() {
        use crate::engine::samples;
        let book = samples::book(&["India"]);
        let mut summary = Summary::new(&HtmlReport::GROUPING);
        summary.add(&samples::line(&book, "<script>alert(1)</script>", "India")).unwrap();
        let html = HtmlReport::new(&summary).unwrap().logs(["a&b.csv"]).html();
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("a&amp;b.csv"));
        assert_eq!(html, HtmlReport::new(&summary).unwrap().logs(["a&b.csv"]).html());
        assert!(html.contains("data-currency=\"USD\" data-amount=\"1.00\""), "the line's charge of 1");
    }

    /// A report needs the keys its charts are made of.
    #[test]
    fn a_summary_without_the_reports_keys_is_refused() {
        let error = HtmlReport::new(&Summary::new(&[GroupBy::Month])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "a report needs a summary grouped by month, business, market, category and type"
        );
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_below(Decimal::new(381, 2)), Decimal::TWO);
        assert_eq!(nice_above(Decimal::new(15815, 2)), Decimal::from(200));
        let ticks: Vec<String> =
            linear_ticks(Decimal::new(739, 2), "USD".parse().unwrap()).into_iter().map(|t| t.label).collect();
        assert_eq!(ticks, ["0.00", "2.00", "4.00", "6.00", "8.00"]);
        let ticks: Vec<String> =
            log_ticks(Decimal::new(5, 1), Decimal::from(500), |d| d.normalize().to_string())
                .into_iter()
                .map(|t| t.label)
                .collect();
        assert_eq!(ticks, ["0.5", "1", "10", "100", "500"]);
    }
}

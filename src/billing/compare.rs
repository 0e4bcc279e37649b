//! Comparing tariffs on one log: per invoice and in total, each tariff's amount, the cheapest,
//! the difference, the cost per active user and per delivered message, and for each pair of
//! tariffs the traffic level (messages per active user) at which they cost the same.
//!
//! The traffic level is found by re-evaluating every invoice with each user's traffic
//! multiplied by k (same active users; see [`Profile::invoice`]) for k from 0.01 to 100, and
//! bisecting where the difference between two tariffs changes sign. Invoices are step
//! functions of traffic (rounding, fair-use blocks, minimums): the level reported is where the
//! cheaper tariff changes, to two decimals.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::billing::invoice::{Billing, Profile};
use crate::billing::tariff::Tariff;
use crate::domain::error::{Error, Problem};
use crate::domain::money::Currency;

/// One invoice (unit and month) under every tariff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRow {
    pub unit: String,
    pub month: String,
    /// Per tariff, in the order given.
    pub amounts: Vec<Decimal>,
    /// The index of the cheapest tariff (the first, on a tie).
    pub cheapest: usize,
    /// The most expensive amount less the cheapest.
    pub difference: Decimal,
    pub active_users: u64,
    pub delivered: u64,
}

/// Where two tariffs cost the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Crossing {
    /// At this many messages per active user.
    At(Decimal),
    /// Nowhere from 0.01× to 100× the logged traffic: one tariff is cheaper throughout.
    Never { cheaper: usize },
    /// Everywhere: the two tariffs cost the same at every traffic level tried.
    Always,
}

/// The break-even point of two tariffs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakEven {
    pub a: usize,
    pub b: usize,
    pub crossing: Crossing,
}

/// Several tariffs on one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub tariffs: Vec<String>,
    pub currency: Currency,
    /// Per invoice, when every tariff invoices by the same unit (else empty).
    pub invoices: Vec<InvoiceRow>,
    /// Per tariff: the sum of its invoices.
    pub totals: Vec<Decimal>,
    /// Active users summed over invoices (a user active in two months counts twice).
    pub active_users: u64,
    pub delivered: u64,
    pub messages: u64,
    pub break_even: Vec<BreakEven>,
}

impl Comparison {
    /// Messages per active user in the log.
    pub fn messages_per_user(&self) -> Option<Decimal> {
        per(Decimal::from(self.messages), self.active_users)
    }

    /// A tariff's total per active user, to four decimals.
    pub fn per_active_user(&self, i: usize) -> Option<Decimal> {
        per(self.totals[i], self.active_users)
    }

    /// A tariff's total per delivered business message, to four decimals.
    pub fn per_delivered(&self, i: usize) -> Option<Decimal> {
        per(self.totals[i], self.delivered)
    }

    /// The index of the cheapest tariff in total (the first, on a tie).
    pub fn cheapest(&self) -> usize {
        cheapest(&self.totals)
    }
}

pub(crate) fn per(amount: Decimal, n: u64) -> Option<Decimal> {
    (n > 0).then(|| {
        (amount / Decimal::from(n)).round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
    })
}

pub(crate) fn cheapest(amounts: &[Decimal]) -> usize {
    amounts.iter().enumerate().min_by_key(|(_, a)| **a).map_or(0, |(i, _)| i)
}

/// Compares the tariffs billed over the same log.
pub fn compare(billings: &[Billing]) -> Result<Comparison, Error> {
    let first = billings.first().ok_or_else(|| Error::Config("compare needs at least one tariff".into()))?;
    let currency = first.tariff().currency;
    if let Some(other) = billings.iter().find(|b| b.tariff().currency != currency) {
        return Err(Error::Config(format!(
            "tariffs in different currencies cannot be compared: {} is in {currency}, {} in {}",
            first.tariff().name,
            other.tariff().name,
            other.tariff().currency
        )));
    }
    let profiles: Vec<Vec<Profile>> = billings.iter().map(Billing::profiles).collect();
    let tariffs: Vec<&Tariff> = billings.iter().map(Billing::tariff).collect();
    let same_unit = tariffs.iter().all(|t| t.invoice_by == tariffs[0].invoice_by);
    let mut invoices = Vec::new();
    if same_unit {
        for (n, p) in profiles[0].iter().enumerate() {
            let amounts = profiles
                .iter()
                .zip(&tariffs)
                .map(|(ps, t)| ps[n].invoice(t, Decimal::ONE).map(|i| i.total))
                .collect::<Result<Vec<_>, Problem>>()?;
            let (lo, hi) = (amounts.iter().min().copied(), amounts.iter().max().copied());
            invoices.push(InvoiceRow {
                unit: p.unit.to_string(),
                month: p.month.to_string(),
                cheapest: cheapest(&amounts),
                difference: hi.unwrap_or_default() - lo.unwrap_or_default(),
                amounts,
                active_users: p.active_users,
                delivered: p.delivered,
            });
        }
    }
    let total = |i: usize, k: Decimal| -> Result<Decimal, Problem> {
        let mut sum = Decimal::ZERO;
        for p in &profiles[i] {
            sum = sum
                .checked_add(p.invoice(tariffs[i], k)?.total)
                .ok_or_else(|| Problem::new("the total overflows"))?;
        }
        Ok(sum)
    };
    let totals = (0..tariffs.len()).map(|i| total(i, Decimal::ONE)).collect::<Result<Vec<_>, Problem>>()?;
    let (active_users, delivered, messages) = profiles[0]
        .iter()
        .fold((0, 0, 0), |(a, d, m), p| (a + p.active_users, d + p.delivered, m + p.messages));
    let mut comparison = Comparison {
        tariffs: tariffs.iter().map(|t| t.name.clone()).collect(),
        currency,
        invoices,
        totals,
        active_users,
        delivered,
        messages,
        break_even: Vec::new(),
    };
    let x0 = comparison.messages_per_user();
    for a in 0..tariffs.len() {
        for b in a + 1..tariffs.len() {
            let diff = |k: Decimal| -> Result<Decimal, Problem> { Ok(total(a, k)? - total(b, k)?) };
            let crossing = match x0 {
                Some(x0) => crossing(diff, x0, a, b)?,
                None => Crossing::Never {
                    cheaper: if comparison.totals[a] <= comparison.totals[b] { a } else { b },
                },
            };
            comparison.break_even.push(BreakEven { a, b, crossing });
        }
    }
    Ok(comparison)
}

/// Where `diff(k)` changes sign for k in [0.01, 100], nearest to k = 1, as messages per
/// active user (`k × x0`).
fn crossing(
    diff: impl Fn(Decimal) -> Result<Decimal, Problem>,
    x0: Decimal,
    a: usize,
    b: usize,
) -> Result<Crossing, Problem> {
    let step = Decimal::new(105, 2);
    let mut grid = vec![Decimal::new(1, 2)];
    while *grid.last().expect("not empty") < Decimal::ONE_HUNDRED {
        let next = (*grid.last().expect("not empty") * step).round_dp(6);
        grid.push(next);
    }
    let values = grid.iter().map(|&k| diff(k)).collect::<Result<Vec<_>, Problem>>()?;
    if values.iter().all(Decimal::is_zero) {
        return Ok(Crossing::Always);
    }
    let sign = |d: &Decimal| d.cmp(&Decimal::ZERO);
    let changes =
        (0..grid.len() - 1).filter(|&i| sign(&values[i]) != sign(&values[i + 1]) && !values[i + 1].is_zero());
    // The change nearest to today's traffic (k = 1), by ratio.
    let distance = |k: Decimal| if k >= Decimal::ONE { k } else { Decimal::ONE / k };
    let Some(i) = changes.min_by_key(|&i| distance(grid[i])) else {
        let today = diff(Decimal::ONE)?;
        return Ok(Crossing::Never { cheaper: if today <= Decimal::ZERO { a } else { b } });
    };
    let (mut lo, mut hi) = (grid[i], grid[i + 1]);
    let lo_sign = sign(&values[i]);
    for _ in 0..40 {
        let mid = (lo + hi) / Decimal::TWO;
        if sign(&diff(mid)?) == lo_sign {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(Crossing::At((hi * x0).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)))
}

//! Comparing tariffs on one log: per invoice and in total, each tariff's amount, the cheapest,
//! how much each costs above the cheapest, the cost per active user and per delivered message,
//! and for each pair of tariffs the traffic level (messages per active user) at which they cost
//! the same, with which is cheaper on either side of it.
//!
//! The traffic level is found by re-evaluating every invoice with each user's traffic
//! multiplied by k (same active users; see [`Profile::invoice`]) for k from 0.01 to 100, and
//! bisecting where the difference between two tariffs changes sign. Invoices are step
//! functions of traffic (rounding, fair-use blocks, minimums): the level reported is where the
//! cheaper tariff changes, to two decimals.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::billing::invoice::{Billing, Profile};
use crate::billing::tariff::{Tariff, Unit};
use crate::domain::error::{Error, Problem};
use crate::domain::money::Currency;

/// The sum of a tariff's invoices of `profiles` with every user's traffic scaled by `k`.
pub(crate) fn total_at(profiles: &[Profile], tariff: &Tariff, k: Decimal) -> Result<Decimal, Error> {
    let mut sum = Decimal::ZERO;
    for p in profiles {
        sum = sum
            .checked_add(p.invoice(tariff, k)?.total)
            .ok_or_else(|| Problem::new("the total overflows"))?;
    }
    Ok(sum)
}

/// One invoice (unit and month) under every tariff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRow {
    /// The invoice unit (a portfolio, WABA or business).
    pub unit: String,
    /// The local month, `YYYY-MM`.
    pub month: String,
    /// Per tariff, in the order given.
    pub amounts: Vec<Decimal>,
    /// The index of the cheapest tariff (the first, on a tie).
    pub cheapest: usize,
    /// Users with a user message or a delivered business message in the month.
    pub active_users: u64,
    /// Delivered business messages.
    pub delivered: u64,
}

impl InvoiceRow {
    /// Tariff `i`'s amount less the cheapest tariff's: 0 for the cheapest.
    pub fn above_cheapest(&self, i: usize) -> Decimal {
        self.amounts[i] - self.amounts[self.cheapest]
    }

    /// The dearest tariff's amount less the cheapest's: the most [`InvoiceRow::above_cheapest`].
    pub fn dearest_above_cheapest(&self) -> Decimal {
        (0..self.amounts.len()).map(|i| self.above_cheapest(i)).max().unwrap_or_default()
    }
}

/// Where two tariffs cost the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Crossing {
    /// At `level` messages per active user: just above it tariff `above` is cheaper, just below
    /// it the other (`below`), or neither (`None`: there they cost the same).
    At {
        /// Messages per active user, to two decimals.
        level: Decimal,
        /// The tariff cheaper just below the level, if one is.
        below: Option<usize>,
        /// The tariff cheaper just above it.
        above: usize,
    },
    /// Nowhere from 0.01× to 100× the logged traffic: one tariff is cheaper throughout.
    Never {
        /// The tariff cheaper throughout.
        cheaper: usize,
    },
    /// Everywhere: the two tariffs cost the same at every traffic level tried.
    Always,
}

/// The break-even point of two tariffs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakEven {
    /// The first tariff, by its index in [`Comparison::tariffs`].
    pub a: usize,
    /// The second tariff.
    pub b: usize,
    /// Where, if anywhere, they cost the same.
    pub crossing: Crossing,
}

/// Several tariffs on one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The tariffs' names, in the order given.
    pub tariffs: Vec<String>,
    /// What each tariff invoices by.
    pub invoice_by: Vec<Unit>,
    /// The tariffs' currency (they must share one).
    pub currency: Currency,
    /// Per invoice, when every tariff invoices by the same unit (else empty: see
    /// [`Comparison::units_differ`]).
    pub invoices: Vec<InvoiceRow>,
    /// Per tariff: the sum of its invoices.
    pub totals: Vec<Decimal>,
    /// Active users summed over invoices (a user active in two months counts twice).
    pub active_users: u64,
    /// Delivered business messages of the whole log.
    pub delivered: u64,
    /// Messages counted (duplicates never count).
    pub messages: u64,
    /// The traffic level at which each pair of tariffs costs the same.
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

    /// Tariff `i`'s total less the cheapest tariff's total: 0 for the cheapest.
    pub fn above_cheapest(&self, i: usize) -> Decimal {
        self.totals[i] - self.totals[self.cheapest()]
    }

    /// Whether the tariffs invoice by different units (business, WABA, portfolio), so that
    /// their invoices cannot be set side by side: then [`Comparison::invoices`] is empty.
    pub fn units_differ(&self) -> bool {
        self.invoice_by.iter().any(|u| *u != self.invoice_by[0])
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
    let first = billings.first().ok_or_else(|| Error::config("compare needs at least one tariff"))?;
    for (i, b) in billings.iter().enumerate() {
        let name = &b.tariff().name;
        if billings[..i].iter().any(|other| other.tariff().name == *name) {
            return Err(Error::config(format!(
                "two tariffs are named {name:?}: give each its own name to compare them"
            )));
        }
    }
    let currency = first.tariff().currency;
    if let Some(other) = billings.iter().find(|b| b.tariff().currency != currency) {
        return Err(Error::config(format!(
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
                .collect::<Result<Vec<_>, Error>>()?;
            invoices.push(InvoiceRow {
                unit: p.unit.to_string(),
                month: p.month.to_string(),
                cheapest: cheapest(&amounts),
                amounts,
                active_users: p.active_users,
                delivered: p.delivered,
            });
        }
    }
    let total = |i: usize, k: Decimal| total_at(&profiles[i], tariffs[i], k);
    let totals = (0..tariffs.len()).map(|i| total(i, Decimal::ONE)).collect::<Result<Vec<_>, Error>>()?;
    let (active_users, delivered, messages) = profiles[0]
        .iter()
        .fold((0, 0, 0), |(a, d, m), p| (a + p.active_users, d + p.delivered, m + p.messages));
    let mut comparison = Comparison {
        tariffs: tariffs.iter().map(|t| t.name.clone()).collect(),
        invoice_by: tariffs.iter().map(|t| t.invoice_by).collect(),
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
            let diff = |k: Decimal| -> Result<Decimal, Error> { Ok(total(a, k)? - total(b, k)?) };
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
    diff: impl Fn(Decimal) -> Result<Decimal, Error>,
    x0: Decimal,
    a: usize,
    b: usize,
) -> Result<Crossing, Error> {
    let step = Decimal::new(105, 2);
    let mut grid = vec![Decimal::new(1, 2)];
    while *grid.last().expect("not empty") < Decimal::ONE_HUNDRED {
        let next = (*grid.last().expect("not empty") * step).round_dp(6);
        grid.push(next);
    }
    let values = grid.iter().map(|&k| diff(k)).collect::<Result<Vec<_>, Error>>()?;
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
    let cheaper = |d: &Decimal| match sign(d) {
        std::cmp::Ordering::Less => Some(a),
        std::cmp::Ordering::Greater => Some(b),
        std::cmp::Ordering::Equal => None,
    };
    let (below, above) =
        (cheaper(&values[i]), cheaper(&values[i + 1]).expect("a change to a non-zero value"));
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
    let level = (hi * x0).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    Ok(Crossing::At { level, below, above })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// Where two tariffs cost the same, the crossing says which is cheaper on either side of
    /// it: `diff(k)` is tariff 0's amount less tariff 1's at k times today's traffic.
    #[test]
    fn a_crossing_says_which_tariff_is_cheaper_on_each_side() {
        let x0 = d("10");
        // Tariff 0 grows with traffic, tariff 1 is flat: 0 is cheaper below k = 0.5, 1 above.
        let grows = |k: Decimal| Ok(Decimal::TWO * k - Decimal::ONE);
        let at = |below, above| Crossing::At { level: d("5"), below, above };
        assert_eq!(crossing(grows, x0, 0, 1).unwrap(), at(Some(0), 1));
        let falls = |k: Decimal| Ok(Decimal::ONE - Decimal::TWO * k);
        assert_eq!(crossing(falls, x0, 0, 1).unwrap(), at(Some(1), 0));
        // The same up to k = 0.5, then tariff 0 dearer.
        let parts = |k: Decimal| Ok((k - d("0.5")).max(Decimal::ZERO));
        assert_eq!(crossing(parts, x0, 0, 1).unwrap(), at(None, 1));
        assert_eq!(crossing(|_| Ok(Decimal::ONE), x0, 0, 1).unwrap(), Crossing::Never { cheaper: 1 });
        assert_eq!(crossing(|_| Ok(Decimal::ZERO), x0, 0, 1).unwrap(), Crossing::Always);
    }
}

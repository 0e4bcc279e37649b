//! What the engine keys an event on, computable ahead of pricing, on another thread.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::event::{Cost, Direction, Event, Kind, Status};
use crate::domain::money::Country;
use crate::domain::user::{number_key, trim};
use crate::engine::seen::SeenIds;
use crate::pricebook::market::{MarketId, Markets};

/// What the engine keys an event on, computed from the event and the markets table alone: a
/// loop may compute them ahead, on another thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Keys {
    /// The user's [`number_key`], when it is a number; else 0 (never a key).
    user: u64,
    /// The fingerprint of the message id, when there is one; else 0 (never a fingerprint).
    id: u64,
    /// When the user is a number and the event names no country: the number's longest prefix
    /// with rows in the markets table ([`Markets::prefix_of`]).
    pub(super) prefix: u32,
    /// The country and market of that prefix ([`Keys::market`]) when they are the same on
    /// every local date the event may fall on, packed: the market's id plus one, then the
    /// country's code (0 for none); 0 when not known.
    market: u32,
}

/// An event less its strings: what pricing reads of every event (its business and user are
/// read only when the keys and the business's index do not stand for them, see
/// [`Engine::push_keyed`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts {
    pub(crate) timestamp: DateTime<Utc>,
    pub(crate) direction: Direction,
    pub(crate) kind: Kind,
    pub(crate) status: Status,
    pub(crate) entry_point: bool,
    pub(crate) country: Option<Country>,
    pub(crate) duration: u32,
    /// Whether the event has [`Extras`]: most have none, and pricing asks for them only then.
    pub(crate) extras: bool,
}

/// What few events have: a group, a business-scoped id beside the phone number, Meta's cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Extras<'a> {
    pub(crate) group: Option<&'a str>,
    pub(crate) bsuid: Option<&'a str>,
    pub(crate) cost: Option<Cost>,
}

impl<'a> Extras<'a> {
    pub(crate) fn of(ev: &Event<'a>) -> Extras<'a> {
        Extras { group: ev.group, bsuid: ev.bsuid, cost: ev.cost }
    }

    fn any(&self) -> bool {
        self.group.is_some() || self.bsuid.is_some() || self.cost.is_some()
    }
}

impl Facts {
    pub(crate) fn of(ev: &Event) -> Facts {
        let Event { timestamp, direction, kind, status, entry_point, country, duration, .. } = *ev;
        let extras = Extras::of(ev).any();
        Facts { timestamp, direction, kind, status, entry_point, country, duration, extras }
    }

    /// The event of these facts and strings.
    pub(crate) fn event<'a>(
        &self,
        business: &'a str,
        user: &'a str,
        id: Option<&'a str>,
        extras: Extras<'a>,
    ) -> Event<'a> {
        let Facts { timestamp, direction, kind, status, entry_point, country, duration, extras: _ } = *self;
        let Extras { group, bsuid, cost } = extras;
        Event {
            timestamp,
            business,
            user,
            direction,
            kind,
            status,
            entry_point,
            id,
            country,
            duration,
            group,
            bsuid,
            cost,
        }
    }
}

impl Keys {
    /// The keys of `ev` with the engine's `markets`. With `dates`, [`Keys::dates`] of its
    /// timestamp, a number's market is found too when it cannot change between them;
    /// without, the engine finds it.
    // Inlined into the batch parse, where it runs for every row: left to the compiler, it was
    // not, which cost 1.5% of a run's instructions (callgrind, 300,000 rows of a generated log).
    #[inline(always)]
    pub(crate) fn of(ev: &Event, markets: &Markets, dates: Option<(NaiveDate, NaiveDate)>) -> Keys {
        let id = ev.id.map(trim).filter(|id| !id.is_empty());
        let user = number_key(ev.user).unwrap_or(0);
        let (mut prefix, mut market) = (0, 0);
        if user != 0 && ev.country.is_none() {
            prefix = markets.prefix_of(trim(ev.user));
            let found = dates.and_then(|(first, last)| markets.of_prefix_from(prefix, first, last));
            if let Some((country, MarketId(m))) = found.filter(|(_, MarketId(m))| *m < u16::MAX) {
                market = (u32::from(m) + 1) << 16 | u32::from(country.map_or(0, |c| c.as_u16()));
            }
        }
        let mut id = id.map_or(0, SeenIds::fingerprint);
        if id != 0 && ev.group.is_some() {
            // A message to a group is one row per member, under one id.
            id = (id ^ SeenIds::fingerprint(trim(ev.user)).rotate_left(29)).max(1);
        }
        Keys { user, id, prefix, market }
    }

    /// The first and last dates whose rate card and markets may price an event at `t`: its
    /// local date, within a day of its UTC date in any zone, unless the engine prices every
    /// event on its `rates_date`.
    pub(crate) fn dates(t: DateTime<Utc>, rates_date: Option<NaiveDate>) -> Option<(NaiveDate, NaiveDate)> {
        let utc = t.naive_utc().date();
        match rates_date {
            Some(d) => Some((d, d)),
            None => utc.pred_opt().zip(utc.succ_opt()),
        }
    }

    /// The country and market of a number user's prefix, when they were found ahead.
    pub(super) fn market(&self) -> Option<(Option<Country>, MarketId)> {
        let (m, c) = ((self.market >> 16) as u16, self.market as u16);
        let country = (c != 0).then(|| Country::from_u16(c));
        m.checked_sub(1).map(|m| (country, MarketId(m)))
    }

    pub(super) fn user(&self) -> Option<u64> {
        Some(self.user).filter(|&n| n != 0)
    }

    pub(super) fn id(&self) -> Option<u64> {
        Some(self.id).filter(|&id| id != 0)
    }
}

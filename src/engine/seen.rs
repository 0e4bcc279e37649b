//! The message ids seen within the dedup window, for duplicates.
//!
//! An id is a 64-bit fingerprint (a seeded hash; two ids of one window share one with odds of
//! about n²/2⁶⁵, one in ten million for 2 million ids) with the second it was first seen,
//! counted from the first id: 16 bytes. Ids are kept by day of log time (from the first id):
//! - the current day's in a [`Slots`] table, the only one written: a day of ids is a few
//!   megabytes, which stay in cache;
//! - each earlier day's still within the window in its own table, no longer written; a day
//!   wholly older than the window is dropped whole;
//! - and a Bloom filter of every id held: a new id (nearly every id) is known new from one
//!   cache line of it, without reading the earlier days' tables.
//!
//! Why not one table for the whole window: it is read at a random place for every row, and a
//! table of tens of megabytes misses the cache on nearly every read (BENCHMARKS.md).

use std::collections::VecDeque;
use std::hash::BuildHasher;

use chrono::TimeDelta;

use crate::domain::time::Stamp;
use crate::util::bloom::Bloom;
use crate::util::slots::{Slots, Spot};

/// A day, in seconds (the unit of [`SeenIds`]' times).
const SECONDS_A_DAY: i64 = 86_400;

/// The load past which a day's table grows.
const LOAD: usize = 75;

/// How many new ids a rebuilt filter takes, as a multiple of the ids held when it was built.
/// Each build is a pass over every id held: room for three times as many makes the builds
/// rarer (amortised O(1) an id) for a filter at most twice the size of one with room for as
/// many. (Ids of days dropped since a build count against its room.)
const ROOM: usize = 3;

#[derive(Debug)]
pub(crate) struct SeenIds {
    /// The second of the first id.
    epoch: Option<i64>,
    /// The day being written (counted from the epoch), and its ids.
    day: i64,
    today: Slots<u64, u32>,
    /// Earlier days that may hold ids within the window, oldest first.
    past: VecDeque<(i64, Slots<u64, u32>)>,
    /// Every id held, and those of days dropped since it was built: an id it does not hold
    /// was not seen within the window.
    filter: Bloom,
    /// How many more ids the filter takes before it is built again from the ids held.
    room: usize,
}

impl Default for SeenIds {
    fn default() -> SeenIds {
        SeenIds {
            epoch: None,
            day: 0,
            today: Slots::new(LOAD),
            past: VecDeque::new(),
            filter: Bloom::new(0),
            room: 0,
        }
    }
}

impl SeenIds {
    /// The fingerprint of an id; never zero (the empty key of a table).
    pub(crate) fn fingerprint(id: &str) -> u64 {
        foldhash::fast::FixedState::with_seed(0x1D5).hash_one(id).max(1)
    }

    /// Seconds since the first id, saturating (136 years of log).
    fn second(&self, t: Stamp) -> u32 {
        let since = t.seconds() - self.epoch.unwrap_or(t.seconds());
        u32::try_from(since.max(0)).unwrap_or(u32::MAX)
    }

    /// Starts loading the memory that checking `id` reads.
    pub(crate) fn prefetch(&self, id: u64) {
        self.today.prefetch(&id);
        self.filter.prefetch(id);
    }

    /// Where in the current day's table `id` will be recorded ([`SeenIds::insert`]) if it is
    /// new at `t`; `None` for a duplicate, an id first seen less than `window` before.
    #[inline(always)]
    pub(crate) fn unseen(&self, id: u64, t: Stamp, window: TimeDelta) -> Option<Spot> {
        let now = i64::from(self.second(t));
        let live = within(now, window);
        let (today, spot) = self.today.probe(&id);
        // Sightings at or before the horizon are out of the window; so is a day ending there.
        let horizon = now - window.num_seconds();
        let seen = self.filter.may_hold(id)
            && (today.is_some_and(live)
                || (self.past.iter().rev())
                    .take_while(|(day, _)| (day + 1) * SECONDS_A_DAY > horizon)
                    .any(|(_, ids)| ids.get(&id).is_some_and(live)));
        (!seen).then_some(spot)
    }

    /// Records `id` as first seen at `t` (a sighting older than the window is superseded), at
    /// the `spot` [`SeenIds::unseen`] gave for the same `t`.
    #[inline(always)]
    pub(crate) fn insert(&mut self, spot: Spot, t: Stamp, id: u64, window: TimeDelta) {
        self.epoch.get_or_insert(t.seconds());
        let at = self.second(t);
        let day = i64::from(at) / SECONDS_A_DAY;
        let mut spot = spot;
        if day > self.day {
            self.end_day(day, i64::from(at) - window.num_seconds());
            // A spot of the table just ended means nothing in the new one.
            spot = self.today.probe(&id).1;
        }
        self.today.put(spot, id, at, |_| true);
        match self.room.checked_sub(1) {
            Some(room) => {
                self.filter.add(id);
                self.room = room;
            }
            None => self.build_filter(),
        }
    }

    /// Files the current day's ids, starts `day`, and drops the days that end at or before
    /// `horizon`.
    fn end_day(&mut self, day: i64, horizon: i64) {
        let room = self.today.len();
        self.past.push_back((self.day, std::mem::replace(&mut self.today, Slots::new(LOAD))));
        self.day = day;
        // The days out of the window go before the next day's table comes (peak memory holds
        // one table less), and the last of them becomes that table when it has its size.
        let mut dropped = None;
        while self.past.front().is_some_and(|(day, _)| (day + 1) * SECONDS_A_DAY <= horizon) {
            dropped = self.past.pop_front().map(|(_, ids)| ids);
        }
        // The next day's table is made the size of this one's: most days are alike.
        self.today =
            dropped.and_then(|ids| ids.emptied_for(room)).unwrap_or_else(|| Slots::with_room(room, LOAD));
    }

    /// Builds the filter again from the ids held, with room for [`ROOM`] times as many more: a
    /// build costs one pass over the ids held, and comes after `ROOM` times as many new ones
    /// (O(1) an id, amortised).
    fn build_filter(&mut self) {
        let held: usize = self.tables().map(Slots::len).sum();
        // The new filter is built from the tables alone, in the old one's memory.
        let mut filter = std::mem::replace(&mut self.filter, Bloom::new(0));
        filter.empty_for((1 + ROOM) * held.max(1024));
        // Ids in runs of 16: each run's blocks are asked for together, so that their cache
        // misses overlap instead of following one another.
        let mut run = [0u64; 16];
        let mut len = 0;
        for (&id, _) in self.tables().flat_map(Slots::iter) {
            run[len] = id;
            len += 1;
            if len == run.len() {
                filter.add_all(&run);
                len = 0;
            }
        }
        filter.add_all(&run[..len]);
        self.room = ROOM * held.max(1024);
        self.filter = filter;
    }

    /// The ids seen less than `window` before `t`.
    pub(crate) fn live(&self, t: Stamp, window: TimeDelta) -> usize {
        let live = within(i64::from(self.second(t)), window);
        self.tables().flat_map(Slots::values).filter(|seen| live(seen)).count()
    }

    /// Every day's table held, the current one first.
    fn tables(&self) -> impl Iterator<Item = &Slots<u64, u32>> {
        std::iter::once(&self.today).chain(self.past.iter().map(|(_, ids)| ids))
    }
}

/// Whether an id first seen at second `seen` is within `window` of second `now`.
fn within(now: i64, window: TimeDelta) -> impl Fn(&u32) -> bool + Copy {
    move |&seen| now - i64::from(seen) < window.num_seconds()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn at(second: i64) -> Stamp {
        Stamp::of_nanos((1_757_462_400 + second) * 1_000_000_000).expect("in range")
    }

    proptest! {
        /// An id is a duplicate exactly when it was first seen less than the window before,
        /// across days, the days' ends and the window's.
        #[test]
        fn ids_are_duplicates_exactly_within_the_window(
            steps in proptest::collection::vec((1u64..40, 0i64..30_000), 1..400),
            window_s in 1i64..(4 * SECONDS_A_DAY),
        ) {
            let window = TimeDelta::seconds(window_s);
            let mut seen = SeenIds::default();
            let mut first: HashMap<u64, i64> = HashMap::new();
            let mut t = 0;
            for (id, step) in steps {
                t += step;
                let expected = first.get(&id).is_some_and(|&s| t - s < window_s);
                let unseen = seen.unseen(id, at(t), window);
                prop_assert_eq!(unseen.is_none(), expected, "id {} at {}", id, t);
                if let Some(spot) = unseen {
                    seen.insert(spot, at(t), id, window);
                    first.insert(id, t);
                }
                let live = first.values().filter(|&&s| t - s < window_s).count();
                prop_assert_eq!(seen.live(at(t), window), live);
            }
        }

    }

    /// Ids enough for the filter to be built again several times (after 3,072 new ids, then
    /// three times the ids held), over four days and a window of two: all along, an id seen
    /// half a day before is found, and one seen more than the window before is new again.
    #[test]
    fn ids_held_are_found_across_the_filters_builds() {
        let window = TimeDelta::days(2);
        let step = 9;
        let (half_day, past) = (SECONDS_A_DAY / 2 / step, (window.num_seconds() / step + 1) as u64);
        let mut seen = SeenIds::default();
        for k in 0..40_000u64 {
            let (t, id) = (at(k as i64 * step), SeenIds::fingerprint_of(k));
            let spot = seen.unseen(id, t, window).expect("a new id");
            seen.insert(spot, t, id, window);
            if let Some(held) = k.checked_sub(half_day as u64) {
                assert!(seen.unseen(SeenIds::fingerprint_of(held), t, window).is_none(), "id {held} at {k}");
            }
            if let Some(gone) = k.checked_sub(past) {
                assert!(seen.unseen(SeenIds::fingerprint_of(gone), t, window).is_some(), "id {gone} at {k}");
            }
        }
    }

    #[test]
    fn days_wholly_older_than_the_window_are_dropped() {
        let week = TimeDelta::days(7);
        let mut seen = SeenIds::default();
        for day in 0..30 {
            let t = at(day * SECONDS_A_DAY);
            let id = SeenIds::fingerprint(&format!("wamid.{day}"));
            let spot = seen.unseen(id, t, week).expect("a new id");
            seen.insert(spot, t, id, week);
        }
        assert_eq!(seen.past.len(), 7);
        assert_eq!(seen.live(at(29 * SECONDS_A_DAY), week), 7);
    }

    impl SeenIds {
        fn fingerprint_of(n: u64) -> u64 {
            SeenIds::fingerprint(&format!("wamid.{n:012}"))
        }
    }
}

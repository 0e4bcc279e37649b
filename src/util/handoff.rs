//! A bounded queue from one thread to another that wakes a waiting side only in bulk: a
//! receiver that found it empty sleeps until a quarter of it is full (or the sender is done),
//! a sender that found it full until a quarter is free. Waking a thread is a system call and,
//! in a virtual machine, an interrupt to the other processor: with a queue that is woken at
//! every item, two threads of about equal speed wake each other at nearly every batch.
//! Items taken are given back to be reused, so the queue also carries them home.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};

/// The queue; its two ends are [`Handoff::ends`].
pub(crate) struct Handoff<T> {
    state: Mutex<State<T>>,
    /// The receiver waits here for items.
    filled: Condvar,
    /// The sender waits here for room.
    drained: Condvar,
    capacity: usize,
    /// How many items (or how much room) wake a waiting side.
    bulk: usize,
}

struct State<T> {
    items: VecDeque<T>,
    /// Items given back, the latest last.
    spare: Vec<T>,
    receiver_waits: bool,
    sender_waits: bool,
    /// The sender is gone: no more items will come.
    done: bool,
    /// The receiver is gone: no more items will be taken.
    hung_up: bool,
}

impl<T> Handoff<T> {
    /// A queue of at most `capacity` items (at least 1).
    pub(crate) fn new(capacity: usize) -> Handoff<T> {
        let capacity = capacity.max(1);
        Handoff {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity),
                spare: Vec::new(),
                receiver_waits: false,
                sender_waits: false,
                done: false,
                hung_up: false,
            }),
            filled: Condvar::new(),
            drained: Condvar::new(),
            capacity,
            bulk: capacity.div_ceil(4),
        }
    }

    /// Its sending and receiving ends; each tells the other when it is dropped.
    pub(crate) fn ends(&self) -> (Sender<'_, T>, Receiver<'_, T>) {
        (Sender { queue: self }, Receiver { queue: self })
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic on the other side cannot leave the state half changed: carry on.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The sending end.
pub(crate) struct Sender<'q, T> {
    queue: &'q Handoff<T>,
}

/// What a sender finds when its item is queued.
pub(crate) struct Sent<T> {
    /// An item given back by the receiver (the latest), if there is one.
    pub(crate) given_back: Option<T>,
    /// How many items wait for a receiver that is taking them, this one included: 0 while
    /// the receiver sleeps (until a quarter of the queue is full).
    pub(crate) waiting: usize,
}

impl<T> Sender<'_, T> {
    /// Queues `item`, waiting for room; `Err(item)` once the receiver is gone.
    pub(crate) fn send(&self, item: T) -> Result<Sent<T>, T> {
        let q = self.queue;
        let mut state = q.lock();
        while state.items.len() >= q.capacity && !state.hung_up {
            state.sender_waits = true;
            state = q.drained.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        if state.hung_up {
            return Err(item);
        }
        state.items.push_back(item);
        let wake = state.receiver_waits && state.items.len() >= q.bulk;
        state.receiver_waits &= !wake;
        let waiting = if state.receiver_waits { 0 } else { state.items.len() };
        let given_back = state.spare.pop();
        drop(state);
        if wake {
            q.filled.notify_one();
        }
        Ok(Sent { given_back, waiting })
    }
}

impl<T> Drop for Sender<'_, T> {
    fn drop(&mut self) {
        let mut state = self.queue.lock();
        state.done = true;
        if state.receiver_waits {
            state.receiver_waits = false;
            self.queue.filled.notify_one();
        }
    }
}

/// The receiving end.
pub(crate) struct Receiver<'q, T> {
    queue: &'q Handoff<T>,
}

impl<T> Receiver<'_, T> {
    /// Gives back `used` (if any) and takes the next item, waiting for one; `None` once the
    /// sender is gone and every item is taken.
    pub(crate) fn recv(&self, used: Option<T>) -> Option<T> {
        let q = self.queue;
        let mut state = q.lock();
        state.spare.extend(used);
        while state.items.is_empty() && !state.done {
            state.receiver_waits = true;
            state = q.filled.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        let item = state.items.pop_front();
        let wake = state.sender_waits && state.items.len() + q.bulk <= q.capacity;
        state.sender_waits &= !wake;
        drop(state);
        if wake {
            q.drained.notify_one();
        }
        item
    }
}

impl<T> Drop for Receiver<'_, T> {
    fn drop(&mut self) {
        let mut state = self.queue.lock();
        state.hung_up = true;
        state.items.clear();
        if state.sender_waits {
            state.sender_waits = false;
            self.queue.drained.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_arrives_once_in_order_and_comes_back() {
        for capacity in [1, 2, 3, 16] {
            let queue = Handoff::new(capacity);
            let (sender, receiver) = queue.ends();
            let received = std::thread::scope(|scope| {
                scope.spawn(move || {
                    let mut spare: Option<Vec<u32>> = None;
                    for n in 0..10_000u32 {
                        let mut item = spare.take().unwrap_or_default();
                        item.clear();
                        item.push(n);
                        spare = sender.send(item).expect("the receiver waits").given_back;
                    }
                });
                let mut received = Vec::new();
                let mut used = None;
                while let Some(item) = receiver.recv(used.take()) {
                    received.push(item[0]);
                    used = Some(item);
                }
                received
            });
            assert_eq!(received, (0..10_000).collect::<Vec<_>>(), "capacity {capacity}");
        }
    }

    #[test]
    fn a_sender_learns_how_many_items_wait_for_an_awake_receiver() {
        let queue = Handoff::new(8);
        let (sender, receiver) = queue.ends();
        let waiting = |n| sender.send(n).map(|sent| sent.waiting).ok();
        assert_eq!([waiting(0), waiting(1), waiting(2)], [Some(1), Some(2), Some(3)]);
        assert_eq!(receiver.recv(None), Some(0));
        assert_eq!(waiting(3), Some(3));
        // The receiver takes every item, then sleeps until a quarter of the queue (2) is
        // full: meanwhile the sender is told that none wait. (The second item wakes it
        // whatever the first was told: a failing check does not leave it asleep.)
        let (asleep, woken, taken) = std::thread::scope(|scope| {
            let taking = scope.spawn(|| (0..4).map(|_| receiver.recv(None)).collect::<Vec<_>>());
            while !queue.lock().receiver_waits {
                std::thread::yield_now();
            }
            (waiting(4), waiting(5), taking.join().unwrap())
        });
        assert_eq!(asleep, Some(0));
        assert_eq!(woken, Some(2), "the receiver is woken, and two items wait for it");
        assert_eq!(taken, [Some(1), Some(2), Some(3), Some(4)]);
    }

    #[test]
    fn a_sender_stops_once_the_receiver_is_gone() {
        let queue = Handoff::new(2);
        let (sender, receiver) = queue.ends();
        std::thread::scope(|scope| {
            let sending = scope.spawn(move || (0..).find(|&n: &u32| sender.send(n).is_err()));
            assert_eq!(receiver.recv(None), Some(0));
            drop(receiver);
            assert!(sending.join().expect("no panic").is_some());
        });
    }
}

//! What prices are looked up in: the dated calling-code table ([`market`]), the dated rate
//! card ([`ratecard`]) and the accounts ([`account`]), joined in one immutable [`Pricebook`].

pub(crate) mod account;
pub(crate) mod market;
pub(crate) mod meta;
pub(crate) mod ratecard;

use chrono::NaiveDate;

use crate::domain::money::Currency;
use account::Accounts;
use market::{MarketId, Markets};
use ratecard::{in_force, Price, RateCard, RateCategory};

/// Everything prices are looked up in: markets, the rate card, accounts. Immutable, shared.
#[derive(Debug)]
pub struct Pricebook {
    pub(crate) markets: Markets,
    pub(crate) accounts: Accounts,
    /// Per currency (a book has few), the dated prices of each market and rate category, at
    /// [`Pricebook::slot`]: a lookup is two indexings, no hashing.
    prices: Vec<(Currency, Vec<Dated>)>,
}

/// A market and rate category's prices, by the date they take effect.
type Dated = Vec<(NaiveDate, Price)>;

impl Pricebook {
    /// The pricebook of these markets, rate card and accounts (the card is indexed for lookups).
    pub fn new(markets: Markets, card: &RateCard, accounts: Accounts) -> Pricebook {
        let mut markets = markets;
        let mut prices: Vec<(Currency, Vec<Dated>)> = Vec::new();
        for ((currency, market, category), dated) in card.entries() {
            let slot = Pricebook::slot(markets.intern(market), *category);
            let table = match prices.iter().position(|(c, _)| c == currency) {
                Some(i) => &mut prices[i].1,
                None => {
                    prices.push((*currency, Vec::new()));
                    &mut prices.last_mut().expect("just pushed").1
                }
            };
            if table.len() <= slot {
                table.resize(slot + 1, Vec::new());
            }
            table[slot] = dated.clone();
        }
        Pricebook { markets, accounts, prices }
    }

    /// Where the prices of a market and rate category are in a currency's table.
    fn slot(market: MarketId, category: RateCategory) -> usize {
        // A fieldless enum: its discriminant is its place in `ALL`.
        usize::from(market.0) * RateCategory::ALL.len() + category as usize
    }

    /// The embedded markets table and rate card, with these accounts.
    pub fn embedded(accounts: Accounts) -> Pricebook {
        Pricebook::new(Markets::embedded(), &RateCard::embedded(), accounts)
    }

    /// The markets table.
    pub fn markets(&self) -> &Markets {
        &self.markets
    }

    /// Where a currency's prices are (an engine finds it once per business).
    pub(crate) fn currency_slot(&self, currency: Currency) -> Option<u16> {
        self.prices.iter().position(|(c, _)| *c == currency).map(|i| i as u16)
    }

    /// The price in force, in the currency at `slot` ([`Pricebook::currency_slot`]).
    pub(crate) fn price_in(
        &self,
        slot: Option<u16>,
        market: MarketId,
        category: RateCategory,
        date: NaiveDate,
    ) -> Option<&Price> {
        let (_, table) = self.prices.get(usize::from(slot?))?;
        in_force(table.get(Pricebook::slot(market, category))?, date)
    }

    pub(crate) fn price(
        &self,
        currency: Currency,
        market: MarketId,
        category: RateCategory,
        date: NaiveDate,
    ) -> Option<&Price> {
        self.price_in(self.currency_slot(currency), market, category, date)
    }
}

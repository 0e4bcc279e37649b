//! Meta's words for a message's pricing, read into wabill's (docs/rules.md §11).
//!
//! Meta's verdict on a message is its webhook's `pricing` object (or a log's `meta_*`
//! columns): `pricing_model`, `type`, `category`, `billable` and, since 2026, `cost`. The same
//! words, upper-cased, name the buckets of `pricing_analytics`. This is the one table that maps
//! them to wabill's words.

use rust_decimal::Decimal;

use crate::domain::event::{PricingCategory, PricingModel, PricingType};

/// Meta's verdict on one message, in wabill's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaSays {
    /// `pricing_model`: `PMP` or `CBP`.
    pub model: PricingModel,
    /// `billable`. In PMP it says "charged" (the same as type `regular`); in CBP it says the
    /// message belongs to a billable conversation (every message of it, charged or not, and
    /// those of the free tier too): only a free entry point's conversation is not billable.
    pub billable: Option<bool>,
    /// `type` (PMP): `regular`, `free_customer_service`, `free_entry_point`.
    pub pricing_type: Option<PricingType>,
    /// `category`: the message's (PMP) or its conversation's (CBP).
    pub category: Option<PricingCategory>,
    /// `cost`, when Meta sends one: what Meta charged, in the WABA's currency.
    pub cost: Option<Decimal>,
}

/// A word of Meta's that is not in wabill's table, and which field it was in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownWord {
    /// The field: `pricing_model`, `type`, `category`, `billable` or `cost`.
    pub field: &'static str,
    /// The word as Meta wrote it.
    pub word: String,
}

impl std::fmt::Display for UnknownWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Meta's {} {:?} is not a word wabill knows (docs/rules.md §11)", self.field, self.word)
    }
}

impl MetaSays {
    /// Reads Meta's words as a webhook's `pricing` object or a log's `meta_*` columns hold
    /// them, in any case: `None` when they say nothing (no model, type, category nor
    /// billable), an [`UnknownWord`] for a word not in the table.
    pub fn read(
        billable: &str,
        model: &str,
        pricing_type: &str,
        category: &str,
        cost: &str,
    ) -> Result<Option<MetaSays>, UnknownWord> {
        let unknown = |field: &'static str, word: &str| UnknownWord { field, word: word.to_string() };
        let (billable, model, pricing_type, category, cost) =
            (billable.trim(), model.trim(), pricing_type.trim(), category.trim(), cost.trim());
        if [billable, model, pricing_type, category].iter().all(|w| w.is_empty()) {
            return Ok(None);
        }
        let billable = match billable {
            "" => None,
            b if b.eq_ignore_ascii_case("true") => Some(true),
            b if b.eq_ignore_ascii_case("false") => Some(false),
            _ => return Err(unknown("billable", billable)),
        };
        let pricing_type = match pricing_type {
            "" => None,
            t => Some(meta_type(t).ok_or_else(|| unknown("type", t))?),
        };
        let category = match category {
            "" => None,
            c => Some(meta_category(c).ok_or_else(|| unknown("category", c))?),
        };
        // Meta's model is PMP unless it says otherwise: a verdict without a model but with a
        // type is per-message (the type exists only there).
        let model = match model {
            m if m.eq_ignore_ascii_case("PMP") => PricingModel::Pmp,
            m if m.eq_ignore_ascii_case("CBP") => PricingModel::Cbp,
            "" if pricing_type.is_some() => PricingModel::Pmp,
            "" => PricingModel::Cbp,
            _ => return Err(unknown("pricing_model", model)),
        };
        let cost = match cost {
            "" => None,
            c => Some(c.parse::<Decimal>().map_err(|_| unknown("cost", c))?),
        };
        Ok(Some(MetaSays { model, billable, pricing_type, category, cost }))
    }

    /// Whether Meta charged the message, when its words say: in PMP, type `regular` (or
    /// `billable` when there is no type); in CBP, `billable` does not say it (see
    /// [`MetaSays::billable`]).
    pub fn charged(&self) -> Option<bool> {
        match self.model {
            PricingModel::Pmp => match self.pricing_type {
                Some(t) => Some(t == PricingType::Regular),
                None => self.billable,
            },
            _ => None,
        }
    }
}

/// Meta's pricing type (`type`; upper-case in analytics) in wabill's words.
pub fn meta_type(word: &str) -> Option<PricingType> {
    let word = word.trim();
    [
        PricingType::Regular,
        PricingType::FreeCustomerService,
        PricingType::FreeGroupCustomerService,
        PricingType::FreeEntryPoint,
        PricingType::FreeTier,
    ]
    .into_iter()
    .find(|t| t.as_str().eq_ignore_ascii_case(word))
}

/// Meta's category (`category`; upper-case in analytics) in wabill's words.
pub fn meta_category(word: &str) -> Option<PricingCategory> {
    // Meta's words are wabill's, in any case.
    let word = word.trim();
    PricingCategory::ALL.iter().copied().find(|c| c.as_str().eq_ignore_ascii_case(word))
}

/// The word Meta uses for wabill's pricing type of a per-message line, when Meta has one:
/// `conversation`, `inbound`, `undelivered`, `violation` and `duplicate` have none.
pub fn pmp_word(t: PricingType) -> Option<&'static str> {
    match t {
        PricingType::Regular => Some("REGULAR"),
        PricingType::FreeCustomerService => Some("FREE_CUSTOMER_SERVICE"),
        PricingType::FreeGroupCustomerService => Some("FREE_GROUP_CUSTOMER_SERVICE"),
        PricingType::FreeEntryPoint => Some("FREE_ENTRY_POINT"),
        PricingType::FreeTier => Some("FREE_TIER"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn says(b: &str, m: &str, t: &str, c: &str) -> MetaSays {
        MetaSays::read(b, m, t, c, "").unwrap().unwrap()
    }

    #[test]
    fn pmp_words_map_to_wabills() {
        let s = says("true", "PMP", "regular", "marketing");
        assert_eq!(s.model, PricingModel::Pmp);
        assert_eq!(s.pricing_type, Some(PricingType::Regular));
        assert_eq!(s.category, Some(PricingCategory::Marketing));
        assert_eq!(s.charged(), Some(true));
        let s = says("false", "PMP", "free_customer_service", "utility");
        assert_eq!(s.charged(), Some(false));
        assert_eq!(says("false", "PMP", "free_entry_point", "referral_conversion").charged(), Some(false));
        assert_eq!(
            says("", "PMP", "regular", "authentication_international").category,
            Some(PricingCategory::AuthenticationInternational)
        );
        // Without a type (v24 drops nothing but billable), billable says it.
        assert_eq!(says("true", "PMP", "", "utility").charged(), Some(true));
    }

    #[test]
    fn marketing_lite_is_its_own_word() {
        assert_eq!(
            says("", "PMP", "regular", "marketing_lite").category,
            Some(PricingCategory::MarketingLite)
        );
    }

    /// docs/rules.md §12: Meta's group words.
    #[test]
    fn group_words_are_wabills() {
        let s = says("", "PMP", "free_group_customer_service", "group_service");
        assert_eq!(s.pricing_type, Some(PricingType::FreeGroupCustomerService));
        assert_eq!((s.category, s.charged()), (Some(PricingCategory::GroupService), Some(false)));
        let s = says("", "PMP", "regular", "group_marketing");
        assert_eq!((s.category, s.charged()), (Some(PricingCategory::GroupMarketing), Some(true)));
        assert_eq!(meta_category("GROUP_UTILITY"), Some(PricingCategory::GroupUtility));
    }

    #[test]
    fn cbp_billable_does_not_say_charged() {
        let s = says("true", "CBP", "", "user_initiated");
        assert_eq!(s.model, PricingModel::Cbp);
        assert_eq!(s.billable, Some(true));
        assert_eq!(s.charged(), None);
        assert_eq!(
            says("true", "CBP", "", "business_initiated").category,
            Some(PricingCategory::BusinessInitiated)
        );
    }

    #[test]
    fn analytics_words_are_upper_case() {
        assert_eq!(meta_type("FREE_CUSTOMER_SERVICE"), Some(PricingType::FreeCustomerService));
        assert_eq!(
            meta_category("AUTHENTICATION_INTERNATIONAL"),
            Some(PricingCategory::AuthenticationInternational)
        );
        for t in PricingType::ALL {
            if let Some(w) = pmp_word(*t) {
                assert_eq!(meta_type(w), Some(*t));
            }
        }
    }

    #[test]
    fn unknown_words_are_named() {
        let e = MetaSays::read("true", "PMP", "premium", "marketing", "").unwrap_err();
        assert_eq!((e.field, e.word.as_str()), ("type", "premium"));
        let e = MetaSays::read("true", "PMP", "regular", "loyalty", "").unwrap_err();
        assert_eq!(e.field, "category");
        assert!(e.to_string().contains("\"loyalty\""));
        assert_eq!(MetaSays::read("maybe", "PMP", "", "", "").unwrap_err().field, "billable");
        assert_eq!(MetaSays::read("", "XBP", "", "utility", "").unwrap_err().field, "pricing_model");
    }

    #[test]
    fn nothing_said_is_no_verdict() {
        assert_eq!(MetaSays::read("", "", "", "", "").unwrap(), None);
        assert_eq!(MetaSays::read(" ", "", "", "", "0.1").unwrap(), None);
    }

    #[test]
    fn cost_is_exact() {
        let s = MetaSays::read("true", "PMP", "regular", "marketing", "0.0107").unwrap().unwrap();
        assert_eq!(s.cost, Some("0.0107".parse().unwrap()));
    }
}

//! An aliases file: each row a phone number and the same person's business-scoped user id
//! (docs/rules.md §12), linked in an engine before a log is priced.

use std::io::Read;

use crate::domain::error::Error;
use crate::engine::Engine;
use crate::util::table::Table;

/// Links every row of an aliases CSV (`phone,bsuid`, other columns ignored) in `engine`: both
/// ids are one person from then on. Returns the number of rows linked; a bad row is an error
/// with its file and line, and links nothing after it.
pub fn link_aliases<R: Read>(engine: &mut Engine, reader: R, file: &str) -> Result<usize, Error> {
    let mut t = Table::new(reader, file)?;
    let [phone, bsuid] = t.require_all(["phone", "bsuid"])?;
    let mut linked = 0;
    while t.next_row()? {
        engine.link(t.get(Some(phone)), t.get(Some(bsuid))).map_err(|e| e.at(t.position()))?;
        linked += 1;
    }
    Ok(linked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::{Event, Kind, PricingType};
    use crate::engine::Options;
    use crate::pricebook::account::Accounts;
    use crate::pricebook::Pricebook;

    #[test]
    fn each_row_links_a_number_and_its_id_and_a_bad_row_says_where() {
        let mut engine = Engine::new(Pricebook::embedded(Accounts::default()).into(), Options::default());
        let file = "phone,bsuid,name\n+33 6 12 34 56 78,FR.k3,Ann\n919876543210,IN.q,Raj\n";
        assert_eq!(link_aliases(&mut engine, file.as_bytes(), "aliases.csv").unwrap(), 2);
        let at = |s: &str| s.parse().unwrap();
        engine.push(&Event::mo(at("2025-09-01T10:00:00Z"), "B", "FR.k3")).unwrap();
        let reply = Event::mt(at("2025-09-01T10:01:00Z"), "B", "33612345678", Kind::NonTemplate);
        assert_eq!(engine.push(&reply).unwrap().pricing_type, PricingType::FreeCustomerService);

        let bad = "phone,bsuid\n33612345678,FR.k3\n33612345678,33612345678\n";
        let err = link_aliases(&mut engine, bad.as_bytes(), "aliases.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "aliases.csv:3: column bsuid: not a business-scoped user id (CC.…) (33612345678)"
        );
    }
}

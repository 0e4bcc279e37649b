//! Meta's rate-card files as Meta publishes them (docs/rules.md §5): the list-rate card of one
//! currency, read into wabill's dated card at the date it takes effect.
//!
//! The file has a few preamble lines (a title, a note, blank lines), then a header row
//! `Market,Currency,Marketing,Utility,Authentication,"Authentication-\nInternational",Service`
//! (older cards lack `Service` or `Authentication-International`), then one row per market:
//! its name as Meta's markets table writes it, a currency token (`$US`, `A$`, `£`, `₹`, `RP`,
//! …; one published file has `GBD` for `£`), and one rate per category, `n/a` where the
//! category is not offered. A Meta file carries no date: the caller says from when it applies.

use std::collections::HashMap;
use std::io::Read;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::market::Markets;
use super::ratecard::{Band, Price, RateCard, RateCategory};
use crate::domain::error::{Error, Position, Problem};
use crate::domain::money::Currency;

/// The tokens Meta's cards write in their `Currency` column, and the currencies each may name
/// (the ISO code itself is accepted too). `$` alone names several.
const TOKENS: [(&str, &[&str]); 20] = [
    ("$US", &["USD"]),
    ("US$", &["USD"]),
    ("A$", &["AUD"]),
    ("AU$", &["AUD"]),
    ("€", &["EUR"]),
    ("£", &["GBP"]),
    ("GBD", &["GBP"]),
    ("₹", &["INR"]),
    ("RS", &["INR"]),
    ("RP", &["IDR"]),
    ("MX$", &["MXN"]),
    ("R$", &["BRL"]),
    ("S$", &["SGD"]),
    ("SG$", &["SGD"]),
    ("RM", &["MYR"]),
    ("S/", &["PEN"]),
    ("S/.", &["PEN"]),
    ("د.إ", &["AED"]),
    ("﷼", &["SAR"]),
    ("$", &["USD", "ARS", "CLP", "COP", "MXN"]),
];

/// The currencies a `Currency` cell may name.
fn currencies_of(token: &str) -> Vec<Currency> {
    let t = token.trim().to_uppercase();
    if let Some((_, codes)) = TOKENS.iter().find(|(k, _)| k.to_uppercase() == t) {
        return codes.iter().map(|c| c.parse().expect("ISO codes")).collect();
    }
    match Currency::parse_text(&t) {
        Ok(c) => vec![c],
        Err(_) => Vec::new(),
    }
}

/// A header cell reduced to its letters, lower case: `"Authentication-\nInternational"` is
/// `authenticationinternational`.
fn letters(cell: &str) -> String {
    cell.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The category of a rate column's header.
fn category_of(header: &str) -> Option<RateCategory> {
    match letters(header).as_str() {
        "marketing" => Some(RateCategory::Marketing),
        "utility" => Some(RateCategory::Utility),
        "authentication" => Some(RateCategory::Authentication),
        "authenticationinternational" => Some(RateCategory::AuthenticationInternational),
        "service" => Some(RateCategory::Service),
        _ => None,
    }
}

/// A rate cell: an exact non-negative decimal, with the currency's token or thousands
/// separators around it as Meta's spreadsheets may write them.
fn rate_of(cell: &str, token: &str) -> Result<Option<Decimal>, Problem> {
    let t = cell.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("n/a") || t == "-" {
        return Ok(None);
    }
    let bare = t.strip_prefix(token.trim()).unwrap_or(t).trim();
    let bare: String = bare.chars().filter(|&c| c != ',' && !c.is_whitespace()).collect();
    crate::domain::money::parse_amount("rate", &bare)
        .map(Some)
        .map_err(|_| Problem::column("rate", "not a rate (a decimal number, or n/a)", cell))
}

impl RateCard {
    /// Reads Meta's list-rate or volume-tier card of one currency, as Meta publishes it, as in force from
    /// `effective` (the layout: docs/rules.md §5). Every market must be in
    /// `markets`; `currency`, when given, is the file's currency (needed when its token is `$`
    /// alone). Each figure's source is the file's name.
    pub fn from_meta_csv<R: Read>(
        reader: R,
        file: &str,
        effective: NaiveDate,
        currency: Option<Currency>,
        markets: &Markets,
    ) -> Result<RateCard, Error> {
        card_of_rows(&read_rows(reader, file)?, (file, file), effective, currency, markets)
    }

    /// Reads Meta's card as an XLSX workbook: each sheet with a header row (`Market,Currency,
    /// …`) is a list or tier card, as for [`RateCard::from_meta_csv`]; a problem names the
    /// sheet and its row.
    #[cfg(feature = "xlsx")]
    pub fn from_meta_xlsx(
        bytes: &[u8],
        file: &str,
        effective: NaiveDate,
        currency: Option<Currency>,
        markets: &Markets,
    ) -> Result<RateCard, Error> {
        use calamine::Reader;
        let not = |e: &dyn std::fmt::Display| Error::config(format!("{file}: not an XLSX workbook: {e}"));
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).map_err(|e| not(&e))?;
        let mut card = RateCard::default();
        let mut read = 0;
        for name in book.sheet_names() {
            let range = book.worksheet_range(&name).map_err(|e| not(&e))?;
            let first = range.start().map_or(0, |(row, _)| row);
            let rows: Rows = range
                .rows()
                .enumerate()
                .map(|(i, cells)| {
                    let line = u64::from(first) + i as u64 + 1;
                    (line, cells.iter().map(|c| c.to_string().trim().to_string()).collect())
                })
                .collect();
            let has_header =
                rows.iter().any(|(_, cells)| cells.first().is_some_and(|c| letters(c).starts_with("market")));
            if !has_header {
                continue;
            }
            let sheet = format!("{file} (sheet {name})");
            card = card.merge(card_of_rows(&rows, (&sheet, file), effective, currency, markets)?)?;
            read += 1;
        }
        if read == 0 {
            return Err(Error::config(format!("{file}: no sheet of Meta's rate card (Market,Currency,…)")));
        }
        Ok(card)
    }

    /// Whether a card file is in wabill's dated CSV: its first line names `effective_from`.
    pub fn is_wabill_csv(bytes: &[u8]) -> bool {
        let first = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]);
        String::from_utf8_lossy(first).to_lowercase().contains("effective_from")
    }

    /// Reads a card file of any layout, told by its first bytes: wabill's dated CSV (its first
    /// line names `effective_from`; `effective` must then be `None`, its rows carry their
    /// dates), or Meta's list or tier card, CSV or XLSX, in force from `effective` (which it
    /// then needs).
    pub fn from_either(
        bytes: &[u8],
        file: &str,
        effective: Option<NaiveDate>,
        currency: Option<Currency>,
        markets: &Markets,
    ) -> Result<RateCard, Error> {
        let zip = bytes.starts_with(b"PK\x03\x04");
        #[cfg(feature = "xlsx")]
        if let (true, Some(date)) = (zip, effective) {
            return RateCard::from_meta_xlsx(bytes, file, date, currency, markets);
        }
        if zip && cfg!(not(feature = "xlsx")) {
            return Err(Error::config(format!(
                "{file}: an XLSX workbook: wabill reads them with its `xlsx` feature"
            )));
        }
        match (RateCard::is_wabill_csv(bytes), effective) {
            (true, None) => RateCard::from_csv(bytes, file),
            (true, Some(_)) => {
                Err(Error::config(format!("{file}: a card in wabill's CSV carries its dates: no @DATE")))
            }
            (false, Some(date)) => RateCard::from_meta_csv(bytes, file, date, currency, markets),
            (false, None) => Err(Error::config(format!(
                "{file}: Meta's card carries no date: name it FILE@DATE, or give --rates-effective DATE"
            ))),
        }
    }
}

/// A Meta file's rows, each with the line it starts on (a header cell may hold a line break).
type Rows = Vec<(u64, Vec<String>)>;

/// What every row of a Meta file is checked against: the markets table, the file's currency
/// (given, or that of its first row), and the markets met.
struct Check<'a> {
    /// Where rows are (the file, or an XLSX file's sheet), for problems.
    file: &'a str,
    /// The figures' source: the file's name.
    source: &'a str,
    markets: std::collections::HashSet<&'a str>,
    currency: Option<Currency>,
}

impl Check<'_> {
    fn at(&self, line: u64) -> Position {
        Position { file: self.file.into(), line }
    }

    /// The currency of a row's token: the file's.
    fn currency(&mut self, token: &str, line: u64) -> Result<Currency, Error> {
        let named = currencies_of(token);
        let c = match (self.currency, named.as_slice()) {
            (_, []) => {
                return Err(Problem::column("Currency", "not a currency token", token).at(self.at(line)))
            }
            (Some(c), named) if named.contains(&c) => c,
            (Some(c), _) => {
                let what = format!("names another currency than the file's {c}");
                return Err(Problem::column("Currency", what, token).at(self.at(line)));
            }
            (None, [one]) => *one,
            (None, several) => {
                let names: Vec<String> = several.iter().map(|c| c.to_string()).collect();
                let what = format!("may name {}: say which (FILE@DATE@CURRENCY)", names.join(", "));
                return Err(Problem::column("Currency", what, token).at(self.at(line)));
            }
        };
        self.currency = Some(c);
        Ok(c)
    }

    fn market(&self, name: &str, line: u64) -> Result<(), Error> {
        if self.markets.contains(name) {
            Ok(())
        } else {
            Err(Problem::column("Market", "not a market of the markets table", name).at(self.at(line)))
        }
    }
}

fn read_rows<R: Read>(reader: R, file: &str) -> Result<Rows, Error> {
    let mut rows = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(reader);
    let mut out = Vec::new();
    for record in rows.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            Problem::new(format!("not CSV: {e}")).at(Position { file: file.into(), line })
        })?;
        let line = record.position().map_or(0, |p| p.line());
        out.push((line, record.iter().map(|c| c.trim().to_string()).collect()));
    }
    Ok(out)
}

fn cell(row: &[String], i: usize) -> &str {
    row.get(i).map_or("", String::as_str)
}

/// A card of Meta's rows, list or tiers as its header says.
fn card_of_rows(
    rows: &Rows,
    (file, source): (&str, &str),
    effective: NaiveDate,
    currency: Option<Currency>,
    markets: &Markets,
) -> Result<RateCard, Error> {
    let mut check = Check { file, source, markets: markets.names().collect(), currency };
    // The header row: `Market` first, a `Currency` column.
    let header = rows.iter().position(|(_, cells)| {
        cells.first().is_some_and(|c| letters(c).starts_with("market"))
            && cells.iter().any(|c| letters(c) == "currency")
    });
    let Some(h) = header else {
        let what = "not Meta's rate card: no header row Market,Currency,…";
        return Err(Problem::new(what).at(check.at(1)));
    };
    let (line, head) = &rows[h];
    let token = head.iter().position(|c| letters(c) == "currency").expect("the header has one");
    let mut card = RateCard::default();
    if head.iter().any(|c| letters(c) == "from") {
        tier_rows(rows, h, token, &mut check, effective, &mut card)?;
        return Ok(card);
    }
    let rates: Vec<(usize, RateCategory)> =
        head.iter().enumerate().filter_map(|(i, h)| category_of(h).map(|c| (i, c))).collect();
    if !rates.iter().any(|(_, c)| *c == RateCategory::Marketing) {
        return Err(Problem::column("Marketing", "missing from the header row", "").at(check.at(*line)));
    }
    let mut seen: HashMap<&str, u64> = HashMap::new();
    for (line, row) in &rows[h + 1..] {
        let (name, cell_token) = (cell(row, 0), cell(row, token));
        let has_rate = rates.iter().any(|(i, _)| !cell(row, *i).is_empty());
        if name.is_empty() || (cell_token.is_empty() && !has_rate) {
            continue; // a blank line or a note under the table
        }
        let currency = check.currency(cell_token, *line)?;
        check.market(name, *line)?;
        if let Some(first) = seen.insert(name, *line) {
            let what = format!("repeats the market of line {first}");
            return Err(Problem::column("Market", what, name).at(check.at(*line)));
        }
        for &(i, category) in &rates {
            if let Some(rate) = rate_of(cell(row, i), cell_token).map_err(|p| p.at(check.at(*line)))? {
                let price = Price::flat(rate).with_source(source);
                card.insert((currency, name.to_string(), category), effective, price);
            }
        }
    }
    Ok(card)
}

/// Meta's volume-tier card: under a row naming each group's category (`Utility`,
/// `Authentication`, `Auth-Intl`), the header repeats `From,To,Rate type,Rate,vs. List rate`
/// per group; a market's first row names it, the rows of its further bands leave it empty.
/// `From`/`To` are counts with thousands separators, `--` an open end, `n/a` no tiers.
fn tier_rows(
    rows: &Rows,
    h: usize,
    token: usize,
    check: &mut Check,
    effective: NaiveDate,
    card: &mut RateCard,
) -> Result<(), Error> {
    let (line, head) = &rows[h];
    let froms: Vec<usize> =
        head.iter().enumerate().filter(|(_, c)| letters(c) == "from").map(|(i, _)| i).collect();
    // Each group's category: the nearest name at or left of its `From`, in the rows above.
    let mut groups = Vec::new();
    for (g, &from) in froms.iter().enumerate() {
        let start = if g == 0 { token + 1 } else { froms[g - 1] + 1 };
        let named = rows[..h]
            .iter()
            .rev()
            .take(3)
            .find_map(|(_, cells)| (start..=from).rev().find_map(|i| tier_category(cell(cells, i))));
        let Some(category) = named else {
            let what = "no category (Utility, Authentication, Auth-Intl) above this group";
            return Err(Problem::column("From", what, "").at(check.at(*line)));
        };
        let end = froms.get(g + 1).copied().unwrap_or(head.len());
        let rate = (from..end).find(|&i| letters(&head[i]) == "rate");
        let to = (from..end).find(|&i| letters(&head[i]) == "to");
        let (Some(rate), Some(to)) = (rate, to) else {
            return Err(Problem::column("Rate", "missing from a group of the header", "").at(check.at(*line)));
        };
        groups.push((category, from, to, rate));
    }
    let mut bands: std::collections::BTreeMap<(String, RateCategory), (Currency, Vec<Band>, u64)> =
        Default::default();
    let mut market: Option<&str> = None;
    for (line, row) in &rows[h + 1..] {
        let at = check.at(*line);
        if !cell(row, 0).is_empty() {
            check.market(cell(row, 0), *line)?;
            market = Some(cell(row, 0));
        }
        let cell_token = cell(row, token);
        let (Some(name), false) = (market, cell_token.is_empty()) else { continue };
        let currency = check.currency(cell_token, *line)?;
        for &(category, from, to, rate) in &groups {
            let (f, t) = (cell(row, from), cell(row, to));
            if f.is_empty() || f.eq_ignore_ascii_case("n/a") {
                continue;
            }
            let count = |column: &'static str, s: &str| {
                s.replace(',', "")
                    .parse::<u64>()
                    .map_err(|_| Problem::column(column, "not a whole number", s).at(at.clone()))
            };
            let band = Band {
                from: count("From", f)?,
                to: match t {
                    "--" | "" => None,
                    t if t.eq_ignore_ascii_case("max") => None,
                    t => Some(count("To", t)?),
                },
                rate: rate_of(cell(row, rate), cell_token).map_err(|p| p.at(at.clone()))?.ok_or_else(
                    || Problem::column("Rate", "missing for a band", cell(row, rate)).at(at.clone()),
                )?,
            };
            let entry = bands.entry((name.to_string(), category)).or_insert((currency, Vec::new(), *line));
            entry.1.push(band);
        }
    }
    for ((market, category), (currency, bands, line)) in bands {
        let price = Price::tiers(bands)
            .map_err(|p| Problem::new(format!("tiers of {market} {category}: {p}")).at(check.at(line)))?;
        card.insert((currency, market, category), effective, price.with_source(check.source));
    }
    Ok(())
}

impl Markets {
    /// Reads a markets file of either layout, told by its first line (see
    /// [`RateCard::from_either`]): wabill's dated CSV, or Meta's calling-code table in force
    /// from `effective` (which it then needs).
    pub fn from_either(bytes: &[u8], file: &str, effective: Option<NaiveDate>) -> Result<Markets, Error> {
        match (RateCard::is_wabill_csv(bytes), effective) {
            (true, _) => Markets::from_csv(bytes, file),
            (false, Some(date)) => Markets::from_meta_csv(bytes, file, date),
            (false, None) => Err(Error::config(format!(
                "{file}: Meta's calling-code table carries no date: name it FILE@DATE"
            ))),
        }
    }

    /// Reads Meta's calling-code table ("Country Calling Codes and Regional Rate Mapping") as
    /// in force from `effective`: a header row with a calling-code column (`Country calling
    /// code`, `Calling code`, `Code`), a market column (`Market`, `Region`, `Rate card
    /// market`) and, since 2026, an ISO column; one row per country, its code written `91`,
    /// `+91` or `1 (809, 829, 849)` (area codes under a shared code). A number no row holds is
    /// in `Other`.
    pub fn from_meta_csv<R: Read>(reader: R, file: &str, effective: NaiveDate) -> Result<Markets, Error> {
        let rows = read_rows(reader, file)?;
        let at = |line: u64| Position { file: file.into(), line };
        let find = |cells: &[String], names: &[&str]| {
            cells.iter().position(|c| names.contains(&letters(c).as_str()))
        };
        let codes = ["countrycallingcode", "callingcode", "code", "countrycode"];
        let markets = ["market", "region", "ratecardmarket", "marketpercard", "pricingregion"];
        let header = rows
            .iter()
            .position(|(_, cells)| find(cells, &codes).is_some() && find(cells, &markets).is_some());
        let Some(h) = header else {
            let what = "not Meta's calling-code table: no header row with a calling code and a market column";
            return Err(Problem::new(what).at(at(1)));
        };
        let head = &rows[h].1;
        let (code, market) = (find(head, &codes).expect("found"), find(head, &markets).expect("found"));
        let iso = head.iter().position(|c| letters(c).starts_with("iso"));
        let mut text = String::from("effective_from,prefix,country,market\n");
        let mut lines = vec![0u64];
        let mut seen = std::collections::HashSet::new();
        for (line, row) in &rows[h + 1..] {
            let (c, name) = (cell(row, code), cell(row, market));
            if c.is_empty() && name.is_empty() {
                continue;
            }
            let country = iso.map_or("", |i| cell(row, i));
            let (main, areas) = match c.split_once('(') {
                Some((main, areas)) => (main, areas.trim_end_matches(')')),
                None => (c, ""),
            };
            let main: String = main.chars().filter(char::is_ascii_digit).collect();
            if main.is_empty() {
                return Err(Problem::column("calling code", "not a calling code", c).at(at(*line)));
            }
            let areas: Vec<&str> = areas.split([',', ' ', '/']).filter(|a| !a.is_empty()).collect();
            let prefixes: Vec<String> = if areas.is_empty() {
                vec![main.clone()]
            } else {
                areas.iter().map(|a| format!("{main}{a}")).collect()
            };
            for prefix in prefixes {
                // A code several countries share (+1: US and CA) numbers the first; the others
                // are known by their country alone (a log's `country` column).
                let prefix = if seen.insert(prefix.clone()) {
                    prefix
                } else if !country.is_empty() {
                    String::new()
                } else {
                    continue;
                };
                let name = if name.contains([',', '"']) {
                    format!("\"{}\"", name.replace('"', "\"\""))
                } else {
                    name.to_string()
                };
                text.push_str(&format!("{effective},{prefix},{country},{name}\n"));
                lines.push(*line);
            }
        }
        // The rows as wabill's own table, each problem placed at the Meta row it came from.
        Markets::from_csv(text.as_bytes(), file).map_err(|e| match e.position() {
            Some(p) => {
                let line = lines.get(p.line as usize - 1).copied().unwrap_or(p.line);
                e.into_problem().map_or_else(|e| e, |problem| problem.at(at(line)))
            }
            None => e,
        })
    }
}

/// The category a tier group's name says.
fn tier_category(name: &str) -> Option<RateCategory> {
    match letters(name).as_str() {
        "authintl" | "authenticationintl" => Some(RateCategory::AuthenticationInternational),
        _ => category_of(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARD: &str = "WhatsApp Business Platform rates\n\
        Rates effective October 1 2026\n\
        \n\
        Market,Currency,Marketing,Utility,Authentication,\"Authentication-\nInternational\",Service\n\
        India,₹,0.8631,0.1150,0.1150,2.5000,0.1150\n\
        Brazil,₹,5.1340,0.5585,0.5585,n/a,0.5585\n\
        \n\
        * Rates are per delivered message.\n";

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn read(text: &str) -> Result<RateCard, Error> {
        RateCard::from_meta_csv(text.as_bytes(), "meta.csv", d("2026-10-01"), None, &Markets::embedded())
    }

    #[test]
    fn metas_list_card_is_read_at_its_date() {
        let card = read(CARD).unwrap();
        let inr: Currency = "INR".parse().unwrap();
        let at = |m: &str, c, date: &str| card.price(inr, m, c, d(date)).map(Price::first);
        assert_eq!(at("India", RateCategory::Marketing, "2026-10-01"), Some("0.8631".parse().unwrap()));
        assert_eq!(
            at("India", RateCategory::AuthenticationInternational, "2026-12-01"),
            Some("2.5".parse().unwrap())
        );
        assert_eq!(at("Brazil", RateCategory::AuthenticationInternational, "2026-12-01"), None, "n/a");
        assert_eq!(at("India", RateCategory::Marketing, "2026-09-30"), None, "before its date");
        let p = card.price(inr, "India", RateCategory::Service, d("2026-10-01")).unwrap();
        assert_eq!((p.source(), p.verified()), ("meta.csv", true));
    }

    #[test]
    fn bad_cells_name_their_line() {
        let e = read(&CARD.replace("0.1150,0.1150,2.5000", "0.1150,cheap,2.5000")).unwrap_err();
        assert_eq!(e.to_string(), "meta.csv:6: column rate: not a rate (a decimal number, or n/a) (cheap)");
        let e = read(&CARD.replace("Brazil,₹", "Brazil,£")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "meta.csv:7: column Currency: names another currency than the file's INR (£)"
        );
        let e = read(&CARD.replace("Brazil,", "Brasil,")).unwrap_err();
        assert_eq!(e.to_string(), "meta.csv:7: column Market: not a market of the markets table (Brasil)");
        let e = read(&CARD.replace("Brazil,", "India,")).unwrap_err();
        assert_eq!(e.to_string(), "meta.csv:7: column Market: repeats the market of line 6 (India)");
        let e = read("effective_from,currency\n").unwrap_err();
        assert!(e.to_string().contains("no header row"), "{e}");
        let e = read(&CARD.replace("₹", "$")).unwrap_err();
        assert!(e.to_string().contains("may name USD, ARS, CLP, COP, MXN"), "{e}");
    }

    #[test]
    fn tokens_name_currencies() {
        let names = |t: &str| currencies_of(t).iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",");
        assert_eq!(names("$US"), "USD");
        assert_eq!(names("GBD"), "GBP");
        assert_eq!(names("Rp"), "IDR");
        assert_eq!(names("eur"), "EUR");
        assert_eq!(names("?"), "");
    }

    #[test]
    fn the_layout_is_told_by_the_first_line() {
        let m = Markets::embedded();
        let date = Some(d("2026-10-01"));
        assert!(RateCard::from_either(CARD.as_bytes(), "m.csv", date, None, &m).is_ok());
        let e = RateCard::from_either(CARD.as_bytes(), "m.csv", None, None, &m).unwrap_err();
        assert!(e.to_string().contains("carries no date"), "{e}");
        let ours = b"effective_from,currency,market,category,rate\n2026-10-01,INR,India,marketing,0.8631\n";
        assert!(RateCard::from_either(ours, "r.csv", None, None, &m).is_ok());
        let e = RateCard::from_either(ours, "r.csv", date, None, &m).unwrap_err();
        assert!(e.to_string().contains("carries its dates"), "{e}");
    }

    #[test]
    fn metas_calling_code_table_is_read_with_its_area_codes_and_iso_column() {
        let table = "Country Calling Codes and Regional Rate Mapping\n\n\
            Country Name,Country Calling Code,ISO,Market\n\
            United States,1,US,North America\n\
            Canada,1,CA,North America\n\
            Dominican Republic,\"1 (809, 829, 849)\",DO,Rest of Latin America\n\
            India,+91,IN,India\n";
        let m = Markets::from_meta_csv(table.as_bytes(), "codes.csv", d("2025-01-01")).unwrap();
        let on = d("2025-06-01");
        assert_eq!(m.lookup("18095550100", None, on), (Some("DO".parse().unwrap()), "Rest of Latin America"));
        assert_eq!(m.lookup("14165550100", None, on), (Some("US".parse().unwrap()), "North America"));
        assert_eq!(m.lookup("x", Some("CA".parse().unwrap()), on).1, "North America");
        assert_eq!(m.lookup("919876543210", None, on), (Some("IN".parse().unwrap()), "India"));
        assert_eq!(m.lookup("33612345678", None, on), (None, "Other"), "a country not listed is in Other");
        assert_eq!(m.lookup("919876543210", None, d("2024-12-31")).1, "Other", "before its date");
        let bad = table.replace("+91,IN", "+91,XX");
        let e = Markets::from_meta_csv(bad.as_bytes(), "codes.csv", d("2025-01-01")).unwrap_err().to_string();
        assert!(e.starts_with("codes.csv:7: "), "{e}");
        let e =
            Markets::from_meta_csv("a,b\n".as_bytes(), "codes.csv", d("2025-01-01")).unwrap_err().to_string();
        assert!(e.contains("no header row"), "{e}");
    }
}

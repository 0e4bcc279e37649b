//! The library's messages where there is no CSV file: an event pushed through the engine is
//! not a row, so its problems name the event's field, not a column.

mod common;

use wabill::{Category, ErrorKind, Event, Kind, Options};

/// Each problem the engine finds in an event on its own names the field: `user: ...`, never
/// `column user: ...`; the error is of the data, without a position, and says which field.
/// A CSV file's row keeps `FILE:LINE: column NAME: ...` (tests/cli/bad_input.rs).
#[test]
fn an_event_the_engine_refuses_names_its_field_not_a_column() {
    let t = common::instant("2025-09-10T09:00:00Z");
    let mut engine = common::engine(Options::default());
    let refused = |engine: &mut wabill::Engine, ev: Event| {
        let error = engine.push(&ev).unwrap_err();
        assert_eq!((error.kind(), error.position()), (ErrorKind::Data, None));
        assert!(error.to_string().starts_with(&format!("{}: ", error.field().unwrap())), "{error}");
        error.to_string()
    };
    assert_eq!(refused(&mut engine, Event::mo(t, "B1", "+ -")), "user: must not be empty (+ -)");
    assert_eq!(
        refused(&mut engine, Event::mo(t, "B1", "hash:0a1b")),
        "user: not a phone number and no country given (hash:0a1b)"
    );
    assert_eq!(refused(&mut engine, Event::mo(t, "", "33612345678")), "business: must not be empty");
    let mo_template =
        Event { kind: Kind::Template(Category::Marketing), ..Event::mo(t, "B1", "33612345678") };
    assert_eq!(refused(&mut engine, mo_template), "category: must be empty for an MO (marketing)");
    engine.push(&Event::mo(t, "B1", "33612345678")).unwrap();
    let earlier = common::instant("2025-09-10T08:00:00Z");
    assert_eq!(
        refused(&mut engine, Event::mo(earlier, "B1", "33612345678")),
        "timestamp: earlier than the event before, 2025-09-10T09:00:00Z (2025-09-10T08:00:00Z)"
    );
}

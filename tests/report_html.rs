//! `wabill report --html` opened in a real browser: the report of the example log (with the
//! four example tariffs) is loaded in headless Chromium, which measures every chart and dumps the page it
//! rendered, at a desktop's and at a phone's width, and takes a screenshot. The charts must
//! exist with a non-zero size, the page must not scroll sideways on a phone, and the totals it
//! shows must be the summary's, computed here through the library.
//!
//! Chromium is `/usr/bin/chromium` (Debian's `chromium` package, which `.ci/run` installs), or
//! `$WABILL_CHROMIUM`. Without it the test fails, saying so. `WABILL_BLESS=1` writes the
//! screenshot to `docs/report.png`, the picture the README shows.

#![cfg(feature = "cli")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use csv::StringRecord;
use wabill::log::{price_logs, LogInput, ReadOptions, Row, Sink};
use wabill::report::{HtmlReport, Summary};
use wabill::{Accounts, Engine, Error, Options, Pricebook, PricedLine};

const LOG: &str = "fixtures/example/log.csv";
const ACCOUNTS: &str = "fixtures/example/accounts.csv";
const TARIFFS: [&str; 4] = [
    "fixtures/tariffs/per-message.toml",
    "fixtures/tariffs/licence.toml",
    "fixtures/tariffs/per-user.toml",
    "fixtures/tariffs/fair-use.toml",
];

/// The charts the report of the example draws.
const CHARTS: [&str; 5] =
    ["chart-months-USD", "chart-markets-USD", "chart-businesses-USD", "chart-reasons", "chart-curves"];

struct Summing(Summary);

impl Sink for Summing {
    fn begin(&mut self, _: &[StringRecord]) -> Result<(), Error> {
        Ok(())
    }
    fn priced(&mut self, _: &Row, line: &PricedLine) -> Result<(), Error> {
        self.0.add(line)
    }
    fn rejected(&mut self, _: &Row, e: &Error) -> Result<(), Error> {
        panic!("{e}")
    }
}

/// The example's totals per currency as the report must show them: `(code, amount)`, each
/// rounded to the currency's minor unit.
fn expected_totals() -> Vec<(String, String)> {
    let accounts = Accounts::from_csv(std::fs::File::open(ACCOUNTS).unwrap(), ACCOUNTS).unwrap();
    let mut engine = Engine::new(Pricebook::embedded(accounts).into(), Options::default());
    let log = std::fs::read(LOG).unwrap();
    let mut sink = Summing(Summary::new(&HtmlReport::GROUPING));
    let input = vec![LogInput { name: LOG.into(), reader: &log[..] }];
    price_logs(input, &mut engine, &ReadOptions::default(), &mut sink).unwrap();
    let totals = sink.0.totals().unwrap();
    totals.into_iter().map(|(c, t)| (c.code().to_string(), c.round(t.charge).to_string())).collect()
}

fn chromium() -> PathBuf {
    let path =
        std::env::var_os("WABILL_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.exists(),
        "no Chromium at {}: this test opens the HTML report in a real browser; install Debian's \
         `chromium` package (`apt-get install -y chromium`, as .ci/run does) or set WABILL_CHROMIUM",
        path.display()
    );
    path
}

/// Runs headless Chromium on `page` at `width`×`height` with `args`, in a profile of its own.
fn browse(page: &Path, width: u32, height: u32, args: &[&str]) -> String {
    let profile = common::Scratch::new();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={width},{height}"))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("Chromium runs");
    assert!(out.status.success(), "Chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("a UTF-8 page")
}

/// The value of attribute `name` of the first element that has it, unescaped.
fn attribute(dom: &str, name: &str) -> String {
    let start =
        dom.find(&format!(" {name}=\"")).unwrap_or_else(|| panic!("no {name} in the page")) + name.len() + 3;
    let end = start + dom[start..].find('"').expect("a closing quote");
    dom[start..end].replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// A script that measures, once the page is laid out, each chart's size and its marks of
/// non-zero size, the page's height and how far it scrolls sideways, and writes them into the
/// body's attributes (for `--dump-dom`), and its parent's when it is in a frame.
const MEASURE: &str = r#"<script>
addEventListener('load', () => {
  const charts = [...document.querySelectorAll('svg.chart')].map(svg => {
    const box = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll('.mark')].filter(m => { const b = m.getBBox(); return b.width > 0 && b.height > 0; });
    return `${svg.id}:${Math.round(box.width)}x${Math.round(box.height)}:${marks.length}`;
  });
  const totals = [...document.querySelectorAll('.total')].map(t => t.outerHTML).join('');
  const measured = {
    'data-charts': charts.join(' '),
    'data-height': String(document.documentElement.scrollHeight),
    'data-sideways': String(document.documentElement.scrollWidth - innerWidth),
    'data-width': String(innerWidth),
    'data-totals': totals,
  };
  for (const [k, v] of Object.entries(measured)) document.body.setAttribute(k, v);
  if (parent !== window) parent.postMessage(measured, '*');
});
</script>"#;

/// A page showing `page` in a frame `width` px wide: headless Chromium's window is at least
/// 500 px wide, a phone's narrower. The frame's measures come back into its body's attributes.
fn framed(page: &str, width: u32) -> String {
    format!(
        "<!doctype html><html><body style=\"margin:0\"><iframe src=\"{page}\" \
         style=\"width:{width}px;height:900px;border:0\"></iframe><script>\
         addEventListener('message', e => {{ for (const [k, v] of Object.entries(e.data)) \
         document.body.setAttribute(k, v); }});</script></body></html>"
    )
}

/// What the browser measured: each chart's id, width, height and marks of non-zero size; the
/// page's height; how far it scrolls sideways; the headline totals as it has them.
type Measured = (Vec<(String, u32, u32, u32)>, u32, i64, String);

/// Each chart's (width, height, marks) at a window `width` wide, with the page's height and
/// sideways scroll.
fn measure(report: &str, dir: &Path, width: u32) -> Measured {
    let measured = format!("measured-{width}.html");
    std::fs::write(dir.join(&measured), report.replace("</body>", &format!("{MEASURE}</body>"))).unwrap();
    let page = dir.join(format!("frame-{width}.html"));
    std::fs::write(&page, framed(&measured, width)).unwrap();
    let dom = browse(&page, width.max(800), 1000, &["--virtual-time-budget=5000", "--dump-dom"]);
    assert_eq!(attribute(&dom, "data-width"), width.to_string(), "the frame's width");
    let charts = attribute(&dom, "data-charts")
        .split_whitespace()
        .map(|c| {
            let mut parts = c.split(':');
            let id = parts.next().unwrap().to_string();
            let (w, h) = parts.next().unwrap().split_once('x').unwrap();
            (id, w.parse().unwrap(), h.parse().unwrap(), parts.next().unwrap().parse().unwrap())
        })
        .collect();
    let height = attribute(&dom, "data-height").parse().unwrap();
    let sideways = attribute(&dom, "data-sideways").parse().unwrap();
    (charts, height, sideways, attribute(&dom, "data-totals"))
}

#[test]
fn the_report_renders_its_charts_and_the_summarys_totals_in_a_browser() {
    let dir = common::Scratch::new();
    let html = dir.join("report.html");
    let mut args = vec!["report", LOG, "--accounts", ACCOUNTS, "--html", html.to_str().unwrap()];
    for t in TARIFFS {
        args.extend(["--tariff", t]);
    }
    let run = Command::new(env!("CARGO_BIN_EXE_wabill")).args(&args).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report = std::fs::read_to_string(&html).unwrap();

    // Self-contained: nothing fetched, no script.
    for outside in ["<script", "<link", "src=", "href=", "@import", "url(http", "@font-face"] {
        assert!(!report.contains(outside), "the report holds {outside:?}");
    }

    let totals = expected_totals();
    assert!(!totals.is_empty());
    for (width, name) in [(1280, "desktop"), (390, "phone")] {
        let (charts, height, sideways, dom) = measure(&report, &dir, width);
        for id in CHARTS {
            let (_, w, h, marks) = charts
                .iter()
                .find(|c| c.0 == id)
                .unwrap_or_else(|| panic!("{name}: no chart {id} among {charts:?}"));
            assert!(*w > 0 && *h > 0 && *marks > 0, "{name}: chart {id} is {w}x{h} with {marks} marks");
            assert!(*w <= width, "{name}: chart {id} is {w} wide, wider than the window");
        }
        assert!(sideways <= 0, "{name}: the page scrolls {sideways} px sideways");
        assert!(height > 900, "{name}: the page is {height} px high");
        // The headline totals as the browser has them: the amount shown and its attribute.
        for (code, amount) in &totals {
            let tag = format!("<span class=\"total\" data-currency=\"{code}\" data-amount=\"{amount}\">");
            let at = dom.find(&tag).unwrap_or_else(|| panic!("{name}: no total {code} {amount} in the page"));
            let shown = &dom[at + tag.len()..];
            let shown = shown[..shown.find('<').unwrap()].replace(',', "");
            assert_eq!(&shown, amount, "{name}: the total of {code} shown");
        }
        if width == 1280 {
            let png = dir.join("report.png");
            browse(&html, width, height, &[&format!("--screenshot={}", png.display())]);
            let bytes = std::fs::read(&png).expect("a screenshot");
            assert!(
                bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
                "a screenshot of {} bytes",
                bytes.len()
            );
            if std::env::var_os("WABILL_BLESS").is_some() {
                std::fs::write("docs/report.png", &bytes).unwrap();
            }
        }
    }
}

"""wabill.price from every kind of log gives the lines of `wabill price`."""

import subprocess

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import wabill
from conftest import EXAMPLE
from lines import of_csv, of_table

LOG = EXAMPLE / "log.csv"
ACCOUNTS = EXAMPLE / "accounts.csv"
TARIFF = EXAMPLE.parent / "tariffs" / "per-message.toml"


def strings(path):
    """A CSV log read by pyarrow, every column a string (empty fields empty strings)."""
    names = open(path).readline().strip().split(",")
    options = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False)
    return pacsv.read_csv(path, convert_options=options)


@pytest.fixture(scope="module")
def expected(cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "lines.csv"
    subprocess.run(
        [cli, "price", LOG, "--accounts", ACCOUNTS, "--tariff", TARIFF, "--lines", out],
        check=True,
        capture_output=True,
    )
    return of_csv(out)


def test_a_csv_path_prices_as_the_cli(expected):
    priced = wabill.price(LOG, accounts=ACCOUNTS, tariff=TARIFF)
    assert len(expected) == 386
    assert of_table(priced.lines) == expected
    assert priced.counts == {"rows": 386, "priced": 386, "rejected": 0, "duplicates": 4}


def test_every_kind_of_log_prices_alike(expected, tmp_path):
    table = strings(LOG)
    parquet = tmp_path / "log.parquet"
    pq.write_table(table, parquet)
    frame = pd.read_csv(LOG, dtype=str, keep_default_na=False)
    # Timestamps as instants: a pandas datetime64[ns, UTC] column, a Polars Datetime.
    timed = frame.assign(timestamp=pd.to_datetime(frame["timestamp"], format="ISO8601", utc=True))
    logs = {
        "table": table,
        "reader": table.to_reader(max_chunksize=50),
        "pandas": frame,
        "pandas datetimes": timed,
        "polars": pl.from_arrow(table),
        "polars datetimes": pl.from_pandas(timed),
        "parquet": parquet,
        "parquet path as str": str(parquet),
    }
    for name, log in logs.items():
        priced = wabill.price(log, accounts=ACCOUNTS, tariff=TARIFF)
        assert of_table(priced.lines) == expected, name


def test_lines_have_money_as_decimal_and_time_as_utc_microseconds():
    lines = wabill.price(LOG, accounts=ACCOUNTS, tariff=TARIFF).lines
    schema = lines.schema
    assert schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    for money in ["rate", "charge", "aggregator_fee"]:
        assert schema.field(money).type == pa.decimal128(38, 10) == wabill.MONEY
    assert schema.field("campaign").type == pa.string()
    assert schema.names[-12:] == [
        "rules", "pricing_model", "pricing_type", "pricing_category", "market", "country",
        "tier", "rate", "rate_verified", "charge", "currency", "aggregator_fee",
    ]


def test_the_summary_and_invoices_add_up():
    priced = wabill.price(LOG, accounts=ACCOUNTS, tariff=TARIFF)
    assert priced.summary.schema.field("charge").type == wabill.MONEY
    total = sum(priced.summary.column("charge").to_pylist())
    assert total == sum(priced.lines.column("charge").to_pylist())
    assert sum(priced.summary.column("lines").to_pylist()) == 386
    [(name, invoices)] = priced.invoices.items()
    assert invoices.schema.field("amount").type == wabill.MONEY
    assert invoices.num_rows > 0


def test_batches_stream_the_same_lines(expected, tmp_path):
    reader = wabill.price_batches(strings(LOG).to_reader(max_chunksize=10), accounts=ACCOUNTS, tariff=TARIFF)
    assert isinstance(reader, pa.RecordBatchReader)
    assert of_table(reader.read_all()) == expected
    out = tmp_path / "lines.parquet"
    assert wabill.price_to_parquet(LOG, out, accounts=ACCOUNTS, tariff=TARIFF) == 386
    assert of_table(pq.read_table(out)) == expected


def test_a_bad_row_raises_with_its_position():
    frame = pd.read_csv(LOG, dtype=str, keep_default_na=False)
    frame.loc[2, "direction"] = "sideways"
    with pytest.raises(wabill.WabillError) as e:
        wabill.price(frame)
    assert isinstance(e.value, ValueError)
    assert str(e.value).startswith("<arrow>:4: column direction: ")
    with pytest.raises(wabill.WabillError, match="^<arrow>:4: column direction: "):
        wabill.price_batches(frame).read_all()
    skipped = wabill.price(frame, skip_invalid=True)
    assert skipped.counts["rejected"] == 1 and skipped.counts["priced"] == 385
    assert skipped.rejects[0][:2] == ("<arrow>", 4)


def test_a_missing_file_and_a_bad_option_raise():
    with pytest.raises(wabill.WabillError, match="no-such.csv"):
        wabill.price("no-such.csv")
    with pytest.raises(wabill.WabillError):
        wabill.price(LOG, rules="nonsense")
    with pytest.raises(TypeError):
        wabill.price(42)


def test_webhooks_are_a_log_too(root):
    priced = wabill.price(root / "fixtures" / "webhooks" / "month.ndjson")
    assert priced.lines.num_rows > 0
    assert priced.lines.num_rows == priced.counts["priced"]


def test_compare_bills_each_tariff(cli):
    tariffs = [TARIFF, EXAMPLE.parent / "tariffs" / "per-user.toml"]
    table = wabill.compare(LOG, tariffs, accounts=ACCOUNTS)
    assert table.schema.field("amount").type == wabill.MONEY
    assert table.schema.field("cheapest").type == pa.bool_()
    assert set(table.column("tariff").to_pylist()) == {"per message", "per active user"}
    out = subprocess.run(
        [cli, "compare", LOG, "--accounts", ACCOUNTS, "--tariff", tariffs[0], "--tariff", tariffs[1], "--format", "csv"],
        check=True,
        capture_output=True,
    ).stdout.decode()
    assert len(out.strip().splitlines()) == table.num_rows + 1


def test_naive_timestamps_need_a_zone():
    frame = pd.read_csv(LOG, dtype=str, keep_default_na=False)
    naive = frame.assign(timestamp=pd.to_datetime(frame["timestamp"], format="ISO8601", utc=True).dt.tz_localize(None))
    with pytest.raises(wabill.WabillError, match="column timestamp"):
        wabill.price(naive)
    assert wabill.price(naive, naive_zone="UTC").counts["priced"] == 386

"""The Spark recipe (examples/spark_price.py) prices a generated log of three portfolios, a
portfolio a group, into the lines of one process."""

import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import wabill
from conftest import ROOT
from lines import of_table

pyspark = pytest.importorskip("pyspark")
sys.path.insert(0, str(ROOT / "python" / "examples"))
import spark_price  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("wabill-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_a_log_priced_by_portfolio_on_spark_gives_the_lines_of_one_process(spark, cli, tmp_path):
    log, accounts = tmp_path / "log.csv", tmp_path / "accounts.csv"
    subprocess.run(
        [cli, "generate", "--events", "20000", "--days", "20", "--output", log, "--accounts", accounts],
        check=True,
    )
    alone = wabill.price(log, accounts=accounts).lines
    lines = spark_price.price_by_portfolio(spark, spark.read.csv(str(log), header=True), str(accounts))
    assert lines.select("portfolio").distinct().count() == 3
    table = lines.toArrow()
    assert table.schema.field("charge").type == pa.decimal128(38, 10)
    # Input columns come back as strings: the log's order is the number's.
    table = table.take(pc.sort_indices(pc.cast(table[spark_price.SEQ], pa.int64())))
    table = table.drop_columns([spark_price.SEQ, "portfolio"])
    assert table.num_rows == alone.num_rows == 20000
    assert of_table(table) == of_table(alone)

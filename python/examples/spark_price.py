"""Prices a wabill log on Spark, a portfolio a group.

Every portfolio prices independently of the others (tier counters and free allowances are
per portfolio, per WABA or per number), so ``groupBy("portfolio").applyInArrow`` is enough:
each group's rows go, as Arrow, to one Python worker, which prices them with wabill and
returns the priced lines as Arrow. The lines are those of one process pricing the whole log.

    python examples/spark_price.py LOG.csv ACCOUNTS.csv OUT_DIR [--master local[2]]

On a cluster: install the package on every executor (the wheel of ``maturin build --release
-m python/Cargo.toml``), and ``spark-submit`` this script with the log on shared storage
(``s3://…/log/``); it ships the accounts file to every worker (``SparkContext.addFile``).
A tariff (``--tariff``) must be at the same path on every worker.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Optional

import pyarrow as pa
from pyspark import SparkFiles
from pyspark.sql import DataFrame, SparkSession, functions as F
from pyspark.sql.pandas.types import from_arrow_schema

import wabill

#: The column that keeps the log's order, for each group to be priced in it.
SEQ = "_wabill_seq"


def with_portfolio(spark: SparkSession, log: DataFrame, accounts: str) -> DataFrame:
    """The log with each row's portfolio (from the accounts file: a business absent from it is
    its own portfolio, as wabill's defaults have it) and its place in the log."""
    book = spark.read.csv(accounts, header=True).select("business", "waba", "portfolio")
    book = book.select(
        "business", F.coalesce("portfolio", "waba", "business").alias("portfolio")
    )
    log = log.withColumn(SEQ, F.monotonically_increasing_id())
    joined = log.join(F.broadcast(book), on="business", how="left")
    portfolio = F.coalesce("portfolio", "business").alias("portfolio")
    return joined.select(*log.columns, portfolio)


def price_by_portfolio(
    spark: SparkSession,
    log: DataFrame,
    accounts: str,
    tariff: Optional[str] = None,
    shipped: bool = False,
) -> DataFrame:
    """The priced lines of ``log`` (wabill's log columns, as strings or a timestamp), a
    portfolio a group; the input columns come first, then ``portfolio``, then wabill's.

    ``accounts`` is read by the driver; the workers read the same path, or, when ``shipped``,
    the copy ``SparkContext.addFile`` (or ``spark-submit --files``) gave each of them."""
    grouped = with_portfolio(spark, log, accounts)
    name = os.path.basename(accounts)

    # Defined here, not at the module's level, to be shipped to the workers with `price`.
    def price_group(rows: pa.Table, accounts: str) -> pa.Table:
        # The accounts file's businesses of other portfolios have no row in one portfolio's:
        # wabill's warnings of them are not said.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wabill.WabillWarning)
            return wabill.price(rows, accounts=accounts, tariff=tariff).lines

    # The lines' schema: wabill's columns after the input's, as wabill gives them for no rows.
    schema = price_group(grouped.limit(0).toArrow(), accounts).schema

    def price(group: pa.Table) -> pa.Table:
        # The group's rows in the log's order (a sorted log's: wabill prices ties of timestamp
        # in input order).
        group = group.sort_by(SEQ)
        on_worker = SparkFiles.get(name) if shipped else accounts
        return price_group(group, on_worker)

    return grouped.groupBy("portfolio").applyInArrow(price, from_arrow_schema(schema))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log")
    parser.add_argument("accounts")
    parser.add_argument("out")
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--tariff")
    args = parser.parse_args()
    if args.master.startswith("local"):
        # Local workers run this interpreter, which has the package.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = SparkSession.builder.master(args.master).appName("wabill").getOrCreate()
    if args.log.endswith(".parquet"):
        log = spark.read.parquet(args.log)
    else:
        log = spark.read.csv(args.log, header=True)
    spark.sparkContext.addFile(os.path.abspath(args.accounts))
    lines = price_by_portfolio(spark, log, os.path.abspath(args.accounts), args.tariff, shipped=True)
    lines.write.mode("overwrite").parquet(args.out)
    spark.stop()


if __name__ == "__main__":
    main()

"""Times the Spark recipe on a generated log with 1 and 2 cores (``local[1]``, ``local[2]``),
beside one process pricing the same log with the package.

    python examples/spark_bench.py LOG.csv ACCOUNTS.csv

Each run reads the CSV log, prices it a portfolio a group and writes the lines as Parquet; the
time is the median of three runs after a warm-up, the session's start excluded.
"""

import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import wabill  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402
from spark_price import price_by_portfolio  # noqa: E402


def main() -> None:
    log, accounts = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.environ["PYSPARK_PYTHON"] = sys.executable
    out = tempfile.mkdtemp()
    started = time.perf_counter()
    lines = wabill.price_to_parquet(log, os.path.join(out, "alone.parquet"), accounts=accounts)
    print(f"one process (wabill.price_to_parquet): {time.perf_counter() - started:.2f} s, {lines} lines")
    for cores in (1, 2):
        spark = (
            SparkSession.builder.master(f"local[{cores}]")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", str(4 * cores))
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        times = []
        for run in range(4):
            started = time.perf_counter()
            df = spark.read.csv(log, header=True)
            price_by_portfolio(spark, df, accounts).write.mode("overwrite").parquet(os.path.join(out, "lines"))
            if run > 0:
                times.append(time.perf_counter() - started)
        print(f"spark local[{cores}]: {statistics.median(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})")
        spark.stop()


if __name__ == "__main__":
    main()

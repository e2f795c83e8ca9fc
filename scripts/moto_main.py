"""moto_server, with one fix: GetMetricData leaves out the datapoints of a statistic moto
cannot compute instead of failing.

moto 5.2.5 computes no percentile (`p99`) for datapoints published with `StatisticValues` or
as raw values: it returns None, and its serializer then fails the whole GetMetricData call
with a 500, every other query in it lost. fivexx asks for Average, Maximum and p99 of each
latency metric, so any seeded latency datapoint would cost the call. CloudWatch itself
answers no percentile for data it has no distribution of, so an empty series is what AWS
would say. Used by scripts/lib/local.sh and tests/support/moto.rs in place of moto_server;
same arguments.
"""
import sys

from moto.cloudwatch.models import CloudWatchBackend
from moto.server import main

_computed = CloudWatchBackend.get_metric_data


def get_metric_data(self, *args, **kwargs):
    results = _computed(self, *args, **kwargs)
    for r in results:
        kept = [(t, v) for t, v in zip(r["timestamps"], r["values"]) if v is not None]
        r["timestamps"], r["values"] = [t for t, _ in kept], [v for _, v in kept]
    return results


CloudWatchBackend.get_metric_data = get_metric_data

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())

"""The obvious alternative, for comparison only (not part of the product).

The evidence fivexx gathers, gathered the way most hand-made alarm responders do it:
sequential boto3 calls, one after the other. Same calls, same data: the same operations,
pages and CloudWatch metric queries as fivexx's gathering (src/evidence/gather.rs), so the
only difference the benchmark sees is the call pattern. No rules, no rendering: the baseline
is given the cheaper job.
"""

from __future__ import annotations

from datetime import datetime, timedelta

ALB_NS = "AWS/ApplicationELB"
CF_NS = "AWS/CloudFront"
ALB_LB_SUMS = [
    "RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_ELB_500_Count", "HTTPCode_ELB_502_Count",
    "HTTPCode_ELB_503_Count", "HTTPCode_ELB_504_Count", "HTTPCode_ELB_4XX_Count",
    "HTTPCode_Target_5XX_Count", "HTTPCode_Target_2XX_Count", "TargetConnectionErrorCount",
    "TargetTLSNegotiationErrorCount", "ClientTLSNegotiationErrorCount", "RejectedConnectionCount",
    "LambdaUserError", "LambdaInternalError", "ELBAuthError",
]
ALB_TG_SUMS = [
    "RequestCount", "HTTPCode_Target_5XX_Count", "HTTPCode_Target_2XX_Count",
    "TargetConnectionErrorCount", "TargetTLSNegotiationErrorCount",
]
LATENCY = ["Average", "Maximum", "p99"]
CF_RATES = [
    "5xxErrorRate", "4xxErrorRate", "TotalErrorRate", "502ErrorRate", "503ErrorRate",
    "504ErrorRate", "CacheHitRate",
]


class Clients:
    """One boto3 client per service, made before the clock starts (the baseline's favour)."""

    def __init__(self, session, endpoint_url: str, region: str = "us-east-1") -> None:
        def make(service: str):
            return session.client(service, region_name=region, endpoint_url=endpoint_url)

        self.elbv2, self.acm, self.cloudwatch = make("elbv2"), make("acm"), make("cloudwatch")
        self.cloudfront, self.route53 = make("cloudfront"), make("route53")


def query(i: int, namespace: str, name: str, dims: dict, stat: str) -> dict:
    return {
        "Id": f"q{i}",
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            },
            "Period": 60,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def window(now: datetime) -> tuple[datetime, datetime]:
    end = now.replace(second=0, microsecond=0)
    return end - timedelta(minutes=120), end


def metric_data(c: Clients, specs: list[tuple], now: datetime) -> dict:
    start, end = window(now)
    out = {}
    for first in range(0, len(specs), 500):
        batch = [query(first + i, *s) for i, s in enumerate(specs[first:first + 500])]
        resp = c.cloudwatch.get_metric_data(MetricDataQueries=batch, StartTime=start, EndTime=end)
        for r in resp.get("MetricDataResults", []):
            out[r["Id"]] = r
    return out


def all_pages(call, key: str, **kwargs) -> list:
    items, marker = [], None
    while True:
        resp = call(**kwargs, **({"Marker": marker} if marker else {}))
        items.extend(resp.get(key, []))
        marker = resp.get("NextMarker")
        if not marker:
            return items


KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1",
             "EC_secp521r1"]
RENEWAL_HORIZON = timedelta(days=45)


def needs_description(summary: dict | None, now: datetime, names_needed: bool) -> bool:
    """As fivexx decides (gather.rs, `needs_description`): the list cannot answer for a
    certificate that is missing from it, not issued, near expiry, or whose names are needed
    and not all listed."""
    if summary is None or summary.get("Status") != "ISSUED" or "NotAfter" not in summary:
        return True
    if summary["NotAfter"] <= now + RENEWAL_HORIZON:
        return True
    names_complete = bool(summary.get("SubjectAlternativeNameSummaries")) and \
        not summary.get("HasAdditionalSubjectAlternativeNames")
    return names_needed and not names_complete


def gather_alb(c: Clients, lb: dict, now: datetime, names_needed: bool = False) -> dict:
    """Everything about one ALB, one call after another; `lb` is known (CloudFront path)."""
    arn = lb["LoadBalancerArn"]
    listed = {s["CertificateArn"]: s for s in c.acm.list_certificates(
        Includes={"keyTypes": KEY_TYPES}, MaxItems=1000).get("CertificateSummaryList", [])}
    attrs = c.elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    listeners = all_pages(c.elbv2.describe_listeners, "Listeners", LoadBalancerArn=arn)
    groups = all_pages(c.elbv2.describe_target_groups, "TargetGroups", LoadBalancerArn=arn)
    health, tg_attrs, rules, certs = {}, {}, {}, {}
    for tg in groups:
        t = tg["TargetGroupArn"]
        health[t] = c.elbv2.describe_target_health(TargetGroupArn=t)["TargetHealthDescriptions"]
        # As fivexx: the attributes (the deregistration delay) only for draining targets.
        if any(h["TargetHealth"]["State"] == "draining" for h in health[t]):
            tg_attrs[t] = c.elbv2.describe_target_group_attributes(TargetGroupArn=t)["Attributes"]
    for listener in listeners:
        la = listener["ListenerArn"]
        rules[la] = all_pages(c.elbv2.describe_rules, "Rules", ListenerArn=la)
        # As fivexx: every certificate of a secure listener, its SNI ones beside the default.
        if listener.get("Protocol") in ("HTTPS", "TLS"):
            every = all_pages(c.elbv2.describe_listener_certificates, "Certificates", ListenerArn=la)
            known = {x["CertificateArn"] for x in listener.get("Certificates", [])}
            listener["Certificates"] = listener.get("Certificates", []) + [
                x for x in every if x["CertificateArn"] not in known]
        for cert in listener.get("Certificates", []):
            ca = cert["CertificateArn"]
            if ca in certs:
                continue
            if needs_description(listed.get(ca), now, names_needed):
                certs[ca] = c.acm.describe_certificate(CertificateArn=ca)["Certificate"]
            else:
                certs[ca] = listed[ca]
    dim = arn.split(":loadbalancer/", 1)[1]
    specs = [(ALB_NS, m, {"LoadBalancer": dim}, "Sum") for m in ALB_LB_SUMS]
    specs += [(ALB_NS, "TargetResponseTime", {"LoadBalancer": dim}, s) for s in LATENCY]
    for tg in groups:
        dims = {"LoadBalancer": dim, "TargetGroup": tg["TargetGroupArn"].split(":", 5)[5]}
        specs += [(ALB_NS, "HealthyHostCount", dims, "Minimum"), (ALB_NS, "UnHealthyHostCount", dims, "Maximum")]
        specs += [(ALB_NS, m, dims, "Sum") for m in ALB_TG_SUMS]
        specs += [(ALB_NS, "TargetResponseTime", dims, s) for s in LATENCY]
    metrics = metric_data(c, specs, now)
    return {"lb": lb, "attributes": attrs, "listeners": listeners, "target_groups": groups,
            "health": health, "tg_attributes": tg_attrs, "rules": rules, "certificates": certs,
            "metrics": metrics}


def describe_alarm(c: Clients, name: str) -> dict:
    """As fivexx: the alarm itself (its evaluation periods set the window)."""
    return c.cloudwatch.describe_alarms(AlarmNames=[name],
                                        AlarmTypes=["MetricAlarm", "CompositeAlarm"])


def gather_alb_alarm(c: Clients, alarm_name: str, lb_arn: str, now: datetime) -> dict:
    alarm = describe_alarm(c, alarm_name)
    lb = c.elbv2.describe_load_balancers(LoadBalancerArns=[lb_arn])["LoadBalancers"][0]
    return {"alarm": alarm, **gather_alb(c, lb, now)}


def gather_cloudfront_alarm(c: Clients, alarm_name: str, distribution_id: str,
                            now: datetime) -> dict:
    alarm = describe_alarm(c, alarm_name)
    config = c.cloudfront.get_distribution_config(Id=distribution_id)["DistributionConfig"]
    zones, marker = [], {}
    while True:
        resp = c.route53.list_hosted_zones_by_name(**marker)
        zones.extend(resp.get("HostedZones", []))
        if not resp.get("IsTruncated"):
            break
        marker = {"DNSName": resp["NextDNSName"], "HostedZoneId": resp["NextHostedZoneId"]}
    dims = {"DistributionId": distribution_id, "Region": "Global"}
    cf_specs = [(CF_NS, "Requests", dims, "Sum")] + [(CF_NS, m, dims, "Average") for m in CF_RATES]
    cf_specs += [(CF_NS, "OriginLatency", dims, s) for s in LATENCY]
    cf_metrics = metric_data(c, cf_specs, now)
    albs = []
    for origin in config["Origins"]["Items"]:
        name = origin["DomainName"].lower().rstrip(".")
        if not name.endswith(".elb.amazonaws.com"):
            continue
        lbs = all_pages(c.elbv2.describe_load_balancers, "LoadBalancers")
        for lb in lbs:
            if lb["DNSName"].lower().rstrip(".") in (name, name.removeprefix("dualstack.")):
                albs.append(gather_alb(c, lb, now, names_needed=True))
    return {"alarm": alarm, "config": config, "zones": zones, "metrics": cf_metrics,
            "albs": albs}

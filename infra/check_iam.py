#!/usr/bin/env python3
"""The IAM test for infra/template.yaml (run by scripts/check-infra).

Fails, one line per problem, when the template's IAM does not match what the code calls:
  - an action that is or contains a wildcard (`*`, `service:*`, `service:Describe*`), or a
    NotAction, anywhere in the template;
  - an allowed action outside the allowed set: the AWS operations of `Op::iam_name` in
    src/evidence/port.rs (read at run time, so a new AWS call in the code without a template
    change fails here), plus delivery (sns:Publish, secretsmanager:GetSecretValue), the
    on-failure destination (sqs:SendMessage) and the function's own logs;
  - a required action that no policy grants (every operation of the code and of delivery);
  - `Resource: "*"` with an action that supports resource-level permissions (only the ELBv2
    Describe* actions, cloudwatch:GetMetricData, cloudwatch:ListMetrics,
    route53:ListHostedZonesByName and
    acm:ListCertificates may);
  - policies it cannot inspect (managed policies, SAM policy templates, a SAM function
    without an explicit role), trust policies other than Lambda's, resource-based grants
    other than lambda:InvokeFunction for the three triggers with a SourceArn.

Usage: check_iam.py [TEMPLATE ...] [--port PATH]   (default: infra/template.yaml)
Standard library plus PyYAML; CloudFormation short-form tags (!Ref, !Sub, !If, ...) are read
as their long forms, and a translated (JSON) template works too.
"""

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

# Delivery and plumbing: allowed, and required unless noted.
EXTRA_REQUIRED = {
    "sns:Publish",  # verdicts to the topic
    "secretsmanager:GetSecretValue",  # the Slack webhook URL
    "sqs:SendMessage",  # the async on-failure destination (sent with the function's role)
    "dynamodb:GetItem",  # the incident store: read the alarm's incident
    "dynamodb:PutItem",  # claim a transition, write the incident
    "dynamodb:UpdateItem",  # mark it posted
    "dynamodb:DeleteItem",  # give it up after a failed post
    "logs:CreateLogStream",
    "logs:PutLogEvents",
}
EXTRA_ALLOWED = EXTRA_REQUIRED | {"logs:CreateLogGroup"}

# Actions with no resource-level permission (Service Authorization Reference: no resource
# type, or only CloudWatch's optional "dataset"): the only ones allowed with Resource "*".
NO_RESOURCE_LEVEL_EXTRA = {
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
    "route53:ListHostedZonesByName",
    "acm:ListCertificates",
    "lambda:GetAccountSettings",
}

# Resource-based grants the triggers need: principal -> requires SourceAccount.
INVOKE_PRINCIPALS = {
    "lambda.alarms.cloudwatch.amazonaws.com": True,
    "sns.amazonaws.com": False,
    "events.amazonaws.com": False,
}

IDENTITY_POLICY_TYPES = {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"}


# --- loading -------------------------------------------------------------------------------


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short-form tags as their long forms."""


def _construct(tag_name):
    def construct(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if tag_name == "Ref":
            return {"Ref": value}
        if tag_name == "Condition":
            return {"Condition": value}
        if tag_name == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {"Fn::" + tag_name: value}

    return construct


for _tag in [
    "Ref", "Condition", "Sub", "GetAtt", "If", "Join", "Select", "Split", "Equals", "Not",
    "And", "Or", "FindInMap", "ImportValue", "Base64", "Cidr", "GetAZs", "Transform",
    "Length", "ToJsonString",
]:
    CfnLoader.add_constructor("!" + _tag, _construct(_tag))


def load_template(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)  # noqa: S506 (SafeLoader subclass)


def code_operations(port_rs):
    """The IAM actions the code needs: `Op::iam_name` of every operation, except those that
    `Op::iam_action` maps to another action (`apigateway:GET`), read from the Rust source."""
    text = Path(port_rs).read_text(encoding="utf-8")
    names = function_arms(text, "iam_name", port_rs)
    actions = function_arms(text, "iam_action", port_rs)
    ops = set()
    for variant, name in names.items():
        ops.add(actions.get(variant, name))
    if not ops:
        raise SystemExit(f"check_iam: {port_rs}: no operation names in `fn iam_name`")
    return ops


def function_arms(text, function, port_rs):
    """`Op::Variant => "service:Action"` arms of `fn FUNCTION` (alternatives with `|`), as a
    map from variant to action."""
    start = text.find(f"fn {function}")
    if start < 0:
        raise SystemExit(f"check_iam: {port_rs}: no `fn {function}` found")
    # The function body: from its first `{` to the matching `}`.
    body_start = text.index("{", start)
    depth = 0
    for i in range(body_start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                body = text[body_start : i + 1]
                break
    else:
        raise SystemExit(f"check_iam: {port_rs}: unbalanced `fn {function}`")
    arms = {}
    for variants, action in re.findall(r'((?:Op::\w+\s*\|?\s*)+)=>\s*\{?\s*"([a-z0-9-]+:[A-Za-z0-9]+)"', body):
        for v in re.findall(r"Op::(\w+)", variants):
            arms[v] = action
    return arms


# --- helpers -------------------------------------------------------------------------------


def leaves(value):
    """Every literal a value can take, through Fn::If branches and lists."""
    if isinstance(value, list):
        for v in value:
            yield from leaves(v)
    elif isinstance(value, dict):
        if set(value) == {"Fn::If"} and isinstance(value["Fn::If"], list) and len(value["Fn::If"]) == 3:
            yield from leaves(value["Fn::If"][1])
            yield from leaves(value["Fn::If"][2])
        elif value == {"Ref": "AWS::NoValue"}:
            return
        else:
            yield value  # an intrinsic (Ref, Sub, GetAtt...): not a literal
    else:
        yield value


def statements(document):
    st = document.get("Statement", []) if isinstance(document, dict) else []
    return [s for s in leaves(st) if isinstance(s, dict)]


def as_list(value):
    return list(leaves(value)) if value is not None else []


def canon(action):
    return action.lower()


# --- the check -----------------------------------------------------------------------------


class Checker:
    def __init__(self, ops):
        self.ops = ops
        self.required = ops | EXTRA_REQUIRED
        self.allowed = {canon(a): a for a in ops | EXTRA_ALLOWED}
        self.no_resource_level = {
            canon(a) for a in ops if a.startswith("elasticloadbalancing:")
        } | {canon(a) for a in NO_RESOURCE_LEVEL_EXTRA}
        self.problems = []
        self.granted = set()
        self.star_actions = set()

    def problem(self, where, what):
        self.problems.append(f"{where}: {what}")

    def wildcard_actions(self, where, stmt):
        if "NotAction" in stmt:
            self.problem(where, "NotAction grants everything it does not list")
        actions = []
        for a in as_list(stmt.get("Action")):
            if not isinstance(a, str):
                self.problem(where, f"action is not a literal: {a!r}")
                continue
            if "*" in a or "?" in a:
                self.problem(where, f"wildcard action {a!r}")
                continue
            actions.append(a)
        return actions

    def identity_document(self, where, document):
        for i, stmt in enumerate(statements(document)):
            at = f"{where}.Statement[{stmt.get('Sid', i)}]"
            actions = self.wildcard_actions(at, stmt)
            if stmt.get("Effect") != "Allow":
                continue
            if "NotResource" in stmt:
                self.problem(at, "NotResource grants everything it does not list")
            resources = as_list(stmt.get("Resource"))
            if not resources:
                self.problem(at, "no Resource")
            star = any(r == "*" for r in resources)
            for a in actions:
                c = canon(a)
                if c not in self.allowed:
                    self.problem(at, f"action {a} is not in the allowed set (not called by the code)")
                    continue
                self.granted.add(c)
                if star:
                    if c in self.no_resource_level:
                        self.star_actions.add(self.allowed[c])
                    else:
                        self.problem(at, f'{a} with Resource "*" (it supports resource-level permissions)')

    def trust_document(self, where, document):
        for i, stmt in enumerate(statements(document)):
            at = f"{where}.Statement[{stmt.get('Sid', i)}]"
            actions = self.wildcard_actions(at, stmt)
            if stmt.get("Effect") != "Allow":
                continue
            if [canon(a) for a in actions] != ["sts:assumerole"]:
                self.problem(at, f"trust policy allows {actions}, expected only sts:AssumeRole")
            principal = stmt.get("Principal")
            services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
            if not isinstance(principal, dict) or set(principal) != {"Service"} or services != ["lambda.amazonaws.com"]:
                self.problem(at, f"trust policy principal {principal!r}, expected Service lambda.amazonaws.com")

    def resource_document(self, where, document):
        """Resource-based policies (topic, queue, ...): none is expected."""
        for i, stmt in enumerate(statements(document)):
            at = f"{where}.Statement[{stmt.get('Sid', i)}]"
            self.wildcard_actions(at, stmt)
            if stmt.get("Effect") == "Allow":
                self.problem(at, "unexpected resource-based policy grant")

    def lambda_permission(self, where, props):
        action = props.get("Action")
        if action != "lambda:InvokeFunction":
            self.problem(where, f"Lambda permission grants {action!r}, expected lambda:InvokeFunction")
        principal = props.get("Principal")
        if principal not in INVOKE_PRINCIPALS:
            self.problem(where, f"Lambda permission for unexpected principal {principal!r}")
        elif INVOKE_PRINCIPALS[principal] and "SourceAccount" not in props:
            self.problem(where, f"Lambda permission for {principal} without SourceAccount")
        if "SourceArn" not in props:
            self.problem(where, f"Lambda permission for {principal!r} without SourceArn")

    def check(self, template):
        resources = template.get("Resources") or {}
        for name, res in resources.items():
            rtype = res.get("Type", "")
            props = res.get("Properties") or {}
            where = name
            if rtype == "AWS::IAM::Role":
                for j, pol in enumerate(as_list(props.get("Policies"))):
                    pname = pol.get("PolicyName", j) if isinstance(pol, dict) else j
                    doc = pol.get("PolicyDocument") if isinstance(pol, dict) else None
                    self.identity_document(f"{where}.Policies[{pname}]", doc)
                if props.get("ManagedPolicyArns"):
                    self.problem(where, "ManagedPolicyArns: managed policies cannot be checked; use inline statements")
                self.trust_document(f"{where}.AssumeRolePolicyDocument", props.get("AssumeRolePolicyDocument"))
                handled = {"Policies", "ManagedPolicyArns", "AssumeRolePolicyDocument"}
            elif rtype in IDENTITY_POLICY_TYPES:
                self.identity_document(f"{where}.PolicyDocument", props.get("PolicyDocument"))
                handled = {"PolicyDocument"}
            elif rtype == "AWS::Serverless::Function":
                if "Role" not in props:
                    self.problem(where, "no Role: SAM would generate one with the managed AWSLambdaBasicExecutionRole")
                for j, pol in enumerate(as_list(props.get("Policies"))):
                    if isinstance(pol, dict) and "Statement" in pol:
                        self.identity_document(f"{where}.Policies[{j}]", pol)
                    else:
                        self.problem(where, f"Policies[{j}]: managed policy or SAM policy template cannot be checked: {pol!r}")
                handled = {"Policies"}
            elif rtype == "AWS::Lambda::Permission":
                self.lambda_permission(where, props)
                handled = set(props)
            else:
                handled = set()
            # Anything else that carries statements: wildcards, and no resource-based grants.
            for key, value in props.items():
                if key not in handled:
                    self.walk_other(f"{where}.{key}", value)
        for extra in sorted(self.required):
            if canon(extra) not in self.granted:
                self.problem("template", f"missing {extra} (the code calls it)" if extra in self.ops else f"missing {extra}")

    def walk_other(self, where, value):
        if isinstance(value, dict):
            if "Statement" in value:
                self.resource_document(where, value)
                return
            for k, v in value.items():
                self.walk_other(f"{where}.{k}", v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.walk_other(f"{where}[{i}]", v)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("templates", nargs="*", default=[str(ROOT / "infra" / "template.yaml")])
    parser.add_argument("--port", default=str(ROOT / "src" / "evidence" / "port.rs"))
    args = parser.parse_args(argv)
    ops = code_operations(args.port)
    failed = False
    for path in args.templates:
        checker = Checker(ops)
        try:
            checker.check(load_template(path))
        except (OSError, yaml.YAMLError) as e:
            checker.problems.append(f"cannot read: {e}")
        if checker.problems:
            failed = True
            for p in checker.problems:
                print(f"check_iam: {path}: {p}")
        else:
            print(
                f"check_iam: {path}: ok: {len(checker.granted)} actions, the {len(ops)} of "
                f'{Path(args.port).name} included; Resource "*" only for {len(checker.star_actions)} '
                "actions without resource-level permissions"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Deploy policy: the packaged CloudFormation templates pass this project's cfn-lint rules (deploy/policy/).

The rules (E9101-E9106): no IAM wildcard action or resource (the one exception, a log group's ``:*`` streams,
is written in the rule with its reason), one role per function, tables retained with point-in-time recovery,
TLS 1.2 or newer on the custom domain, a health check behind every latency record, no TTL or local secondary index
on a strongly consistent (MRSC) table (its templates and E9106's failing copies: test_deploy_mrsc.py).

The templates are the ones `osls package` writes, packaged by test_deploy_package's fixtures (primary region,
second region, third region with the custom domain). Each rule is also shown to fail a template that breaks it
(a copy of the real one with one change), so a rule that matches nothing cannot pass silently.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

# The packaging fixtures of the deploy tests (osls into a scratch copy of the checkout), reused, not copied.
# Importing the module also skips this one when node_modules/.bin/osls is missing.
from test_deploy_package import (  # noqa: F401 - fixtures are found by name
    every_package,
    package,
    primary,
    role_of,
    secondary,
    service_dir,
    with_domain,
)

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
POLICY_RULES = ROOT / "deploy" / "policy"
RULE_IDS = ["E9101", "E9102", "E9103", "E9104", "E9105", "E9106"]


def cfn_lint(*templates: Path) -> list[dict]:
    """cfn-lint with the policy rules appended; its findings as JSON (Filename, Rule.Id, Message)."""
    cfn_lint_bin = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [
            str(cfn_lint_bin),
            "--append-rules",
            str(POLICY_RULES),
            "--format",
            "json",
            "--",
            *map(str, templates),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode in (0, 2, 4, 6, 8, 10, 12, 14), result.stderr  # bit flags: error/warning/info
    return json.loads(result.stdout or "[]")


def test_the_policy_rules_are_loaded():
    cfn_lint_bin = Path(sys.executable).with_name("cfn-lint")
    listed = subprocess.run(
        [str(cfn_lint_bin), "--append-rules", str(POLICY_RULES), "--list-rules"],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    for rule_id in RULE_IDS:
        assert rule_id in listed, f"{rule_id} is not among cfn-lint's rules:\n{listed[-2000:]}"


def test_every_packaged_template_passes_the_policy(every_package, with_domain, primary):  # noqa: F811
    # Not vacuous: the templates hold what the rules look at.
    assert primary.of_type("AWS::DynamoDB::GlobalTable")
    assert with_domain.of_type("AWS::ApiGateway::DomainName")
    assert [r for r in with_domain.of_type("AWS::Route53::RecordSet").values() if "Region" in r["Properties"]]
    findings = cfn_lint(*[packaged.template_path for packaged in every_package])
    assert findings == [], json.dumps(findings, indent=2)


# ------------------------------------------------------------------------------ each rule catches its case


def _first_statement(template: dict, role_id: str, service: str) -> dict:
    statements = [
        statement
        for policy in template["Resources"][role_id]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    return next(
        s
        for s in statements
        if str(s["Action"] if isinstance(s["Action"], str) else s["Action"][0]).startswith(service)
    )


def _of_type(template: dict, resource_type: str) -> list[dict]:
    return [r for r in template["Resources"].values() if r["Type"] == resource_type]


def _latency_record(template: dict) -> dict:
    return next(r for r in _of_type(template, "AWS::Route53::RecordSet") if "Region" in r["Properties"])


def _global_table(template: dict) -> dict:
    return _of_type(template, "AWS::DynamoDB::GlobalTable")[0]


def _function_role(template: dict, function: str) -> str:
    return template["Resources"][function]["Properties"]["Role"]


BREAKS = {
    # name: (rule, a change to the domain template, words of the message)
    "wildcard action": (
        "E9101",
        lambda t, role: _first_statement(t, role, "dynamodb").update(Action="dynamodb:*"),
        "wildcard action",
    ),
    "wildcard resource": (
        "E9101",
        lambda t, role: _first_statement(t, role, "dynamodb").update(Resource="*"),
        "wildcard resource",
    ),
    "wildcard log group": (
        "E9101",
        lambda t, role: _first_statement(t, role, "logs").update(
            Resource={"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*:*"}
        ),
        "wildcard resource",
    ),
    "grant by exclusion": (
        "E9101",
        lambda t, role: _first_statement(t, role, "dynamodb").update(NotAction="iam:*"),
        "NotAction",
    ),
    "shared role": (
        "E9102",
        lambda t, role: t["Resources"]["SetKeyLambdaFunction"]["Properties"].update(
            Role=_function_role(t, "GetKeyLambdaFunction")
        ),
        "shares the role",
    ),
    "managed policy": (
        "E9102",
        lambda t, role: t["Resources"][role]["Properties"].update(
            ManagedPolicyArns=["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"]
        ),
        "managed policies",
    ),
    "role from outside the stack": (
        "E9102",
        lambda t, role: t["Resources"]["GetKeyLambdaFunction"]["Properties"].update(
            Role="arn:aws:iam::123456789012:role/shared-admin"
        ),
        "not a role defined in this template",
    ),
    "table deleted with the stack": (
        "E9103",
        lambda t, role: _global_table(t).update(DeletionPolicy="Delete"),
        "DeletionPolicy must be Retain",
    ),
    "replica without point-in-time recovery": (
        "E9103",
        lambda t, role: _global_table(t)["Properties"]["Replicas"][-1].pop(
            "PointInTimeRecoverySpecification"
        ),
        "no point-in-time recovery",
    ),
    "TLS 1.0 on the domain": (
        "E9104",
        lambda t, role: _of_type(t, "AWS::ApiGateway::DomainName")[0]["Properties"].update(
            SecurityPolicy="TLS_1_0"
        ),
        "older than 1.2",
    ),
    "latency record without health check": (
        "E9105",
        lambda t, role: _latency_record(t)["Properties"].pop("HealthCheckId"),
        "HealthCheckId",
    ),
    "latency record without identifier": (
        "E9105",
        lambda t, role: _latency_record(t)["Properties"].pop("SetIdentifier"),
        "SetIdentifier",
    ),
}


@pytest.fixture(scope="module")
def broken_findings(with_domain, tmp_path_factory):  # noqa: F811
    """cfn-lint's findings for each broken copy of the domain template, by break name (one cfn-lint run)."""
    directory = tmp_path_factory.mktemp("broken-templates")
    role_id, _ = role_of(with_domain, "getKey")
    paths = {}
    for index, (name, (_, breaks, _)) in enumerate(BREAKS.items()):
        template = copy.deepcopy(with_domain.template)
        breaks(template, role_id)
        paths[name] = directory / f"broken-{index}.json"
        paths[name].write_text(json.dumps(template))
    findings = cfn_lint(*paths.values())
    by_file: dict[str, list[dict]] = {}
    for finding in findings:
        by_file.setdefault(Path(finding["Filename"]).name, []).append(finding)
    return {name: by_file.get(path.name, []) for name, path in paths.items()}


@pytest.mark.parametrize("name", list(BREAKS))
def test_each_rule_fails_a_template_that_breaks_it(broken_findings, name):
    rule_id, _, words = BREAKS[name]
    ours = [f for f in broken_findings[name] if f["Rule"]["Id"] in RULE_IDS]
    assert [f["Rule"]["Id"] for f in ours] == [rule_id], json.dumps(broken_findings[name], indent=2)
    assert words in ours[0]["Message"], ours[0]["Message"]
